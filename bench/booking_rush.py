"""Booking rush: 64 concurrent API clients POST /api/v1/appointments against a real server.

The script starts ``uvicorn consulto.asgi:application --workers N`` on a free loopback port with
this process's environment (so the same database; CONSULTO_HTTPS=0 for plain HTTP), gives each
client its own user and API token, and runs two scenarios:

* ``booking_rush.random``: up to 4 random free slots of each of many agendas (every capacity-N
  resource included, each of their slots offered ``remaining`` times), computed beforehand in
  this process, shuffled, and taken one by one by the clients until ``--duration`` seconds or
  ``--requests`` requests.
* ``booking_rush.hot``: 50 free slots of one capacity-1 agenda; every client tries all 50, each in
  its own order. Exactly 50 bookings must succeed, the rest get 409.

Every request has a new ``Idempotency-Key`` and a new patient identity. The server runs with
the bench's own booking limits (``CONSULTO_BOOKING_LIMITS=account=1200/m``, unless set in the
environment): no limit per address, since all clients come from loopback. Figures per scenario:
``bookings_per_s`` (201 answers per second of wall time), ``requests_per_s``, ``latency_p50`` and
``latency_p99`` (ms, all answers, seen by the client), counts of 201 / 409 / other 4xx / 5xx /
transport errors, ``bookings_in_db`` (the bookings the database holds afterwards),
``server_cpu_per_booking_ms`` (user + system CPU of the server's processes during the scenario,
read from /proc, divided by the 201 answers) and ``server_cpu_per_request_ms``,
``database_cpu_per_request_ms`` (PostgreSQL's processes on this machine; on SQLite the
database works inside the server's processes) and ``client_cpu_per_request_ms`` (this load
generator's), so that where the machine's cores go is measured; and, counted
by SQL afterwards, ``double_bookings`` (pairs of active appointments overlapping on a capacity-1
agenda, one of them made by the bench) and ``over_capacity`` (instants where more active
appointments than the capacity overlap on a capacity-N agenda the bench booked). Active means
not cancelled and not an expired hold, as ``Appointment.active()`` and the database constraint.

Before the server starts, one booking goes through the API in this process (Django's test
client) to count its queries: ``booking_rush.request`` ``queries_per_booking`` (the on-commit
enqueues included) and ``cpu_ms`` (this process's CPU for that request).

The load generator (httpx.AsyncClient, one event loop) shares the machine's cores with the
server. Afterwards the bench's appointments and patient profiles are deleted (unless --keep).

Usage: python bench/booking_rush.py [--workers 2] [--clients 64] [--duration 20]
       [--requests 5000] [--scenarios random,hot] [--keep]
"""

import asyncio
import gc
import math
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

import httpx

from _common import (
    ROOT,
    base_parser,
    bookable_pairs,
    django_setup,
    emit,
    ensure_dataset,
    log,
    percentiles,
)

BENCH_DOMAIN = "bench.consulto.local"
FIRST_NAMES = ("Camille", "Louis", "Léa", "Hugo", "Chloé", "Jules", "Inès", "Nathan", "Zoé", "Adam")
LAST_NAMES = ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand")
SLOT_DAYS = 14
HOT_SLOTS = 50
BENCH_BOOKING_LIMITS = "account=1200/m"


@dataclass
class Outcome:
    statuses: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)  # transport errors by exception name
    unexpected: list[str] = field(default_factory=list)  # first answers other than 200/201/409
    wall: float = 0.0
    server_cpu: float = math.nan  # seconds of CPU the server's processes used meanwhile
    database_cpu: float = math.nan  # the local PostgreSQL's processes (nan on SQLite)
    client_cpu: float = math.nan  # this process: the load generator


# Setup -------------------------------------------------------------------------------------------


def bench_users(count: int) -> list[tuple[int, str]]:
    """(user id, fresh API token) of ``count`` bench users, created on first use."""
    from django.contrib.auth import get_user_model

    from consulto.api.models import ApiToken

    user_model = get_user_model()
    result = []
    for i in range(count):
        user, _created = user_model.objects.get_or_create(
            email=f"client-{i:03d}@{BENCH_DOMAIN}", defaults={"first_name": f"Client {i}"}
        )
        ApiToken.objects.filter(user=user).delete()
        _token, secret = ApiToken.issue(user, name="booking_rush")
        result.append((user.pk, secret))
    return result


