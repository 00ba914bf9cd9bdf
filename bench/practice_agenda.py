"""Practice space: server time of the agenda week view for 5 agendas side by side.

Goal (issue 4): the week view of 5 agendas with 300 appointments, server time p95 <= 50 ms.
The week view is the agenda page (calendars, the day's list) plus the one request that feeds
the calendars (events of the 5 agendas for the week); both are timed, in process with Django's
test client, against the real settings and database (the demo dataset of 10,000 practitioners
by default, so the appointment table holds ~1.6 million rows). The script adds, once, a
"Cabinet du banc d'essai" with 5 agendas and 300 appointments in one week, and a secretary
assigned to them (with her second factor).

    CONSULTO_DATA_DIR=/tmp/consulto-bench-sqlite python bench/practice_agenda.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/consulto_bench python bench/practice_agenda.py
"""

import os
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common

BENCH = "practice_agenda"
ORGANISATION = "Cabinet du banc d'essai"
EMAIL = "secretariat-banc@consulto.local"
AGENDAS = 5
PER_AGENDA = 60  # 300 in all: 12 a day over Monday to Friday


def _monday(today: date) -> date:
    return today + timedelta(days=7 - today.weekday())


def build(today: date):
    """The bench practice, once: 5 agendas, 300 appointments next week, a secretary."""
    from allauth.mfa.models import Authenticator
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from consulto.directory.models import Membership, Organisation, Practitioner, Site, Specialty
    from consulto.directory.rpps import luhn_check_digit
    from consulto.practice.models import AgendaAssignment
    from consulto.scheduling.models import Agenda, Appointment, Motive, PatientProfile

    user_model = get_user_model()
    existing = Organisation.objects.filter(name=ORGANISATION).first()
    secretary = user_model.objects.filter(email=EMAIL).first()
    if existing and secretary:
        agendas = list(Agenda.objects.filter(organisation=existing).order_by("pk"))
        return secretary, agendas
    monday = _monday(today)
    with transaction.atomic():
        organisation = Organisation.objects.create(name=ORGANISATION, kind="health_centre")
        site = Site.objects.create(
            organisation=organisation, name=ORGANISATION, address="1 rue du Banc",
            postcode="75011", city="Paris", latitude=48.86, longitude=2.38,
        )  # fmt: skip
        specialty = Specialty.objects.get(code=common.GP)
        secretary = user_model.objects.create_user(email=EMAIL, password="consulto-demo-2026")
        Membership.objects.create(user=secretary, organisation=organisation, role="secretary")
        Authenticator.objects.create(
            user=secretary, type=Authenticator.Type.TOTP, data={"secret": "unused"}
        )
        agendas = []
        patients = PatientProfile.objects.bulk_create(
            [
                PatientProfile(first_name=f"Patient{i}", last_name=f"Banc{i}",
                               birth_date=date(1960 + i % 50, 1 + i % 12, 1 + i % 28))
                for i in range(AGENDAS * PER_AGENDA)
            ]
        )  # fmt: skip
        rows = []
        for n in range(AGENDAS):
            first_ten = f"19{n:08d}"
            practitioner = Practitioner.objects.create(
                title="Dr", first_name=f"Banc{n}", last_name="Essai",
                rpps=first_ten + luhn_check_digit(first_ten), specialty=specialty,
            )  # fmt: skip
            agenda = Agenda.objects.create(
                organisation=organisation,
                practitioner=practitioner,
                site=site,
                name=f"Dr Essai {n}",
            )
            AgendaAssignment.objects.create(user=secretary, agenda=agenda)
            motive = Motive.objects.create(agenda=agenda, label="Consultation", duration_minutes=20)
            agendas.append(agenda)
            for i in range(PER_AGENDA):
                day = monday + timedelta(days=i // 12)
                start = datetime.combine(day, time(8), tzinfo=site.zone) + timedelta(
                    minutes=30 * (i % 12)
                )
                rows.append(
                    Appointment(
                        agenda=agenda, motive=motive, patient=patients[n * PER_AGENDA + i],
                        start=start, end=start + timedelta(minutes=20), status="booked",
                        channel="secretary", booked_by=secretary,
                    )
                )  # fmt: skip
        Appointment.objects.bulk_create(rows)
    return secretary, agendas


def main() -> None:
    args = common.base_parser(__doc__).parse_args()
    os.environ.setdefault("CONSULTO_HTTPS", "0")
    common.django_setup()
    dataset = common.ensure_dataset(args.practitioners, args.seed)

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    call_command("collectstatic", interactive=False, verbosity=0)
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    today = getattr(dataset, "today", None) or timezone.localdate()
    secretary, agendas = build(today)
    monday = _monday(today)
    ids = ",".join(str(a.pk) for a in agendas)
    client = Client()
    client.force_login(secretary)
    page = {"agendas": ids, "view": "week", "date": monday.isoformat()}
    events = {"agendas": ids, "start": monday.isoformat(),
              "end": (monday + timedelta(days=7)).isoformat()}  # fmt: skip
    first = client.get("/pro/agenda/evenements/", events)
    if first.status_code != 200:
        raise SystemExit(f"events answered {first.status_code}: {first.content[:200]!r}")
    shown = sum(len(a["events"]) for a in first.json()["agendas"].values())
    size = f"{AGENDAS} agendas x 7 d, {shown} appointments"
    common.log(f"Week view: {size} ({common.database_label()})")
    with CaptureQueriesContext(connection) as queries:
        client.get("/pro/agenda/evenements/", events)
    common.emit(BENCH, "events_queries", len(queries), "queries", size)
    with CaptureQueriesContext(connection) as queries:
        client.get("/pro/", page)
    common.emit(BENCH, "page_queries", len(queries), "queries", size)

    feed = common.measure(lambda i: client.get("/pro/agenda/evenements/", events), 200)
    common.report(BENCH, "week_events", feed, size, goal_ms=50)
    pages = common.measure(lambda i: client.get("/pro/", page), 200)
    common.report(BENCH, "week_page", pages, size, goal_ms=50)
    both = [a + b for a, b in zip(feed, pages, strict=True)]
    common.report(BENCH, "week_view_total", both, size, goal_ms=50)
    common.emit(BENCH, "events_weight", round(len(first.content) / 1024, 1), "KB", size)


if __name__ == "__main__":
    main()
