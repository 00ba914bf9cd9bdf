"""The ``consulto`` command: run the platform, load demo data, manage tokens, run benchmarks.

consulto run [--port 8000] [--practitioners 60]   migrate, demo data, server + task worker
consulto serve [--host H] [--port 8000] [--workers N]   production: migrate, static, server + worker
consulto demo [--practitioners N] [--seed S]       load deterministic demo data (idempotent)
consulto demo-code                                 the demo staff's current authenticator code
consulto token create EMAIL [--name NAME]          print a new API token for that user
consulto directory import FILE [--report FILE]     import the Annuaire Santé extract
consulto bench NAME [args...]                      run bench/NAME.py (see bench/README.md)
consulto manage ARGS...                            any Django management command
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "consulto.settings")
    import django

    django.setup()


def _manage(*args: str) -> None:
    from django.core.management import call_command

    call_command(*args)


def cmd_run(options: argparse.Namespace) -> int:
    # The demo: debug pages on (unless CONSULTO_DEBUG says otherwise), plain HTTP on loopback.
    os.environ.setdefault("CONSULTO_DEBUG", "1")
    _django()
    _manage("migrate", "--no-input", "-v", "0")
    _manage("demo", "--practitioners", str(options.practitioners), "--seed", str(options.seed))
    return _serve(options)


def default_workers() -> int:
    """One server process per core with Redis (measured best in bench/README.md), else one:
    the in-memory channel layer lives in one process, and the two sides of a video call on two
    workers would never hear each other."""
    return (os.cpu_count() or 1) if os.environ.get("REDIS_URL") else 1


def cmd_serve(options: argparse.Namespace) -> int:
    # Production: the environment decides (DEBUG off unless CONSULTO_DEBUG=1), no demo data.
    if options.workers is None:
        options.workers = default_workers()
    if options.workers > 1 and not os.environ.get("REDIS_URL"):
        print("Error: --workers above 1 needs REDIS_URL (the channel layer).", file=sys.stderr)
        return 2
    _django()
    _manage("migrate", "--no-input", "-v", "0")
    return _serve(options)


def server_command(*, host: str, port: int, workers: int = 1) -> list[str]:
    """The ASGI server of ``consulto serve`` and ``consulto run``: granian, the fastest of those
    measured by bench/servers.py on this application (see bench/README.md), HTTP and WebSocket
    alike. ``asginl``: ASGI without lifespan events, which Django has no use for."""
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "asginl",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--loop",
        "uvloop",
        "--respawn-failed-workers",  # a worker that dies is replaced, not left missing
        "--no-access-log",
        "--log-level",
        "warning",  # errors still show; the address is said once, below, when it answers
        "consulto.asgi:application",
    ]


def _serve(options: argparse.Namespace) -> int:
    """Start the ASGI server and one task worker; stop both together."""
    from django.conf import settings

    if not settings.DEBUG:
        from consulto.core.staticfiles import collect_if_changed

        # Pages name static files by their hashed names, read from the collected manifest.
        collect_if_changed()
    from consulto.fhir.tasks import ensure_api_call_purge
    from consulto.fhir.tasks import ensure_sweep as ensure_webhooks_sweep
    from consulto.notifications.tasks import ensure_sweep
    from consulto.scheduling.tasks import ensure_index_sweep
    from consulto.support.tasks import ensure_purge as ensure_errors_purge
    from consulto.support.tasks import ensure_sweep as ensure_support_sweep

    ensure_sweep()  # the outbox safety net, every few minutes, run by the task worker
    ensure_webhooks_sweep()  # the same for webhooks and SAS reports
    ensure_index_sweep()  # the next-availability index kept ahead of the clock, every minute
    ensure_api_call_purge()  # FHIR call records past their retention, once a day
    ensure_support_sweep()  # offers timed out, callbacks due, chats unanswered, every few seconds
    ensure_errors_purge()  # the server errors kept for support, dropped after a week
    # Stopped by a service manager (SIGTERM) as by Ctrl+C: the server and the worker go too.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    env = dict(os.environ)
    worker = subprocess.Popen(
        [sys.executable, "-m", "consulto.cli", "manage", "db_worker", "--no-reload"], env=env
    )
    server = subprocess.Popen(
        server_command(
            host=options.host, port=options.port, workers=getattr(options, "workers", 1)
        ),
        env=env,
    )
    try:
        if _listening(server, options.host, options.port):
            print(
                f"\nConsulto is running on http://{options.host}:{options.port}/"
                "  (Ctrl+C to stop)\n",
                flush=True,
            )
        return server.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        for process in (server, worker):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (server, worker):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def _listening(server: subprocess.Popen, host: str, port: int, timeout: float = 60) -> bool:
    """Wait until the server accepts connections; False if it exits first (port taken...)."""
    # A server listening on every interface answers on loopback.
    address = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104
    deadline = time.monotonic() + timeout
    while server.poll() is None and time.monotonic() < deadline:
        try:
            with socket.create_connection((address, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def cmd_demo(options: argparse.Namespace) -> int:
    _django()
    args = ["demo", "--practitioners", str(options.practitioners), "--seed", str(options.seed)]
    if options.no_progress:
        args.append("--no-progress")
    _manage(*args)
    return 0


def cmd_demo_code(options: argparse.Namespace) -> int:
    _django()
    _manage("democode")
    return 0


def cmd_token(options: argparse.Namespace) -> int:
    _django()
    _manage("token", options.action, options.email, "--name", options.name)
    return 0


def cmd_directory_import(options: argparse.Namespace) -> int:
    _django()
    from django.core.management.base import CommandError

    args = ["directory_import", options.file]
    if options.report:
        args += ["--report", options.report]
    if options.no_progress:
        args.append("--no-progress")
    try:
        _manage(*args)
    except CommandError as error:  # a fatal error (no file, not an extract): no traceback
        print(f"Error: {error}", file=sys.stderr)
        return 1
    return 0


def cmd_bench(options: argparse.Namespace) -> int:
    root = Path(options.bench_dir)
    script = root / f"{options.name}.py"
    if not script.exists():
        available = sorted(p.stem for p in root.glob("*.py") if not p.stem.startswith("_"))
        print(f"No benchmark {options.name!r}. Available: {', '.join(available)}", file=sys.stderr)
        return 2
    return subprocess.call([sys.executable, str(script), *options.args])


def cmd_manage(options: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "consulto.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["consulto manage", *options.args])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="consulto", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="migrate, load demo data and serve on http://127.0.0.1:8000")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--practitioners", type=int, default=60)
    run.add_argument("--seed", type=int, default=2026)
    run.set_defaults(func=cmd_run)

    serve = sub.add_parser(
        "serve",
        help="production: migrate, collect static files when changed, serve (no demo data)",
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers",
        type=lambda value: max(1, int(value)),
        help="server processes: one per core with REDIS_URL, else 1 (more needs REDIS_URL)",
    )
    serve.set_defaults(func=cmd_serve)

    demo = sub.add_parser("demo", help="load deterministic demo data (idempotent)")
    demo.add_argument("--practitioners", type=int, default=60)
    demo.add_argument("--seed", type=int, default=2026)
    demo.add_argument("--no-progress", action="store_true")
    demo.set_defaults(func=cmd_demo)

    code = sub.add_parser("demo-code", help="the demo staff's current authenticator code")
    code.set_defaults(func=cmd_demo_code)

    token = sub.add_parser("token", help="API tokens")
    token.add_argument("action", choices=["create"])
    token.add_argument("email")
    token.add_argument("--name", default="cli")
    token.set_defaults(func=cmd_token)

    directory = sub.add_parser("directory", help="the public health-professional directory")
    directory_actions = directory.add_subparsers(dest="action", required=True)
    directory_import = directory_actions.add_parser(
        "import",
        help="import an Annuaire Santé personne-activité extract (idempotent)",
        description="Malformed lines are reported, not fatal; the exit status is non-zero "
        "only when the file is missing or is not an extract.",
    )
    directory_import.add_argument("file")
    directory_import.add_argument("--report", help="write every malformed line to this file")
    directory_import.add_argument("--no-progress", action="store_true")
    directory_import.set_defaults(func=cmd_directory_import)

    bench = sub.add_parser("bench", help="run a benchmark script from bench/")
    bench.add_argument("name")
    bench.add_argument("args", nargs=argparse.REMAINDER)
    bench.add_argument("--bench-dir", default=str(Path.cwd() / "bench"))
    bench.set_defaults(func=cmd_bench)

    manage = sub.add_parser("manage", help="run a Django management command")
    manage.add_argument("args", nargs=argparse.REMAINDER)
    manage.set_defaults(func=cmd_manage)
    return parser


def main(argv: list[str] | None = None) -> int:
    options = build_parser().parse_args(argv)
    return options.func(options) or 0


if __name__ == "__main__":
    sys.exit(main())
