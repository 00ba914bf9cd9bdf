"""Regulation: the regulator's search for a GP within 48 hours near a Paris postcode.

Figures (milliseconds, in this process, no HTTP), over several Paris postcodes taken in turn:

* ``regulation.search_gp_48h``: ``referral.search.find(need="gp_48h", near=<the postcode's
  coordinates, directory.selectors.place_coordinates>, now=now)`` with its defaults (48 hours,
  20 km, 40 offers), as the regulator's console calls it: the slots a regulator sees (public,
  professionals and regulation openings) sorted by soonest then distance, and the practitioners
  taking extra patients beside them.
  - ``warm``: the slots cached by a previous run for that postcode. Goal: p95 <= 100 ms.
  - ``cold``: ``cache.clear()`` before each run (not timed). Goal: p95 <= 300 ms.
  - ``offers`` / ``snp_offers`` / ``extras``: what the first postcode's search found (offers,
    those from regulation-only openings, practitioners taking extra patients).
  - ``queries``: the SQL queries of one cold search.
  ``size`` names the postcodes.

Usage: python bench/regulation.py [--runs 60] [--postcodes 75011,75015,75018,75005,75020]
"""

import sys

from _common import base_parser, django_setup, emit, ensure_dataset, log, measure, report

BENCH = "regulation.search_gp_48h"
POSTCODES = "75011,75015,75018,75005,75020"


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__)
    parser.add_argument("--runs", type=int, default=60, help="timed runs of each kind (60)")
    parser.add_argument("--postcodes", default=POSTCODES, help=f"Paris postcodes ({POSTCODES})")
    options = parser.parse_args(argv)

    django_setup()
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from consulto.directory.selectors import place_coordinates
    from consulto.referral.search import find
    from consulto.scheduling.models import Opening

    ensure_dataset(options.practitioners, options.seed)
    postcodes = [p.strip() for p in options.postcodes.split(",") if p.strip()]
    places = [(postcode, place_coordinates(postcode)) for postcode in postcodes]
    missing = [postcode for postcode, near in places if near is None]
    if missing:
        raise SystemExit(f"Unknown postcodes: {', '.join(missing)}")
    now = timezone.now()
    size = f"GP within 48 h, 20 km of {'/'.join(postcodes)}"

    def search(i: int):
        return find(need="gp_48h", near=places[i % len(places)][1], now=now)

    snp = set(
        Opening.objects.filter(visibility=Opening.Visibility.REGULATION).values_list(
            "agenda_id", flat=True
        )
    )
    log(f"{len(snp)} agendas with regulation-only openings; {options.runs} runs of each kind")

    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        first = search(0)
    emit(BENCH, "queries", len(queries), "count", f"cold, {postcodes[0]}")
    emit(BENCH, "offers", len(first.offers), "count", postcodes[0])
    emit(
        BENCH,
        "snp_offers",
        sum(1 for offer in first.offers if offer.agenda.pk in snp),
        "count",
        postcodes[0],
    )
    emit(BENCH, "extras", len(first.extras), "count", postcodes[0])
    if not first.offers:
        log("WARNING: the search found no offer (is the dataset's day today?)")

    for i in range(len(places)):
        search(i)  # fills the cache for every postcode
    report(BENCH, "warm", measure(search, options.runs), size, goal_ms=100)
    report(
        BENCH,
        "cold",
        measure(search, options.runs, before=lambda _i: cache.clear()),
        size,
        goal_ms=300,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
