"""Write a fictitious Annuaire Santé "personne-activité" extract, for tests, demos and benchmarks.

    python -m consulto.directory.sample OUT [--lines 300] [--seed 2026]

The file has the real extract's header (``annuaire.HEADER``) and looks like it: names in capitals,
one line per activity, médecins with their savoir-faire, dentists, physiotherapists, nurses,
midwives, pharmacists..., libéral practices and salaried posts, a few ADELI numbers, some
activities without a structure identifier or without a commune label (the city is then only in
"Bureau cedex"), and real French postcodes and cities (``directory/data/places.csv``). Nothing in
it is copied from the real directory: names come from Faker ``fr_FR``, RPPS numbers start with
199 (with a valid Luhn check digit; the demo's practitioners use 10..., so they never collide),
phone numbers are in the ranges ARCEP keeps for fiction and e-mail addresses at example domains.

The same seed always writes the same file. The first entries are fixed, for the demo and tests:

* line 2: ``SAMPLE_GP_RPPS``, Dr Julie BERNARDIN, médecin, savoir-faire "Médecine générale"
  (SM54), libéral, one activity: Cabinet médical, 14 Rue de la Roquette, 75011 Paris.
* lines 3-4: ``SAMPLE_CARDIOLOGIST_RPPS``, Dr Marc LEGRAND, "Cardiologie et maladies
  vasculaires", two activities in Lyon: a libéral practice (listed first by
  ``selectors.directory_activities``) and a salaried post in a clinic.
* line 5: an ADELI psychologist, which the import skips.

``data/annuaire-sample.txt`` is this generator's output with the defaults; the memory test and
``bench/directory_import.py`` write 200,000 lines with it.
"""

from __future__ import annotations

import argparse
import random
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import TextIO

from faker import Faker

from .annuaire import HEADER, HEADER_NAMES
from .places import load_places
from .rpps import luhn_check_digit

DEFAULT_LINES = 300
DEFAULT_SEED = 2026


def sample_rpps(number: int) -> str:
    """The RPPS number of the sample's ``number``-th person: 199, 7 digits, Luhn digit."""
    first_ten = f"199{number:07d}"
    return first_ten + luhn_check_digit(first_ten)


SAMPLE_GP_RPPS = sample_rpps(1)
SAMPLE_CARDIOLOGIST_RPPS = sample_rpps(2)
SAMPLE_ADELI = "759312345"

LIBERAL = ("L", "Libéral")
SALARIED = ("S", "Salarié")
VOLUNTEER = ("B", "Bénévole")
SPECIALITY = ("S", "Spécialité ordinale")
STREET_TYPES = (
    ("R", "Rue", 40),
    ("AV", "Avenue", 15),
    ("BD", "Boulevard", 10),
    ("PL", "Place", 6),
    ("CHE", "Chemin", 5),
    ("IMP", "Impasse", 4),
    ("ALL", "Allée", 4),
    ("QUA", "Quai", 3),
    ("RTE", "Route", 4),
)
COMMON_STREETS = (
    "DE LA REPUBLIQUE", "DE LA GARE", "PASTEUR", "JEAN JAURES", "VICTOR HUGO", "DE LA PAIX",
    "DU GENERAL DE GAULLE", "DES ECOLES", "DU MOULIN", "DE L'EGLISE", "GAMBETTA", "NATIONALE",
    "DES LILAS", "DU MARECHAL FOCH", "CARNOT", "DE LA LIBERATION", "DES TILLEULS", "DU STADE",
)  # fmt: skip


@dataclass(frozen=True)
class Profession:
    code: str
    label: str
    weight: int
    skills: tuple[tuple[str, str, int], ...]  # (code, label, weight); ("", "", w): none
    salaried_share: float
    doctor_title: bool
    authority: str
    adeli_share: float = 0.0


