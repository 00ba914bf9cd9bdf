"""Video consultation: from the patient opening the call page to the first decoded frame.

Goal (issue 6): join -> first decoded frame over 20 calls on loopback, p95 <= 1 s. Each call is a
real one: two Chromium contexts with fake cameras against the platform served by uvicorn, the
practitioner already on the call page with "let the patient in as soon as they arrive" ticked
(``--click``: clicking "let the patient in" once the page says the patient is there, as a
practitioner watching the waiting room does; the click's own latency, Playwright's, counts).
Timed from the patient's page request until their page reports a decoded video frame (getStats
framesDecoded > 0), and the same on the practitioner's side. "Admission" is the click, or, on
arrival, the server letting the patient in as their page joins (its clock: the practitioner's
page has left its offer with the server, which sends it then).

    python bench/visio_join.py [--calls 20] [--click] [--debug]

It works in a throwaway data directory (SQLite) of its own.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common

ROOT = common.ROOT
BENCH = "visio_join"
# The patient page's steps, in ms from navigation: the server's answer and the page's parsing
# (Navigation Timing), then the marks of the head's script (start) and of visio.js (camera,
# socket, hello, admitted, offer, ...).
NAVIGATION = """() => {
  const n = performance.getEntriesByType('navigation')[0];
  return Object.assign({
    response_start: Math.round(n.responseStart), response_end: Math.round(n.responseEnd),
    dom_interactive: Math.round(n.domInteractive),
  }, window.visio.marks);
}"""
# Synchronous on purpose: wait_for_function takes an async predicate's promise for a truthy
# value at once (it cannot wait for getStats; an earlier version of this bench did that).
FRAME_MARKED = "() => !!(window.visio && window.visio.marks && 'frame' in window.visio.marks)"
FRAME_AT = "() => performance.timeOrigin + window.visio.marks.frame"
ADMIT_AT = "() => performance.timeOrigin + window.visio.marks.admit"


def build(calls: int):
    """The bench's practitioner (with an authenticator, as staff must), patient and rooms."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    doctor, patient_user, found = common.video_practice(
        calls, name="visio", rpps_first_ten="1999999999"
    )
    TOTP.activate(doctor, generate_totp_secret())
    return doctor, patient_user, [room.pk for room in found]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=20, help="calls to time (20)")
    parser.add_argument("--debug", action="store_true", help="serve as `make run` does (DEBUG)")
    parser.add_argument(
        "--click", action="store_true", help='click "let the patient in" once they are there'
    )
    options, _rest = parser.parse_known_args(argv)

    from playwright.sync_api import sync_playwright

    data_dir = tempfile.mkdtemp(prefix="consulto-visio-")
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    os.environ["CONSULTO_DATA_DIR"] = data_dir
    # As in production (DEBUG off: cached templates, collected static files), or as `make run`
    # serves it (--debug: templates read and static files looked up on every request).
    env = dict(os.environ, CONSULTO_DEBUG="1" if options.debug else "0", CONSULTO_HTTPS="0")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    for command in ["migrate"] + ([] if options.debug else ["collectstatic"]):
        subprocess.run(
            [sys.executable, "-m", "consulto.cli", "manage", command, "--no-input", "-v", "0"],
            env=env, cwd=ROOT, check=True,
        )  # fmt: skip
    common.django_setup()
    doctor, patient, room_ids = build(options.calls)
    doctor_cookie, patient_cookie = common.session_of(doctor), common.session_of(patient)

    patient_times, doctor_times = [], []
    steps: dict[str, list[float]] = {}  # the patient page's marks (visio.js), per step
    admit_times = ([], [])  # the admission (click, or on arrival) -> each side's first frame
    with (
        common.uvicorn_server(env, Path(data_dir) / "server.log") as base,
        sync_playwright() as playwright,
    ):
        browser = common.chromium(playwright)
        for index, room_id in enumerate(room_ids):
            sides = []
            for (name, value), path in (
                (doctor_cookie, f"/pro/visio/{room_id}/"),
                (patient_cookie, f"/visio/{room_id}/"),
            ):
                context = browser.new_context(base_url=base, locale="fr-FR")
                context.add_cookies([{"name": name, "value": value, "url": base}])
                context.set_default_timeout(15_000)
                sides.append((context, context.new_page(), path))
            (doctor_context, doctor_page, doctor_path), (patient_context, page, path) = sides
            doctor_page.goto(doctor_path)
            doctor_page.wait_for_function("() => window.visio && window.visio.iceServers")
            if not options.click:
                doctor_page.get_by_label("Faire entrer le patient dès son arrivée").check()
            started = time.time() * 1000  # epoch ms, the clock of performance.timeOrigin
            page.goto(path, wait_until="commit")  # admitted as soon as present, not after load
            if options.click:
                doctor_page.locator("#visio-admit:enabled").click()
            # Each page marks its first decoded frame itself (visio.js polls getStats every
            # 20 ms); read on the common clock: timeOrigin + mark, from the patient's request.
            frames_at = []
            for side_page, times in ((page, patient_times), (doctor_page, doctor_times)):
                side_page.wait_for_function(FRAME_MARKED, polling=20)
                frames_at.append(side_page.evaluate(FRAME_AT))
                times.append((frames_at[-1] - started) / 1000)
            marks = page.evaluate(NAVIGATION)
            admitted_at = doctor_page.evaluate(ADMIT_AT)
            for frame_at, times in zip(frames_at, admit_times, strict=True):
                times.append((frame_at - admitted_at) / 1000)
            for name, at in marks.items():
                steps.setdefault(name, []).append(at / 1000)
            common.log(
                f"  call {index + 1}: patient {patient_times[-1] * 1000:.0f} ms, "
                f"practitioner {doctor_times[-1] * 1000:.0f} ms; patient page, ms from "
                "navigation: "
                + ", ".join(f"{k} {v}" for k, v in sorted(marks.items(), key=lambda kv: kv[1]))
            )
            doctor_context.close()
            patient_context.close()
        browser.close()

    mode = "DEBUG as make run" if options.debug else "DEBUG off"
    admission = "admitted by a click" if options.click else "admitted on arrival"
    size = f"{len(room_ids)} calls, {admission}, loopback, Chromium headless, SQLite, {mode}"
    common.report(BENCH, "join_to_first_frame_patient", patient_times, size, goal_ms=1000)
    common.report(BENCH, "join_to_first_frame_practitioner", doctor_times, size, goal_ms=1000)
    common.report(BENCH, "admit_to_first_frame_patient", admit_times[0], size, goal_ms=1000)
    common.report(BENCH, "admit_to_first_frame_practitioner", admit_times[1], size, goal_ms=1000)
    for name, values in sorted(steps.items(), key=lambda kv: sorted(kv[1])[len(kv[1]) // 2]):
        common.report(BENCH, f"patient_page_{name}", values, size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
