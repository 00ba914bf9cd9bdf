"""ASGI servers and worker counts: requests/s and latency of three reads on this machine.

Each candidate serves ``consulto.asgi:application`` on a free loopback port with 1, 2 and 3
workers (``--workers``), with this process's environment (the same database; DEBUG off,
CONSULTO_HTTPS=0 for plain HTTP), while a load generator in this process (httpx.AsyncClient on
one event loop, ``--clients`` concurrent requests over keep-alive connections) asks, for
``--warmup`` seconds not counted and then ``--duration`` seconds, one of:

* ``search``: ``GET /api/v1/practitioners?specialty=medecin-generaliste&near=<Paris>``, the
  API's default search (20 km, 20 results sorted by earliest availability), warm: asked
  3 x workers times one after the other on new connections first, so that every worker has
  the slots cached (its own in-memory cache, or Redis with REDIS_URL) before the clients come;
* ``slots``: ``GET /api/v1/agendas/<id>/slots?motive=<m>``, seven days of one of 100 random GP
  agendas (with the motive a new patient books first);
* ``slots_etag`` (not run unless named): the same requests as a browser's cache sends them,
  with the ETag last seen for that path in ``If-None-Match``, so mostly 304 Not Modified;
* ``static``: a collected, hashed stylesheet served by WhiteNoise, gzip-encoded.

Candidates (``--candidates``, those not installed are skipped with a message):

* ``uvicorn``: uvicorn with ``--http httptools --loop uvloop`` (what uvicorn[standard] picks);
* ``uvicorn_h11``: uvicorn with its pure-Python parser and loop (``--http h11 --loop asyncio``);
* ``granian``: granian ``--interface asginl`` (ASGI without lifespan, as uvicorn's
  ``--lifespan off``: Django has no startup hooks), ``--loop uvloop``;
* ``hypercorn``: hypercorn ``--worker-class uvloop``.

Figures per endpoint (``servers.<endpoint>``), each metric named ``<candidate>_w<workers>_...``:
``rps`` (2xx and 304 answers per second of the measured window), ``p50``/``p99`` (ms, as the client
sees them), ``errors`` (non-2xx answers and transport errors), ``server_cpu_ms`` (CPU of the
server's processes per answer, from /proc through psutil) and ``client_cpu`` (the load
generator's share of one core: near 100 % the client, not the server, is the limit).

The machine has 2 cores shared by the server, the load generator and the database: compare
candidates within one run. ``--rounds R`` runs every configuration R times, each round in a new
random order, and reports the median round.

Usage: python bench/servers.py [--candidates uvicorn,uvicorn_h11,granian,hypercorn]
       [--workers 1,2,3] [--endpoints search,slots,static] [--clients 32] [--duration 15]
       [--warmup 3] [--rounds 1] [--python-path DIR]
"""

import asyncio
import importlib.util
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from _common import (
    GP,
    PARIS,
    ROOT,
    base_parser,
    bookable_pairs,
    django_setup,
    emit,
    ensure_dataset,
    free_port,
    log,
    percentiles,
)

APP = "consulto.asgi:application"
SLOT_AGENDAS = 100


@dataclass(frozen=True)
class Candidate:
    name: str
    module: str  # what must be importable to run it
    argv: Callable[[int, int], list[str]]  # (port, workers) -> arguments after ``python -m``


CANDIDATES = {
    c.name: c
    for c in (
        Candidate(
            "uvicorn",
            "uvicorn",
            lambda port, workers: [
                "uvicorn", APP, "--host", "127.0.0.1", "--port", str(port),
                "--workers", str(workers), "--http", "httptools", "--loop", "uvloop",
                "--lifespan", "off", "--no-access-log", "--log-level", "warning",
            ],
        ),
        Candidate(
            "uvicorn_h11",
            "uvicorn",
            lambda port, workers: [
                "uvicorn", APP, "--host", "127.0.0.1", "--port", str(port),
                "--workers", str(workers), "--http", "h11", "--loop", "asyncio",
                "--lifespan", "off", "--no-access-log", "--log-level", "warning",
            ],
        ),
        Candidate(
            "granian",
            "granian",
            lambda port, workers: [
                "granian", "--interface", "asginl", "--host", "127.0.0.1", "--port", str(port),
                "--workers", str(workers), "--loop", "uvloop", "--no-access-log",
                "--log-level", "warning", APP,
            ],
        ),
        Candidate(
            "hypercorn",
            "hypercorn",
            lambda port, workers: [
                "hypercorn", APP, "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
                "--worker-class", "uvloop", "--log-level", "warning",
            ],
        ),
    )
}  # fmt: skip


