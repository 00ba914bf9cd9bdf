"""The demo's patients: a pool of fictitious profiles that fill the agendas, the demo patient's
family (themself, a child and a parent) with appointments of their own, and the patient files
that the appointments open at each organisation."""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import connection
from django.utils import timezone
from faker import Faker

from consulto.core.time import years_before
from consulto.practice.models import PatientFile
from consulto.scheduling.models import Appointment, Motive, PatientProfile

from .plans import ROWS_PER_INSERT, AgendaContent, DirectoryPlan, PatientPlan, fiction_phone

PATIENTS_PER_PRACTITIONER = 5
MAX_PATIENTS = 50_000

# Who would not see the demo patient's parent.
CHILD_OR_WOMEN_ONLY = frozenset({"pediatre", "sage-femme", "gynecologue", "orthophoniste"})
DEMO_SELF, DEMO_CHILD, DEMO_PARENT = -1, -2, -3

Status = Appointment.Status
Mode = Motive.Mode


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


def plan_patients(rng: random.Random, fake: Faker, count: int) -> list[PatientPlan]:
    """The pool of patients, drawn from the directory's streams after the directory."""
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
                phone=fiction_phone(rng, "06 39 98") if rng.random() < 0.9 else "",
                email=email,
                female=female,
            )
        )
    return result


@dataclass(frozen=True, slots=True)
class PatientPools:
    """Patient indices by the kind of agenda that sees them."""

    everyone: tuple[int, ...]
    children: tuple[int, ...]
    women: tuple[int, ...]
    seniors: tuple[int, ...]

    @classmethod
    def of(cls, patients: Sequence[PatientPlan], today: date) -> PatientPools:
        child_born_after = years_before(today, 16)
        senior_born_before = years_before(today, 70)
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


def give_demo_patient(
    contents: dict[int, AgendaContent], plan: DirectoryPlan, *, today: date
) -> None:
    """Hand four planned appointments to the demo patient's profiles: the patient themself sees
    the demo GP (once upcoming, once past), the child has an upcoming appointment (with a
    paediatrician of the centre when there is one) and the parent a past one."""
    gp_agenda = plan.demo_agenda
    demo = plan.agendas[gp_agenda]
    colleagues = [
        (i, plan.practitioners[a.practitioner].specialty)
        for i, a in enumerate(plan.agendas)
        if a.organisation == demo.organisation and a.practitioner is not None
        and i != gp_agenda
    ]  # fmt: skip
    child_agendas = [i for i, specialty in colleagues if specialty == "pediatre"]
    parent_agendas = [i for i, specialty in colleagues if specialty not in CHILD_OR_WOMEN_ONLY]
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


def insert_patients(plan: DirectoryPlan) -> list[int]:
    """The pool's profiles (no account behind them); their ids in plan order."""
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
    return [p.pk for p in patients]


def insert_demo_family(patient: AbstractBaseUser, today: date) -> dict[int, int]:
    """The demo patient's profiles (themself, a child, a parent); their ids by DEMO_* marker."""
    Relationship = PatientProfile.Relationship
    profiles = PatientProfile.objects.bulk_create(
        [
            PatientProfile(
                owner=patient, relationship=Relationship.SELF, first_name="Camille",
                last_name="Durand", birth_date=date(1987, 4, 12), phone="06 39 98 20 26",
                email=patient.email,
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


def insert_files() -> int:
    """Every patient booked somewhere has their file there. Returns the number of files."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO practice_patientfile (organisation_id, profile_id, created_at)"
            " SELECT DISTINCT g.organisation_id, a.patient_id, %s"
            " FROM scheduling_appointment a JOIN scheduling_agenda g"
            " ON g.id = a.agenda_id WHERE a.patient_id IS NOT NULL"
            # Numbered in one order on every database and every run.
            " ORDER BY g.organisation_id, a.patient_id",
            [timezone.now()],
        )
    return PatientFile.objects.count()
