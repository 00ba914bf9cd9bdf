"""Deterministic demo and benchmark data: a French healthcare directory with busy agendas.

``generate(practitioners=N, seed=S)`` fills an empty database with organisations of every kind,
sites in real French cities (``directory/data/places.csv``), practitioners with valid RPPS
numbers, their agendas, motives, weekly openings, absences, a pool of patients and about 40 % of
the next two weeks booked (plus two weeks of history), and the demo logins in ``DEMO_LOGINS``.

Two phases keep it fast and reproducible at any size (10,000 practitioners is about 2 million
appointments):

* Planning is pure Python: Faker ``fr_FR`` and ``random.Random`` seeded from ``seed`` (one
  stream for the directory, one per agenda for its content), so the same seed gives the same
  data whatever the batch size or the database. Appointment times are laid on each motive's
  grid inside the openings (the grid of ``scheduling.availability``), never overlapping on a
  capacity-1 agenda; an agenda of capacity N is N such independent lanes.
* Inserting is ``bulk_create`` in batches of agendas, one transaction per batch, with no query
  per row. Only one batch of agenda content is in memory at a time.

A ``DemoDataset`` row marks the database: a second run finds it and adds nothing.
"""

from __future__ import annotations

import random
import sys
import time as clock
import unicodedata
from bisect import bisect
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from itertools import accumulate
from typing import TextIO
from zoneinfo import ZoneInfo

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import encrypt
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone
from faker import Faker
from tqdm import tqdm

from consulto.directory.directory_import import import_sample_if_empty
from consulto.directory.models import Membership, Organisation, Practitioner, Site, Specialty
from consulto.directory.places import load_places
from consulto.directory.rpps import luhn_check_digit
from consulto.directory.specialties import SPECIALTIES
from consulto.practice.models import AgendaAssignment, PatientFile, PracticePolicy
from consulto.scheduling.models import (
    Absence,
    Agenda,
    Appointment,
    Motive,
    Opening,
    PatientProfile,
)

from .models import DemoDataset

__all__ = [
    "DEMO_PASSWORD",
    "DemoError",
    "DemoLogin",
    "DemoSummary",
    "generate",
    "load_cities",
    "plan_agenda",
    "plan_batches",
    "plan_directory",
]

DEMO_PASSWORD = "consulto-demo-2026"  # noqa: S105 - the documented password of demo accounts
HISTORY_DAYS = 14  # days before ``today`` that get seen / no-show / cancelled appointments
HORIZON_DAYS = 14  # days from ``today`` that get booked appointments
AGENDAS_PER_BATCH = 250  # agendas planned and inserted per transaction
ROWS_PER_INSERT = 5000  # bulk_create batch size (SQLite lowers it to its parameter limit)
PATIENTS_PER_PRACTITIONER = 5
MAX_PATIENTS = 50_000
CLIENTELE = 400  # distinct patients an agenda draws from

Kind = Organisation.Kind
Status = Appointment.Status
Mode = Motive.Mode
# Plain strings, not enum members: rows are also written through raw COPY / executemany.
BOOKED, SEEN, NO_SHOW, CANCELLED = (
    Status.BOOKED.value, Status.SEEN.value, Status.NO_SHOW.value, Status.CANCELLED.value,
)  # fmt: skip
ONLINE, SECRETARY, PRACTITIONER = (
    Appointment.Channel.ONLINE.value, Appointment.Channel.SECRETARY.value,
    Appointment.Channel.PRACTITIONER.value,
)  # fmt: skip


class DemoError(Exception):
    """The database holds demo data that this run cannot complete or change."""


# --- reference data ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class City:
    name: str
    postcode: str
    lat: float
    lon: float
    timezone: str


@cache
def load_cities() -> tuple[City, ...]:
    """The real French places the demo puts its sites in (``directory/data/places.csv``)."""
    return tuple(City(p.name, p.postcode, p.lat, p.lon, p.timezone) for p in load_places())


DEMO_CITY = next(c for c in load_cities() if c.postcode == "75011")  # the demo staff's centre
# Practitioners put in Paris first, whatever the dataset's size: a newcomer who searches Paris
# finds many of them, with free slots (the others go to cities drawn at random).
PARIS_SHOWCASE = 24


