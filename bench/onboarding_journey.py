"""Self-onboarding: screens, clicks and seconds for a new practitioner to publish, alone.

Goal (issue 5): at most 6 screens and 5 minutes from the landing page to a published, bookable
agenda with video. A person reads and types; this script is the floor under that: it runs the
very journey of the browser test (tests/e2e/onboarding_journey.py) in Debian's Chromium with a
fake camera, against the platform served by uvicorn as `make run` serves it, with a real SMTP
server (aiosmtpd) catching the e-mailed code. Each run signs up a general practitioner of the
sample directory extract and accepts every default.

    python bench/onboarding_journey.py [--runs 5]

It works in a throwaway data directory (SQLite) of its own unless --data-dir is given.
"""

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common

ROOT = common.ROOT
BENCH = "onboarding_journey"
PASSWORD = "Un-Mot-de-passe-2026!"


def code_for(inbox, address: str, timeout: float = 10) -> str:
    """The code in the last e-mail to ``address`` (waiting for it a little)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if inbox.to(address):
            body = inbox.to(address)[-1].get_body(("plain",)).get_content()
            return re.search(r"\b(\d{6})\b", body).group(1)
        time.sleep(0.05)
    raise SystemExit(f"No code e-mailed to {address}")


def consulto(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "consulto.cli", *args], env=env, cwd=ROOT, check=True)


def candidates(count: int) -> list[str]:
    """RPPS numbers of sample general practitioners who have no Consulto profile yet."""
    from consulto.directory.models import DirectoryRecord, Practitioner

    taken = set(Practitioner.objects.values_list("rpps", flat=True))
    numbers = (
        DirectoryRecord.objects.filter(specialty_code=common.GP)
        .exclude(postcode="")
        .order_by("rpps")
        .values_list("rpps", flat=True)
        .distinct()
    )
    free = [n for n in numbers if n not in taken]
    if len(free) < count:
        raise SystemExit(f"Only {len(free)} sample GPs left without a profile: use a new data dir")
    return free[:count]


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="journeys to run (5)")
    parser.add_argument("--data-dir", help="data directory (default: a new temporary one)")
    options, _rest = parser.parse_known_args(argv)

    from aiosmtpd.controller import Controller
    from playwright.sync_api import sync_playwright

    data_dir = options.data_dir or tempfile.mkdtemp(prefix="consulto-onboarding-")
    os.environ.pop("DATABASE_URL", None)  # the journey writes: never into a shared database
    os.environ["CONSULTO_DATA_DIR"] = data_dir
    smtp_port = common.free_port()
    env = dict(
        os.environ,
        CONSULTO_DEBUG="1",
        CONSULTO_HTTPS="0",
        CONSULTO_EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        CONSULTO_EMAIL_HOST="127.0.0.1",
        CONSULTO_EMAIL_PORT=str(smtp_port),
    )
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    common.log(f"Data dir {data_dir}: migrate, import the sample directory")
    consulto(env, "manage", "migrate", "--no-input", "-v", "0")
    sample = ROOT / "src" / "consulto" / "directory" / "data" / "annuaire-sample.txt"

    consulto(env, "directory", "import", str(sample), "--no-progress")
    common.django_setup()
    numbers = candidates(options.runs)

    sys.path.insert(0, str(ROOT))
    from tests.e2e.conftest import Inbox  # the test suite's SMTP handler
    from tests.e2e.onboarding_journey import run_journey

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    runs = []
    try:
        with (
            common.uvicorn_server(env, Path(data_dir) / "server.log") as base,
            sync_playwright() as playwright,
        ):
            browser = common.chromium(playwright)
            for index, rpps in enumerate(numbers):
                context = browser.new_context(base_url=base, locale="fr-FR")
                context.set_default_timeout(15_000)
                page = context.new_page()
                email = f"bench-{index}-{int(time.time())}@cabinet.test"
                run = run_journey(
                    page,
                    email=email,
                    password=PASSWORD,
                    rpps=rpps,
                    read_code=lambda address: code_for(inbox, address),
                )
                context.close()
                runs.append(run)
                common.log(
                    f"  run {index + 1}: {len(run.screens)} screens, {run.clicks} clicks, "
                    f"{run.seconds:.2f} s ({', '.join(f'{n} {s:.2f}' for n, s in run.per_screen)})"
                )
            browser.close()
    finally:
        controller.stop()

    size = f"{len(runs)} journeys, SQLite, Chromium headless"
    seconds = sorted(r.seconds for r in runs)
    common.emit(BENCH, "screens", max(len(r.screens) for r in runs), "screens", size)
    common.emit(BENCH, "clicks", max(r.clicks for r in runs), "clicks", size)
    common.emit(BENCH, "seconds_p50", seconds[len(seconds) // 2], "s", size)
    common.emit(BENCH, "seconds_max", seconds[-1], "s", size)
    for name in [n for n, _s in runs[0].per_screen]:
        values = sorted(dict(r.per_screen)[name] for r in runs)
        common.emit(BENCH, f"screen_{name}_p50", values[len(values) // 2], "s", size)
    screens = max(len(r.screens) for r in runs)
    met = screens <= 6 and seconds[-1] <= 300
    common.log(
        f"  goal <= 6 screens and <= 5 minutes: {'met' if met else 'MISSED'} "
        f"({screens} screens: {' → '.join(runs[0].screens)})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
