"""Cached availability per agenda, invalidated by the agenda's version.

The engine's result for (agenda, motive, dates) depends on the agenda's openings, absences and
bookings, all of which bump ``Agenda.version`` when they change, and on "now" only through the
booking window. So we cache slots computed without the window under a key that holds the version,
and apply the window at read time: a write makes the old key unreachable at once, and readers
share one computation per agenda state. Works the same on the local memory cache (embedded) and
on Redis (production, shared by all workers).
"""

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from django.core.cache import cache

from . import availability as engine
from . import visibility
from .models import Agenda, Motive
from .selectors import load_raw_inputs

TTL_SECONDS = 15 * 60
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _key(agenda: Agenda, motive_id: int, start: date, days: int, audience: frozenset[str]) -> str:
    seen_by = visibility.key(audience)
    return f"slots:v3:{agenda.pk}:{agenda.version}:{motive_id}:{seen_by}:{start.isoformat()}:{days}"


def slots_state(
    agenda: Agenda,
    motive: Motive,
    *,
    start: date,
    days: int,
    now: datetime,
    audience: frozenset[str] = visibility.PUBLIC,
) -> str:
    """What ``slots_for_many([(agenda, motive)], ...)`` answers depends on, as a string that
    changes whenever the answer may: the cache key (the agenda's version, bumped by every
    booking, cancellation, opening, absence or motive change; the motive; the dates; the
    audience) and the booking window's bounds to the minute. An HTTP answer's ETag, read from
    the agenda row alone, before any slot is loaded.

    The window moves with ``now``: it is kept as its first and last whole minutes (the first
    minute a slot may start at given the motive's notice, rounded up), which is exact for slots
    starting on whole minutes, so the state changes at least every minute. That also bounds the
    one change no write marks: a hold that lapses frees its slot without bumping the version,
    and the freed slot shows within the minute (as it must: a lapsed hold is never shown taken
    for long, and a taken slot is never shown free, since booking bumps the version).

    Read the agenda before the slots: slots computed after a concurrent write are newer than
    the version read, so a state is never paired with an older answer than its own.
    """
    earliest, latest = _bounds(motive, now)
    window = f"{-(-earliest // 60)}-{latest // 60}"
    return f"{_key(agenda, motive.pk, start, days, audience)}:{window}"


def slots_for_many(
    pairs: list[tuple[Agenda, Motive]],
    *,
    start: date,
    days: int,
    now: datetime,
    audience: frozenset[str] = visibility.PUBLIC,
    lazy: bool = False,
) -> dict[int, Sequence[engine.Slot]]:
    """Slots per agenda id for each (agenda, motive) pair, with the booking window applied,
    from the openings ``audience`` may see (the public's unless told). ``lazy``: each agenda's
    slots as a read-only sequence that builds a slot when it is read (a search's hits, of which
    a page shows a few), else a list.

    Agendas must come with ``site`` selected. Misses are computed in one batch of queries.
    """
    raw = _raw_for_many(pairs, start=start, days=days, now=now, audience=audience)
    window = _lazy_window if lazy else _window
    return {
        agenda.pk: window(raw[agenda.pk], agenda=agenda, motive=motive, now=now)
        for agenda, motive in pairs
    }


def first_for_many(
    pairs: list[tuple[Agenda, Motive]],
    *,
    start: date,
    days: int,
    now: datetime,
    audience: frozenset[str] = visibility.PUBLIC,
) -> dict[int, datetime | None]:
    """The first bookable start per agenda id: what sorting by earliest availability needs,
    without building every slot of every agenda."""
    raw = _raw_for_many(pairs, start=start, days=days, now=now, audience=audience)
    firsts: dict[int, datetime | None] = {}
    for agenda, motive in pairs:
        earliest, latest = _bounds(motive, now)
        starts = raw[agenda.pk][0]
        i = bisect_left(starts, earliest)
        first = starts[i] if i < len(starts) and starts[i] <= latest else None
        firsts[agenda.pk] = datetime.fromtimestamp(first, agenda.zone) if first else None
    return firsts


def _raw_for_many(
    pairs, *, start: date, days: int, now: datetime, audience: frozenset[str]
) -> dict[int, tuple]:
    """Per agenda id, its slots as arrays (starts, ends, remaining) of epoch seconds sorted by
    start, from the cache when the agenda has not changed since (and no hold among its inputs
    has lapsed)."""
    entries = entries_for_many(pairs, start=start, days=days, now=now, audience=audience)
    return {pk: slots for pk, (_refresh, slots) in entries.items()}