# Professions whose members are not addressed as "Dr".
NOT_DOCTORS = frozenset(
    {
        "kinesitherapeute", "infirmier", "sage-femme", "psychologue", "orthophoniste",
        "orthoptiste", "osteopathe", "podologue", "dieteticien",
    }
)  # fmt: skip
# Professions outside the health-insurance convention: no sector.
NO_SECTOR = frozenset({"psychologue", "osteopathe", "dieteticien"})
# Who would not see the demo patient's parent.
CHILD_OR_WOMEN_ONLY = frozenset({"pediatre", "sage-femme", "gynecologue", "orthophoniste"})
# Professions that do not take hospital consultations in this demo.
NOT_IN_HOSPITALS = frozenset(
    {
        "medecin-generaliste", "chirurgien-dentiste", "kinesitherapeute", "infirmier",
        "orthophoniste", "osteopathe", "podologue", "dieteticien", "orthoptiste",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class MotiveSpec:
    label: str
    duration: int
    instructions: str = ""
    new_patients: bool = True
    mornings_only: bool = False


VITALE = "Munissez-vous de votre carte Vitale et de vos derniers comptes rendus ou ordonnances."
FASTING = "Venez à jeun depuis la veille au soir (eau autorisée)."
# Specialty-specific motives; each practitioner offers one or two of their specialty's list.
EXTRA_MOTIVES: dict[str, tuple[MotiveSpec, ...]] = {
    "medecin-generaliste": (
        MotiveSpec("Certificat médical de sport", 15),
        MotiveSpec("Consultation pour un enfant", 20, "Apportez le carnet de santé de l'enfant."),
        MotiveSpec("Renouvellement d'ordonnance", 15, new_patients=False),
    ),
    "pediatre": (
        MotiveSpec("Vaccination", 15, "Apportez le carnet de santé de l'enfant."),
        MotiveSpec("Consultation du nourrisson", 30, "Apportez le carnet de santé de l'enfant."),
    ),
    "chirurgien-dentiste": (
        MotiveSpec("Détartrage", 30),
        MotiveSpec("Urgence dentaire", 20, mornings_only=True),
        MotiveSpec("Soins dentaires", 30, new_patients=False),
    ),
    "kinesitherapeute": (
        MotiveSpec(
            "Séance de rééducation", 30, "Munissez-vous de votre ordonnance et d'une serviette."
        ),
        MotiveSpec("Bilan kinésithérapique", 45, "Apportez vos examens d'imagerie récents."),
    ),
    "infirmier": (
        MotiveSpec("Prise de sang", 10, FASTING, mornings_only=True),
        MotiveSpec("Pansement", 15),
        MotiveSpec("Injection", 10, "Apportez votre ordonnance et le produit à injecter."),
    ),
    "sage-femme": (
        MotiveSpec("Suivi de grossesse", 30, "Apportez votre dossier de grossesse."),
        MotiveSpec("Rééducation du périnée", 30),
    ),
    "gynecologue": (
        MotiveSpec("Frottis", 20),
        MotiveSpec("Pose de stérilet", 30, new_patients=False),
    ),
    "ophtalmologue": (
        MotiveSpec("Renouvellement de lunettes", 20, "Apportez vos lunettes actuelles."),
        MotiveSpec(
            "Fond d'œil", 30, "Vos pupilles seront dilatées : ne conduisez pas après l'examen."
        ),
    ),
    "dermatologue": (
        MotiveSpec("Contrôle de grains de beauté", 20),
        MotiveSpec("Acné", 20),
    ),
    "psychiatre": (MotiveSpec("Renouvellement d'ordonnance", 15, new_patients=False),),
    "cardiologue": (
        MotiveSpec("Électrocardiogramme (ECG)", 20),
        MotiveSpec("Échographie cardiaque", 30, VITALE),
    ),
    "orl": (MotiveSpec("Audiogramme", 30), MotiveSpec("Lavage d'oreilles", 15)),
    "radiologue": (
        MotiveSpec("Radiographie", 15, "Apportez l'ordonnance et vos anciens clichés."),
        MotiveSpec("Échographie abdominale", 20, FASTING),
    ),
    "psychologue": (MotiveSpec("Séance de thérapie", 45), MotiveSpec("Entretien familial", 60)),
    "orthophoniste": (
        MotiveSpec("Bilan orthophonique", 60, "Apportez l'ordonnance du médecin."),
        MotiveSpec("Séance de rééducation orthophonique", 30, new_patients=False),
    ),
    "orthoptiste": (MotiveSpec("Bilan orthoptique", 30),),
    "osteopathe": (
        MotiveSpec("Séance d'ostéopathie", 45),
        MotiveSpec("Ostéopathie du nourrisson", 30),
    ),
    "podologue": (MotiveSpec("Soins de pédicurie", 30), MotiveSpec("Semelles orthopédiques", 30)),
    "dieteticien": (MotiveSpec("Bilan nutritionnel", 45),),
    "gastro-enterologue": (MotiveSpec("Consultation avant coloscopie", 30, VITALE),),
    "endocrinologue": (MotiveSpec("Suivi du diabète", 20, "Apportez votre carnet de glycémie."),),
    "rhumatologue": (MotiveSpec("Infiltration", 20, new_patients=False),),
    "pneumologue": (MotiveSpec("Exploration fonctionnelle respiratoire", 30),),
    "neurologue": (MotiveSpec("Électroencéphalogramme (EEG)", 45, "Venez les cheveux propres."),),
    "urologue": (MotiveSpec("Bilan urologique", 30),),
    "allergologue": (
        MotiveSpec(
            "Tests allergologiques", 45, "Arrêtez vos antihistaminiques 5 jours avant le test."
        ),
    ),
    "chirurgien-orthopediste": (MotiveSpec("Consultation pré-opératoire", 30, VITALE),),
    "stomatologue": (MotiveSpec("Extraction de dents de sagesse", 45, new_patients=False),),
    "angiologue": (MotiveSpec("Écho-doppler veineux", 30),),
    "nephrologue": (MotiveSpec("Suivi de l'insuffisance rénale", 30, new_patients=False),),
    "geriatre": (MotiveSpec("Bilan gériatrique", 60, "Venez accompagné d'un proche si possible."),),
}
VIDEO_INSTRUCTIONS = (
    "Vous recevrez un lien de connexion par e-mail. Vérifiez votre caméra et votre micro avant "
    "le rendez-vous."
)
VACCINE_INSTRUCTIONS = "Munissez-vous de votre carte Vitale et de votre carnet de vaccination."
COLOURS = ("#2e6fd8", "#1b998b", "#e07a5f", "#8d5fd3", "#f2a541", "#d1495b", "#3d5a80")

PLACE_NAMES = (
    "des Tilleuls", "du Parc", "de la Gare", "Pasteur", "Saint-Exupéry", "des Lilas", "du Centre",
    "Victor Hugo", "Jean Jaurès", "de la Mairie", "des Arcades", "du Marché", "des Acacias",
    "Simone Veil", "Marie Curie", "du Port", "des Remparts", "de l'Église", "du Château",
    "Voltaire", "des Écoles", "du Canal", "Jules Ferry", "de la République",
)  # fmt: skip
SAINTS = ("Saint-Joseph", "Saint-Martin", "Sainte-Anne", "Saint-Louis", "Sainte-Marie")
HOSPITAL_SITES = (
    "Hôpital Nord", "Hôpital Sud", "Site Pasteur", "Site Laennec", "Hôpital de jour",
    "Pôle mère-enfant", "Centre de consultations externes",
)  # fmt: skip
ACCESS_DETAILS = (
    "Accès PMR, ascenseur.",
    "Bâtiment B, 2e étage, porte gauche.",
    "Rez-de-chaussée, entrée par la cour.",
    "Parking gratuit devant le bâtiment.",
    "Interphone au nom du cabinet.",
    "Arrêt de bus à 100 m.",
)
BIOS = (
    "{name} vous reçoit au sein de {place}, à {city}.",
    "{name} exerce à {city} et consulte sur rendez-vous. Merci de prévenir en cas d'empêchement.",
    "{name} vous accueille à {place}. Consultations en français{languages}.",
)
LANGUAGE_NAMES = {
    "en": "anglais", "ar": "arabe", "es": "espagnol", "de": "allemand", "it": "italien",
    "pt": "portugais",
}  # fmt: skip
# A consultation's usual fee in euros (sector 1, or the going rate outside the convention).
FEES = {
    "medecin-generaliste": 30, "chirurgien-dentiste": 23, "kinesitherapeute": 17,
    "infirmier": 20, "sage-femme": 25, "pediatre": 35, "gynecologue": 35, "ophtalmologue": 35,
    "dermatologue": 35, "psychiatre": 55, "cardiologue": 52, "orl": 35, "radiologue": 45,
    "psychologue": 60, "orthophoniste": 30, "orthoptiste": 25, "osteopathe": 60,
    "podologue": 35, "dieteticien": 45, "geriatre": 35,
}  # fmt: skip
CANCEL_REASONS = (
    "Empêchement personnel",
    "Rendez-vous pris ailleurs",
    "Annulé par le cabinet",
    "Patient malade",
    "Erreur de réservation",
)


# --- plans: plain data built from the seed --------------------------------------------------


@dataclass(slots=True)
class SitePlan:
    name: str
    address: str
    postcode: str
    city: str
    latitude: float
    longitude: float
    timezone: str
    phone: str
    access_details: str


@dataclass(slots=True)
class OrganisationPlan:
    name: str
    kind: str
    finess: str
    sites: list[SitePlan]


@dataclass(slots=True)
class PractitionerPlan:
    title: str
    first_name: str
    last_name: str
    rpps: str
    specialty: str
    languages: str
    sector: str
    accepts_new_patients: bool
    video_enabled: bool
    bio: str


@dataclass(slots=True)
class AgendaPlan:
    organisation: int  # index into DirectoryPlan.organisations
    site: int  # index into that organisation's sites
    practitioner: int | None  # index into DirectoryPlan.practitioners; None for a resource
    name: str
    capacity: int
    resource: str = ""  # "vaccination" or "screening" for resource agendas


@dataclass(slots=True)
class PatientPlan:
    first_name: str
    last_name: str
    birth_date: date
    phone: str
    email: str
    female: bool


@dataclass
class DirectoryPlan:
    organisations: list[OrganisationPlan]
    practitioners: list[PractitionerPlan]
    agendas: list[AgendaPlan]
    patients: list[PatientPlan]
    demo_organisation: int  # the health centre of the demo staff logins
    demo_agenda: int  # the agenda of the demo practitioner


@dataclass(slots=True)
class MotivePlan:
    label: str
    duration: int
    mode: str
    open_to_new_patients: bool
    online: bool
    instructions: str
    min_notice_minutes: int
    max_advance_days: int
    cancellation_deadline_hours: int
    colour: str
    weight: float  # how often it is booked (planning only)


@dataclass(slots=True)
class OpeningPlan:
    weekday: int
    start: time
    end: time
    motives: tuple[int, ...]  # indices into AgendaContent.motives
    valid_from: date
    valid_until: date | None
    every_weeks: int


@dataclass(slots=True)
class AbsencePlan:
    start: datetime
    end: datetime
    reason: str


@dataclass(slots=True)
class AppointmentPlan:
    motive: int  # index into AgendaContent.motives
    patient: int  # index into DirectoryPlan.patients; negative for the demo patient's profiles
    start: datetime  # UTC
    end: datetime  # UTC
    status: str
    channel: str
    booked_at: datetime  # UTC; also the row's created_at
    cancelled_at: datetime | None = None
    cancel_reason: str = ""


@dataclass
class AgendaContent:
    motives: list[MotivePlan]
    openings: list[OpeningPlan]
    absences: list[AbsencePlan]
    appointments: list[AppointmentPlan]


# --- summary ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DemoLogin:
    email: str
    password: str
    role: str


DEMO_SELF, DEMO_CHILD, DEMO_PARENT = -1, -2, -3
# Staff log in with a second factor: the demo staff share this authenticator secret (base32).
# Add it to an authenticator app, or print the current code with `consulto demo-code`.
DEMO_TOTP_SECRET = "CONSULTODEMOSTAFFSECRETTOTPAB234"  # noqa: S105 (demo data, printed on purpose)
DEMO_LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin("patient@consulto.local", DEMO_PASSWORD, "patient, with a child and a parent"),
    DemoLogin("praticien@consulto.local", DEMO_PASSWORD, "general practitioner"),
    DemoLogin("secretariat@consulto.local", DEMO_PASSWORD, "secretary of the health centre"),
    DemoLogin("admin@consulto.local", DEMO_PASSWORD, "administrator of the health centre"),
    DemoLogin("root@consulto.local", DEMO_PASSWORD, "superuser (Django admin)"),
)


@dataclass
class DemoSummary:
    seed: int
    practitioners: int
    today: date
    created: bool  # False when the database already held a demo dataset
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    message: str = ""
    logins: tuple[DemoLogin, ...] = DEMO_LOGINS


# --- small helpers ------------------------------------------------------------------------------


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


def _fiction_phone(rng: random.Random, prefix: str) -> str:
    # ARCEP reserves 01 99 00 xx xx and 06 39 98 xx xx for fiction: demo SMS reach nobody.
    return f"{prefix} {rng.randrange(100):02d} {rng.randrange(100):02d}"


def _finess(rng: random.Random, postcode: str) -> str:
    if postcode.startswith("97"):
        department = postcode[:3]
    elif postcode.startswith("20"):
        department = "2A" if postcode < "20200" else "2B"
    else:
        department = postcode[:2]
    body = department + "".join(str(rng.randrange(10)) for _ in range(8 - len(department)))
    return body + luhn_check_digit(("00" + body.replace("A", "0").replace("B", "0"))[-10:])


def _jitter(rng: random.Random, city: City) -> tuple[float, float]:
    return (
        round(city.lat + rng.uniform(-0.012, 0.012), 6),
        round(city.lon + rng.uniform(-0.018, 0.018), 6),
    )


def _hm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def _clock(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


# --- the directory plan -------------------------------------------------------------------------


class _DirectoryPlanner:
    def __init__(self, *, seed: int, practitioners: int, today: date) -> None:
        self.n = practitioners
        self.today = today
        self.rng = random.Random(f"consulto-demo:{seed}:directory")
        self.fake = Faker("fr_FR")
        self.fake.seed_instance(seed)
        self.cities = load_cities()
        people = [s for s in SPECIALTIES if not s.is_resource]
        self.codes = [s.code for s in people]
        self.weights = [s.weight for s in people]
        self.hospital_codes = [c for c in self.codes if c not in NOT_IN_HOSPITALS]
        self.hospital_weights = [
            w for c, w in zip(self.codes, self.weights, strict=True) if c not in NOT_IN_HOSPITALS
        ]
        # An affine map with a multiplier prime to 10 is a bijection on 8 digits: RPPS numbers
        # that look random and can never collide within the dataset.
        multiplier = self.rng.randrange(10**6, 10**8) | 1
        while multiplier % 5 == 0:
            multiplier += 2
        self.rpps_multiplier = multiplier
        self.rpps_offset = self.rng.randrange(10**8)
        self.organisations: list[OrganisationPlan] = []
        self.practitioners: list[PractitionerPlan] = []
        self.agendas: list[AgendaPlan] = []
        self.paris = [c for c in self.cities if c.name == "Paris" and c != DEMO_CITY]
        self.paris_turn = 0
        self.in_paris = 0

    # -- pieces

    def site(self, name: str, city: City) -> SitePlan:
        rng = self.rng
        lat, lon = _jitter(rng, city)
        return SitePlan(
            name=name,
            address=self.fake.street_address(),
            postcode=city.postcode,
            city=city.name,
            latitude=lat,
            longitude=lon,
            timezone=city.timezone,
            phone=_fiction_phone(rng, "01 99 00"),
            access_details=rng.choice(ACCESS_DETAILS) if rng.random() < 0.5 else "",
        )

    def practitioner(self, specialty: str, place: str, city: City) -> PractitionerPlan:
        rng, fake = self.rng, self.fake
        female = rng.random() < 0.55
        first_name = fake.first_name_female() if female else fake.first_name_male()
        last_name = fake.last_name()
        index = len(self.practitioners)
        first_ten = f"10{(self.rpps_multiplier * index + self.rpps_offset) % 10**8:08d}"
        title = "" if specialty in NOT_DOCTORS else "Dr"
        roll = rng.random()
        if roll < 0.75:
            languages = "fr"
        else:
            languages = rng.choice(("fr,en", "fr,en", "fr,en", "fr,ar", "fr,es", "fr,de", "fr,it",
                                    "fr,pt", "fr,en,es"))  # fmt: skip
        if specialty in NO_SECTOR:
            sector = ""
        elif specialty == "medecin-generaliste" or title == "":
            sector = rng.choices(("1", "2", "3"), (90, 9, 1))[0]
        else:
            sector = rng.choices(("1", "2", "3"), (60, 35, 5))[0]
        name = " ".join(p for p in (title, first_name, last_name) if p)
        bio = ""
        if rng.random() < 0.6:
            spoken = [LANGUAGE_NAMES[c] for c in languages.split(",")[1:]]
            bio = rng.choice(BIOS).format(
                name=name,
                place=place,
                city=city.name,
                languages=(" et en " + " et en ".join(spoken)) if spoken else "",
            )
        plan = PractitionerPlan(
            title=title,
            first_name=first_name,
            last_name=last_name,
            rpps=first_ten + luhn_check_digit(first_ten),
            specialty=specialty,
            languages=languages,
            sector=sector,
            accepts_new_patients=rng.random() < 0.8,
            video_enabled=rng.random() < 0.35,
            bio=bio,
        )
        self.practitioners.append(plan)
        return plan

    def staffed(self, organisation: OrganisationPlan, city: City, specialties: list[str]) -> None:
        """Add an organisation with one practitioner and one agenda per specialty given."""
        org_index = len(self.organisations)
        self.organisations.append(organisation)
        for specialty in specialties:
            site_index = self.rng.randrange(len(organisation.sites))
            plan = self.practitioner(specialty, organisation.name, city)
            self.agendas.append(
                AgendaPlan(
                    organisation=org_index,
                    site=site_index,
                    practitioner=len(self.practitioners) - 1,
                    name=" ".join(p for p in (plan.title, plan.first_name, plan.last_name) if p),
                    capacity=1,
                )
            )

    def draw(self, count: int, *, hospital: bool = False) -> list[str]:
        if hospital:
            return self.rng.choices(self.hospital_codes, self.hospital_weights, k=count)
        return self.rng.choices(self.codes, self.weights, k=count)

    # -- organisations

    def city(self, size: int) -> City:
        """Where the next organisation of ``size`` practitioners is: a random city, or, until
        Paris holds ``PARIS_SHOWCASE`` practitioners, the next arrondissement of Paris (the
        random draw is still made, so the rest of the dataset is as it would be)."""
        drawn = self.rng.choice(self.cities)
        if self.in_paris >= min(PARIS_SHOWCASE, self.n):
            return drawn
        self.in_paris += size
        city = self.paris[self.paris_turn % len(self.paris)]
        self.paris_turn += 1
        return city

    def health_centre(self, size: int, *, city: City | None = None) -> None:
        rng = self.rng
        city = city or self.city(size)
        name = rng.choice(
            (
                f"Centre de santé {rng.choice(PLACE_NAMES)}",
                f"Centre médical {rng.choice(PLACE_NAMES)}",
                f"Centre de santé municipal de {city.name}",
                f"Maison de santé {rng.choice(PLACE_NAMES)}",
            )
        )
        org = OrganisationPlan(name, Kind.HEALTH_CENTRE, _finess(rng, city.postcode), [])
        org.sites.append(self.site(name, city))
        # Health centres always have general practitioners; the first one is one.
        self.staffed(org, city, ["medecin-generaliste", *self.draw(size - 1)])

    def practice(self, size: int) -> None:
        rng = self.rng
        city = self.city(size)
        first = self.draw(1)[0]
        specialties = [first] + [
            first if rng.random() < 0.6 else self.draw(1)[0] for _ in range(size - 1)
        ]
        place = rng.choice(PLACE_NAMES)
        if first == "chirurgien-dentiste":
            name = f"Cabinet dentaire {place}"
        elif first == "kinesitherapeute":
            name = f"Cabinet de kinésithérapie {place}"
        elif first in NOT_DOCTORS:
            name = f"Cabinet paramédical {place}"
        else:
            name = f"Cabinet médical {place}"
        org = OrganisationPlan(name, Kind.PRACTICE, "", [])
        org.sites.append(self.site(name, city))
        self.staffed(org, city, specialties)

    def hospital(self, size: int) -> None:
        rng = self.rng
        city = rng.choice(self.cities)
        name = rng.choice(
            (
                f"Centre hospitalier de {city.name}",
                f"CHU de {city.name}",
                f"Hôpital privé {rng.choice(SAINTS)}",
            )
        )
        org = OrganisationPlan(name, Kind.HOSPITAL, _finess(rng, city.postcode), [])
        for site_name in rng.sample(HOSPITAL_SITES, rng.randint(2, 4)):
            org.sites.append(self.site(f"{name} – {site_name}", city))
        self.staffed(org, city, self.draw(size, hospital=True))

    def resource_centre(self, kind: str) -> None:
        rng = self.rng
        city = rng.choice(self.cities)
        if kind == Kind.VACCINATION_CENTRE:
            name, lines, label, capacity, resource = (
                f"Centre de vaccination de {city.name}", rng.randint(2, 4),
                "Ligne de vaccination", 6, "vaccination",
            )  # fmt: skip
        else:
            name, lines, label, capacity, resource = (
                f"Centre de dépistage de {city.name}", rng.randint(1, 3),
                "Cabine de dépistage", 1, "screening",
            )  # fmt: skip
        org = OrganisationPlan(name, kind, _finess(rng, city.postcode), [self.site(name, city)])
        org_index = len(self.organisations)
        self.organisations.append(org)
        for line in range(1, lines + 1):
            self.agendas.append(
                AgendaPlan(org_index, 0, None, f"{label} {line}", capacity, resource)
            )

    def unstaffed(self, kind: str) -> None:
        rng = self.rng
        city = rng.choice(self.cities)
        if kind == Kind.REGULATION_CENTRE:
            name = f"SAMU – Centre 15 de {city.name}"
            finess = _finess(rng, city.postcode)
        else:
            name = "Relation Patients Services"
            finess = ""
        self.organisations.append(OrganisationPlan(name, kind, finess, [self.site(name, city)]))

    # -- the whole

    def build(self) -> DirectoryPlan:
        rng, n = self.rng, self.n
        # The demo staff work in the first organisation: a health centre led by a GP.
        first_centre = min(n, rng.randint(5, 15)) if n else 0
        hospital_count = 2 + n // 2500
        hospital_people = round(n * 0.10) if n > first_centre else 0
        centre_people = max(0, round(n * 0.22) - first_centre)
        rest = n - first_centre
        hospital_people = min(hospital_people, rest)
        centre_people = min(centre_people, rest - hospital_people)
        practice_people = rest - hospital_people - centre_people

        jobs: list[tuple[str, int]] = []
        base, extra = divmod(hospital_people, hospital_count)
        jobs += [(Kind.HOSPITAL, base + (i < extra)) for i in range(hospital_count)]
        while centre_people > 0:
            size = min(centre_people, rng.randint(5, 15))
            jobs.append((Kind.HEALTH_CENTRE, size))
            centre_people -= size
        while practice_people > 0:
            size = min(practice_people, rng.choices((1, 2, 3, 4), (45, 30, 15, 10))[0])
            jobs.append((Kind.PRACTICE, size))
            practice_people -= size
        for _ in range(1 + n // 3000):
            jobs.append((Kind.VACCINATION_CENTRE, 0))
            jobs.append((Kind.SCREENING_CENTRE, 0))
        jobs += [(Kind.REGULATION_CENTRE, 0), (Kind.SUPPORT_PROVIDER, 0)]
        rng.shuffle(jobs)

        if first_centre:
            # The demo staff's centre is in Paris, where a newcomer is likely to search first.
            self.rng.choice(self.cities)
            self.in_paris += first_centre
            self.health_centre(first_centre, city=DEMO_CITY)
        for kind, size in jobs:
            if kind == Kind.HEALTH_CENTRE:
                self.health_centre(size)
            elif kind == Kind.PRACTICE:
                self.practice(size)
            elif kind == Kind.HOSPITAL:
                self.hospital(size)
            elif kind in (Kind.VACCINATION_CENTRE, Kind.SCREENING_CENTRE):
                self.resource_centre(kind)
            else:
                self.unstaffed(kind)
        return DirectoryPlan(
            organisations=self.organisations,
            practitioners=self.practitioners,
            agendas=self.agendas,
            patients=self.patients(min(MAX_PATIENTS, max(50, n * PATIENTS_PER_PRACTITIONER))),
            demo_organisation=0,
            demo_agenda=0,
        )

    def patients(self, count: int) -> list[PatientPlan]:
        rng, fake = self.rng, self.fake
        lowest = date(1935, 1, 1).toordinal()
        span = date(2024, 12, 31).toordinal() - lowest
        result = []
        for _ in range(count):
            female = rng.random() < 0.52
            first_name = fake.first_name_female() if female else fake.first_name_male()
            last_name = fake.last_name()
            email = ""
            if rng.random() < 0.7:
                domain = rng.choice(("example.com", "example.org", "example.net"))
                email = f"{_ascii(first_name)}.{_ascii(last_name)}{rng.randrange(100)}@{domain}"
            result.append(
                PatientPlan(
                    first_name=first_name,
                    last_name=last_name,
                    birth_date=date.fromordinal(lowest + rng.randrange(span + 1)),
                    phone=_fiction_phone(rng, "06 39 98") if rng.random() < 0.9 else "",
                    email=email,
                    female=female,
                )
            )
        return result


def plan_directory(*, seed: int, practitioners: int, today: date) -> DirectoryPlan:
    """Organisations, sites, practitioners, agendas and the patient pool for that seed."""
    return _DirectoryPlanner(seed=seed, practitioners=practitioners, today=today).build()


# --- one agenda's content -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _PatientPools:
    """Patient indices by the kind of agenda that sees them."""

    everyone: tuple[int, ...]
    children: tuple[int, ...]
    women: tuple[int, ...]
    seniors: tuple[int, ...]

    @classmethod
    def of(cls, patients: Sequence[PatientPlan], today: date) -> _PatientPools:
        child_born_after = today.replace(year=today.year - 16)
        senior_born_before = today.replace(year=today.year - 70)
        everyone = tuple(range(len(patients)))
        children = tuple(i for i, p in enumerate(patients) if p.birth_date > child_born_after)
        women = tuple(
            i for i, p in enumerate(patients) if p.female and p.birth_date <= child_born_after
        )
        seniors = tuple(i for i, p in enumerate(patients) if p.birth_date < senior_born_before)
        return cls(everyone, children or everyone, women or everyone, seniors or everyone)

    def for_specialty(self, specialty: str) -> tuple[int, ...]:
        if specialty == "pediatre":
            return self.children
        if specialty in ("gynecologue", "sage-femme"):
            return self.women
        if specialty == "geriatre":
            return self.seniors
        return self.everyone


def motive_price(practitioner: PractitionerPlan | None, motive: MotivePlan) -> Decimal | None:
    """What a motive costs, from the specialty's usual fee and the practitioner's sector (no
    random draw: the rest of the dataset stays as it was). Resources (vaccination, screening)
    are free of charge for the patient here: no price is shown."""
    if practitioner is None:
        return None
    base = FEES.get(practitioner.specialty, 50)
    factor = {"1": 1, "2": 1.6, "3": 2}.get(practitioner.sector, 1)
    if motive.duration >= 45:
        factor *= 1.5
    price = base if factor == 1 else round(base * factor / 5) * 5  # fees over the convention's
    return Decimal(price).quantize(Decimal("1.00"))


def _motive(label: str, duration: int, rng: random.Random, **overrides) -> MotivePlan:
    values = {
        "label": label,
        "duration": duration,
        "mode": Mode.IN_PERSON,
        "open_to_new_patients": True,
        "online": True,
        "instructions": "",
        "min_notice_minutes": rng.choice((60, 60, 60, 120, 240, 1440)),
        "max_advance_days": rng.choice((30, 60, 90, 90, 90, 180)),
        "cancellation_deadline_hours": rng.choice((4, 4, 12, 24, 48)),
        "colour": rng.choice(COLOURS),
        "weight": 1.0,
    }
    values.update(overrides)
    return MotivePlan(**values)


def _person_motives(
    rng: random.Random, practitioner: PractitionerPlan
) -> tuple[list[MotivePlan], list[bool]]:
    """The motives of a practitioner's agenda, and for each whether it is mornings-only."""
    specialty = practitioner.specialty
    first = _motive(
        "Première consultation",
        30,
        rng,
        open_to_new_patients=practitioner.accepts_new_patients,
        instructions=VITALE if rng.random() < 0.6 else "",
        weight=2.0,
    )
    follow_up = _motive(
        "Consultation de suivi",
        15 if specialty == "medecin-generaliste" or rng.random() < 0.5 else 20,
        rng,
        open_to_new_patients=False,
        weight=5.0,
    )
    motives, mornings = [first, follow_up], [False, False]
    if practitioner.video_enabled:
        motives.append(
            _motive(
                "Téléconsultation de suivi",
                15,
                rng,
                mode=Mode.VIDEO,
                open_to_new_patients=False,
                instructions=VIDEO_INSTRUCTIONS,
                weight=1.5,
            )
        )
        mornings.append(False)
    choices = EXTRA_MOTIVES.get(specialty, ())
    for spec in rng.sample(choices, min(len(choices), rng.randint(1, 2))):
        motives.append(
            _motive(
                spec.label,
                spec.duration,
                rng,
                open_to_new_patients=spec.new_patients and practitioner.accepts_new_patients,
                online=rng.random() < 0.9,
                instructions=spec.instructions,
                weight=1.5,
            )
        )
        mornings.append(spec.mornings_only or rng.random() < 0.2)
    return motives, mornings


MORNINGS = (("08:00", "12:00"), ("08:30", "12:30"), ("09:00", "12:00"), ("09:00", "12:30"))
AFTERNOONS = (("13:30", "18:00"), ("14:00", "18:00"), ("14:00", "19:00"), ("14:00", "19:30"))


def _person_week(rng: random.Random, hospital: bool) -> list[tuple[int, str, str, bool, int]]:
    """A weekly timetable: (weekday, start, end, is_morning, every_weeks), no overlaps."""
    if hospital:
        morning, afternoon = ("08:30", "12:30"), ("13:30", "17:00")
        days = sorted(rng.sample(range(5), rng.randint(3, 5)))
    else:
        morning, afternoon = rng.choice(MORNINGS), rng.choice(AFTERNOONS)
        pattern = rng.random()
        if pattern < 0.55:
            days = [0, 1, 2, 3, 4]
        elif pattern < 0.85:
            days = sorted(rng.sample(range(5), 4))
        else:
            days = sorted(rng.sample(range(5), 3))
    fortnightly_day = rng.choice(days) if rng.random() < 0.1 and len(days) > 3 else None
    week = []
    for day in days:
        every = 2 if day == fortnightly_day else 1
        week.append((day, *morning, True, every))
        if rng.random() >= 0.12:  # otherwise a half day
            week.append((day, *afternoon, False, every))
    if not hospital and rng.random() < 0.35:
        week.append((5, "09:00", "12:00", True, 1 if rng.random() < 0.55 else 2))
    return week


def plan_agenda(
    *,
    seed: int,
    index: int,
    agenda: AgendaPlan,
    practitioner: PractitionerPlan | None,
    organisation_kind: str,
    zone: ZoneInfo,
    today: date,
    pools: _PatientPools,
) -> AgendaContent:
    """Motives, openings, absences and appointments of one agenda, from its own random stream."""
    rng = random.Random(f"consulto-demo:{seed}:agenda:{index}")
    valid_from = today - timedelta(days=rng.randint(30, 180))
    valid_from -= timedelta(days=valid_from.weekday())

    openings: list[OpeningPlan] = []
    if practitioner is not None:
        motives, mornings = _person_motives(rng, practitioner)
        video = [i for i, m in enumerate(motives) if m.mode == Mode.VIDEO]
        in_person = [i for i, m in enumerate(motives) if m.mode != Mode.VIDEO]
        week = _person_week(rng, organisation_kind == Kind.HOSPITAL)
        afternoons = sorted({day for day, _, _, is_morning, _ in week if not is_morning})
        video_days = set(rng.sample(afternoons, min(len(afternoons), rng.randint(1, 2))))
        for day, start, end, is_morning, every in week:
            allowed = [i for i in in_person if is_morning or not mornings[i]]
            if video and day in video_days and not is_morning:
                allowed += video
            openings.append(
                OpeningPlan(day, _hm(start), _hm(end), tuple(allowed), valid_from, None, every)
            )
        if video and rng.random() < 0.3:
            # A lunchtime teleconsultation hour where the lunch break is long enough.
            mornings_by_day = {o.weekday: o for o in openings if o.start < time(13)}
            for day in sorted(mornings_by_day):
                lunch_start = _minutes(mornings_by_day[day].end)
                later = [o for o in openings if o.weekday == day and o.start > time(12)]
                if not later or _minutes(later[0].start) - lunch_start >= 90:
                    openings.append(
                        OpeningPlan(
                            day, _clock(lunch_start), _clock(lunch_start + 60), tuple(video),
                            valid_from, None, 1,
                        )
                    )  # fmt: skip
                    break
        if rng.random() < 0.05:
            # New hours from a date in the next two weeks: the old opening ends, a shorter one
            # takes over the next day.
            afternoon = [o for o in openings if o.start >= time(13)]
            if afternoon:
                old = rng.choice(afternoon)
                old.valid_until = today + timedelta(days=rng.randint(2, 12))
                openings.append(
                    OpeningPlan(
                        old.weekday, old.start, _clock(_minutes(old.end) - 60), old.motives,
                        old.valid_until + timedelta(days=1), None, old.every_weeks,
                    )
                )  # fmt: skip
    elif agenda.resource == "vaccination":
        motives = [
            _motive("Vaccination grippe", 10, rng, instructions=VACCINE_INSTRUCTIONS, weight=2.0),
            _motive("Vaccination Covid-19", 10, rng, instructions=VACCINE_INSTRUCTIONS),
        ]
        for day in range(6):
            openings.append(OpeningPlan(day, time(9), time(13), (0, 1), valid_from, None, 1))
            if day < 5:
                openings.append(OpeningPlan(day, time(14), time(18), (0, 1), valid_from, None, 1))
    else:
        motives = [_motive("Dépistage", 10, rng, instructions=VITALE)]
        for day in range(5):
            openings.append(OpeningPlan(day, time(8), time(12), (0,), valid_from, None, 1))
            openings.append(OpeningPlan(day, time(13), time(17), (0,), valid_from, None, 1))

    absences = _plan_absences(rng, zone, today) if practitioner is not None else []
    clientele = pools.for_specialty(practitioner.specialty if practitioner else "")
    appointments = _plan_appointments(
        rng, motives, openings, absences, agenda.capacity, zone, today, clientele
    )
    return AgendaContent(motives, openings, absences, appointments)


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _plan_absences(rng: random.Random, zone: ZoneInfo, today: date) -> list[AbsencePlan]:
    absences = []
    roll = rng.random()
    if roll < 0.10:
        first = today + timedelta(days=rng.randrange(HORIZON_DAYS))
        length = 1 if rng.random() < 0.5 else 7
        absences.append(
            AbsencePlan(
                _local_midnight(first, zone),
                _local_midnight(first + timedelta(days=length), zone),
                "Congés",
            )
        )
    elif roll < 0.15:
        day = today + timedelta(days=rng.randrange(HORIZON_DAYS))
        absences.append(
            AbsencePlan(
                datetime.combine(day, time(13), tzinfo=zone).astimezone(UTC),
                datetime.combine(day, time(20), tzinfo=zone).astimezone(UTC),
                "Formation",
            )
        )
    if rng.random() < 0.05:
        day = today - timedelta(days=rng.randint(1, HISTORY_DAYS))
        absences.append(
            AbsencePlan(
                _local_midnight(day, zone), _local_midnight(day + timedelta(days=1), zone), "Congés"
            )
        )
    return absences


def _occurs(opening: OpeningPlan, day: date) -> bool:
    """Whether a weekly opening occurs on that date (the engine's rule)."""
    if day.weekday() != opening.weekday or day < opening.valid_from:
        return False
    if opening.valid_until is not None and day > opening.valid_until:
        return False
    if opening.every_weeks > 1:
        anchor = opening.valid_from.toordinal() - opening.valid_from.weekday()
        weeks = (day.toordinal() - day.weekday() - anchor) // 7
        return weeks % opening.every_weeks == 0
    return True


def _plan_appointments(
    rng: random.Random,
    motives: list[MotivePlan],
    openings: list[OpeningPlan],
    absences: list[AbsencePlan],
    capacity: int,
    zone: ZoneInfo,
    today: date,
    clientele: tuple[int, ...],
) -> list[AppointmentPlan]:
    """Lay appointments on the motives' grids, about 40 % of the open time over the window.

    Each opening is walked from its start: pick a motive the opening allows, move to the next
    start on that motive's grid (opening start + k × duration), book it with the day's fill
    probability or leave it free. An agenda of capacity N is walked as N independent lanes.
    """
    fill = rng.uniform(0.25, 0.63)  # how popular this agenda is
    size = min(len(clientele), CLIENTELE)
    offset = rng.randrange(len(clientele))
    durations = [timedelta(minutes=m.duration) for m in motives]
    weights = [m.weight for m in motives]
    video = {i for i, m in enumerate(motives) if m.mode == Mode.VIDEO}
    blocked = [(a.start, a.end) for a in absences]
    lanes = max(1, capacity)
    lane_fill = fill * (0.8 if capacity > 1 else 1.0)
    midnight_today = _local_midnight(today, zone)

    random = rng.random
    result: list[AppointmentPlan] = []
    for offset_days in range(-HISTORY_DAYS, HORIZON_DAYS):
        day = today + timedelta(days=offset_days)
        if offset_days < 0:
            chance = min(0.95, lane_fill * 1.05)
        else:  # the next days are fuller than the later ones
            chance = min(0.95, lane_fill * (1.3 - 0.6 * offset_days / (HORIZON_DAYS - 1)))
        for opening in openings:
            if not _occurs(opening, day):
                continue
            low = datetime.combine(day, opening.start, tzinfo=zone).astimezone(UTC)
            high = datetime.combine(day, opening.end, tzinfo=zone).astimezone(UTC)
            allowed = opening.motives
            cumulative = list(accumulate(weights[i] for i in allowed))
            total_weight = cumulative[-1]
            shortest = min(allowed, key=lambda i: motives[i].duration)
            for _lane in range(lanes):
                cursor = low
                while cursor < high:
                    motive = allowed[bisect(cumulative, random() * total_weight)]
                    step = durations[motive]
                    start = low + -((low - cursor) // step) * step  # next start on the grid
                    if start + step > high:
                        motive, step = shortest, durations[shortest]
                        start = low + -((low - cursor) // step) * step
                        if start + step > high:
                            break
                    end = start + step
                    clash = [b for a, b in blocked if a < end and b > start]
                    if clash:
                        cursor = max(clash)
                        continue
                    cursor = end
                    if random() >= chance:
                        continue
                    result.append(
                        _appointment(
                            rng, motive, start, end, offset_days, motive in video,
                            clientele[(offset + rng.randrange(size)) % len(clientele)],
                            midnight_today,
                        )
                    )  # fmt: skip
    return result


def _appointment(
    rng: random.Random,
    motive: int,
    start: datetime,
    end: datetime,
    offset_days: int,
    is_video: bool,
    patient: int,
    midnight_today: datetime,
) -> AppointmentPlan:
    # Booked between 2 hours and 3 weeks before the appointment (or before today).
    lead_hours = rng.randint(2, 24 * 21)
    horizon = start if start < midnight_today else midnight_today
    booked_at = horizon - timedelta(hours=lead_hours)
    roll = rng.random()
    cancelled_at = None
    reason = ""
    if offset_days < 0:
        status = SEEN if roll < 0.85 else NO_SHOW if roll < 0.90 else CANCELLED
    else:
        status = BOOKED if roll < 0.97 else CANCELLED
    if status == CANCELLED:
        cancelled_at = horizon - timedelta(hours=rng.randint(1, lead_hours - 1))
        reason = rng.choice(CANCEL_REASONS)
    channel_roll = rng.random()
    if is_video or channel_roll < 0.72:
        channel = ONLINE
    elif channel_roll < 0.87:
        channel = SECRETARY
    else:
        channel = PRACTITIONER
    return AppointmentPlan(
        motive, patient, start, end, status, channel, booked_at, cancelled_at, reason
    )


def _give_demo_patient(
    contents: dict[int, AgendaContent],
    *,
    gp_agenda: int,
    child_agendas: Sequence[int],
    parent_agendas: Sequence[int],
    today: date,
) -> None:
    """Hand four planned appointments to the demo patient's profiles: the patient themself sees
    the demo GP (once upcoming, once past), the child has an upcoming appointment (with a
    paediatrician of the centre when there is one) and the parent a past one."""
    soon = datetime.combine(today + timedelta(days=2), time(0), tzinfo=UTC)
    past = datetime.combine(today, time(0), tzinfo=UTC)

    def take(agendas: Iterable[int], status: str, profile: int) -> None:
        for agenda in agendas:
            content = contents.get(agenda)
            if content is None:
                continue
            upcoming = status == Status.BOOKED
            candidates = [
                a
                for a in content.appointments
                if a.status == status
                and a.patient >= 0
                and content.motives[a.motive].mode == Mode.IN_PERSON
                and ((a.start >= soon) if upcoming else (a.start < past))
            ]
            if candidates:
                pick = min if upcoming else max
                pick(candidates, key=lambda a: a.start).patient = profile
                return

    take([gp_agenda], Status.BOOKED, DEMO_SELF)
    take([*child_agendas, gp_agenda], Status.BOOKED, DEMO_CHILD)
    take([gp_agenda], Status.SEEN, DEMO_SELF)
    take([*parent_agendas, gp_agenda], Status.SEEN, DEMO_PARENT)


# --- writing to the database --------------------------------------------------------------------


@dataclass
class _Ids:
    organisations: list[int]
    sites: list[list[int]]
    agendas: list[int]
    patients: list[int]
    demo_profiles: dict[int, int]


def _insert_directory(plan: DirectoryPlan, today: date) -> tuple[_Ids, dict[str, int]]:
    specialty_ids = dict(Specialty.objects.values_list("code", "id"))
    missing = {p.specialty for p in plan.practitioners} - specialty_ids.keys()
    if missing:
        raise DemoError(f"Specialties missing from the database (run migrate): {sorted(missing)}")

    organisations = Organisation.objects.bulk_create(
        [Organisation(name=o.name, kind=o.kind, finess=o.finess) for o in plan.organisations],
        batch_size=ROWS_PER_INSERT,
    )
    site_rows = [
        Site(organisation_id=org.pk, **_site_fields(site))
        for org, o in zip(organisations, plan.organisations, strict=True)
        for site in o.sites
    ]
    Site.objects.bulk_create(site_rows, batch_size=ROWS_PER_INSERT)
    sites: list[list[int]] = []
    rows = iter(site_rows)
    for o in plan.organisations:
        sites.append([next(rows).pk for _ in o.sites])

    practitioners = Practitioner.objects.bulk_create(
        [
            Practitioner(
                title=p.title,
                first_name=p.first_name,
                last_name=p.last_name,
                rpps=p.rpps,
                rpps_status=Practitioner.RppsStatus.VALID,
                specialty_id=specialty_ids[p.specialty],
                languages=p.languages,
                convention_sector=p.sector,
                accepts_new_patients=p.accepts_new_patients,
                video_enabled=p.video_enabled,
                bio=p.bio,
            )
            for p in plan.practitioners
        ],
        batch_size=ROWS_PER_INSERT,
    )
    agendas = Agenda.objects.bulk_create(
        [
            Agenda(
                organisation_id=organisations[a.organisation].pk,
                practitioner_id=None
                if a.practitioner is None
                else practitioners[a.practitioner].pk,
                site_id=sites[a.organisation][a.site],
                name=a.name,
                capacity=a.capacity,
            )
            for a in plan.agendas
        ],
        batch_size=ROWS_PER_INSERT,
    )
    patients = PatientProfile.objects.bulk_create(
        [
            PatientProfile(
                first_name=p.first_name,
                last_name=p.last_name,
                birth_date=p.birth_date,
                phone=p.phone,
                email=p.email,
            )
            for p in plan.patients
        ],
        batch_size=ROWS_PER_INSERT,
    )
    demo_profiles = _insert_logins(
        plan, organisations[plan.demo_organisation], practitioners, today
    )
    ids = _Ids(
        organisations=[o.pk for o in organisations],
        sites=sites,
        agendas=[a.pk for a in agendas],
        patients=[p.pk for p in patients],
        demo_profiles=demo_profiles,
    )
    counts = {
        "organisations": len(organisations),
        "sites": len(site_rows),
        "practitioners": len(practitioners),
        "agendas": len(agendas),
        "patients": len(patients) + len(demo_profiles),
        "users": len(DEMO_LOGINS),
    }
    return ids, counts


def _site_fields(site: SitePlan) -> dict:
    return {
        "name": site.name,
        "address": site.address,
        "postcode": site.postcode,
        "city": site.city,
        "latitude": site.latitude,
        "longitude": site.longitude,
        "timezone": site.timezone,
        "phone": site.phone,
        "access_details": site.access_details,
    }


def _insert_logins(
    plan: DirectoryPlan,
    organisation: Organisation,
    practitioners: list[Practitioner],
    today: date,
) -> dict[int, int]:
    """The demo accounts; returns the demo patient's profile ids by DEMO_* marker."""
    user_model = get_user_model()
    emails = [login.email for login in DEMO_LOGINS]
    taken = list(user_model.objects.filter(email__in=emails).values_list("email", flat=True))
    if taken:
        raise DemoError(f"Demo accounts already exist outside a demo dataset: {', '.join(taken)}")
    password = make_password(DEMO_PASSWORD)  # one hash for all: computing it is deliberately slow
    doctor = practitioners[plan.agendas[plan.demo_agenda].practitioner or 0]
    patient, gp, secretary, admin, root = user_model.objects.bulk_create(
        [
            user_model(email=emails[0], first_name="Camille", last_name="Durand", password=password,
                       phone="06 39 98 20 26"),
            user_model(email=emails[1], first_name=doctor.first_name, last_name=doctor.last_name,
                       password=password),
            user_model(email=emails[2], first_name="Nadia", last_name="Benali", password=password),
            user_model(email=emails[3], first_name="Paul", last_name="Girard", password=password),
            user_model(email=emails[4], first_name="Admin", last_name="Consulto",
                       password=password, is_staff=True, is_superuser=True),
        ]
    )  # fmt: skip
    EmailAddress.objects.bulk_create(
        [
            EmailAddress(user=user, email=user.email, verified=True, primary=True)
            for user in (patient, gp, secretary, admin, root)
        ]
    )
    Practitioner.objects.filter(pk=doctor.pk).update(user=gp)
    Membership.objects.bulk_create(
        [
            Membership(user=gp, organisation=organisation, role=Membership.Role.PRACTITIONER),
            Membership(user=secretary, organisation=organisation, role=Membership.Role.SECRETARY),
            Membership(user=admin, organisation=organisation, role=Membership.Role.ADMIN),
        ]
    )
    Relationship = PatientProfile.Relationship
    profiles = PatientProfile.objects.bulk_create(
        [
            PatientProfile(
                owner=patient, relationship=Relationship.SELF, first_name="Camille",
                last_name="Durand", birth_date=date(1987, 4, 12), phone="06 39 98 20 26",
                email=emails[0],
            ),
            PatientProfile(
                owner=patient, relationship=Relationship.CHILD, first_name="Léo",
                last_name="Durand", birth_date=today.replace(year=today.year - 6, day=1),
            ),
            PatientProfile(
                owner=patient, relationship=Relationship.PARENT, first_name="Michel",
                last_name="Durand", birth_date=date(1952, 9, 30), phone="06 39 98 19 52",
            ),
        ]
    )  # fmt: skip
    return {DEMO_SELF: profiles[0].pk, DEMO_CHILD: profiles[1].pk, DEMO_PARENT: profiles[2].pk}


def _insert_practice(ids: _Ids) -> int:
    """Staff get the demo authenticator; the secretary works on the centre's agendas; every
    patient booked somewhere has their file there. Returns the number of files."""
    user_model = get_user_model()
    staff = user_model.objects.filter(email__in=[login.email for login in DEMO_LOGINS[1:4]])
    Authenticator.objects.bulk_create(
        [
            Authenticator(
                user=user, type=Authenticator.Type.TOTP, data={"secret": encrypt(DEMO_TOTP_SECRET)}
            )
            for user in staff
        ]
    )
    secretary = user_model.objects.get(email=DEMO_LOGINS[2].email)
    organisation_id = Membership.objects.get(user=secretary).organisation_id
    AgendaAssignment.objects.bulk_create(
        [
            AgendaAssignment(user=secretary, agenda_id=agenda_id)
            for agenda_id in Agenda.objects.filter(organisation_id=organisation_id).values_list(
                "pk", flat=True
            )
        ]
    )
    PracticePolicy.objects.create(organisation_id=organisation_id, no_show_limit=3)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO practice_patientfile (organisation_id, profile_id, created_at)"
            " SELECT DISTINCT g.organisation_id, a.patient_id, %s"
            " FROM scheduling_appointment a JOIN scheduling_agenda g"
            " ON g.id = a.agenda_id WHERE a.patient_id IS NOT NULL",
            [timezone.now()],
        )
        # Video appointments get their room as a booking would (teleconsultation/receivers.py).
        cursor.execute(
            "INSERT INTO teleconsultation_videoroom (appointment_id, created_at)"
            " SELECT a.id, %s FROM scheduling_appointment a JOIN scheduling_motive m"
            " ON m.id = a.motive_id WHERE m.mode = %s",
            [timezone.now(), Motive.Mode.VIDEO],
        )
    return PatientFile.objects.count()


def _insert_batch(
    batch: list[tuple[int, AgendaContent]], ids: _Ids, plan: DirectoryPlan, counts: dict[str, int]
) -> None:
    motives: list[Motive] = []
    for index, content in batch:
        agenda_id = ids.agendas[index]
        agenda = plan.agendas[index]
        practitioner = (
            None if agenda.practitioner is None else plan.practitioners[agenda.practitioner]
        )
        motives.extend(
            Motive(
                agenda_id=agenda_id,
                label=m.label,
                duration_minutes=m.duration,
                mode=m.mode,
                open_to_new_patients=m.open_to_new_patients,
                online=m.online,
                instructions=m.instructions,
                min_notice_minutes=m.min_notice_minutes,
                max_advance_days=m.max_advance_days,
                cancellation_deadline_hours=m.cancellation_deadline_hours,
                colour=m.colour,
                price=motive_price(practitioner, m),
                position=position,
            )
            for position, m in enumerate(content.motives)
        )
    Motive.objects.bulk_create(motives, batch_size=ROWS_PER_INSERT)

    openings: list[Opening] = []
    opening_motives: list[tuple[int, ...]] = []
    absences: list[Absence] = []
    motive_ids: dict[int, list[int]] = {}
    cursor = 0
    for index, content in batch:
        agenda = plan.agendas[index]
        agenda_id = ids.agendas[index]
        site_id = ids.sites[agenda.organisation][agenda.site]
        own = [m.pk for m in motives[cursor : cursor + len(content.motives)]]
        cursor += len(content.motives)
        motive_ids[index] = own
        for o in content.openings:
            openings.append(
                Opening(
                    agenda_id=agenda_id,
                    site_id=site_id,
                    weekday=o.weekday,
                    start_time=o.start,
                    end_time=o.end,
                    valid_from=o.valid_from,
                    valid_until=o.valid_until,
                    every_weeks=o.every_weeks,
                )
            )
            opening_motives.append(tuple(own[i] for i in o.motives))
        absences.extend(
            Absence(agenda_id=agenda_id, start=a.start, end=a.end, reason=a.reason)
            for a in content.absences
        )
    Opening.objects.bulk_create(openings, batch_size=ROWS_PER_INSERT)
    through = Opening.motives.through
    Opening.motives.through.objects.bulk_create(
        [
            through(opening_id=opening.pk, motive_id=motive_id)
            for opening, allowed in zip(openings, opening_motives, strict=True)
            for motive_id in allowed
        ],
        batch_size=ROWS_PER_INSERT,
    )
    Absence.objects.bulk_create(absences, batch_size=ROWS_PER_INSERT)

    patient_ids = ids.patients
    demo_profiles = ids.demo_profiles
    rows: list[Appointment] = []
    upcoming = 0
    total = 0
    for index, content in batch:
        agenda_id = ids.agendas[index]
        exclusive = plan.agendas[index].capacity == 1
        own = motive_ids[index]
        # Latest first: the SQLite no-overlap trigger then scans almost nothing per row.
        for a in sorted(content.appointments, key=lambda a: a.start, reverse=True):
            rows.append(
                Appointment(
                    agenda_id=agenda_id,
                    motive_id=own[a.motive],
                    patient_id=patient_ids[a.patient]
                    if a.patient >= 0
                    else demo_profiles[a.patient],
                    start=a.start,
                    end=a.end,
                    status=a.status,
                    channel=a.channel,
                    exclusive=exclusive,
                    cancelled_at=a.cancelled_at,
                    cancel_reason=a.cancel_reason,
                )
            )
            upcoming += a.status == Status.BOOKED
        if len(rows) >= ROWS_PER_INSERT:
            Appointment.objects.bulk_create(rows, batch_size=ROWS_PER_INSERT)
            total += len(rows)
            rows = []
    if rows:
        Appointment.objects.bulk_create(rows, batch_size=ROWS_PER_INSERT)
        total += len(rows)

    counts["motives"] = counts.get("motives", 0) + len(motives)
    counts["openings"] = counts.get("openings", 0) + len(openings)
    counts["absences"] = counts.get("absences", 0) + len(absences)
    counts["appointments"] = counts.get("appointments", 0) + total
    counts["appointments_booked"] = counts.get("appointments_booked", 0) + upcoming


def plan_batches(
    plan: DirectoryPlan, *, seed: int, today: date, size: int = AGENDAS_PER_BATCH
) -> Iterator[list[tuple[int, AgendaContent]]]:
    """Yield the agendas' content in batches of ``size``: [(agenda index, content), ...]."""
    pools = _PatientPools.of(plan.patients, today)
    zones: dict[str, ZoneInfo] = {}
    demo = plan.agendas[plan.demo_agenda]
    colleagues = [
        (i, plan.practitioners[a.practitioner].specialty)
        for i, a in enumerate(plan.agendas)
        if a.organisation == demo.organisation and a.practitioner is not None
        and i != plan.demo_agenda
    ]  # fmt: skip
    child_agendas = [i for i, specialty in colleagues if specialty == "pediatre"]
    parent_agendas = [i for i, specialty in colleagues if specialty not in CHILD_OR_WOMEN_ONLY]
    for first in range(0, len(plan.agendas), size):
        batch = []
        for index in range(first, min(first + size, len(plan.agendas))):
            agenda = plan.agendas[index]
            organisation = plan.organisations[agenda.organisation]
            timezone_name = organisation.sites[agenda.site].timezone
            zone = zones.get(timezone_name) or zones.setdefault(
                timezone_name, ZoneInfo(timezone_name)
            )
            practitioner = (
                None if agenda.practitioner is None else plan.practitioners[agenda.practitioner]
            )
            batch.append(
                (
                    index,
                    plan_agenda(
                        seed=seed, index=index, agenda=agenda, practitioner=practitioner,
                        organisation_kind=organisation.kind, zone=zone, today=today, pools=pools,
                    ),
                )
            )  # fmt: skip
        if first <= plan.demo_agenda < first + size:
            _give_demo_patient(
                dict(batch), gp_agenda=plan.demo_agenda, child_agendas=child_agendas,
                parent_agendas=parent_agendas, today=today,
            )  # fmt: skip
        yield batch


# --- the entry point ----------------------------------------------------------------------------


def generate(
    *,
    practitioners: int = 60,
    seed: int = 2026,
    today: date | None = None,
    progress: bool = True,
    stdout: TextIO | None = None,
) -> DemoSummary:
    """Fill the database with the demo dataset for (practitioners, seed), once.

    The database holds one demo dataset at most. When it already holds one, nothing is added,
    whatever the arguments: the summary says so (``created=False``). A dataset left incomplete by
    an interrupted run raises ``DemoError``: empty the database (``manage.py flush``) and run
    again.
    """
    if practitioners < 1:
        raise DemoError("At least one practitioner is needed.")
    today = today or timezone.localdate()
    started = clock.perf_counter()
    import_sample_if_empty()  # the public-directory sample that self-onboarding looks up

    existing = DemoDataset.objects.order_by("pk").first()
    if existing is not None:
        if existing.completed_at is None:
            raise DemoError(
                "An interrupted demo dataset is in this database. Empty it (manage.py flush) "
                "and run again."
            )
        same = existing.seed == seed and existing.practitioners == practitioners
        message = (
            "The demo dataset is already loaded: nothing to do."
            if same
            else (
                f"This database already holds the demo dataset of seed {existing.seed} with "
                f"{existing.practitioners} practitioners: nothing changed. Empty the database "
                "(manage.py flush) to load another one."
            )
        )
        return DemoSummary(
            seed=existing.seed,
            practitioners=existing.practitioners,
            today=existing.today,
            created=False,
            counts=dict(existing.counts),
            seconds=clock.perf_counter() - started,
            message=message,
        )

    def say(text: str) -> None:
        if stdout is not None:
            stdout.write(text + "\n")
            stdout.flush()

    say(f"Planning the directory: {practitioners} practitioners, seed {seed}, around {today}…")
    plan = plan_directory(seed=seed, practitioners=practitioners, today=today)
    with transaction.atomic():
        dataset = DemoDataset.objects.create(seed=seed, practitioners=practitioners, today=today)
        ids, counts = _insert_directory(plan, today)
    say(
        f"Directory written: {counts['organisations']} organisations, {counts['agendas']} agendas,"
        f" {counts['patients']} patients. Agendas and appointments…"
    )

    bar = tqdm(
        total=len(plan.agendas),
        unit="agenda",
        desc="demo",
        file=sys.stderr,
        disable=not progress,
        dynamic_ncols=True,
    )
    with bar:
        for batch in plan_batches(plan, seed=seed, today=today):
            with transaction.atomic():
                _insert_batch(batch, ids, plan, counts)
            bar.update(len(batch))
            bar.set_postfix(appointments=counts.get("appointments", 0), refresh=False)

    say("Practice space: patient files, staff second factor, assignments…")
    with transaction.atomic():
        counts["patient_files"] = _insert_practice(ids)
    dataset.completed_at = timezone.now()
    dataset.counts = counts
    dataset.save(update_fields=["completed_at", "counts"])
    if connection.vendor == "postgresql":
        # A bulk load leaves the planner without statistics until autovacuum comes by (if it
        # is on): without them it scans millions of appointments for one agenda's week.
        say("Updating the planner's statistics (ANALYZE)…")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return DemoSummary(
        seed=seed,
        practitioners=practitioners,
        today=today,
        created=True,
        counts=counts,
        seconds=clock.perf_counter() - started,
        message="Demo dataset loaded.",
    )
