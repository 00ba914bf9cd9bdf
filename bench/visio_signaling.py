"""Video signaling capacity: how many simultaneous video rooms one ASGI worker holds.

One uvicorn worker, as ``make run`` serves the platform (in-memory channel layer; ``--redis``
for the Redis layer production uses), serves N video rooms at once. A room is two WebSocket
clients on ``ws/visio/<room>/``, as the call page opens them: the practitioner with a logged-in
session cookie, the patient anonymous with the signed link's ``?t=<token>``. Each room is set up
as the browsers do it (hello, presence, joined, admit, offer, answer: 3 database writes), then
both sides send one trickle-ICE ``candidate`` a second (relayed to the other side) and a
``stats`` summary every 5 s as the call page does (written to the database and sent to both
sides as ``quality``). The number of rooms ramps up by levels (25, 50, 100 ...; a level's rooms
stay connected for the next) and at each level, for ``--duration`` seconds:

* ``relay``: candidate latency, from the sender's ``send`` to the other side reading it (the
  send time, CLOCK_MONOTONIC, travels in the candidate's ufrag), p50/p95/p99;
* ``stats``: from one side sending ``stats`` to the other side reading the ``quality`` it
  becomes (a database write, then a group send);
* ``setup``: a new room, from the practitioner's connect to the answer read back;
* ``relays_per_s`` and ``frames_per_s`` (every frame the server delivered), ``lost_relays`` and
  ``lost_stats`` (not delivered ``--drain`` s after the last send), ``failed_setups``,
  ``connections_lost``; when frames are missing, ``relays_never_delivered`` and
  ``stats_never_delivered`` after ``--settle`` s more without traffic (late or dropped);
* ``server_rss`` (MB) and ``server_cpu`` (percent of one core) of the uvicorn process,
  ``clients_cpu`` of the load processes, ``other_cpu`` (everything else on the machine: Redis,
  the database server, other jobs), ``client_lag_p95`` (the load processes' event-loop delay).

A level holds when the relay p95 is at most ``--threshold-ms`` (250) with nothing lost, no room
failing to set up and no connection dropped; the ramp stops at the first level that does not.
The last line, ``rooms_held``, is the largest level that held. With ``--redis``,
``groups_left_in_redis`` counts the rooms' groups the server still subscribes to once every
socket is closed (they should be none).

    python bench/visio_signaling.py [--redis [URL]] [--levels 25,50,100,...] [--duration 10]
        [--rate 1] [--stats-every 5] [--clients 1] [--threshold-ms 250] [--keep]

The load comes from Python asyncio clients (``websockets``, uvloop) in ``--clients`` processes
on the same 2-core machine as the server: the clients' own CPU and event-loop delay are in the
figures, so they are a floor of what the worker holds (``server_cpu`` says how busy the worker
itself was). One process is enough: at 1,600 relays/s (800 rooms) it used 40 % of a core with
an event-loop delay p95 of 2 ms, and two processes gave the same figures; the script warns when
the clients near a full core each.

It works in a throwaway data directory (SQLite); with DATABASE_URL set (PostgreSQL), in a
throwaway database on that server, dropped at the end. With ``--redis``, give a database
number no test run uses at the same time (``redis://127.0.0.1:6379/7``): the channel layer's
names carry it, and the platform's cache lives there.
"""

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common

ROOT = common.ROOT
BENCH = "visio_signaling"
MB = 2**20
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
PRACTITIONER, PATIENT = "practitioner", "patient"
SETUP_EVENTS = frozenset({"hello", "joined", "presence", "admitted", "offer", "answer"})
# A plausible SDP of an audio + video call (about 2.5 KB, as Chromium's are).
SDP = "\r\n".join(
    [
        "v=0",
        "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0 1",
        "a=extmap-allow-mixed",
        "a=msid-semantic: WMS bench",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126",
        "c=IN IP4 0.0.0.0",
        "a=rtcp:9 IN IP4 0.0.0.0",
        "a=ice-ufrag:bnch",
        "a=ice-pwd:" + "p" * 24,
        "a=ice-options:trickle",
        "a=fingerprint:sha-256 " + ":".join(["AB"] * 32),
        "a=setup:actpass",
        "a=mid:0",
        "a=sendrecv",
        "a=rtcp-mux",
        "a=rtpmap:111 opus/48000/2",
        "a=fmtp:111 minptime=10;useinbandfec=1",
    ]
    + [f"a=extmap:{n} urn:ietf:params:rtp-hdrext:bench-{n}" for n in range(1, 15)]
    + [
        "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 104 105 106 107 108 109",
        "c=IN IP4 0.0.0.0",
        "a=mid:1",
        "a=sendrecv",
        "a=rtcp-mux",
        "a=rtcp-rsize",
    ]
    + [f"a=rtpmap:{pt} VP8/90000\r\na=rtcp-fb:{pt} nack pli" for pt in range(96, 110)]
    + ["a=ssrc-group:FID 1111111111 2222222222", "a=ssrc:1111111111 cname:bench", ""]
)
STATS = {
    "type": "stats",
    "rtt_ms": 12.5,
    "jitter_ms": 2.1,
    "loss_percent": 0.0,
    "bitrate_kbps": 1450.0,
    "freeze_count": 0,
    "freeze_seconds": 0.0,
}


