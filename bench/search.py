"""Search: a results page near Paris, and 500 practitioners sorted by earliest availability.

Both call ``scheduling.search.search_practitioners`` in this process (no HTTP), with the
arguments the API's ``GET /api/v1/practitioners`` passes: ``radius_km=20`` when ``near`` is given,
``days=None``, i.e. ``settings.CONSULTO_SEARCH_DAYS`` (14): every hit's slots are computed over the
14 days from today, and the sort "earliest" (the API default) needs them for every hit before a
page can be cut.

* ``search.results_page``: general practitioners within 20 km of Paris, first page of 20.
  - ``earliest_cold`` / ``earliest_warm``: sort by earliest availability, after
    ``cache.clear()`` / with the slots cached by the previous run.
    "Cold" is nothing in Django's cache, the next-availability index up to date (the worker
    keeps it so after each write). Goals: p95 <= 100 ms cold, <= 30 ms warm.
  - ``earliest_after_writes``: the same, cold, with 30 of the specialty's agendas written to
    since the worker last ran (their index rows stale: the search computes them). Goal: 100 ms.
  - ``distance_cold`` / ``distance_warm``: sort by distance (slots for the page only).
  ``size`` says how many practitioners matched.
* ``search.earliest_500``: the 500 general practitioners closest to Paris (the radius is chosen
  so that 500 match), sorted by earliest availability, ``limit=500``: every hit's 14 days are
  computed. Goal: p95 <= 100 ms. With the default in-process cache (LocMemCache, at most 300
  keys) a "warm" run cannot keep 500 agendas: see README.

* ``search.text``: what a patient types, as the results page passes it (``q`` with
  ``near=Paris``, 20 km, sorted by distance, first page of 20, slots cached by a first run):
  ``name`` a practitioner's last name in lower case without its accents, ``name_typo`` the same
  with a letter left out, ``specialty`` "generaliste". ``matching_*`` times the directory filter
  alone (the ids of the matching practitioners). ``place_*`` resolves what was typed in the
  place box: "Paris", "Vitry" (several communes) and "Parsi" (a typo).
  ``size`` gives the number of matches of each.

Usage: python bench/search.py [--runs 100] [--big-runs 30] [--target 500] [--parts page,big,text]
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
    parser.add_argument(
        "--parts", default="page,big,text", help="which parts to run (default page,big,text)"
    )
    options = parser.parse_args(argv)
    parts = set(options.parts.split(","))

    django_setup()
    from django.conf import settings

    ensure_dataset(options.practitioners, options.seed)
    days = settings.CONSULTO_SEARCH_DAYS

    if "page" in parts:
        results_page(options, days)
    if "big" in parts:
        big_search(options, days)
    if "text" in parts:
        text_search(options.runs)
    return 0


def results_page(options, days: int) -> None:
    from django.core.cache import cache
    from django.utils import timezone

    from consulto.scheduling.search import search_practitioners

    clear = lambda _i: cache.clear()  # noqa: E731
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
        cold_goal, warm_goal = (100, 30) if sort == "earliest" else (None, None)
        report(
            bench, f"{sort}_cold", measure(run, options.runs, before=clear), size, goal_ms=cold_goal
        )
        report(
            bench, f"{sort}_warm", measure(run, options.runs, before=run), size, goal_ms=warm_goal
        )
    writes = written_since(options.specialty)
    report(
        bench,
        "earliest_after_writes",
        measure(page("earliest"), options.runs, before=writes),
        size,
        goal_ms=100,
    )


def written_since(specialty: str, count: int = 30):
    """Before each run: 30 matching agendas written to since the worker last ran (their index
    rows and cached slots stale), nothing else cached; the previous run's are caught up,
    untimed, as the worker would."""
    import random

    from django.core.cache import cache
    from django.db.models import F

    from consulto.scheduling import index
    from consulto.scheduling.models import Agenda

    ids = list(
        Agenda.objects.filter(
            practitioner__specialty__code=specialty, is_active=True, online_booking=True
        ).values_list("pk", flat=True)
    )
    rng = random.Random(11)
    previous: list[int] = []

    def before(_i: int) -> None:
        if previous:
            index.refresh(previous)
        previous[:] = rng.sample(ids, count)
        Agenda.objects.filter(pk__in=previous).update(version=F("version") + 1)
        cache.clear()

    return before


def big_search(options, days: int) -> None:
    """500 practitioners sorted by earliest availability."""
    from django.core.cache import cache
    from django.utils import timezone

    from consulto.scheduling.search import search_practitioners

    clear = lambda _i: cache.clear()  # noqa: E731
    matched = {}
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


def text_search(runs: int) -> None:
    import unicodedata

    from django.utils import timezone

    from consulto.directory import selectors as directory
    from consulto.directory.models import Practitioner
    from consulto.scheduling.search import search_practitioners

    bench = "search.text"
    names = Practitioner.objects.filter(is_published=True).order_by("pk")
    accented = [
        n
        for n in names.values_list("last_name", flat=True)[:2000]
        if not n.isascii() and len(n) > 5
    ]
    name = accented[0] if accented else names.values_list("last_name", flat=True).first()
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    typo = plain[:3] + plain[4:] if len(plain) > 5 else plain
    queries = {"name": plain, "name_typo": typo, "specialty": "generaliste"}
    log(f"Text search: {queries}")
    for label, q in queries.items():
        found = {}

        def page(_i: int, q=q, found=found) -> None:
            result = search_practitioners(
                q=q, near=PARIS, radius_km=RADIUS_KM, sort="distance", limit=20, now=timezone.now()
            )
            found["count"] = result.count

        def matching(_i: int, q=q) -> None:
            list(directory.practitioners_matching(q=q).values_list("pk", flat=True))

        page(0)
        size = f"{found['count']} within {RADIUS_KM} km"
        report(bench, label, measure(page, runs), size)
        report(bench, f"matching_{label}", measure(matching, runs), size)
    resolve = getattr(directory, "resolve_place", None) or directory.place_coordinates
    for label, place in (("paris", "Paris"), ("ambiguous", "Vitry"), ("typo", "Parsi")):
        report(bench, f"place_{label}", measure(lambda _i, p=place: resolve(p), runs), place)


if __name__ == "__main__":
    sys.exit(main())
