"""Peer: django-appointment's availability for 200 staff members x 7 days, timed in its own code.

django-appointment (https://github.com/adamspd/django-appointment, PyPI ``django-appointment``)
is an open-source Django booking app. This script installs the pinned release into a throwaway
venv (never the project's), writes a minimal Django project for it in a temporary directory,
and runs itself there with the throwaway venv's Python (``--inside``) to load the data and time
the package's own availability code. The JSON lines come out on standard output as from every
other bench; the progress goes to standard error.

Data, as the package's models allow it: ``--staff`` staff members (200) offering one 30-minute
service, each with WorkingHours Monday to Friday 9:00-18:00 (one range per day is all the model
takes: unique on staff member and weekday) and an Unavailability 12:00-14:00 on each working day
of the window, so 9-12 and 14-18, 14 slots a day; a Config with 30-minute slots and no buffer;
about 40 % (``--booked``) of each staff member's slots over today + 6 days taken by an
AppointmentRequest and its Appointment, each with a client user. Rows are written with
``bulk_create``; no DayOff.

Figures (``peer.django_appointment``, milliseconds, in process, no HTTP):

* ``staff200_week``: for every staff member and each of the 7 days, what the package's slot view
  (``views.get_available_slots_ajax``) computes: ``check_day_off_for_staff``, then
  ``is_working_day``, then ``services.get_available_slots_for_staff(date, staff, weekday,
  service=service)`` (``calculate_staff_slots``, the pending reschedules, the appointments and
  unavailabilities of the day), then past slots of today dropped. Staff members and the service
  are loaded once beforehand (the view reads them from its form).
* ``staff200_week_view`` (``--view``): ``get_available_slots_ajax`` itself, called with a
  RequestFactory request per staff member and day (its form's queries and the JSON included).
* ``staff200_week_cpu``: the CPU time of the runner's process for the same runs (less swayed
  by a busy machine; the database's own CPU is not in it on PostgreSQL).
* ``queries_per_run``, ``slots_per_run`` and ``appointments``: one run's SQL queries (counted in
  the untimed first pass) and slots, and the appointments loaded.

The package's version is in ``size``. Our own figure for the same size is
``availability.agendas_week``: ``--ours`` runs ``bench/availability.py --batch 200`` right after,
on this environment's database (DATABASE_URL or CONSULTO_DATA_DIR, the 10,000-practitioner
dataset; ``--practitioners`` and ``--seed`` are passed to it).

Usage (with the project's Python; PyPI must be reachable the first time):
    python bench/peer_django_appointment.py [--runs 5] [--staff 200] [--view] [--ours]
        [--venv /tmp/peer-venv] [--database-url postgres://postgres@127.0.0.1:5432/consulto_peer]
        [--keep]
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from time import process_time

from _common import base_parser, emit, log, measure, report

PACKAGE_VERSION = "3.12.0"
# The release and every dependency pinned (Django the project's own, within the package's range).
REQUIREMENTS = (
    f"django-appointment=={PACKAGE_VERSION}",
    "Django==5.2.19",
    "asgiref==3.13.0",
    "babel==2.19.0",
    "colorama==0.4.6",
    "django-phonenumber-field==8.5.0",
    "icalendar==7.3.2",
    "phonenumbers==9.0.43",
    "pillow==12.3.0",
    "python-dateutil==4.0.0",
    "sqlparse==0.6.1",
    "typing_extensions==4.16.0",
    "tzdata==2026.6",
    "psycopg[binary]==3.3.9",
)
BENCH = "peer.django_appointment"
DAYS = 7
SCRIPT = Path(__file__).resolve()

SETTINGS = '''"""django-appointment's project, written by bench/peer_django_appointment.py."""
import os
from urllib.parse import unquote, urlsplit

BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET_KEY = "peer-bench-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "phonenumber_field",
    "appointment",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "peer_site.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