COLUMN = {name: position for position, name in enumerate(HEADER_NAMES)}
PERSON_COLUMNS = tuple(
    COLUMN[name]
    for name in (
        "Type d'identifiant PP", "Identifiant PP", "Identification nationale PP",
        "Code civilité d'exercice", "Libellé civilité d'exercice", "Code civilité",
        "Libellé civilité", "Nom d'exercice", "Prénom d'exercice", "Code profession",
        "Libellé profession", "Code catégorie professionnelle",
        "Libellé catégorie professionnelle", "Code type savoir-faire",
        "Libellé type savoir-faire", "Code savoir-faire", "Libellé savoir-faire",
        "Code mode exercice", "Libellé mode exercice", "Autorité d'enregistrement",
    )
)  # fmt: skip
STRUCTURE_COLUMNS = tuple(
    COLUMN[name]
    for name in (
        "Numéro SIRET site", "Numéro SIREN site", "Numéro FINESS site",
        "Identifiant technique de la structure", "Raison sociale site",
        "Enseigne commerciale site", "Complément destinataire (coord. structure)",
        "Numéro Voie (coord. structure)", "Indice répétition voie (coord. structure)",
        "Code type de voie (coord. structure)", "Libellé type de voie (coord. structure)",
        "Libellé Voie (coord. structure)", "Bureau cedex (coord. structure)",
        "Code postal (coord. structure)", "Libellé commune (coord. structure)",
        "Téléphone (coord. structure)", "Adresse e-mail (coord. structure)",
        "Code Département (structure)", "Ancien identifiant de la structure",
        "Code secteur d'activité", "Libellé secteur d'activité",
    )
)  # fmt: skip
NO_SKILL = (("", "", 1),)
PROFESSIONS = (
    Profession(
        "10",
        "Médecin",
        32,
        (
            ("SM54", "Médecine générale", 30),
            ("SM26", "Qualifié en médecine générale", 8),
            ("SM53", "Spécialiste en médecine générale", 4),
            ("SM04", "Cardiologie et maladies vasculaires", 5),
            ("SM40", "Pédiatrie", 5),
            ("SM38", "Ophtalmologie", 4),
            ("SM15", "Dermatologie et vénéréologie", 3),
            ("SM42", "Psychiatrie", 4),
            ("SM20", "Gynécologie-obstétrique", 3),
            ("SM19", "Gynécologie médicale", 2),
            ("SM49", "Santé publique et médecine sociale", 1),
            ("SM02", "Anesthésie-réanimation", 2),
            ("", "", 1),
        ),
        0.35,
        True,
        "CNOM/CNOM/CNOM",
    ),
    Profession(
        "40",
        "Chirurgien-Dentiste",
        10,
        (("", "", 9), ("SCD01", "Orthopédie dento-faciale", 1)),
        0.15,
        True,
        "CNOCD/CNOCD/CNOCD",
    ),
    Profession("70", "Masseur-Kinésithérapeute", 14, NO_SKILL, 0.2, False, "CNOMK/CNOMK/CNOMK"),
    Profession("60", "Infirmier", 18, NO_SKILL, 0.6, False, "CNOI/CNOI/CNOI"),
    Profession("50", "Sage-Femme", 6, NO_SKILL, 0.5, False, "CNOSF/CNOSF/CNOSF"),
    Profession("21", "Pharmacien", 7, NO_SKILL, 0.4, True, "CNOP/CNOP/CNOP"),
    Profession("80", "Pédicure-Podologue", 3, NO_SKILL, 0.05, False, "CNOPP/CNOPP/CNOPP"),
    Profession("91", "Orthophoniste", 3, NO_SKILL, 0.2, False, "ARS/ARS/ARS", adeli_share=0.3),
    Profession("92", "Orthoptiste", 1, NO_SKILL, 0.3, False, "ARS/ARS/ARS", adeli_share=0.3),
    Profession("93", "Psychologue", 4, NO_SKILL, 0.4, False, "ARS/ARS/ARS", adeli_share=0.5),
    Profession("95", "Diététicien", 2, NO_SKILL, 0.4, False, "ARS/ARS/ARS", adeli_share=0.5),
)
PROFESSION_BY_CODE = {p.code: p for p in PROFESSIONS}


def _upper_ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().upper()