# The requests ------------------------------------------------------------------------------------


def endpoint_paths() -> dict[str, list[str]]:
    """Per endpoint, the paths its requests choose from at random."""
    from django.contrib.staticfiles.storage import staticfiles_storage

    from consulto.core.staticfiles import collect_if_changed

    near = f"{PARIS[0]},{PARIS[1]}"
    search = f"/api/v1/practitioners?specialty={GP}&near={near}"
    pairs = bookable_pairs(GP, new_patients_only=True)
    chosen = random.Random(7).sample(pairs, min(SLOT_AGENDAS, len(pairs)))
    slots = [f"/api/v1/agendas/{a.pk}/slots?motive={m.pk}" for a, m in chosen]
    if collect_if_changed():
        log("Collected the static files")
    stylesheet = staticfiles_storage.url("core/consulto.css")
    return {"search": [search], "slots": slots, "slots_etag": slots, "static": [stylesheet]}


def prime(base: str, paths: list[str], workers: int) -> None:
    """Ask for the search's first page until every worker is likely to have its slots cached:
    the first search of an area is the cold one (about a second; seconds on a busy machine),
    and 32 clients arriving together on a cold worker would each wait behind it. Each request
    on a new connection, so that the workers take turns."""
    for _ in range(3 * workers):
        for path in paths:
            httpx.get(base + path, timeout=120)


@dataclass
class Load:
    latencies: list[float]
    ok: int
    errors: int
    wall: float
    client_cpu: float  # seconds of this process's CPU during the measured window
    server_cpu: float  # seconds of the server's CPU during the measured window


async def generate(
    base: str,
    paths: list[str],
    *,
    clients: int,
    warmup: float,
    duration: float,
    server_cpu,
    revalidate: bool = False,
) -> Load:
    """``clients`` loops, each sending its next request as soon as the previous one answered;
    with ``revalidate``, as a browser with a cache: the ETag last seen for a path goes back in
    ``If-None-Match`` (a 304 is an answer like a 200)."""
    etags: dict[str, str] = {}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    headers = {"Accept-Encoding": "gzip"}
    latencies: list[float] = []
    counts = {"ok": 0, "errors": 0}
    loop = asyncio.get_running_loop()
    start = loop.time()
    measuring_from = start + warmup
    until = measuring_from + duration

    async def client(index: int, http: httpx.AsyncClient) -> None:
        rng = random.Random(index)
        while (now := loop.time()) < until:
            path = rng.choice(paths)
            sent = {"If-None-Match": etags[path]} if path in etags else None
            t0 = time.perf_counter()
            try:
                response = await http.get(path, headers=sent)
                await response.aread()
                good = 200 <= response.status_code < 300 or response.status_code == 304
                if revalidate and "ETag" in response.headers:
                    etags[path] = response.headers["ETag"]
            except httpx.HTTPError:
                good = False
            if now >= measuring_from:
                latencies.append(time.perf_counter() - t0)
                counts["ok" if good else "errors"] += 1

    async with httpx.AsyncClient(base_url=base, limits=limits, headers=headers, timeout=30) as http:
        tasks = [asyncio.create_task(client(i, http)) for i in range(clients)]
        await asyncio.sleep(max(0.0, measuring_from - loop.time()))
        cpu0, server0 = time.process_time(), server_cpu()
        await asyncio.gather(*tasks)
        cpu, server = time.process_time() - cpu0, server_cpu() - server0
    wall = loop.time() - measuring_from
    return Load(latencies, counts["ok"], counts["errors"], wall, cpu, server)


# The server --------------------------------------------------------------------------------------


def server_env(extra_path: str | None) -> dict[str, str]:
    env = dict(os.environ, CONSULTO_HTTPS="0", CONSULTO_DEBUG="0")
    env["DJANGO_SETTINGS_MODULE"] = "consulto.settings"
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT / "src"), extra_path, env.get("PYTHONPATH")])
    )
    return env


def importable(module: str, extra_path: str | None) -> bool:
    if extra_path and extra_path not in sys.path:
        sys.path.append(extra_path)
    return importlib.util.find_spec(module) is not None


