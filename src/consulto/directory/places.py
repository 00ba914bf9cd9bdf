"""French places with coordinates, bundled with the code: no network service is ever asked where
a place is (the directory gives a postcode and a city, patients type a city or a postcode).

``data/postcodes.csv`` holds every postcode with its communes (about 36,000 rows, rebuilt by
``tools/build_postcodes.py``; sources and licences in ``data/LICENSES.md``). Its ``precision``
column tells how a row's coordinates were found: ``commune`` (the commune's own point),
``postcode`` (a village under 500 inhabitants: the centre of the known communes of its postcode,
typically 4 km off), ``intercommunality`` (about 8 km off) or ``department`` (about 30 km off).
``partial`` marks a postcode that serves only some streets of the commune, which must not pull
the postcode's centre towards it.

``data/places.csv`` is the short list of real cities the demo generator puts its sites in.

The module imports nothing from Django: it is loaded lazily, once per process, and kept in
column arrays so that every web worker pays a few megabytes for it, not tens.
"""

import csv
import re
import unicodedata
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
PLACES_CSV = DATA / "places.csv"
POSTCODES_CSV = DATA / "postcodes.csv"

COLUMNS = (
    "postcode", "name", "lat", "lon", "timezone", "precision", "insee", "population", "partial"
)  # fmt: skip
# From the most to the least precise; the index is what the table stores.
PRECISIONS = ("commune", "postcode", "intercommunality", "department")

# Communes that the postcode table splits into municipal arrondissements.
_SPLIT_CITIES = ("paris", "lyon", "marseille")
_ARRONDISSEMENT = re.compile(
    r"(paris|lyon|marseille) (\d{1,2})(?: ?(?:er|e|eme))?(?: arr(?:ondissement)?)?"
)
_CEDEX = re.compile(r" cedex(?: \d+)?$")
# A name with a department or postcode to tell homonyms apart: "Valence (26)", "26000 Valence".
_QUALIFIED = (
    re.compile(r"(?P<name>.*?\D)[\s,]*\(?\s*(?P<code>\d{2,5})\s*\)?"),
    re.compile(r"(?P<code>\d{2,5})[\s,]+(?P<name>\D.*)"),
)


@dataclass(frozen=True, slots=True)
class Location:
    """Where a postcode or commune is, and how sure we are (one of ``PRECISIONS``). ``name`` is
    the commune's, or for the centre of several communes the most populous one's."""

    lat: float
    lon: float
    timezone: str
    precision: str
    name: str


@dataclass(frozen=True, slots=True)
class Place:
    """A city of the demo's list (``data/places.csv``)."""

    name: str
    postcode: str
    lat: float
    lon: float
    timezone: str


@cache
def load_places() -> tuple[Place, ...]:
    """The real French cities the demo puts its sites in."""
    with PLACES_CSV.open(encoding="utf-8", newline="") as handle:
        return tuple(
            Place(
                row["name"], row["postcode"], float(row["lat"]), float(row["lon"]), row["timezone"]
            )
            for row in csv.DictReader(handle)
        )


def _ascii_letters() -> dict[int, str]:
    """Latin letters with their accents taken off, for ``str.translate``: a single pass instead
    of a Unicode decomposition per name, which made indexing the table's names three times
    slower. Letters that do not decompose (œ, ø, ß) are spelled out."""
    table = {}
    for code in range(0xC0, 0x250):
        letter = unicodedata.normalize("NFKD", chr(code)).encode("ascii", "ignore").decode()
        if letter:
            table[code] = letter
    spelled = {"Œ": "OE", "œ": "oe", "Æ": "AE", "æ": "ae", "Ø": "O", "ø": "o", "ß": "ss"}
    table.update({ord(k): v for k, v in spelled.items()})
    return table


_ASCII = _ascii_letters()
_SEPARATORS = re.compile(r"[^a-z0-9\n]+")
_LINE_EDGES = re.compile(r"^ | $", re.MULTILINE)
_SAINT = re.compile(r"\bsaint(e?)\b")


def _fold_lines(text: str) -> str:
    """``folded`` of each line of ``text``, in a few passes over the whole text: the table's
    35,000 names fold in one go at a fraction of the cost of one call each."""
    text = _SEPARATORS.sub(" ", text.translate(_ASCII).lower())
    return _SAINT.sub(r"st\1", _LINE_EDGES.sub("", text))