# Data: one practitioner, one patient, a video appointment per room --------------------------------


def build(count: int) -> tuple[object, list[tuple[int, str]]]:
    """The bench's practitioner's user and [(room id, the patient's signed link token)]."""
    from consulto.teleconsultation import rooms

    doctor, _patient, found = common.video_practice(
        count, name="signaling", rpps_first_ten="1999999998"
    )
    return doctor, [(room.pk, rooms.join_link_token(room)) for room in found]


def session_cookie(user) -> str:
    """A ``Cookie`` header of a logged-in session of ``user`` (the consumer needs no second
    factor: it takes the session's user)."""
    return "=".join(common.session_of(user))


@contextmanager
def database():
    """("" for SQLite in the data directory, or the URL of a throwaway PostgreSQL database made
    on DATABASE_URL's server and dropped on the way out), and its label."""
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        yield "", "SQLite"
        return
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = f"consulto_visio_signaling_{os.getpid()}"
    admin_url = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    common.log(f"Throwaway database {name} on {parts.hostname}")
    try:
        yield urlunsplit(parts._replace(path=f"/{name}")), "PostgreSQL"
    finally:
        with suppress(Exception):
            from django.db import connections

            connections.close_all()
        with psycopg.connect(admin_url, autocommit=True) as connection:
            drop = "DROP DATABASE IF EXISTS {} WITH (FORCE)"
            connection.execute(sql.SQL(drop).format(sql.Identifier(name)))


# The load: asyncio clients in a subprocess -------------------------------------------------------


def candidate(phase: int, seq: int, room: int, sent_ns: int) -> str:
    """A host candidate as Chromium writes them; its ufrag carries the phase and send time."""
    return (
        f"candidate:{seq} 1 udp 2122260223 10.{room % 250}.{seq % 250}.1 {40000 + seq % 20000}"
        f" typ host generation 0 ufrag b{phase}t{sent_ns} network-id 1"
    )


def tag_of(text: str) -> tuple[int, int]:
    ufrag = text.rsplit(" ufrag b", 1)[1].split(" ", 1)[0]
    phase, sent = ufrag.split("t")
    return int(phase), int(sent)


class Side:
    """One WebSocket of a room: the practitioner's or the patient's."""

    def __init__(self, name: str, room: int):
        self.name, self.room = name, room
        self.peer: Side = self
        self.ws = None
        self.reader: asyncio.Task | None = None
        self.alive = False
        self.closing = False  # closed by the load itself, not dropped
        self.events: dict[str, asyncio.Event] = {}
        self.stats_sent: dict[int, tuple[int, int]] = {}  # seq -> (phase, send time ns)
        self.stats_seq = 0

    def event(self, kind: str) -> asyncio.Event:
        return self.events.setdefault(kind, asyncio.Event())


@dataclass
class Tally:
    phase: int = 0
    candidates_sent: int = 0
    relays: list[float] = field(default_factory=list)
    stats_sent: int = 0
    stats_times: list[float] = field(default_factory=list)
    frames_received: int = 0
    late: int = 0
    send_failures: int = 0
    errors: Counter = field(default_factory=Counter)
    lags: list[float] = field(default_factory=list)


