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

The recipe is split by what it makes: ``directory`` (organisations, sites, practitioners, their
agendas), ``agendas`` and ``motives`` (each agenda's motives, openings and absences), ``history``
(appointments past and coming, video rooms), ``patients`` (the patient pool, the demo patient's
family, patient files), ``logins`` (the demo accounts and the staff's access) and ``showcase``
(SAMU 75 and the Paris hospital and centres its regulators book with, and its past cases), over
the plain data of ``plans``. This module runs them in order: ``generate`` is what
``manage.py demo`` calls.
"""

from __future__ import annotations

import sys
import time as clock
from dataclasses import dataclass, field
from datetime import date
from typing import TextIO

from django.db import connection, transaction
from django.utils import timezone
from tqdm import tqdm

from consulto.demo.models import DemoDataset
from consulto.directory.directory_import import import_sample_if_empty
from consulto.directory.models import Department, Organisation

from .agendas import insert_agendas_content, plan_agenda, plan_batches
from .directory import insert_directory, load_cities, plan_directory
from .history import insert_appointments, insert_video_rooms
from .logins import (
    DEMO_LOGINS,
    DEMO_PASSWORD,
    DEMO_TOTP_SECRET,
    STAFF_LOGINS,
    DemoLogin,
    insert_logins,
    insert_showcase_logins,
    insert_staff_access,
)
from .patients import insert_demo_family, insert_files, insert_patients
from .plans import AgendaContent, DemoError, DirectoryPlan, Ids
from .showcase import HOSPITAL_NAME, SAMU_NAME, insert_regulation_cases

Kind = Organisation.Kind

__all__ = [
    "DEMO_LOGINS",
    "DEMO_PASSWORD",
    "DEMO_TOTP_SECRET",
    "SAMU_NAME",
    "STAFF_LOGINS",
    "DemoError",
    "DemoLogin",
    "DemoSummary",
    "generate",
    "load_cities",
    "plan_agenda",
    "plan_batches",
    "plan_directory",
]


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

    say("Practice space: patient files, staff second factor, assignments, SAMU 75's cases…")
    with transaction.atomic():
        counts["patient_files"] = _insert_practice()
        counts["regulation_cases"] = insert_regulation_cases(
            seed=seed, today=today, showcase_ids=[ids.organisations[i] for i in plan.showcase]
        )
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


def _insert_directory(plan: DirectoryPlan, today: date) -> tuple[Ids, dict[str, int]]:
    """The directory, the patient pool, and the demo logins with the demo patient's family."""
    organisations, sites, practitioners, agendas = insert_directory(plan)
    patients = insert_patients(plan)
    patient = insert_logins(plan, organisations[plan.demo_organisation], practitioners)
    by_name = {
        o.name: o for o in organisations if o.kind in (Kind.REGULATION_CENTRE, Kind.HOSPITAL)
    }
    hospital = by_name[HOSPITAL_NAME]
    insert_showcase_logins(
        samu=by_name[SAMU_NAME],
        hospital=hospital,
        department_id=Department.objects.get(organisation=hospital, name="Cardiologie").pk,
    )
    demo_profiles = insert_demo_family(patient, today)
    ids = Ids(
        organisations=[o.pk for o in organisations],
        sites=sites,
        agendas=[a.pk for a in agendas],
        patients=patients,
        demo_profiles=demo_profiles,
    )
    counts = {
        "organisations": len(organisations),
        "sites": sum(len(site_ids) for site_ids in sites),
        "practitioners": len(practitioners),
        "agendas": len(agendas),
        "patients": len(patients) + len(demo_profiles),
        "users": len(DEMO_LOGINS),
    }
    return ids, counts


def _insert_batch(
    batch: list[tuple[int, AgendaContent]], ids: Ids, plan: DirectoryPlan, counts: dict[str, int]
) -> None:
    motive_ids = insert_agendas_content(batch, ids, plan, counts)
    insert_appointments(batch, ids, plan, motive_ids, counts)


def _insert_practice() -> int:
    """What needs every appointment written: the staff's access, the patient files and the
    video rooms. Returns the number of patient files."""
    insert_staff_access()
    files = insert_files()
    insert_video_rooms()
    return files
