"""Patient pages: server time of the search results page (20 results) and its weight.

Goals (issue 3): results page server time p95 <= 50 ms; page weight (HTML + CSS + JS
transferred) <= 150 KB. Measured in process with Django's test client against the real
settings and database (the 10,000-practitioner demo dataset by default), warm cache (the normal
case: slots cached per agenda state) and cold cache (every agenda computed afresh). The weight
counts what a browser downloads on a first visit, as sent (gzip) and raw.

    CONSULTO_DATA_DIR=/tmp/consulto-bench-sqlite python bench/patient_pages.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/consulto_bench python bench/patient_pages.py
"""

import gzip
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common

BENCH = "patient_pages"
QUERY = {"what": "Médecin généraliste", "where": "Paris"}


def main() -> None:
    args = common.base_parser(__doc__).parse_args()
    os.environ.setdefault("CONSULTO_HTTPS", "0")  # the test client speaks plain HTTP
    common.django_setup()
    common.ensure_dataset(args.practitioners, args.seed)

    from django.conf import settings
    from django.core.cache import cache
    from django.core.management import call_command
    from django.test import Client

    # Production serves hashed, compressed static files: build them as a deployment would.
    call_command("collectstatic", interactive=False, verbosity=0)

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    first = client.get("/", QUERY)
    if first.status_code != 200:
        raise SystemExit(f"GET / answered {first.status_code}")
    hits = first.content.count(b'<li class="card">')
    found = re.search(rb"(\d[\d\s\xc2\xa0\xe2\x80\xaf]*) praticiens? trouv", first.content)
    size = f"{hits} results of {found.group(1).decode() if found else '?'}"
    common.log(f"Results page: {size}")

    warm = common.measure(lambda i: client.get("/", QUERY), 200)
    common.report(BENCH, "results_page_warm", warm, size, goal_ms=50)
    cold = common.measure(lambda i: client.get("/", QUERY), 30, before=lambda i: cache.clear())
    common.report(BENCH, "results_page_cold", cold, size, goal_ms=50)

    html = first.content
    assets = re.findall(rb'<(?:link[^>]+href|script[^>]+src)="(/static/[^"]+)"', html)
    raw, sent = len(html), len(gzip.compress(html))
    for url in assets:
        body = (Path(settings.STATIC_ROOT) / url.decode().removeprefix("/static/")).read_bytes()
        raw += len(body)
        sent += len(gzip.compress(body))
    common.emit(BENCH, "results_page_weight_gzip", round(sent / 1024, 1), "KB", size)
    common.emit(BENCH, "results_page_weight_raw", round(raw / 1024, 1), "KB", size)
    common.log(
        f"  weight: {sent / 1024:.1f} KB sent (gzip), {raw / 1024:.1f} KB raw, "
        f"{len(assets)} assets; goal <= 150 KB: {'met' if sent <= 150 * 1024 else 'MISSED'}"
    )

    link = re.search(rb'href="(/praticien/\d+/)\?agenda=(\d+)"', first.content)
    motive = re.search(rb'name="motive" value="(\d+)"', first.content)
    if link and motive:
        url = link.group(1).decode()
        params = {"agenda": link.group(2).decode(), "motive": motive.group(1).decode()}
        week = common.measure(lambda i: client.get(url, params), 200)
        common.report(BENCH, "practitioner_week_warm", week, "1 agenda x 7 d", goal_ms=50)


if __name__ == "__main__":
    main()