class Load:
    """The rooms of one client process and what they send and read."""

    def __init__(self, ws_base: str, origin: str, cookie: str, timeout: float):
        self.ws_base, self.origin, self.cookie, self.timeout = ws_base, origin, cookie, timeout
        self.rooms: list[tuple[Side, Side]] = []
        self.tally = Tally()
        self.closing = False
        self.connections_lost = 0

    async def connect(self, side: Side, url: str, headers: dict | None) -> None:
        from websockets.asyncio.client import connect

        side.ws = await connect(
            url, origin=self.origin, additional_headers=headers, open_timeout=self.timeout,
            ping_interval=None, close_timeout=2,
        )  # fmt: skip
        side.alive = True
        side.reader = asyncio.create_task(self.read(side))

    async def read(self, side: Side) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for raw in side.ws:
                now = time.monotonic_ns()
                tally = self.tally
                tally.frames_received += 1
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "candidate":
                    try:
                        phase, sent = tag_of(message.get("candidate") or "")
                    except (IndexError, ValueError):
                        tally.errors["unreadable candidate"] += 1
                        continue
                    if phase == tally.phase:
                        tally.relays.append((now - sent) / 1e9)
                    else:
                        tally.late += 1
                elif kind == "quality" and message.get("side") == side.peer.name:
                    entry = side.peer.stats_sent.pop(message.get("frames_decoded"), None)
                    if entry is not None and entry[0] == tally.phase:
                        tally.stats_times.append((now - entry[1]) / 1e9)
                    elif entry is not None:
                        tally.late += 1
                elif kind == "error":
                    tally.errors[f"server: {message.get('code')}"] += 1
                elif kind in SETUP_EVENTS:
                    side.event(kind).set()
        except ConnectionClosed:
            pass
        finally:
            side.alive = False
            if not (self.closing or side.closing):
                self.connections_lost += 1

    async def send(self, side: Side, message: dict) -> bool:
        from websockets.exceptions import ConnectionClosed

        try:
            await side.ws.send(json.dumps(message))
        except ConnectionClosed:
            self.tally.send_failures += 1
            return False
        return True

    # Rooms --------------------------------------------------------------------------------------

    async def open_room(self, room: int, token: str) -> float | str:
        """Set one room up as the two call pages do; its duration, or why it failed."""
        from websockets.exceptions import InvalidStatus, WebSocketException

        doctor, patient = Side(PRACTITIONER, room), Side(PATIENT, room)
        doctor.peer, patient.peer = patient, doctor
        url = f"{self.ws_base}/ws/visio/{room}/"
        step = "practitioner connect"
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout):
                await self.connect(doctor, url, {"Cookie": self.cookie})
                step = "practitioner hello"
                await doctor.event("hello").wait()
                await self.send(doctor, {"type": "presence"})
                step = "patient connect"
                await self.connect(patient, f"{url}?t={token}", None)
                step = "patient hello"
                await patient.event("hello").wait()
                await self.send(patient, {"type": "presence"})
                step = "joined"
                await doctor.event("joined").wait()
                await self.send(doctor, {"type": "presence"})
                await self.send(doctor, {"type": "admit"})
                step = "admitted"
                await doctor.event("admitted").wait()
                await patient.event("admitted").wait()
                await self.send(doctor, {"type": "offer", "sdp": SDP})
                step = "offer"
                await patient.event("offer").wait()
                await self.send(patient, {"type": "answer", "sdp": SDP})
                step = "answer"
                await doctor.event("answer").wait()
        except TimeoutError:
            reason = f"timeout at {step}"
        except InvalidStatus as error:
            reason = f"HTTP {error.response.status_code} at {step}"
        except (OSError, WebSocketException) as error:
            reason = f"{type(error).__name__} at {step}"
        else:
            self.rooms.append((doctor, patient))
            return time.perf_counter() - started
        await self.close_sides([doctor, patient])
        return reason

    async def open_rooms(self, batch: list[tuple[int, str]], concurrency: int) -> dict:
        gate = asyncio.Semaphore(concurrency)

        async def one(room: int, token: str) -> float | str:
            async with gate:
                return await self.open_room(room, token)

        started = time.perf_counter()
        results = await asyncio.gather(*(one(room, token) for room, token in batch))
        return {
            "setups": [r for r in results if isinstance(r, float)],
            "failures": Counter(r for r in results if isinstance(r, str)),
            "wall": time.perf_counter() - started,
            "connections_lost": self.connections_lost,
        }

    async def close_sides(self, sides: list[Side]) -> None:
        for side in sides:
            side.closing = True
        await asyncio.gather(
            *(side.ws.close() for side in sides if side.ws is not None), return_exceptions=True
        )

    # Traffic ------------------------------------------------------------------------------------

    async def pump(self, side: Side, start: float, end: float, every: float, stats_every: float):
        loop = asyncio.get_running_loop()
        rng = random.Random(f"{side.room}-{side.name}-{self.tally.phase}")
        next_candidate = start + rng.uniform(0, every)
        next_stats = start + rng.uniform(0, stats_every) if stats_every else math.inf
        seq = 0
        while side.alive:
            due = min(next_candidate, next_stats)
            if due >= end:
                return
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if not side.alive:
                return
            tally = self.tally
            if next_candidate <= next_stats:
                seq += 1
                tally.candidates_sent += 1
                text = candidate(tally.phase, seq, side.room, time.monotonic_ns())
                message = {
                    "type": "candidate",
                    "candidate": text,
                    "sdpMid": "0",
                    "sdpMLineIndex": 0,
                }
                next_candidate += every
            else:
                side.stats_seq += 1
                side.stats_sent[side.stats_seq] = (tally.phase, time.monotonic_ns())
                tally.stats_sent += 1
                message = {**STATS, "frames_decoded": side.stats_seq}
                next_stats += stats_every
            if not await self.send(side, message):
                return

    async def watch_lag(self, end: float) -> None:
        """How late this process's event loop wakes up: the client's own delay."""
        loop = asyncio.get_running_loop()
        while loop.time() < end:
            before = loop.time()
            await asyncio.sleep(0.05)
            self.tally.lags.append(loop.time() - before - 0.05)

    async def traffic(
        self, phase: int, duration: float, rate: float, stats_every: float, drain: float
    ) -> dict:
        self.tally = tally = Tally(phase=phase)
        loop = asyncio.get_running_loop()
        start = loop.time() + 0.05
        end = start + duration
        sides = [side for room in self.rooms for side in room if side.alive]
        await asyncio.gather(
            self.watch_lag(end),
            *(self.pump(side, start, end, 1 / rate, stats_every) for side in sides),
        )
        await self.wait_delivered(drain)
        return {
            "sides": len(sides),
            "candidates_sent": tally.candidates_sent,
            "relays": tally.relays,
            "stats_sent": tally.stats_sent,
            "stats_times": tally.stats_times,
            "frames_received": tally.frames_received,
            "late": tally.late,
            "send_failures": tally.send_failures,
            "errors": tally.errors,
            "lags": tally.lags,
            "connections_lost": self.connections_lost,
        }

    async def wait_delivered(self, seconds: float) -> dict:
        """Wait until every frame of the phase has come back, or ``seconds``."""
        loop = asyncio.get_running_loop()
        tally = self.tally
        deadline = loop.time() + seconds
        while loop.time() < deadline and (
            len(tally.relays) < tally.candidates_sent or len(tally.stats_times) < tally.stats_sent
        ):
            await asyncio.sleep(0.02)
        return {"relays": len(tally.relays), "stats": len(tally.stats_times)}

    async def close(self) -> dict:
        self.closing = True
        await self.close_sides([side for room in self.rooms for side in room])
        return {"closed": len(self.rooms)}

    async def serve(self, conn) -> None:
        loop = asyncio.get_running_loop()
        while True:
            command, arguments = await loop.run_in_executor(None, conn.recv)
            try:
                if command == "open":
                    result = await self.open_rooms(**arguments)
                elif command == "traffic":
                    result = await self.traffic(**arguments)
                elif command == "settle":
                    result = await self.wait_delivered(**arguments)
                else:
                    conn.send(await self.close())
                    return
            except Exception:
                result = {"error": traceback.format_exc()}
            conn.send(result)


