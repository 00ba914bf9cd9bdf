"""Search: a results page near Paris, and 500 practitioners sorted by earliest availability.

Both call ``scheduling.search.search_practitioners`` in this process (no HTTP), with the
arguments the API's ``GET /api/v1/practitioners`` passes: ``radius_km=20`` when ``near`` is given,
``days=None``, i.e. ``settings.CONSULTO_SEARCH_DAYS`` (14): every hit's slots are computed over the
14 days from today, and the sort "earliest" (the API default) needs them for every hit before a
page can be cut.

* ``search.results_page``: general practitioners within 20 km of Paris, first page of 20.
  - ``earliest_cold`` / ``earliest_warm``: sort by earliest availability, after
    ``cache.clear()`` / with the slots cached by the previous run. Goal: p95 <= 30 ms.
  - ``distance_cold`` / ``distance_warm``: sort by distance (slots for the page only).
  ``size`` says how many practitioners matched.
* ``search.earliest_500``: the 500 general practitioners closest to Paris (the radius is chosen
  so that 500 match), sorted by earliest availability, ``limit=500``: every hit's 14 days are
  computed. Goal: p95 <= 100 ms. With the default in-process cache (LocMemCache, at most 300
  keys) a "warm" run cannot keep 500 agendas: see README.

Usage: python bench/search.py [--runs 100] [--big-runs 30] [--target 500]
"""

import sys

from _common import (
    GP,
    PARIS,
    base_parser,
    django_setup,
    emit,
    ensure_dataset,
    log,
    measure,
    report,
)

RADIUS_KM = 20  # the API's default radius when ``near`` is given


def radius_for(target: int, specialty: str) -> float:
    """The radius around Paris that holds ``target`` practitioners' agendas of ``specialty``."""
    from consulto.directory.selectors import distance_km
    from consulto.scheduling.models import Agenda

    rows = Agenda.objects.filter(
        practitioner__specialty__code=specialty,
        practitioner__is_published=True,
        is_active=True,
        online_booking=True,
    ).values_list("practitioner_id", "site__latitude", "site__longitude")
    nearest: dict[int, float] = {}
    for practitioner_id, lat, lon in rows:
        distance = distance_km(PARIS[0], PARIS[1], lat, lon)
        nearest[practitioner_id] = min(distance, nearest.get(practitioner_id, distance))
    distances = sorted(nearest.values())
    if not distances:
        raise SystemExit(f"No practitioner of {specialty!r} in the database.")
    return distances[min(target, len(distances)) - 1] + 0.001


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__)
    parser.add_argument("--runs", type=int, default=100, help="runs of the results page (100)")
    parser.add_argument("--big-runs", type=int, default=30, help="runs of the big search (30)")
    parser.add_argument("--target", type=int, default=500, help="hits of the big search (500)")
    parser.add_argument("--specialty", default=GP, help=f"specialty code (default {GP})")
    options = parser.parse_args(argv)

    django_setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.utils import timezone

    from consulto.scheduling.search import search_practitioners

    ensure_dataset(options.practitioners, options.seed)
    days = settings.CONSULTO_SEARCH_DAYS
    clear = lambda _i: cache.clear()  # noqa: E731

    # (a) A results page ---------------------------------------------------------------------
    bench = "search.results_page"
    matched = {}

    def page(sort: str):
        def run(_i: int) -> None:
            result = search_practitioners(
                specialty=options.specialty,
                near=PARIS,
                radius_km=RADIUS_KM,
                sort=sort,
                limit=20,
                now=timezone.now(),
            )
            matched[sort] = result.count

        return run

    cache.clear()
    page("earliest")(0)
    size = f"page 20 of {matched['earliest']} x {days} d"
    log(f"Results page: {matched['earliest']} matches within {RADIUS_KM} km of Paris, {days} days")
    for sort in ("earliest", "distance"):
        run = page(sort)
        goal = 30 if sort == "earliest" else None
        report(bench, f"{sort}_cold", measure(run, options.runs, before=clear), size, goal_ms=goal)
        report(bench, f"{sort}_warm", measure(run, options.runs, before=run), size, goal_ms=goal)

    # (b) 500 practitioners sorted by earliest availability ----------------------------------
    bench = f"search.earliest_{options.target}"
    radius = radius_for(options.target, options.specialty)

    def big(_i: int) -> None:
        result = search_practitioners(
            specialty=options.specialty,
            near=PARIS,
            radius_km=radius,
            sort="earliest",
            limit=options.target,
            now=timezone.now(),
        )
        matched["big"] = result.count

    cache.clear()
    big(0)
    size = f"{matched['big']} x {days} d"
    log(f"Big search: {matched['big']} matches within {radius:.1f} km of Paris, {days} days")
    runs = options.big_runs
    report(bench, "cold", measure(big, runs, before=clear), size, goal_ms=100)
    report(bench, "warm", measure(big, runs, before=big), size, goal_ms=100)
    emit(bench, "matches", matched["big"], "practitioners", size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
