"""Shared helpers of the benchmark scripts: Django setup, the dataset, timing, output.

Every script prints one JSON line per figure on standard output::

    {"bench": "availability.agenda_week", "metric": "uncached_p95", "value": 1.9,
     "unit": "ms", "size": "1 agenda x 7 d"}

and its progress on standard error, so ``python bench/x.py > results.jsonl`` keeps the figures
only. The database is the project's own (``consulto.settings``): PostgreSQL when DATABASE_URL is
set, else SQLite in $CONSULTO_DATA_DIR/consulto.sqlite3.
"""

import argparse
import gc
import json
import math
import os
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GP = "medecin-generaliste"
PARIS = (48.8566, 2.3522)
DEFAULT_PRACTITIONERS = 10_000
DEFAULT_SEED = 7


def django_setup() -> None:
    """Configure Django with the project's real settings (not the test settings)."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "consulto.settings"
    src = str(ROOT / "src")
    if src not in sys.path:
        sys.path.insert(0, src)
    import django

    django.setup()


def log(*parts: object) -> None:
    print(*parts, file=sys.stderr, flush=True)


def emit(bench: str, metric: str, value: float, unit: str, size: object) -> None:
    """Print one figure as a JSON line on standard output."""
    if isinstance(value, float):
        value = round(value, 3)
    line = {"bench": bench, "metric": metric, "value": value, "unit": unit, "size": size}
    print(json.dumps(line, ensure_ascii=False), flush=True)


def _quantile(ordered: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default method)."""
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50, p95 and p99 in milliseconds of durations given in seconds."""
    if not samples:
        return {"p50": math.nan, "p95": math.nan, "p99": math.nan}
    ordered = sorted(s * 1000 for s in samples)
    return {name: _quantile(ordered, q) for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))}


def measure(
    run: Callable[[int], object],
    runs: int,
    *,
    before: Callable[[int], object] | None = None,
    warmup: int = 3,
) -> list[float]:
    """Durations in seconds of ``run(i)`` for i in range(runs); ``before(i)`` is not timed.

    What the bench holds before timing (thousands of agendas and motives, slots computed to pick
    from: objects a server does not have) is frozen out of the garbage collector's reach, as a
    server worker freezes what it loads at startup (consulto/asgi.py): otherwise each full
    collection triggered by a run walks the bench's own heap and counts as that run's time."""
    for i in range(warmup):
        if before is not None:
            before(-1 - i)
        run(-1 - i)
    gc.collect()
    gc.freeze()
    samples = []
    try:
        for i in range(runs):
            if before is not None:
                before(i)
            t0 = time.perf_counter()
            run(i)
            samples.append(time.perf_counter() - t0)
    finally:
        gc.unfreeze()
    return samples


def report(
    bench: str,
    name: str,
    samples: list[float],
    size: object,
    *,
    goal_ms: float | None = None,
    goal_at: str = "p95",
    show: tuple[str, ...] = ("p50", "p95"),
) -> dict[str, float]:
    """Emit the percentiles of ``samples`` as ``<name>_p50`` etc. and log them with the goal."""
    figures = percentiles(samples)
    for key in show:
        emit(bench, f"{name}_{key}", figures[key], "ms", size)
    verdict = ""
    if goal_ms is not None:
        met = figures[goal_at] <= goal_ms
        verdict = f"  goal {goal_at} <= {goal_ms:g} ms: {'met' if met else 'MISSED'}"
    shown = ", ".join(f"{key} {figures[key]:.2f} ms" for key in show)
    log(f"  {bench} {name}: {shown} over {len(samples)} runs{verdict}")
    return figures


def database_label() -> str:
    from django.db import connection

    if connection.vendor == "sqlite":
        return f"sqlite {connection.settings_dict['NAME']}"
    return f"{connection.vendor} {connection.settings_dict['NAME']}"


def analyze_postgresql() -> None:
    """Give PostgreSQL's planner statistics of tables that have none or stale ones.

    The demo's bulk load leaves none, and autovacuum (off on some servers, late on others)
    may not have run yet: without statistics the planner seq-scans 1.6 M appointments.
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_stat_user_tables"
            " WHERE (last_analyze IS NULL AND last_autoanalyze IS NULL)"
            " OR n_mod_since_analyze > 0.1 * GREATEST(n_live_tup, 1000)"
        )
        stale = [row[0] for row in cursor.fetchall()]
        if stale:
            t0 = time.perf_counter()
            cursor.execute("ANALYZE")
            seconds = time.perf_counter() - t0
            log(f"ANALYZE: {len(stale)} tables had no fresh statistics ({seconds:.1f} s)")


def ensure_dataset(practitioners: int = DEFAULT_PRACTITIONERS, seed: int = DEFAULT_SEED):
    """Migrate, load the demo dataset if the database has none, and return its marker row.

    The demo command is idempotent: on a database that already holds a dataset it adds nothing
    (a dataset of another size or seed is kept, with a warning here).
    """
    from django.core.management import call_command
    from django.utils import timezone

    from consulto.demo.models import DemoDataset

    log(f"Database: {database_label()}")
    call_command("migrate", interactive=False, verbosity=0, stdout=sys.stderr)
    call_command(
        "demo", practitioners=practitioners, seed=seed, no_progress=False, stdout=sys.stderr
    )
    analyze_postgresql()
    dataset = DemoDataset.objects.order_by("pk").first()
    if dataset is None:
        raise SystemExit("No demo dataset in the database.")
    if (dataset.practitioners, dataset.seed) != (practitioners, seed):
        log(
            f"WARNING: the database holds the dataset of {dataset.practitioners} practitioners,"
            f" seed {dataset.seed}, not {practitioners}/{seed}: measuring that one."
        )
    if dataset.today != timezone.localdate():
        log(
            f"WARNING: the dataset was generated around {dataset.today}, today is"
            f" {timezone.localdate()}: its bookings lie {abs(timezone.localdate() - dataset.today)}"
            " away from today's timeline."
        )
    return dataset


