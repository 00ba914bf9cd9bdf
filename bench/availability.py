"""Availability: one agenda's week of slots, and 200 agendas' weeks in one go.

Figures (milliseconds, in this process, no HTTP):

* ``availability.agenda_week``: a random general practitioner's agenda and the motive search
  shows first, start today, 7 days. Every figure is taken after one untimed pass over the
  same agendas: the database's page cache is warm, only Django's cache differs.
  - ``uncached``: ``selectors.agenda_slots`` (2 queries + the engine), the real compute path.
  - ``cold``: ``cache.slots_for_many`` for that one pair right after ``cache.clear()``
    (the same queries and engine, plus the cache write and the booking window).
  - ``warm``: ``cache.slots_for_many`` again: one cache read and the booking window.
  Goal: p95 <= 5 ms.
* ``availability.agendas_week``: 200 random GP agendas x 7 days in one call.
  - ``uncached``: ``selectors.load_inputs`` for the 200 agendas + ``selectors.compute`` each
    (instants as datetimes: the path of a booking's re-check and the practice pages).
  - ``computed``: what a cache miss computes for them (``cache._compute``: the inputs read in
    two queries with instants as integers, the engine on integers, no datetime built).
  - ``cold`` / ``warm``: ``cache.slots_for_many`` after ``cache.clear()`` / again.
  Goals: p95 <= 60 ms uncached (and cold), <= 17 ms warm.

Usage: python bench/availability.py [--runs 300] [--batch-runs 30] [--batch 200]
"""

import random
import sys

from _common import (
    base_parser,
    bookable_pairs,
    django_setup,
    ensure_dataset,
    log,
    measure,
    report,
)

DAYS = 7


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__)
    parser.add_argument("--runs", type=int, default=300, help="runs for one agenda (300)")
    parser.add_argument("--batch-runs", type=int, default=30, help="runs for the batch (30)")
    parser.add_argument("--batch", type=int, default=200, help="agendas in the batch (200)")
    options = parser.parse_args(argv)

    django_setup()
    from django.core.cache import cache
    from django.utils import timezone

    from consulto.scheduling import cache as slot_cache
    from consulto.scheduling import selectors
    from consulto.scheduling.visibility import PUBLIC

    ensure_dataset(options.practitioners, options.seed)
    pairs = bookable_pairs()
    if not pairs:
        raise SystemExit("No general practitioner agenda in the database.")
    log(f"{len(pairs)} GP agendas; timing one agenda x {DAYS} days, {options.runs} runs")
    rng = random.Random(options.seed)
    now = timezone.now()
    today = now.astimezone(pairs[0][0].zone).date()

    # (a) One agenda, one week ---------------------------------------------------------------
    bench = "availability.agenda_week"
    size = f"1 agenda x {DAYS} d"
    picks = [rng.choice(pairs) for _ in range(options.runs)]
    counts = []

    def uncached(i: int) -> None:
        agenda, motive = picks[i]
        slots = selectors.agenda_slots(
            agenda=agenda, motive=motive, start=today, days=DAYS, now=now, audience=PUBLIC
        )
        counts.append(len(slots))

    def cached(i: int) -> None:
        agenda, motive = picks[i]
        slot_cache.slots_for_many([(agenda, motive)], start=today, days=DAYS, now=now)

    # One untimed pass first: every figure is then taken with the database's own caches warm
    # for those agendas (the first reads of a cold database file would weigh on "uncached").
    for i in range(options.runs):
        uncached(i)
    counts.clear()
    report(bench, "uncached", measure(uncached, options.runs), size, goal_ms=5)
    log(f"  slots per agenda-week: mean {sum(counts) / max(len(counts), 1):.1f}")
    clear = lambda _i: cache.clear()  # noqa: E731
    report(bench, "cold", measure(cached, options.runs, before=clear), size, goal_ms=5)
    report(bench, "warm", measure(cached, options.runs, before=cached), size, goal_ms=5)

    # (b) 200 agendas, one week --------------------------------------------------------------
    bench = "availability.agendas_week"
    batch = min(options.batch, len(pairs))
    size = f"{batch} agendas x {DAYS} d"
    log(f"Timing {batch} agendas x {DAYS} days, {options.batch_runs} runs")
    batches = [rng.sample(pairs, batch) for _ in range(options.batch_runs)]

    def batch_uncached(i: int) -> None:
        chosen = batches[i % len(batches)]
        inputs = selectors.load_inputs(
            [a for a, _m in chosen], start=today, days=DAYS, now=now, audience=PUBLIC
        )
        for agenda, motive in chosen:
            selectors.compute(inputs[agenda.pk], motive=motive, start=today, days=DAYS, now=now)

    def batch_computed(i: int) -> None:
        slot_cache._compute(
            batches[i % len(batches)], start=today, days=DAYS, now=now, audience=PUBLIC
        )

    def batch_cached(i: int) -> None:
        slot_cache.slots_for_many(batches[i % len(batches)], start=today, days=DAYS, now=now)

    runs = options.batch_runs
    for i in range(runs):
        batch_uncached(i)
    report(bench, "uncached", measure(batch_uncached, runs), size, goal_ms=60)
    report(bench, "computed", measure(batch_computed, runs), size, goal_ms=60)
    report(bench, "cold", measure(batch_cached, runs, before=clear), size, goal_ms=60)
    report(bench, "warm", measure(batch_cached, runs, before=batch_cached), size, goal_ms=17)
    return 0


if __name__ == "__main__":
    sys.exit(main())