def entries_for_many(
    pairs, *, start: date, days: int, now: datetime, audience: frozenset[str]
) -> dict[int, tuple]:
    """Per agenda id, the cache entry: (when a hold among its inputs lapses, in epoch seconds,
    or None; the slots as in ``_raw_for_many``), computing and storing the missing ones."""
    keys = {agenda.pk: _key(agenda, motive.pk, start, days, audience) for agenda, motive in pairs}
    found = cache.get_many(list(keys.values())) if keys else {}
    entries: dict[int, tuple] = {}
    missing = []
    now_seconds = _seconds(now)
    for agenda, motive in pairs:
        cached = found.get(keys[agenda.pk])
        if cached is None or (cached[0] is not None and cached[0] <= now_seconds):
            missing.append((agenda, motive))
        else:
            entries[agenda.pk] = cached
    if missing:
        computed = _compute(missing, start=start, days=days, now=now, audience=audience)
        cache.set_many({keys[pk]: value for pk, value in computed.items()}, TTL_SECONDS)
        entries.update(computed)
    return entries


def _compute(
    pairs, *, start: date, days: int, now: datetime, audience: frozenset[str]
) -> dict[int, tuple]:
    """Per agenda id: (when a hold lapses and the result goes stale, slots as epoch seconds)."""
    agendas = [a for a, _m in pairs]
    inputs = load_raw_inputs(agendas, start=start, days=days, now=now, audience=audience)
    # The booking window is applied on read: compute from the first instant of the dates.
    early = datetime.combine(start - timedelta(days=2), datetime.min.time(), tzinfo=UTC)
    result = {}
    for agenda, motive in pairs:
        agenda_inputs = inputs[agenda.pk]
        starts, remaining = engine.slot_starts(
            openings=agenda_inputs.openings,
            absences_us=agenda_inputs.absences,
            busy_us=agenda_inputs.busy,
            motive=engine.MotiveRule(id=motive.pk, duration=motive.duration),
            capacity=agenda_inputs.capacity,
            start=start,
            days=days,
            zone=agenda_inputs.zone,
            now=min(now, early),
        )
        duration = int(motive.duration.total_seconds())
        refresh = agenda_inputs.refresh_at
        # Three arrays of machine integers: a search reads hundreds of these from the cache,
        # and arrays unpickle in one copy where lists of tuples build an object per number.
        seconds = array("q", [s // 1_000_000 for s in starts])
        result[agenda.pk] = (
            refresh // 1_000_000 if refresh is not None else None,
            (seconds, array("q", [s + duration for s in seconds]), array("l", remaining)),
        )
    return result


def _seconds(moment: datetime) -> int:
    return int((moment - _EPOCH).total_seconds())


def _bounds(motive: Motive, now: datetime) -> tuple[int, int]:
    """The motive's booking window as epoch seconds: not sooner than (rounded up: at 8:30:00.4
    with an hour's notice, 9:30:00 is too soon, as the booking door says), not later than."""
    soonest = now + timedelta(minutes=motive.min_notice_minutes) - _EPOCH
    earliest = soonest.days * 86_400 + soonest.seconds + (1 if soonest.microseconds else 0)
    return earliest, _seconds(now + timedelta(days=motive.max_advance_days))


def _window(raw, *, agenda: Agenda, motive: Motive, now: datetime) -> list[engine.Slot]:
    earliest, latest = _bounds(motive, now)
    zone = agenda.zone
    starts, ends, remaining = raw
    first, last = bisect_left(starts, earliest), bisect_right(starts, latest)
    return [
        engine.Slot(
            start=datetime.fromtimestamp(starts[i], zone),
            end=datetime.fromtimestamp(ends[i], zone),
            remaining=remaining[i],
        )
        for i in range(first, last)
    ]


class LazySlots(Sequence):
    """An agenda's slots in its booking window, built from the cached arrays when read: a page
    of 500 hits shows a few slots of each, not the 30,000 of their 14 days."""

    __slots__ = ("_built", "_ends", "_first", "_len", "_remaining", "_starts", "_zone")

    def __init__(self, raw, first: int, last: int, zone):
        self._starts, self._ends, self._remaining = raw
        self._first, self._len, self._zone = first, max(last - first, 0), zone
        self._built: dict[int, engine.Slot] = {}

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._len))]
        if index < 0:
            index += self._len
        if not 0 <= index < self._len:
            raise IndexError(index)
        slot = self._built.get(index)
        if slot is None:
            i = self._first + index
            slot = self._built[index] = engine.Slot(
                start=datetime.fromtimestamp(self._starts[i], self._zone),
                end=datetime.fromtimestamp(self._ends[i], self._zone),
                remaining=self._remaining[i],
            )
        return slot

    def __eq__(self, other) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]


def _lazy_window(raw, *, agenda: Agenda, motive: Motive, now: datetime) -> LazySlots:
    earliest, latest = _bounds(motive, now)
    starts = raw[0]
    first, last = bisect_left(starts, earliest), bisect_right(starts, latest)
    return LazySlots(raw, first, last, agenda.zone)