def folded(text: str) -> str:
    """Compare place names without case, accents, punctuation or the "Saint" spelled out:
    "Saint-Étienne", "ST ETIENNE" and "st etienne" are all "st etienne"."""
    return _fold_lines(text.replace("\n", " "))


def city_key(text: str) -> str:
    """A city as addresses write it, reduced to what identifies it: folded, without "Cedex",
    arrondissements as "paris 16" whether written "Paris 16e Arrondissement" or "PARIS 16"."""
    key = _CEDEX.sub("", folded(text))
    match = _ARRONDISSEMENT.fullmatch(key)
    return f"{match[1]} {int(match[2])}" if match else key


def _keys(name: str) -> tuple[str, ...]:
    """What a commune of the table answers to: an arrondissement also to its city's name."""
    return _folded_keys(folded(name))


def _folded_keys(key: str) -> tuple[str, ...]:
    if key.startswith(tuple(f"{city} " for city in _SPLIT_CITIES)) and (
        match := _ARRONDISSEMENT.fullmatch(key)
    ):
        return f"{match[1]} {int(match[2])}", match[1]
    return (key,)


class _Table:
    """The postcode table as parallel columns sorted by postcode: a postcode or a prefix is a
    bisection away, and a row costs a few dozen bytes instead of an object's few hundred."""

    def __init__(self, path: Path):
        strings: dict[str, str] = {}  # one string object per distinct postcode and name
        zones: dict[str, int] = {}
        self.postcodes: list[str] = []
        self.names: list[str] = []
        self.lats = array("d")
        self.lons = array("d")
        self.zone_ids = array("B")
        self.precisions = array("B")
        self.communes = array("l")  # the INSEE code as a number, to count a commune once
        self.populations = array("l")
        self.partial = array("b")
        with path.open(encoding="utf-8", newline="") as handle:
            rows = csv.reader(handle)
            if next(rows) != list(COLUMNS):
                raise ValueError(f"{path} does not have the columns {', '.join(COLUMNS)}")
            for postcode, name, lat, lon, zone, precision, insee, population, partial in rows:
                self.postcodes.append(strings.setdefault(postcode, postcode))
                self.names.append(strings.setdefault(name, name))
                self.lats.append(float(lat))
                self.lons.append(float(lon))
                self.zone_ids.append(zones.setdefault(zone, len(zones)))
                self.precisions.append(PRECISIONS.index(precision))
                self.communes.append(_commune_number(insee))
                self.populations.append(int(population))
                self.partial.append(partial == "1")
        self.zones = tuple(zones)
        self._keys: list[str] | None = None
        self._key_rows = array("l")
        self._distinct: list[str] | None = None

    def rows(self, postcode: str) -> range:
        return range(bisect_left(self.postcodes, postcode), bisect_right(self.postcodes, postcode))

    def prefixed(self, prefix: str) -> range:
        # Postcodes are digits, and "\x7f" sorts after every digit.
        return range(
            bisect_left(self.postcodes, prefix), bisect_left(self.postcodes, prefix + "\x7f")
        )

    def named(self, key: str) -> Sequence[int]:
        """The rows of the communes whose ``city_key`` is ``key``."""
        if self._keys is None:
            self._index_names()
        keys = self._keys
        return self._key_rows[bisect_left(keys, key) : bisect_right(keys, key)]

    def starting(self, prefix: str) -> Sequence[int]:
        """The rows of the communes one of whose keys starts with ``prefix`` ("vitry": Vitry-
        sur-Seine, Vitry-le-François...)."""
        if self._keys is None:
            self._index_names()
        keys = self._keys
        return self._key_rows[bisect_left(keys, prefix) : bisect_left(keys, prefix + "\x7f")]

    def spelt_like(self, key: str) -> "list[Commune]":
        """Communes whose name is spelt closest to ``key``, best first: a typo ("Parsi",
        "Marseile") still finds them. rapidfuzz compares with every distinct name in a few
        milliseconds."""
        from rapidfuzz import fuzz, process

        if self._keys is None:
            self._index_names()
        if self._distinct is None:
            self._distinct = sorted(set(self._keys))
        found = process.extract(
            key, self._distinct, scorer=fuzz.ratio, limit=20, score_cutoff=SUGGESTION_CUTOFF
        )
        ranked: dict[str, tuple[float, Commune]] = {}
        for name, score, _ in found:
            for commune in _communes(self, self.named(name)):
                if commune.label not in ranked:
                    ranked[commune.label] = (score, commune)
        # Close scores are a tie, broken by population: "Parsi" means Paris before Parsac.
        order = sorted(ranked.values(), key=lambda sc: (-round(sc[0] / 5), -sc[1].population))
        return [commune for _, commune in order]

    def _index_names(self) -> None:
        """Every row's keys, sorted, beside the row each comes from: a bisection finds a name
        and costs half what a dict of tuples would. Built on the first search by name (a tenth
        of a second); looking up a postcode does not need it."""
        pairs = []
        for i, key in enumerate(_fold_lines("\n".join(self.names)).split("\n")):
            pairs.extend((k, i) for k in _folded_keys(key))
        pairs.sort()
        self._key_rows = array("l", (i for _, i in pairs))
        self._keys = [key for key, _ in pairs]

    def location(self, i: int) -> Location:
        return Location(
            self.lats[i],
            self.lons[i],
            self.zones[self.zone_ids[i]],
            PRECISIONS[self.precisions[i]],
            self.names[i],
        )

    def centre(self, rows: Iterable[int]) -> Location | None:
        """The centre of the communes of ``rows``, weighted by population (where a practice or
        a patient is likely to be), each commune counted once and the streets a postcode merely
        shares with a neighbour left out."""
        rows = list(rows)
        main = [i for i in rows if not self.partial[i]] or rows
        firsts: dict[int, int] = {}
        for i in main:
            firsts.setdefault(self.communes[i], i)
        chosen = list(firsts.values())
        if not chosen:
            return None
        if len(chosen) == 1:
            return self.location(chosen[0])
        weights = [max(self.populations[i], 1) for i in chosen]
        total = sum(weights)
        biggest = max(chosen, key=lambda i: self.populations[i])
        finest = min(self.precisions[i] for i in chosen)
        return Location(
            round(sum(self.lats[i] * w for i, w in zip(chosen, weights, strict=True)) / total, 5),
            round(sum(self.lons[i] * w for i, w in zip(chosen, weights, strict=True)) / total, 5),
            self.zones[self.zone_ids[biggest]],
            PRECISIONS[max(finest, PRECISIONS.index("postcode"))],
            self.names[biggest],
        )

    def best_commune(self, rows: Sequence[int], key: str) -> list[int]:
        """Among homonyms, the rows of the most populous commune (several Valence, two
        Saint-Denis); a city's name answered by its arrondissements keeps them all."""
        if key in _SPLIT_CITIES:
            return list(rows)
        populations: dict[int, int] = {}
        for i in rows:
            populations[self.communes[i]] = max(
                populations.get(self.communes[i], 0), self.populations[i]
            )
        best = max(populations, key=lambda c: (populations[c], -c))
        return [i for i in rows if self.communes[i] == best]