def client_process(conn, ws_base: str, origin: str, cookie: str, timeout: float) -> None:
    load = Load(ws_base, origin, cookie, timeout)
    try:
        import uvloop
    except ImportError:
        asyncio.run(load.serve(conn))
    else:
        uvloop.run(load.serve(conn))


class Clients:
    """``count`` client processes; a command goes to each with its own arguments."""

    def __init__(self, count: int, base: str, cookie: str, timeout: float):
        context = multiprocessing.get_context("spawn")
        self.pipes, self.processes = [], []
        ws_base = "ws" + base.removeprefix("http")
        for _ in range(count):
            mine, theirs = context.Pipe()
            process = context.Process(
                target=client_process, args=(theirs, ws_base, base, cookie, timeout), daemon=True
            )
            process.start()
            self.pipes.append(mine)
            self.processes.append(process)

    def ask(self, command: str, arguments: list[dict], timeout: float) -> list[dict]:
        for pipe, argument in zip(self.pipes, arguments, strict=True):
            pipe.send((command, argument))
        results = []
        for pipe in self.pipes:
            if not pipe.poll(timeout):
                raise SystemExit(f"A client process did not answer {command!r} in {timeout:.0f} s")
            result = pipe.recv()
            if "error" in result:
                raise SystemExit(f"A client process failed:\n{result['error']}")
            results.append(result)
        return results

    def close(self) -> None:
        with suppress(SystemExit, OSError, EOFError):
            self.ask("close", [{}] * len(self.pipes), timeout=30)
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()