_url = os.environ.get("PEER_DATABASE_URL", "")
if _url:
    _parts = urlsplit(_url)
    DATABASES = {"default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _parts.path.lstrip("/"),
        "USER": unquote(_parts.username or ""),
        "PASSWORD": unquote(_parts.password or ""),
        "HOST": _parts.hostname or "",
        "PORT": str(_parts.port or ""),
    }}
else:
    DATABASES = {"default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(BASE_DIR, "peer.sqlite3"),
    }}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The package ships no migrations (its README: "makemigrations appointment"): make them here.
MIGRATION_MODULES = {"appointment": "peer_site.appointment_migrations"}
LANGUAGE_CODE = "fr"
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
APPOINTMENT_WEBSITE_NAME = "Peer bench"
APPOINTMENT_SLOT_DURATION = 30
APPOINTMENT_BUFFER_TIME = 0
APPOINTMENT_LEAD_TIME = (9, 0)
APPOINTMENT_FINISH_TIME = (18, 0)
LOGGING = {"version": 1, "disable_existing_loggers": False,
           "root": {"handlers": [], "level": "WARNING"}}
'''

URLS = """from django.urls import include, path

urlpatterns = [path("appointment/", include("appointment.urls"))]
"""


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__)
    parser.add_argument("--runs", type=int, default=5, help="timed runs (5)")
    parser.add_argument("--staff", type=int, default=200, help="staff members (200)")
    parser.add_argument("--booked", type=float, default=0.4, help="share of slots booked (0.4)")
    parser.add_argument(
        "--view", action="store_true", help="also time the package's AJAX view itself"
    )
    venv = Path(tempfile.gettempdir()) / "peer-venv"
    parser.add_argument("--venv", default=str(venv), help=f"throwaway venv ({venv})")
    parser.add_argument(
        "--database-url",
        default="",
        help="a PostgreSQL database of its own to use instead of SQLite (created if missing;"
        " emptied, so refused if it holds other tables than the peer's)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary project")
    parser.add_argument(
        "--ours",
        action="store_true",
        help="then run bench/availability.py --batch STAFF on the project's database (this"
        " environment's DATABASE_URL or CONSULTO_DATA_DIR), for our figure of the same size",
    )
    parser.add_argument("--inside", default="", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.inside:
        return inside(options)

    python = ensure_venv(Path(options.venv))
    project = Path(tempfile.mkdtemp(prefix="peer-django-appointment-"))
    (project / "peer_site").mkdir()
    (project / "peer_site" / "__init__.py").write_text("")
    (project / "peer_site" / "settings.py").write_text(SETTINGS)
    (project / "peer_site" / "urls.py").write_text(URLS)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "PYTHONPATH", "DJANGO_SETTINGS_MODULE", "VIRTUAL_ENV")
    }
    env.update(PYTHONPATH=str(project), DJANGO_SETTINGS_MODULE="peer_site.settings")
    if options.database_url:
        from run_all import create_database

        create_database(options.database_url)
        env["PEER_DATABASE_URL"] = options.database_url
    command = [
        str(python), str(SCRIPT), "--inside", str(project),
        "--runs", str(options.runs), "--staff", str(options.staff),
        "--booked", str(options.booked), "--seed", str(options.seed),
        *(["--view"] if options.view else []),
    ]  # fmt: skip
    log(f"Project in {project}; running {python} {SCRIPT.name} --inside")
    try:
        # The runner's standard output (the JSON lines) and error go straight through.
        code = subprocess.call(command, env=env, cwd=project)
    finally:
        if options.keep:
            log(f"Kept {project}")
        else:
            shutil.rmtree(project, ignore_errors=True)
    if options.ours and code == 0:
        ours = [
            sys.executable, str(SCRIPT.parent / "availability.py"),
            "--batch", str(options.staff), "--batch-runs", "30", "--runs", "50",
            "--practitioners", str(options.practitioners), "--seed", str(options.seed),
        ]  # fmt: skip
        log(f"Ours: {' '.join(ours[1:])}")
        code = subprocess.call(ours, env=dict(os.environ))
    return code


def ensure_venv(venv: Path) -> Path:
    """The throwaway venv's Python, with the pinned requirements installed (once)."""
    python = venv / "bin" / "python"
    marker = venv / "peer-requirements.txt"
    wanted = "\n".join(REQUIREMENTS) + "\n"
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    if not python.exists():
        log(f"Creating the venv {venv}")
        subprocess.check_call([sys.executable, "-m", "venv", str(venv)])
    log(f"Installing {', '.join(REQUIREMENTS[:2])} and their dependencies into {venv}")
    subprocess.check_call(
        [str(python), "-m", "pip", "install", "--quiet", *REQUIREMENTS],
        stdout=sys.stderr,
    )
    marker.write_text(wanted)
    return python


# The runner: runs in the throwaway venv, in the temporary project ------------------------------


def inside(options) -> int:
    import random
    from contextlib import redirect_stdout
    from datetime import date, datetime, time, timedelta
    from importlib.metadata import version

    import django

    # The package's loggers write to standard output (appointment/logger_config.py): keep it for
    # the JSON lines alone.
    figures = sys.stdout
    sys.stdout = sys.stderr
    sys.path.insert(0, options.inside)
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    installed = version("django-appointment")
    if installed != PACKAGE_VERSION:
        raise SystemExit(f"django-appointment {installed} installed, {PACKAGE_VERSION} wanted")
    log(
        f"django-appointment {installed}, Django {django.get_version()},"
        f" {connection.vendor} {connection.settings_dict['NAME']}"
    )
    foreign = [
        table
        for table in connection.introspection.table_names()
        if not table.startswith(("appointment_", "auth_", "django_"))
    ]
    if foreign:
        # The database is emptied below: never one that holds anything but this bench's tables.
        raise SystemExit(
            f"{connection.settings_dict['NAME']} holds other tables ({', '.join(foreign[:3])}...):"
            " give --database-url a database of its own"
        )
    call_command("makemigrations", "appointment", verbosity=0)
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)

    from appointment.models import (
        Appointment,
        AppointmentRequest,
        Config,
        Service,
        StaffMember,
        Unavailability,
        WorkingHours,
    )
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    rng = random.Random(options.seed)
    today = timezone.localdate()
    dates = [today + timedelta(days=n) for n in range(DAYS)]
    working_dates = [d for d in dates if d.isoweekday() <= 5]
    # The package numbers weekdays 0 = Sunday ... 6 = Saturday.
    weekdays = (1, 2, 3, 4, 5)
    starts = [time(h, m) for h in (9, 10, 11, 14, 15, 16, 17) for m in (0, 30)]
    half_hour = timedelta(minutes=30)

    def plus_half_hour(t: time) -> time:
        return (datetime.combine(date.min, t) + half_hour).time()

    log(f"Loading {options.staff} staff members, {len(working_dates)} working days")
    users = get_user_model().objects
    with transaction.atomic():
        Config(
            slot_duration=30, lead_time=time(9), finish_time=time(18), appointment_buffer_time=0
        ).save()
        service = Service.objects.create(name="Consultation", duration=half_hour, price=0)
        staff_users = users.bulk_create(
            users.model(
                username=f"staff{i:04d}", email=f"staff{i:04d}@peer.local", first_name="Staff",
                last_name=f"{i:04d}", is_staff=True,
            )
            for i in range(options.staff)
        )  # fmt: skip
        clients = users.bulk_create(
            users.model(username=f"client{i:05d}", email=f"client{i:05d}@peer.local")
            for i in range(options.staff * 5)
        )
        staff = StaffMember.objects.bulk_create(
            StaffMember(user=u, slot_duration=30, lead_time=time(9), finish_time=time(18))
            for u in staff_users
        )
        StaffMember.services_offered.through.objects.bulk_create(
            StaffMember.services_offered.through(staffmember=s, service=service) for s in staff
        )
        WorkingHours.objects.bulk_create(
            WorkingHours(staff_member=s, day_of_week=w, start_time=time(9), end_time=time(18))
            for s in staff
            for w in weekdays
        )
        Unavailability.objects.bulk_create(
            Unavailability(
                staff_member=s, date=d, start_time=time(12), end_time=time(14),
                description="Lunch",
            )
            for s in staff
            for d in working_dates
        )  # fmt: skip
        requests = []
        for s in staff:
            week = [(d, t) for d in working_dates for t in starts]
            for d, t in rng.sample(week, round(len(week) * options.booked)):
                requests.append(
                    AppointmentRequest(
                        date=d, start_time=t, end_time=plus_half_hour(t), service=service,
                        staff_member=s, id_request=f"peer{s.pk}-{d:%Y%m%d}-{t:%H%M}",
                    )
                )  # fmt: skip
        requests = AppointmentRequest.objects.bulk_create(requests)
        Appointment.objects.bulk_create(
            Appointment(
                client=rng.choice(clients), appointment_request=r, amount_to_pay=0,
                id_request=r.id_request,
            )
            for r in requests
        )  # fmt: skip
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    booked = Appointment.objects.count()
    size = f"{options.staff} staff x {DAYS} d, django-appointment {installed}"
    log(f"  {booked} appointments ({options.booked:.0%} of {len(working_dates) * 14} slots each)")

    from appointment.services import get_available_slots_for_staff
    from appointment.utils.db_helpers import (
        check_day_off_for_staff,
        get_weekday_num_from_date,
        is_working_day,
    )
    from appointment.views import get_available_slots_ajax
    from django.test import RequestFactory

    members = list(StaffMember.objects.order_by("pk"))
    service = Service.objects.get(pk=service.pk)
    slot_counts = []

    def staff_week(_i: int) -> None:
        # What get_available_slots_ajax computes once its form has read the staff member.
        found = 0
        for member in members:
            for day in dates:
                if check_day_off_for_staff(staff_member=member, date=day):
                    continue
                weekday = get_weekday_num_from_date(day)
                if not is_working_day(staff_member=member, day=weekday):
                    continue
                slots = get_available_slots_for_staff(day, member, weekday, service=service)
                if day == timezone.localdate():
                    now = timezone.localtime().time()
                    slots = [slot for slot in slots if slot.time() > now]
                found += len(slots)
        slot_counts.append(found)

    queries = []
    cpu = []

    def timed_week(i: int) -> None:
        if i < 0:  # the untimed warm-up pass counts the queries
            with connection.execute_wrapper(lambda run, *args: queries.append(1) or run(*args)):
                staff_week(i)
            return
        t0 = process_time()
        staff_week(i)
        cpu.append(process_time() - t0)

    log(f"Timing {options.staff} staff x {DAYS} days, {options.runs} runs")
    name = f"staff{options.staff}_week"
    samples = measure(timed_week, options.runs, warmup=1)
    with redirect_stdout(figures):
        report(BENCH, name, samples, size)
        report(BENCH, f"{name}_cpu", cpu, size, show=("p50",))
        emit(BENCH, "queries_per_run", len(queries), "queries", size)
        emit(BENCH, "slots_per_run", slot_counts[-1], "slots", size)
        emit(BENCH, "appointments", booked, "appointments", size)
    log(f"  {len(queries)} queries and {slot_counts[-1]} slots a run")

    if options.view:
        factory = RequestFactory()
        requests = [
            factory.get(
                "/appointment/available_slots/",
                {"selected_date": day.isoformat(), "staff_member": m.pk, "service_id": service.pk},
                headers={"x-requested-with": "XMLHttpRequest"},
            )
            for m in members
            for day in dates
        ]

        def view_week(_i: int) -> None:
            for request in requests:
                response = get_available_slots_ajax(request)
                if response.status_code != 200:
                    raise SystemExit(f"The view answered {response.status_code}")

        log(f"Timing the view, {len(requests)} requests a run, {options.runs} runs")
        samples = measure(view_week, options.runs, warmup=1)
        with redirect_stdout(figures):
            report(BENCH, f"{name}_view", samples, size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