def _commune_number(insee: str) -> int:
    """The INSEE code as an integer; Corsica's 2A and 2B codes land above every other one."""
    if insee.isdigit():
        return int(insee)
    return 200_000 + (1000 if insee[1] in "Bb" else 0) + int(insee[2:])


@cache
def _table() -> _Table:
    return _Table(POSTCODES_CSV)


def _department(postcode: str) -> str:
    return postcode[:3] if postcode[:2] in ("97", "98") else postcode[:2]


def locate(postcode: str, city: str = "") -> Location | None:
    """Where an address's postcode and city are: the commune itself when the city is one of the
    postcode's communes, else the centre of the postcode's communes, else (a CEDEX postcode,
    which is not a place) the commune of that name in the postcode's department, else None."""
    code = "".join(postcode.split())
    if len(code) != 5 or not code.isdigit():
        return None
    table = _table()
    rows = table.rows(code)
    wanted = city_key(city) if city else ""
    if rows:
        if wanted:
            hits = [i for i in rows if wanted in _keys(table.names[i])]
            if hits:
                return table.centre(hits)
        return table.centre(rows)
    if wanted:
        dept = _department(code)
        hits = [i for i in table.named(wanted) if table.postcodes[i].startswith(dept)]
        if hits:
            return table.centre(table.best_commune(hits, wanted))
    return None


@dataclass(frozen=True, slots=True)
class Commune:
    """A commune a patient may have meant: its name, the department that tells it from its
    homonyms, and a text (``query``) that ``find_place`` resolves to it alone."""

    name: str
    department: str
    population: int

    @property
    def label(self) -> str:
        return f"{self.name} ({self.department})"

    @property
    def query(self) -> str:
        return self.name if self.name in ("Paris", "Lyon", "Marseille") else self.label