def free_slots(pairs, *, start: date, needed: int, rng: random.Random, per_agenda_max: int = 4):
    """Free slots (agenda id, motive id, ISO start) of ``pairs`` until ``needed`` are found.

    At most ``per_agenda_max`` random slots are taken from each agenda, so that the bookings
    spread over many agendas as real traffic does.

    Also returns, per agenda, its free slots that do not overlap one another (openings may
    overlap, and so may their grids): on a capacity-1 agenda each of those can be booked.
    """
    from django.utils import timezone

    from consulto.scheduling.cache import slots_for_many

    now = timezone.now()
    found: list[tuple[int, int, str]] = []
    per_agenda: dict[int, list[tuple[int, int, str]]] = {}
    for chunk_start in range(0, len(pairs), 200):
        chunk = pairs[chunk_start : chunk_start + 200]
        slots = slots_for_many(chunk, start=start, days=SLOT_DAYS, now=now)
        for agenda, motive in chunk:
            disjoint, free_from = [], None
            places = [(agenda.pk, motive.pk, slot.start.isoformat()) for slot in slots[agenda.pk]]
            taken = rng.sample(range(len(places)), min(per_agenda_max, len(places)))
            # A slot with N places left is offered N times: the capacity check gets exercised.
            found.extend(places[i] for i in taken for _ in range(slots[agenda.pk][i].remaining))
            for slot, place in zip(slots[agenda.pk], places, strict=True):
                if free_from is None or slot.start >= free_from:
                    disjoint.append(place)
                    free_from = slot.end
            per_agenda[agenda.pk] = disjoint
        if len(found) >= needed:
            break
    rng.shuffle(found)
    return found, per_agenda


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(workers: int, port: int, log_path: str) -> subprocess.Popen:
    env = dict(os.environ, CONSULTO_HTTPS="0", DJANGO_SETTINGS_MODULE="consulto.settings")
    # The bench's own booking limits: its 64 clients share one address (loopback), so no limit
    # per address; each account is still counted (the counter's cost is part of the figures),
    # at a rate its client never reaches in a run; every request names a new patient.
    env.setdefault("CONSULTO_BOOKING_LIMITS", BENCH_BOOKING_LIMITS)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "consulto.asgi:application",
        "--workers",
        str(workers),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    log("Starting: " + " ".join(command[2:]) + f" (its output in {log_path})")
    with open(log_path, "wb") as output:
        return subprocess.Popen(command, env=env, cwd=ROOT, stdout=output, stderr=output)


def wait_ready(server: subprocess.Popen, base: str, workers: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"The server exited with status {server.returncode}.")
        try:
            if httpx.get(f"{base}/api/v1/specialties", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    else:
        raise SystemExit("The server did not answer in time.")

    async def warm() -> None:
        # Enough parallel requests to reach every worker and load its code paths.
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            for _round in range(3):
                await asyncio.gather(
                    *(client.get("/api/v1/specialties") for _ in range(8 * workers))
                )

    asyncio.run(warm())
    log(f"Server ready on {base}")


def stop_server(server: subprocess.Popen, log_path: str) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    # Django logs every 409 as a warning ("Conflict: ..."): summarise instead of echoing.
    with open(log_path, errors="replace") as output:
        lines = output.read().splitlines()
    conflicts = sum(1 for line in lines if line.startswith("Conflict: "))
    others = [line for line in lines if not line.startswith("Conflict: ")]
    log(f"Server log: {conflicts} 'Conflict' warnings, {len(others)} other lines")
    for line in others[-20:]:
        log(f"  | {line}")


def process_tree_cpu(root_pid: int) -> float:
    """User + system CPU seconds of ``root_pid`` and its live descendants (the uvicorn workers),
    their own waited-for children included, from /proc (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                # The command name (field 2) may hold spaces: split after its closing parenthesis.
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    tree, frontier = {root_pid}, [root_pid]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(times.get(pid, 0) for pid in tree) / tick


def database_cpu() -> float:
    """Seconds of CPU used so far by the local PostgreSQL server's processes (every process
    named ``postgres``), or nan on SQLite, whose work is counted in the server's."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return math.nan
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                name, rest = stat.read().split(" (", 1)[1].rsplit(")", 1)
        except (OSError, IndexError, ValueError):
            continue
        if name == "postgres":
            total += sum(int(value) for value in rest.split()[11:13])  # utime stime
    return total / tick