def base_parser(description: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=(description or "").split("\n\n")[0])
    parser.add_argument(
        "--practitioners",
        type=int,
        default=DEFAULT_PRACTITIONERS,
        help=f"demo dataset size loaded if the database is empty (default {DEFAULT_PRACTITIONERS})",
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"demo seed (default {DEFAULT_SEED})"
    )
    return parser


def bookable_pairs(
    specialty: str | None = GP, *, person_only: bool = True, new_patients_only: bool = False
) -> list:
    """(agenda, motive) of every active online agenda, with the motive a new patient would book
    first (as search picks it: open to new patients, then position, then id; not video).

    ``specialty`` None takes every agenda (resources of capacity N included unless
    ``person_only``); ``new_patients_only`` leaves out the agendas whose every motive is kept for
    known patients (a new patient is refused there). Agendas come with ``site`` selected, as the
    selectors require.
    """
    from consulto.scheduling.models import Agenda, Motive

    agendas = Agenda.objects.filter(is_active=True, online_booking=True).select_related("site")
    if specialty:
        agendas = agendas.filter(practitioner__specialty__code=specialty)
    elif person_only:
        agendas = agendas.filter(practitioner__isnull=False)
    agendas = list(agendas.order_by("pk"))
    motives: dict[int, Motive] = {}
    candidates = (
        Motive.objects.filter(agenda__in=[a.pk for a in agendas], is_active=True, online=True)
        .exclude(mode=Motive.Mode.VIDEO)
        .order_by("agenda_id", "-open_to_new_patients", "position", "id")
    )
    if new_patients_only:
        candidates = candidates.filter(open_to_new_patients=True)
    for motive in candidates:
        motives.setdefault(motive.agenda_id, motive)
    return [(a, motives[a.pk]) for a in agendas if a.pk in motives]


# A live server and a browser, for the scripts that drive real pages -----------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def uvicorn_server(env: dict, log_path: Path, *, ready_path: str = "/api/v1/openapi.json"):
    """``uvicorn consulto.asgi:application`` on a free loopback port, as ``make run`` serves
    the platform; yields its base URL once it answers, and stops it on the way out."""
    import signal
    import subprocess

    import httpx

    port = free_port()
    with open(log_path, "wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "consulto.asgi:application", "--host",
             "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning"],
            env=env, cwd=ROOT, stdout=output, stderr=output,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return httpx.get(base + ready_path, timeout=2).status_code == 200
        except httpx.TransportError:
            return False  # not listening yet

    try:
        deadline = time.monotonic() + 60
        while not answers():
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit(f"The server did not answer (see {log_path})")
            time.sleep(0.2)
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def chromium(playwright):
    """Debian's Chromium with the browser tests' flags (fake camera and microphone included)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS

    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def video_practice(count: int, *, name: str, rpps_first_ten: str):
    """A practitioner (``<name>-doctor@bench.local``) with one agenda per room, a patient
    (``<name>-patient@bench.local``), and ``count`` video appointments starting in five minutes
    (a room opens 15 minutes before), in one transaction: (practitioner's user, patient's user,
    [their rooms])."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from consulto.directory.models import Membership, Organisation, Practitioner, Site, Specialty
    from consulto.directory.rpps import luhn_check_digit
    from consulto.scheduling.models import Agenda, Appointment, Motive, PatientProfile
    from consulto.teleconsultation import rooms

    users = get_user_model().objects
    start = timezone.now() + timedelta(minutes=5)
    with transaction.atomic():
        doctor = users.create_user(email=f"{name}-doctor@bench.local")
        patient_user = users.create_user(email=f"{name}-patient@bench.local")
        organisation = Organisation.objects.create(name=f"Cabinet {name}")
        Membership.objects.create(user=doctor, organisation=organisation, role="practitioner")
        site = Site.objects.create(
            organisation=organisation, name=f"Cabinet {name}", address="1 rue du Banc",
            postcode="75011", city="Paris", latitude=48.86, longitude=2.38,
        )  # fmt: skip
        practitioner = Practitioner.objects.create(
            first_name="Vi", last_name="Sio", user=doctor,
            rpps=rpps_first_ten + luhn_check_digit(rpps_first_ten),
            specialty=Specialty.objects.get(code=GP),
        )  # fmt: skip
        profile = PatientProfile.objects.create(
            owner=patient_user, first_name="Pa", last_name="Tient", birth_date="1980-01-01"
        )
        found = []
        for index in range(count):
            agenda = Agenda.objects.create(
                organisation=organisation, practitioner=practitioner, site=site,
                name=f"Visio {index}",
            )  # fmt: skip
            motive = Motive.objects.create(
                agenda=agenda, label="Téléconsultation", duration_minutes=15, mode="video"
            )
            appointment = Appointment.objects.create(
                agenda=agenda, motive=motive, patient=profile, start=start,
                end=start + timedelta(minutes=15), booked_by=patient_user,
            )  # fmt: skip
            found.append(rooms.ensure_room(appointment))
    return doctor, patient_user, found


def session_of(user) -> tuple[str, str]:
    """The session cookie (name, value) of a fresh login of ``user``."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value