def _of(city: str) -> str:
    """How a name says where it is: "DE LYON", "D'AVIGNON", "DU HAVRE"."""
    if city.startswith("LE "):
        return "DU " + city[3:]
    if city.startswith("LA "):
        return "DE " + city
    return ("D'" if city[:1] in "AEIOUY" else "DE ") + city


@dataclass(frozen=True)
class Place:
    postcode: str
    city: str  # in capitals, as the extract writes it


@dataclass(frozen=True)
class Structure:
    """Where an activity takes place: the structure columns of a line."""

    structure_id: str
    siret: str
    finess: str
    company_name: str
    trade_name: str
    number: str
    repetition: str
    street_type: tuple[str, str]
    street: str
    place: Place
    show_commune: bool
    phone: str
    email: str
    sector: tuple[str, str]


@dataclass(frozen=True)
class Person:
    id_type: str
    identifier: str
    civility: tuple[str, str]
    exercise_civility: tuple[str, str]
    last_name: str
    first_name: str
    profession: Profession
    skill: tuple[str, str]


class SampleWriter:
    """Draws people and places from seeded pools (Faker is only used to fill the pools, so
    200,000 lines take seconds)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        fake = Faker("fr_FR")
        fake.seed_instance(seed)
        self.last_names = [_upper_ascii(fake.last_name()) for _ in range(600)]
        self.female_names = [_upper_ascii(fake.first_name_female()) for _ in range(200)]
        self.male_names = [_upper_ascii(fake.first_name_male()) for _ in range(200)]
        people = [f"{_upper_ascii(fake.first_name())} {name}" for name in self.last_names[:150]]
        self.streets = list(COMMON_STREETS) + people
        self.places = [Place(p.postcode, _upper_ascii(p.name)) for p in load_places()]
        self.profession_weights = list(accumulate(p.weight for p in PROFESSIONS))
        self.street_type_weights = list(accumulate(w for *_, w in STREET_TYPES))
        self.structure_count = 100  # the fixed entries use 1 to 3
        shared = [self._shared_structure(kind) for kind in range(60)]
        self.employers = [s for s in shared if s.sector[0] != "SA08"]
        self.group_practices = [s for s in shared if s.sector[0] == "SA08"]

    # --- structures ---------------------------------------------------------------------------

    def _next_structure_id(self, prefix: str) -> str:
        self.structure_count += 1
        return f"{prefix}{10100000000000 + self.structure_count}"

    def _address(self) -> tuple[str, str, tuple[str, str], str]:
        rng = self.rng
        street_type = rng.choices(STREET_TYPES, cum_weights=self.street_type_weights)[0]
        repetition = rng.choice("BT") if rng.random() < 0.06 else ""
        return str(rng.randint(1, 180)), repetition, street_type[:2], rng.choice(self.streets)

    def _phone(self) -> str:
        # 01 99 00 xx xx and 06 39 98 xx xx are kept by ARCEP for fiction: they reach nobody.
        prefix = "063998" if self.rng.random() < 0.2 else "019900"
        return f"{prefix}{self.rng.randrange(10_000):04d}"

    def _shared_structure(self, kind: int) -> Structure:
        """Hospitals, clinics, health centres and group practices several people work at."""
        rng = self.rng
        place = rng.choice(self.places)
        number, repetition, street_type, street = self._address()
        finess = f"{place.postcode[:2]}0{rng.randrange(1_000_000):06d}"
        if kind % 4 == 0:
            name = f"CENTRE HOSPITALIER {_of(place.city)}"
            sector = ("SA01", "Etablissement public de santé")
        elif kind % 4 == 1:
            name, sector = f"CLINIQUE {rng.choice(self.last_names)}", ("SA02", "Clinique privée")
        elif kind % 4 == 2:
            name, sector = f"CENTRE DE SANTE {street}", ("SA05", "Centre de santé")
            finess = ""
        else:
            name = f"MAISON DE SANTE PLURIPROFESSIONNELLE {_of(place.city)}"
            sector, finess = ("SA08", "Cabinet de groupe"), ""
        return Structure(
            structure_id=self._next_structure_id("F" if finess else "R"),
            siret=f"{rng.randrange(10**13, 10**14)}",
            finess=finess,
            company_name=name,
            trade_name="",
            number=number,
            repetition=repetition,
            street_type=street_type,
            street=street,
            place=place,
            show_commune=True,
            phone=self._phone(),
            email="",
            sector=sector,
        )

    def _practice(self, person: Person, place: Place | None = None) -> Structure:
        rng = self.rng
        place = place or rng.choice(self.places)
        number, repetition, street_type, street = self._address()
        title = "DR " if person.exercise_civility[0] == "DR" else ""
        name = f"CABINET {title}{person.first_name} {person.last_name}"
        email = ""
        if rng.random() < 0.15:
            domain = rng.choice(("example.org", "example.net", "example.com"))
            email = f"{person.first_name}.{person.last_name}@{domain}".lower().replace(" ", "-")
        return Structure(
            # A few activities come without a structure identifier, as in the real file.
            structure_id="" if rng.random() < 0.04 else self._next_structure_id("R"),
            siret=f"{rng.randrange(10**13, 10**14)}" if rng.random() < 0.5 else "",
            finess="",
            company_name=name,
            trade_name="CABINET MEDICAL" if rng.random() < 0.1 else "",
            number=number,
            repetition=repetition,
            street_type=street_type,
            street=street,
            place=place,
            show_commune=rng.random() < 0.7,
            phone=self._phone() if rng.random() < 0.7 else "",
            email=email,
            sector=("SA07", "Cabinet individuel"),
        )

    # --- people -------------------------------------------------------------------------------

    def _person(self, number: int) -> Person:
        rng = self.rng
        profession = rng.choices(PROFESSIONS, cum_weights=self.profession_weights)[0]
        skill = (
            rng.choices(profession.skills, weights=[w for *_, w in profession.skills])[0][:2]
            if len(profession.skills) > 1
            else profession.skills[0][:2]
        )
        female = rng.random() < 0.55
        adeli = rng.random() < profession.adeli_share
        if adeli:
            id_type, identifier = "0", f"{rng.choice(self.places).postcode[:2]}{number:07d}"
        else:
            id_type, identifier = "8", sample_rpps(number)
        return Person(
            id_type=id_type,
            identifier=identifier,
            civility=("MME", "Madame") if female else ("M", "Monsieur"),
            exercise_civility=("DR", "Docteur") if profession.doctor_title else ("", ""),
            last_name=rng.choice(self.last_names),
            first_name=rng.choice(self.female_names if female else self.male_names),
            profession=profession,
            skill=skill,
        )

    def _activities(self, person: Person) -> list[tuple[tuple[str, str], Structure | None]]:
        rng = self.rng
        if rng.random() < 0.02:  # registered, no activity: the structure columns are empty
            return [(("", ""), None)]
        count = 2 if rng.random() < 0.15 else 1
        activities = []
        for index in range(count):
            salaried = rng.random() < person.profession.salaried_share
            if salaried:
                activities.append((SALARIED, rng.choice(self.employers)))
            elif index == 0 or rng.random() < 0.5:
                group = rng.random() < 0.2
                structure = rng.choice(self.group_practices) if group else self._practice(person)
                activities.append((LIBERAL, structure))
            else:
                activities.append((VOLUNTEER, rng.choice(self.employers)))
        return activities

    # --- lines --------------------------------------------------------------------------------

    def line(self, person: Person, mode: tuple[str, str], structure: Structure | None) -> str:
        fields = [""] * len(HEADER_NAMES)
        has_skill = bool(person.skill[0])
        person_values = (
            person.id_type,
            person.identifier,
            person.id_type + person.identifier,
            *person.exercise_civility,
            *person.civility,
            person.last_name,
            person.first_name,
            person.profession.code,
            person.profession.label,
            "C",
            "Civil",
            SPECIALITY[0] if has_skill else "",
            SPECIALITY[1] if has_skill else "",
            *person.skill,
            *mode,
            person.profession.authority,
        )
        for position, value in zip(PERSON_COLUMNS, person_values, strict=True):
            fields[position] = value
        if structure is not None:
            place = structure.place
            structure_values = (
                structure.siret,
                structure.siret[:9],
                structure.finess,
                structure.structure_id,
                structure.company_name,
                structure.trade_name,
                structure.company_name,
                structure.number,
                structure.repetition,
                *structure.street_type,
                structure.street,
                f"{place.postcode} {place.city}",
                place.postcode,
                place.city if structure.show_commune else "",
                structure.phone,
                structure.email,
                place.postcode[:2],
                f"3{structure.siret}" if structure.siret else "",
                *structure.sector,
            )
            for position, value in zip(STRUCTURE_COLUMNS, structure_values, strict=True):
                fields[position] = value
        return "|".join(fields)

    def fixed_lines(self) -> list[str]:
        """The documented first entries (see the module docstring)."""
        gp = Person(
            "8", SAMPLE_GP_RPPS, ("MME", "Madame"), ("DR", "Docteur"), "BERNARDIN", "JULIE",
            PROFESSION_BY_CODE["10"], ("SM54", "Médecine générale"),
        )  # fmt: skip
        gp_practice = Structure(
            "R10100000000001", "", "", "CABINET MEDICAL", "", "14", "", ("R", "Rue"),
            "DE LA ROQUETTE", Place("75011", "PARIS"), True, "0199000101", "",
            ("SA07", "Cabinet individuel"),
        )  # fmt: skip
        cardiologist = Person(
            "8", SAMPLE_CARDIOLOGIST_RPPS, ("M", "Monsieur"), ("DR", "Docteur"), "LEGRAND",
            "MARC", PROFESSION_BY_CODE["10"], ("SM04", "Cardiologie et maladies vasculaires"),
        )  # fmt: skip
        cardiology_practice = Structure(
            "R10100000000002", "", "", "CABINET DE CARDIOLOGIE DES BERGES", "", "8", "",
            ("QUA", "Quai"), "VICTOR AUGAGNEUR", Place("69003", "LYON"), False, "0199000102",
            "", ("SA08", "Cabinet de groupe"),
        )  # fmt: skip
        clinic = Structure(
            "F10100000000003", "", "690999991", "CENTRE CARDIOLOGIQUE DES BERGES", "", "3",
            "B", ("AV", "Avenue"), "DES FRERES LUMIERE", Place("69008", "LYON"), True,
            "0199000103", "", ("SA02", "Clinique privée"),
        )  # fmt: skip
        psychologist = Person(
            "0", SAMPLE_ADELI, ("MME", "Madame"), ("", ""), "FONTAINE", "ANNE",
            PROFESSION_BY_CODE["93"], ("", ""),
        )  # fmt: skip
        return [
            self.line(gp, LIBERAL, gp_practice),
            self.line(cardiologist, SALARIED, clinic),
            self.line(cardiologist, LIBERAL, cardiology_practice),
            self.line(psychologist, LIBERAL, self._practice(psychologist, Place("75014", "PARIS"))),
        ]

    def lines(self) -> Iterator[str]:
        """Data lines, without end: the fixed ones, then drawn ones."""
        yield from self.fixed_lines()
        number = 10
        while True:
            person = self._person(number)
            number += 1
            for mode, structure in self._activities(person):
                yield self.line(person, mode, structure)


def write_sample(
    out: TextIO | str | Path, *, lines: int = DEFAULT_LINES, seed: int = DEFAULT_SEED
) -> int:
    """Write the header and ``lines`` data lines; returns the number of bytes written."""
    if isinstance(out, str | Path):
        with open(out, "w", encoding="utf-8", newline="\n") as handle:
            return write_sample(handle, lines=lines, seed=seed)
    written = out.write(HEADER + "\n")
    generator = SampleWriter(seed).lines()
    for _ in range(lines):
        written += out.write(next(generator) + "\n")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", help="file to write (- for standard output)")
    parser.add_argument("--lines", type=int, default=DEFAULT_LINES, help="data lines to write")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    options = parser.parse_args(argv)
    if options.out == "-":
        write_sample(sys.stdout, lines=options.lines, seed=options.seed)
    else:
        write_sample(Path(options.out), lines=options.lines, seed=options.seed)
        print(f"Wrote {options.lines} lines to {options.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