# Measuring the server ----------------------------------------------------------------------------


def server_process(base: str):
    """The uvicorn process ``common.uvicorn_server`` started (a child of this one)."""
    import psutil

    port = base.rsplit(":", 1)[1]
    for child in psutil.Process().children():
        with suppress(psutil.Error):
            command = child.cmdline()
            if "uvicorn" in command and port in command:
                return child
    raise SystemExit("The uvicorn process was not found.")


class CpuMeter:
    """CPU time of the server, of the client processes and of the whole machine over a span,
    in percent of one core."""

    def __init__(self, server, clients: Clients):
        import psutil

        self.server = server
        self.clients = [psutil.Process(p.pid) for p in clients.processes]

    @staticmethod
    def _used(process) -> float:
        times = process.cpu_times()
        return times.user + times.system

    @staticmethod
    def _busy() -> float:
        import psutil

        times = psutil.cpu_times()
        return sum(times) - times.idle - getattr(times, "iowait", 0.0)

    def start(self) -> None:
        self.t0 = time.perf_counter()
        self.server0 = self._used(self.server)
        self.clients0 = sum(self._used(c) for c in self.clients)
        self.machine0 = self._busy()

    def stop(self) -> dict[str, float]:
        wall = time.perf_counter() - self.t0
        server = (self._used(self.server) - self.server0) / wall * 100
        clients = (sum(self._used(c) for c in self.clients) - self.clients0) / wall * 100
        machine = (self._busy() - self.machine0) / wall * 100
        return {
            "server_cpu": server,
            "clients_cpu": clients,
            "other_cpu": max(0.0, machine - server - clients),
        }


# The ramp ----------------------------------------------------------------------------------------


def merge(results: list[dict], key: str) -> list:
    return [item for result in results for item in result[key]]