@dataclass(frozen=True, slots=True)
class PlaceMatch:
    """What a typed place is: ``coordinates`` when it names one place; otherwise ``choices``
    (several communes start with what was typed: "Vitry") or ``suggestions`` (nothing is
    called so, these are spelt closest: "Parsi"). ``homonyms`` are the other communes of the
    same name when the most populous was taken ("Saint-Denis")."""

    coordinates: tuple[float, float] | None
    choices: tuple[Commune, ...] = ()
    suggestions: tuple[Commune, ...] = ()
    homonyms: tuple[Commune, ...] = ()


MAX_CHOICES = 8
# rapidfuzz's normalised InDel similarity (0-100): "parsi"/"paris" is 80, "marseile" 93.
SUGGESTION_CUTOFF = 75


def understand_place(text: str) -> PlaceMatch:
    """``find_place`` for a person's typing: the place, or which places they may have meant."""
    found = find_place(text)
    table = _table()
    key = city_key(text.strip())
    if found is not None:
        homonyms = ()
        if key and not key.replace(" ", "").isdigit() and key not in _SPLIT_CITIES:
            communes = _communes(table, table.named(key))
            homonyms = tuple(communes[1:MAX_CHOICES])
        return PlaceMatch(found, homonyms=homonyms)
    if len(key) < 2 or key.replace(" ", "").isdigit():
        return PlaceMatch(None)
    # A word typed whole ("vitry", "saint") or, from four letters, the start of one ("bordeau").
    rows = table.starting(key) if len(key) >= 4 else table.starting(key + " ")
    starting = _communes(table, rows)
    if len(starting) == 1:
        return PlaceMatch(find_place(starting[0].query))
    if starting:
        return PlaceMatch(None, choices=tuple(starting[:MAX_CHOICES]))
    return PlaceMatch(None, suggestions=tuple(table.spelt_like(key)[:5]))


def _communes(table: "_Table", rows: Iterable[int], limit: int = MAX_CHOICES) -> list[Commune]:
    """The ``limit`` most populous distinct communes of ``rows`` (a city split into
    arrondissements counts once, with their population summed); the department is the one
    of the commune's own postcode, not of a neighbour's that serves a few of its streets."""
    populations: dict[object, int] = {}
    rows_of: dict[object, int] = {}
    split_parts: dict[str, dict[int, int]] = {}
    for i in rows:
        name = table.names[i]
        if name.startswith(("Paris ", "Lyon ", "Marseille ")) and name[-14:] == "Arrondissement":
            city = name.split(" ", 1)[0]
            split_parts.setdefault(city, {})[table.communes[i]] = table.populations[i]
            if city not in rows_of or table.partial[rows_of[city]]:
                rows_of[city] = i
            continue
        identity = table.communes[i]
        populations[identity] = max(populations.get(identity, 0), table.populations[i])
        if identity not in rows_of or (table.partial[rows_of[identity]] and not table.partial[i]):
            rows_of[identity] = i
    for city, parts in split_parts.items():
        populations[city] = sum(parts.values())
    chosen = sorted(populations, key=lambda c: (-populations[c], str(c)))[:limit]
    return [
        Commune(
            c if isinstance(c, str) else table.names[rows_of[c]],
            _department(table.postcodes[rows_of[c]]),
            populations[c],
        )
        for c in chosen
    ]


def find_place(text: str) -> tuple[float, float] | None:
    """The centre of what a patient typed: a commune by name ("Saint-Étienne", "st etienne",
    "Paris", "Paris 16e"; the most populous of homonyms unless a department or postcode comes
    with it: "Valence (82)", "82400 Valence") or the communes whose postcode starts with the
    digits typed ("75", "69003"), weighted by population."""
    text = text.strip()
    if not text:
        return None
    table = _table()
    digits = "".join(text.split())
    if digits.isdigit():
        found = table.centre(table.prefixed(digits))
    else:
        key = city_key(text)
        rows: Sequence[int] = table.named(key)
        for pattern in _QUALIFIED if not rows else ():
            if qualified := pattern.fullmatch(text):
                key, code = city_key(qualified["name"]), qualified["code"]
                rows = [i for i in table.named(key) if table.postcodes[i].startswith(code)]
                break
        found = table.centre(table.best_commune(rows, key)) if rows else None
    return (found.lat, found.lon) if found else None
