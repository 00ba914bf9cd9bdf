"""Run every benchmark (availability, search, regulation, booking_rush...) and print all their
JSON lines.

Each script runs as a subprocess with this environment, so they all use the same database:
the first one migrates and loads the demo dataset if the database has none (10,000
practitioners is about 1.6 million appointments: a few minutes to generate).

SQLite (a file in $CONSULTO_DATA_DIR)::

    CONSULTO_DATA_DIR=/tmp/consulto-bench-sqlite .venv/bin/python bench/run_all.py \\
        > results-sqlite.jsonl

PostgreSQL (the database must exist; --create-db creates it with psycopg if missing)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/consulto_bench \\
        .venv/bin/python bench/run_all.py --create-db > results-postgresql.jsonl

Options: --practitioners N (default 10000) and --seed S (default 7) choose the dataset loaded
into an empty database; --only availability,search runs a subset, and runs the opt-in scripts
(--only availability,peer_django_appointment: the peer next to ours). Progress goes to standard
error. The same from the command line: ``consulto bench run_all [options]``; one script alone:
``python bench/<name>.py --help``.
"""

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from _common import base_parser, log

BENCH_DIR = Path(__file__).resolve().parent
SCRIPTS = (
    "availability",
    "search",
    "regulation",
    "fhir_sas",
    "patient_pages",
    "practice_agenda",
    "booking_rush",
    "directory_import",
    "onboarding_journey",
    "visio_join",
    "visio_signaling",
    "servers",
    "support_routing",
)
# Run only when named in --only: they take minutes, or need more than the project's database
# (peer_django_appointment installs a release from PyPI into a throwaway venv the first time;
# support_day simulates a whole day in a database of its own, two to three minutes).
OPT_IN = ("peer_django_appointment", "support_day")
# Quicker settings than a script's own defaults, for the whole run (the script alone takes more).
ARGUMENTS = {
    "visio_signaling": ("--levels", "25,50,100,200", "--duration", "5"),
    "servers": ("--candidates", "uvicorn,granian", "--workers", "1,2", "--duration", "10"),
}


def create_database(url: str) -> None:
    """Create the PostgreSQL database named in ``url`` if it does not exist."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if found.fetchone() is None:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            log(f"Created database {name}")


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__)
    parser.add_argument("--only", default=",".join(SCRIPTS), help="scripts to run, comma-separated")
    parser.add_argument(
        "--create-db", action="store_true", help="create the DATABASE_URL database if missing"
    )
    options = parser.parse_args(argv)

    url = os.environ.get("DATABASE_URL", "")
    if options.create_db and url.startswith(("postgres://", "postgresql://")):
        create_database(url)
    if url:
        log(f"Database: {urlsplit(url).hostname} {urlsplit(url).path.lstrip('/')} (DATABASE_URL)")
    else:
        log(f"Database: SQLite in {os.environ.get('CONSULTO_DATA_DIR') or './var'}")

    failed = []
    for name in [n.strip() for n in options.only.split(",") if n.strip()]:
        if name not in SCRIPTS + OPT_IN:
            known = ", ".join(SCRIPTS + OPT_IN)
            parser.error(f"unknown script {name!r}; choose among {known}")
        command = [
            sys.executable,
            str(BENCH_DIR / f"{name}.py"),
            "--practitioners",
            str(options.practitioners),
            "--seed",
            str(options.seed),
            *ARGUMENTS.get(name, ()),
        ]
        log(f"=== {name}")
        t0 = time.perf_counter()
        # Standard output (the JSON lines) goes straight through, as does standard error.
        code = subprocess.call(command, env=dict(os.environ))
        log(f"=== {name}: exit {code} in {time.perf_counter() - t0:.0f} s")
        if code:
            failed.append(name)
    if failed:
        log(f"Failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
