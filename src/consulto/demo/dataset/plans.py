"""The plain data a demo dataset is planned into, and what every part shares.

Planning is pure Python: each part fills its share of these dataclasses from random streams seeded
from the seed, then writes them as rows. ``Ids`` holds the database ids the directory's rows got,
by index in the plan, for the rows written after them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time

ROWS_PER_INSERT = 5000  # bulk_create batch size (SQLite lowers it to its parameter limit)


class DemoError(Exception):
    """The database holds demo data that this run cannot complete or change."""


def fiction_phone(rng: random.Random, prefix: str) -> str:
    # ARCEP reserves 01 99 00 xx xx and 06 39 98 xx xx for fiction: demo SMS reach nobody.
    return f"{prefix} {rng.randrange(100):02d} {rng.randrange(100):02d}"


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
class DepartmentPlan:
    name: str
    specialty: str
    description: str
    phone: str


@dataclass(slots=True)
class OrganisationPlan:
    name: str
    kind: str
    finess: str
    sites: list[SitePlan]
    territory: str = ""  # the département a regulation centre or a CPTS serves
    phone: str = ""
    departments: list[DepartmentPlan] = field(default_factory=list)


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
    takes_extra_patients: bool = False
    regulation_phone: str = ""
    extra_patients_weekly_cap: int = 5


@dataclass(slots=True)
class AgendaPlan:
    organisation: int  # index into DirectoryPlan.organisations
    site: int  # index into that organisation's sites
    practitioner: int | None  # index into DirectoryPlan.practitioners; None for a resource
    name: str
    capacity: int
    resource: str = ""  # "vaccination", "screening" or "covid" for resource agendas
    department: int | None = None  # index into the organisation's departments


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
    # The organisations around the regulation centre SAMU 75 (``showcase``), all in Paris: their
    # GPs keep regulation openings every day, their specialists an hour for professionals.
    showcase: frozenset[int] = frozenset()


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
    visibility: str = "public"  # Opening.Visibility: "public", "pro", "snp" or "known"


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


@dataclass
class Ids:
    """The database ids of the directory's rows, by index in the plan."""

    organisations: list[int]
    sites: list[list[int]]
    agendas: list[int]
    patients: list[int]
    demo_profiles: dict[int, int]