@contextmanager
def serving(candidate: Candidate, workers: int, env: dict, log_file):
    """The candidate on a free port; yields (base URL, its process) once every worker had time
    to start, and stops it on the way out."""
    import psutil

    port = free_port()
    argv = [sys.executable, "-m", *candidate.argv(port, workers)]
    server = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log_file, stderr=log_file)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(base + "/api/v1/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                log_file.seek(0)
                raise SystemExit(f"{candidate.name} did not answer:\n{log_file.read().decode()}")
            time.sleep(0.2)
        # The first worker answers; give the others the time to import Django too.
        time.sleep(1 + workers)
        yield base, psutil.Process(server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def tree_cpu(process) -> float:
    """CPU seconds (user + system) of the process and its living children."""
    import psutil

    total = 0.0
    for p in [process, *process.children(recursive=True)]:
        try:
            times = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


# Main --------------------------------------------------------------------------------------------


def main() -> None:
    parser = base_parser(__doc__)
    parser.add_argument("--candidates", default=",".join(CANDIDATES))
    parser.add_argument("--workers", default="1,2,3")
    parser.add_argument("--endpoints", default="search,slots,static")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=15)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--python-path",
        help="a directory added to the servers' PYTHONPATH (candidates installed with "
        "pip install --target DIR, to try them without touching the environment)",
    )
    options = parser.parse_args()
    django_setup()
    ensure_dataset(options.practitioners, options.seed)
    paths = endpoint_paths()
    endpoints = [e for e in options.endpoints.split(",") if e]
    workers = [int(w) for w in options.workers.split(",") if w]
    candidates = []
    for name in options.candidates.split(","):
        candidate = CANDIDATES[name]
        if importable(candidate.module, options.python_path):
            candidates.append(candidate)
        else:
            log(f"{name}: {candidate.module} is not installed, skipped")
    env = server_env(options.python_path)
    size = f"{options.clients} clients, {options.duration:g} s"
    figures: dict[tuple[str, str, int], list[dict]] = {}
    shuffle = random.Random(1)
    for round_index in range(options.rounds):
        plan = [(c, w) for c in candidates for w in workers]
        if options.rounds > 1:
            shuffle.shuffle(plan)
        for candidate, count in plan:
            with (
                tempfile.TemporaryFile() as log_file,
                serving(candidate, count, env, log_file) as (base, process),
            ):
                for endpoint in endpoints:
                    if endpoint == "search":
                        prime(base, paths[endpoint], count)
                    load = asyncio.run(
                        generate(
                            base,
                            paths[endpoint],
                            clients=options.clients,
                            warmup=options.warmup,
                            duration=options.duration,
                            server_cpu=lambda: tree_cpu(process),
                            revalidate=endpoint.endswith("_etag"),
                        )
                    )
                    answers = max(1, load.ok + load.errors)
                    lat = percentiles(load.latencies)
                    found = {
                        "rps": load.ok / load.wall,
                        "p50": lat["p50"],
                        "p99": lat["p99"],
                        "errors": load.errors,
                        "server_cpu_ms": load.server_cpu * 1000 / answers,
                        "client_cpu": 100 * load.client_cpu / load.wall,
                    }
                    figures.setdefault((endpoint, candidate.name, count), []).append(found)
                    log(
                        f"  round {round_index + 1} {endpoint:6} {candidate.name:11} w{count}:"
                        f" {found['rps']:7.1f}/s p50 {found['p50']:6.1f} ms"
                        f" p99 {found['p99']:6.1f} ms errors {found['errors']}"
                        f" server CPU {found['server_cpu_ms']:.2f} ms/answer"
                        f" client CPU {found['client_cpu']:.0f} %"
                    )
    for (endpoint, name, count), rounds in figures.items():
        median = sorted(rounds, key=lambda f: f["rps"])[len(rounds) // 2]
        if len(rounds) > 1:
            spread = statistics.pstdev(f["rps"] for f in rounds)
            log(f"{endpoint} {name} w{count}: rps over {len(rounds)} rounds ±{spread:.1f}")
        units = {"rps": "1/s", "p50": "ms", "p99": "ms", "errors": "answers"}
        units |= {"server_cpu_ms": "ms", "client_cpu": "%"}
        for metric, unit in units.items():
            emit(f"servers.{endpoint}", f"{name}_w{count}_{metric}", median[metric], unit, size)


if __name__ == "__main__":
    main()