class Cpu:
    """CPU used during a scenario by the server, the database and this process."""

    def __init__(self, server_pid: int):
        self.server_pid = server_pid
        self.marks = (process_tree_cpu(server_pid), database_cpu(), time.process_time())

    def into(self, outcome: "Outcome") -> None:
        server, database, client = self.marks
        outcome.server_cpu = process_tree_cpu(self.server_pid) - server
        outcome.database_cpu = database_cpu() - database
        outcome.client_cpu = time.process_time() - client


def bookings_in_process(token: str, slots, rng: random.Random) -> list[dict]:
    """Book ``slots`` through the API in this process, one after the other (Django's test
    client, one handler, as a server worker keeps its own): each one's status, queries (those
    run by its on-commit hooks included) and this process's CPU for it."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    found = []
    for n, (agenda, motive, start) in enumerate(slots):
        body = {
            "agenda": agenda,
            "motive": motive,
            "start": start,
            "patient": patient_body(rng, 999_000_000 + n),
        }
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
        with CaptureQueriesContext(connection) as queries:
            cpu = time.process_time()
            response = client.post(
                "/api/v1/appointments",
                body,
                content_type="application/json",
                secure=True,  # the settings redirect plain HTTP unless CONSULTO_HTTPS=0
                headers=headers,
            )
            cpu = time.process_time() - cpu
        found.append(
            {"status": response.status_code, "queries": len(queries), "cpu_ms": cpu * 1000}
        )
    return found


# Load ----------------------------------------------------------------------------------------


def patient_body(rng: random.Random, n: int) -> dict:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    birth = date(1940, 1, 1) + timedelta(days=rng.randrange(80 * 365))
    return {
        "first_name": first,
        "last_name": f"{last}-{n}",
        "birth_date": birth.isoformat(),
        "phone": f"06 {rng.randrange(10**8):08d}",
        "email": f"patient{n}@{BENCH_DOMAIN}",
    }


async def rush(
    base: str,
    tokens: list[str],
    work,  # callable(client_index) -> iterator of (agenda, motive, start)
    *,
    deadline: float | None,
    max_requests: int | None,
    seed: int,
) -> Outcome:
    outcome = Outcome()
    issued = 0
    limits = httpx.Limits(max_connections=len(tokens), max_keepalive_connections=len(tokens))

    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:

        async def client(index: int) -> None:
            nonlocal issued
            rng = random.Random(seed * 1000 + index)
            headers = {"Authorization": f"Bearer {tokens[index]}"}
            for agenda, motive, start in work(index):
                if max_requests is not None and issued >= max_requests:
                    return
                if deadline is not None and time.perf_counter() >= deadline:
                    return
                issued += 1
                body = {
                    "agenda": agenda,
                    "motive": motive,
                    "start": start,
                    "patient": patient_body(rng, index * 1_000_000 + issued),
                }
                headers["Idempotency-Key"] = str(uuid.uuid4())
                t0 = time.perf_counter()
                try:
                    response = await http.post("/api/v1/appointments", json=body, headers=headers)
                except httpx.TransportError as error:
                    outcome.errors[type(error).__name__] += 1
                    continue
                outcome.latencies.append(time.perf_counter() - t0)
                outcome.statuses[response.status_code] += 1
                if response.status_code not in (200, 201, 409) and len(outcome.unexpected) < 5:
                    outcome.unexpected.append(f"{response.status_code} {response.text[:200]}")

        t0 = time.perf_counter()
        await asyncio.gather(*(client(i) for i in range(len(tokens))))
        outcome.wall = time.perf_counter() - t0
    return outcome


# Checks --------------------------------------------------------------------------------------

ACTIVE = "status NOT IN ('cancelled', 'expired')"


def double_bookings(user_ids: list[int], after_id: int, upto: int | None) -> tuple[int, int]:
    """(overlapping pairs on capacity-1 agendas, over-capacity instants on capacity-N agendas)

    among the agendas where the bench's users booked appointments with ids in
    (``after_id``, ``upto``]: every pair with one of those is counted, whoever booked the other.
    """
    from django.db import connection

    users = ",".join(str(int(pk)) for pk in user_ids)
    upto = upto if upto is not None else 2**62
    pairs_sql = f"""
        SELECT a.id, b.id
        FROM scheduling_appointment a
        JOIN scheduling_agenda g ON g.id = a.agenda_id AND g.capacity = 1
        JOIN scheduling_appointment b
          ON b.agenda_id = a.agenda_id AND b.id <> a.id
         AND b.start < a."end" AND b."end" > a.start AND b.{ACTIVE}
        WHERE a.booked_by_id IN ({users}) AND a.id > %s AND a.id <= %s AND a.{ACTIVE}
    """  # noqa: S608 - integers only
    touched_sql = f"""
        SELECT DISTINCT a.agenda_id FROM scheduling_appointment a
        JOIN scheduling_agenda g ON g.id = a.agenda_id AND g.capacity > 1
        WHERE a.booked_by_id IN ({users}) AND a.id > %s AND a.id <= %s
    """  # noqa: S608 - integers only
    with connection.cursor() as cursor:
        cursor.execute(pairs_sql, [after_id, upto])
        pairs = {frozenset(row) for row in cursor.fetchall()}
        cursor.execute(touched_sql, [after_id, upto])
        agendas = ",".join(str(int(row[0])) for row in cursor.fetchall())
        over = 0
        if agendas:
            # The peak of overlapping intervals is reached at one of their starts.
            cursor.execute(
                f"""
                SELECT i.agenda_id, i.start, COUNT(*)
                FROM (SELECT DISTINCT agenda_id, start FROM scheduling_appointment
                      WHERE agenda_id IN ({agendas}) AND {ACTIVE}) i
                JOIN scheduling_appointment q
                  ON q.agenda_id = i.agenda_id AND q.start <= i.start AND q."end" > i.start
                 AND q.{ACTIVE}
                JOIN scheduling_agenda g ON g.id = i.agenda_id
                GROUP BY i.agenda_id, i.start, g.capacity
                HAVING COUNT(*) > g.capacity
                """  # noqa: S608 - integers only
            )
            over = len(cursor.fetchall())
    return len(pairs), over


def last_appointment_id() -> int:
    from consulto.scheduling.models import Appointment

    return Appointment.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def bookings_in_db(user_ids: list[int], after_id: int, upto: int | None) -> int:
    from consulto.scheduling.models import Appointment

    mine = Appointment.objects.active().filter(booked_by_id__in=user_ids, pk__gt=after_id)
    return (mine.filter(pk__lte=upto) if upto is not None else mine).count()


def cleanup(user_ids: list[int]) -> None:
    from django.db import transaction
    from django.db.models import F

    from consulto.practice.models import PatientFile
    from consulto.scheduling.models import Agenda, Appointment, PatientProfile

    with transaction.atomic():
        mine = Appointment.objects.filter(booked_by_id__in=user_ids)
        agenda_ids = set(mine.values_list("agenda_id", flat=True))
        deleted, _ = mine.delete()
        profiles = PatientProfile.objects.filter(owner_id__in=user_ids)
        # A first booking opens the patient's file in the practice: the bench's go too.
        PatientFile.objects.filter(profile__in=profiles).delete()
        profiles.delete()
        # Cached availability is keyed by the agenda version: make it see the freed slots.
        Agenda.objects.filter(pk__in=agenda_ids).update(version=F("version") + 1)
    log(f"Cleanup: {deleted} bench appointments deleted on {len(agenda_ids)} agendas")


def report(
    name: str, outcome: Outcome, size: str, user_ids: list[int], after_id: int, upto: int | None
) -> None:
    bench = f"booking_rush.{name}"
    ok = outcome.statuses[201]
    transport = sum(outcome.errors.values())
    total = sum(outcome.statuses.values()) + transport
    wall = max(outcome.wall, 1e-9)
    figures = percentiles(outcome.latencies)
    other_4xx = sum(n for s, n in outcome.statuses.items() if 400 <= s < 500 and s != 409)
    server_errors = sum(n for s, n in outcome.statuses.items() if s >= 500)
    pairs, over = double_bookings(user_ids, after_id, upto)
    stored = bookings_in_db(user_ids, after_id, upto)
    emit(bench, "bookings_per_s", ok / wall, "1/s", size)
    emit(bench, "requests_per_s", total / wall, "1/s", size)
    emit(bench, "latency_p50", figures["p50"], "ms", size)
    emit(bench, "latency_p99", figures["p99"], "ms", size)
    emit(bench, "requests", total, "count", size)
    emit(bench, "status_201", ok, "count", size)
    emit(bench, "status_409", outcome.statuses[409], "count", size)
    emit(bench, "status_other_4xx", other_4xx, "count", size)
    emit(bench, "status_5xx", server_errors, "count", size)
    emit(bench, "transport_errors", transport, "count", size)
    emit(bench, "bookings_in_db", stored, "count", size)
    emit(bench, "server_cpu_per_booking_ms", outcome.server_cpu * 1000 / max(ok, 1), "ms", size)
    emit(bench, "server_cpu_per_request_ms", outcome.server_cpu * 1000 / max(total, 1), "ms", size)
    if not math.isnan(outcome.database_cpu):
        emit(bench, "database_cpu_per_request_ms", outcome.database_cpu * 1000 / total, "ms", size)
    emit(bench, "client_cpu_per_request_ms", outcome.client_cpu * 1000 / max(total, 1), "ms", size)
    emit(bench, "double_bookings", pairs, "count", size)
    emit(bench, "over_capacity", over, "count", size)
    log(
        f"  {bench}: {ok / wall:.0f} bookings/s, {total / wall:.0f} requests/s in {wall:.1f} s,"
        f" p50 {figures['p50']:.1f} ms, p99 {figures['p99']:.1f} ms;"
        f" server CPU {outcome.server_cpu * 1000 / max(ok, 1):.2f} ms per booking;"
        f" statuses {dict(sorted(outcome.statuses.items()))}, errors {dict(outcome.errors)};"
        f" {stored} bookings in the database; {pairs} double bookings, {over} over capacity"
    )
    for answer in outcome.unexpected:
        log(f"  unexpected answer: {answer}")
    if stored != ok:
        log(f"  WARNING: {ok} answers 201 but {stored} bookings in the database")


# Main ----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers (2)")
    parser.add_argument("--clients", type=int, default=64, help="concurrent clients (64)")
    parser.add_argument("--duration", type=float, default=20, help="random: seconds at most (20)")
    parser.add_argument("--requests", type=int, default=5000, help="random: requests at most")
    parser.add_argument("--scenarios", default="random,hot", help="random,hot (both)")
    parser.add_argument("--keep", action="store_true", help="keep the bench's bookings")
    options = parser.parse_args(argv)
    scenarios = [s.strip() for s in options.scenarios.split(",") if s.strip()]

    django_setup()
    from django.utils import timezone

    ensure_dataset(options.practitioners, options.seed)
    rng = random.Random(options.seed)
    users = bench_users(options.clients)
    user_ids = [pk for pk, _secret in users]
    tokens = [secret for _pk, secret in users]

    # Free slots, computed before the server starts: a few of every resource of capacity N, then
    # a few of each practitioner's agenda, in random order, until there are enough.
    # Each request books for a new patient: motives kept for known patients would refuse it.
    everything = bookable_pairs(None, person_only=False, new_patients_only=True)
    resources = [p for p in everything if p[0].capacity > 1]
    people = [p for p in everything if p[0].capacity == 1]
    rng.shuffle(people)
    hot_pair = None
    start = timezone.localdate() + timedelta(days=1)
    _found, per_agenda = free_slots(people[:50], start=start, needed=0, rng=rng)
    for agenda, _motive in people[:50]:
        if len(per_agenda.get(agenda.pk, ())) >= HOT_SLOTS:
            hot_pair = agenda.pk
            break
    hot_slots = per_agenda[hot_pair][:HOT_SLOTS] if hot_pair else []
    pool: list = []
    if "random" in scenarios:
        candidates = resources + [p for p in people if p[0].pk != hot_pair]
        pool, _ = free_slots(candidates, start=start, needed=options.requests * 2, rng=rng)
        log(f"Random scenario: {len(pool)} free slot places from {SLOT_DAYS} days from {start}")

    # Three bookings in this process (the first one pays for loading code and the handler's
    # middleware): the last one's queries, and the least CPU of the three.
    probes = pool[:3] if len(pool) >= 3 else []
    pool = pool[len(probes) :]
    if not probes:
        spare = [p for p in people[50:] if p[0].pk != hot_pair][:20]
        probes, _ = free_slots(spare, start=start, needed=3, rng=rng, per_agenda_max=1)
    # This process holds every slot computed above: frozen, they are not traversed by each
    # garbage collection during the probes, which would count as the request's CPU.
    gc.collect()
    gc.freeze()
    probed = bookings_in_process(tokens[0], probes[:3], rng)
    gc.unfreeze()
    if probed:
        size = "1 booking, in process"
        emit("booking_rush.request", "queries_per_booking", probed[-1]["queries"], "count", size)
        emit("booking_rush.request", "cpu_ms", min(p["cpu_ms"] for p in probed), "ms", size)
        log(f"In process: {probed}")

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = os.path.join(tempfile.gettempdir(), f"consulto-booking-rush-{port}.log")
    # This process keeps its one database connection from here on: a server that runs out of
    # connections must not keep the checks below from running.
    marks = [last_appointment_id()]
    results = []
    server = start_server(options.workers, port, log_path)
    try:
        wait_ready(server, base, options.workers)
        if "random" in scenarios:
            shared = iter(pool)
            size = f"{options.clients} clients, {options.workers} workers"
            log(f"Random: {options.clients} clients, {options.duration:g} s or {options.requests}")
            cpu = Cpu(server.pid)
            outcome = asyncio.run(
                rush(
                    base,
                    tokens,
                    lambda _i: shared,
                    deadline=time.perf_counter() + options.duration,
                    max_requests=options.requests,
                    seed=options.seed,
                )
            )
            cpu.into(outcome)
            results.append(("random", outcome, size, marks[-1], last_appointment_id()))
            marks.append(results[-1][-1])
        if "hot" in scenarios:
            if len(hot_slots) < HOT_SLOTS:
                raise SystemExit(f"No agenda with {HOT_SLOTS} free slots for the hot scenario.")
            log(f"Hot: {options.clients} clients x the same {HOT_SLOTS} slots of agenda {hot_pair}")

            def own_order(index: int):
                order = list(hot_slots)
                random.Random(options.seed * 7919 + index).shuffle(order)
                return iter(order)

            size = f"{options.clients} clients x {HOT_SLOTS} slots, {options.workers} workers"
            cpu = Cpu(server.pid)
            outcome = asyncio.run(
                rush(base, tokens, own_order, deadline=None, max_requests=None, seed=options.seed)
            )
            cpu.into(outcome)
            results.append(("hot", outcome, size, marks[-1], None))
    finally:
        stop_server(server, log_path)
        try:
            for name, outcome, size, after, upto in results:
                report(name, outcome, size, user_ids, after, upto)
                if name == "hot" and outcome.statuses[201] != HOT_SLOTS:
                    log(f"  WARNING: {outcome.statuses[201]} bookings succeeded, not {HOT_SLOTS}")
        finally:
            if not options.keep:
                cleanup(user_ids)
    return 0


if __name__ == "__main__":
    sys.exit(main())