def run_level(level: int, new_rooms: list, phase: int, options, clients: Clients, meter, size):
    """Open ``new_rooms`` (on top of the rooms already open), run the traffic; emit the figures
    and return (whether the level held, why not)."""
    count = len(clients.pipes)
    common.log(f"level {level} rooms: setting up {len(new_rooms)} new rooms")
    batches = [new_rooms[i::count] for i in range(count)]
    opened = clients.ask(
        "open",
        [{"batch": batch, "concurrency": options.setup_concurrency} for batch in batches],
        timeout=options.setup_timeout * (len(new_rooms) + 1),
    )
    failures = sum((r["failures"] for r in opened), Counter())
    setups = merge(opened, "setups")
    setup_wall = max(r["wall"] for r in opened)

    common.log(f"level {level} rooms: traffic for {options.duration:g} s")
    meter.start()
    results = clients.ask(
        "traffic",
        [
            {
                "phase": phase, "duration": options.duration, "rate": options.rate,
                "stats_every": options.stats_every, "drain": options.drain,
            }
        ] * count,
        timeout=options.duration + options.drain + 60,
    )  # fmt: skip
    usage = meter.stop()
    rss = meter.server.memory_info().rss / MB

    relays, stats_times = merge(results, "relays"), merge(results, "stats_times")
    candidates_sent = sum(r["candidates_sent"] for r in results)
    stats_sent = sum(r["stats_sent"] for r in results)
    lost_relays = candidates_sent - len(relays)
    lost_stats = stats_sent - len(stats_times)
    frames = sum(r["frames_received"] for r in results)
    connections_lost = sum(r["connections_lost"] for r in results)
    errors = sum((r["errors"] for r in results), Counter())
    lags = merge(results, "lags")
    sides = sum(r["sides"] for r in results)

    relay = common.report(BENCH, "relay", relays, size, show=("p50", "p95", "p99"))
    if stats_times:
        common.report(BENCH, "stats", stats_times, size, show=("p50", "p95", "p99"))
    if setups:
        common.report(BENCH, "setup", setups, size, show=("p50", "p95"))
    lag_p95 = common.percentiles(lags)["p95"]
    figures = [
        ("rooms_open", sides // 2, "rooms"),
        ("setups_per_s", len(setups) / setup_wall if setup_wall else math.nan, "1/s"),
        ("failed_setups", sum(failures.values()), "count"),
        ("relays_per_s", len(relays) / options.duration, "1/s"),
        ("frames_per_s", frames / options.duration, "1/s"),
        ("lost_relays", lost_relays, "count"),
        ("lost_stats", lost_stats, "count"),
        ("connections_lost", connections_lost, "count"),
        ("server_rss", rss, "MB"),
        ("server_cpu", usage["server_cpu"], "%"),
        ("clients_cpu", usage["clients_cpu"], "%"),
        ("other_cpu", usage["other_cpu"], "%"),
        ("client_lag_p95", lag_p95, "ms"),
    ]
    for metric, value, unit in figures:
        common.emit(BENCH, metric, value, unit, size)
    common.log(
        f"  {len(relays)}/{candidates_sent} relays, {len(stats_times)}/{stats_sent} stats,"
        f" {frames / options.duration:.0f} frames/s delivered; server {rss:.0f} MB RSS,"
        f" CPU server {usage['server_cpu']:.0f} %, clients {usage['clients_cpu']:.0f} %,"
        f" other {usage['other_cpu']:.0f} % (of one core); client lag p95 {lag_p95:.1f} ms"
    )
    if errors:
        common.log(f"  errors: {dict(errors)}")
    late, send_failures = sum(r["late"] for r in results), sum(r["send_failures"] for r in results)
    if late or send_failures:
        common.log(f"  {late} frames of an earlier level, {send_failures} sends failed")
    if failures:
        common.log(f"  failed setups: {dict(failures)}")
    if usage["clients_cpu"] / len(clients.pipes) > 85:
        common.log("  WARNING: the client processes were near a full core each: client-bound")

    if lost_relays or lost_stats:
        # Late or never coming? Give the server time to drain its backlog, no new traffic.
        common.log(f"  waiting up to {options.settle:g} s for the missing frames")
        settled = clients.ask(
            "settle", [{"seconds": options.settle}] * count, timeout=60 + options.settle
        )
        never = candidates_sent - sum(r["relays"] for r in settled)
        never_stats = stats_sent - sum(r["stats"] for r in settled)
        common.emit(BENCH, "relays_never_delivered", never, "count", size)
        common.emit(BENCH, "stats_never_delivered", never_stats, "count", size)
        common.log(
            f"  after {options.settle:g} s more: {never} relays, {never_stats} stats never came"
        )

    reasons = []
    if not relays:
        reasons.append("no relay delivered")
    elif relay["p95"] > options.threshold_ms:
        reasons.append(f"relay p95 {relay['p95']:.0f} ms > {options.threshold_ms:g} ms")
    if lost_relays or lost_stats:
        reasons.append(f"{lost_relays} relays and {lost_stats} stats lost")
    if failures:
        reasons.append(f"{sum(failures.values())} rooms failed to set up")
    if connections_lost:
        reasons.append(f"{connections_lost} connections dropped")
    return not reasons, "; ".join(reasons)


def stale_groups(url: str, room_ids: list[int], size: str) -> None:
    """Count the rooms' groups the server still subscribes to once every socket has closed
    (a disconnect that did not leave its group keeps it there as long as the process lives).
    The Pub/Sub channel layer names a group ``consulto<db>.__group__room-<id>`` (settings)."""
    import redis

    client = redis.Redis.from_url(url)
    db = urlsplit(url).path.strip("/") or "0"
    names = [f"consulto{db}.__group__room-{room}" for room in room_ids]
    deadline = time.monotonic() + 5  # the unsubscriptions of the last closes are on their way
    while True:
        counts = [
            n
            for i in range(0, len(names), 500)
            for _, n in client.pubsub_numsub(*names[i : i + 500])
        ]
        left = sum(1 for n in counts if n)
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    common.emit(BENCH, "groups_left_in_redis", left, "count", size)
    if left:
        common.log(f"  {left} room groups still subscribed after every socket closed")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--levels", default="25,50,100,200,400,800,1600", help="simultaneous rooms, in order"
    )
    parser.add_argument("--duration", type=float, default=10, help="seconds of traffic a level")
    parser.add_argument(
        "--rate", type=float, default=1, help="candidates a second from each side (1)"
    )
    parser.add_argument(
        "--stats-every", type=float, default=5, help="seconds between stats of a side (5; 0: none)"
    )
    parser.add_argument("--threshold-ms", type=float, default=250, help="relay p95 a level holds")
    parser.add_argument(
        "--redis", nargs="?", const=DEFAULT_REDIS, default="", metavar="URL",
        help=f"the Redis channel layer (URL default {DEFAULT_REDIS}); else the in-memory layer",
    )  # fmt: skip
    parser.add_argument(
        "--clients", type=int, default=1, help="client processes (1: enough up to 800 rooms)"
    )
    parser.add_argument(
        "--setup-concurrency", type=int, default=10, help="rooms set up at once per client (10)"
    )
    parser.add_argument("--setup-timeout", type=float, default=20, help="seconds a room may take")
    parser.add_argument("--drain", type=float, default=5, help="seconds to wait for late frames")
    parser.add_argument(
        "--settle",
        type=float,
        default=30,
        help="seconds to wait for missing frames at the end (30)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the throwaway data directory")
    options, _rest = parser.parse_known_args(argv)  # run_all passes --practitioners, --seed
    levels = sorted({int(n) for n in options.levels.split(",") if n.strip()})

    data_dir = Path(tempfile.mkdtemp(prefix="consulto-signaling-"))
    os.environ.pop("REDIS_URL", None)
    os.environ["CONSULTO_DATA_DIR"] = str(data_dir)
    try:
        with database() as (database_url, database_label):
            if database_url:
                os.environ["DATABASE_URL"] = database_url
            return measure(options, levels, data_dir, database_label)
    finally:
        if options.keep:
            common.log(f"Data directory kept: {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


def measure(options, levels: list[int], data_dir: Path, database_label: str) -> int:
    env = dict(os.environ, CONSULTO_HTTPS="0")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    layer = "in-memory layer"
    if options.redis:
        import redis

        try:
            redis.Redis.from_url(options.redis, socket_timeout=2).ping()
        except redis.RedisError as error:
            raise SystemExit(f"Redis at {options.redis}: {error}") from error
        env["REDIS_URL"] = options.redis
        layer = "Redis layer"
    common.log(f"Data directory {data_dir}, {database_label}, {layer}: migrating")
    subprocess.run(
        [sys.executable, "-m", "consulto.cli", "manage", "migrate", "--no-input", "-v", "0"],
        env=env, cwd=ROOT, check=True,
    )  # fmt: skip
    common.django_setup()
    started = time.perf_counter()
    doctor, rooms = build(max(levels))
    cookie = session_cookie(doctor)
    from django.db import connections

    connections.close_all()
    common.log(f"{len(rooms)} video appointments made in {time.perf_counter() - started:.1f} s")

    held, phase, opened = 0, 0, 0
    with common.uvicorn_server(env, data_dir / "server.log") as base:
        server = server_process(base)
        common.log(f"Server {base} (pid {server.pid}): {server.memory_info().rss / MB:.0f} MB RSS")
        clients = Clients(options.clients, base, cookie, options.setup_timeout)
        common.log(
            f"Load: {options.clients} client process(es); per side {options.rate:g} candidate/s"
            f" and stats every {options.stats_every:g} s; levels {levels}"
        )
        try:
            meter = CpuMeter(server, clients)
            for level in levels:
                phase += 1
                size = f"{level} rooms, {layer}, {database_label}"
                ok, why = run_level(
                    level, rooms[opened:level], phase, options, clients, meter, size
                )
                opened = level
                if not ok:
                    common.log(f"level {level} rooms did not hold: {why}")
                    break
                held = level
                common.log(f"level {level} rooms held")
        finally:
            clients.close()
        if options.redis:
            ids = [room for room, _token in rooms[:opened]]
            stale_groups(options.redis, ids, f"{opened} rooms, {layer}, {database_label}")
    summary = (
        f"relay p95 <= {options.threshold_ms:g} ms, nothing lost; {options.rate:g} candidate/s"
        f" + stats every {options.stats_every:g} s a side; {layer}, {database_label}"
    )
    common.emit(BENCH, "rooms_held", held, "rooms", summary)
    common.log(f"One worker holds {held} rooms ({summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
