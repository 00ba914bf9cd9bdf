"""Slot engine: which appointment slots an agenda can offer for one motive.

This module is pure (standard library only, no Django) so that it can be unit- and
property-tested in isolation and called on the hot path of every search page. The
Django side loads an agenda's openings, absences and busy periods (appointments and
holds), turns them into the value objects below, and asks `compute_slots` (a page of
slots) or `first_slot` (next availability) for the answer.

Rules implemented here:

* A slot lies wholly inside one opening that occurs on its local date and allows the
  motive; slot starts follow a grid anchored at the opening start (``start + k*step``,
  step defaulting to the motive duration). Overlapping openings give the union of
  their grids.
* No slot overlaps an absence (intervals are half-open).
* A slot is offered iff the largest summed ``count`` of busy intervals at any instant
  of the slot is below the agenda capacity; ``remaining`` is capacity minus that.
* Booking window: ``start >= now``, ``start >= now + min_notice`` and, when set,
  ``start <= now + max_advance``.
* Opening bounds are wall-clock times of the agenda zone, mapped to instants with
  ``fold=0`` (a time in a spring-forward gap lands just after the gap, an ambiguous
  time takes its first occurrence). All arithmetic is then done on integer
  microseconds since the epoch, so durations are real durations across DST changes.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

__all__ = [
    "Interval",
    "MotiveRule",
    "Opening",
    "Slot",
    "compute_slots",
    "first_slot",
    "slot_starts",
]


@dataclass(frozen=True, slots=True)
class Opening:
    """A recurring weekly period of an agenda (plage d'ouverture), in wall-clock time of
    the agenda's zone."""

    weekday: int  # 0 = Monday ... 6 = Sunday
    start: time  # wall-clock start
    end: time  # wall-clock end, > start (same day)
    motive_ids: frozenset[int]  # motives bookable in this opening
    valid_from: date  # first day the opening applies (inclusive)
    valid_until: date | None = None  # last day (inclusive); None = open-ended
    # 1 = every week, 2 = every second week: occurs in the week (Monday-based) of
    # valid_from, then every 2nd week after.
    every_weeks: int = 1


@dataclass(frozen=True, slots=True)
class Interval:
    """A busy period (appointment or hold) or an absence: aware datetimes, half-open
    [start, end)."""

    start: datetime
    end: datetime
    count: int = 1  # places used (for busy intervals of capacity agendas); ignored for absences


@dataclass(frozen=True, slots=True)
class MotiveRule:
    id: int
    duration: timedelta
    min_notice: timedelta = timedelta(0)  # a slot may not start sooner than now + min_notice
    max_advance: timedelta | None = None  # a slot may not start later than now + max_advance


@dataclass(frozen=True, slots=True)
class Slot:
    start: datetime  # aware, expressed in the agenda's zone (tzinfo = zone)
    end: datetime  # aware, in zone; end - start == motive.duration in real (UTC) time
    # Places left during the slot (capacity minus the largest busy count at any
    # instant of it), >= 1.
    remaining: int


_US = timedelta(microseconds=1)
_SECOND = 1_000_000
_DAY = 86_400 * _SECOND
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LAST_ORDINAL = date.max.toordinal()
# tzinfo types whose utcoffset() never returns None: lets the naive check skip a call.
_ALWAYS_AWARE = (ZoneInfo, timezone)

# Building a frozen dataclass goes through object.__setattr__ once per field, which
# dominates the cost of large results; setting the slot descriptors directly is ~2x
# faster and yields an identical object.
_new_object = object.__new__
_set_slot_start = Slot.start.__set__  # type: ignore[attr-defined]
_set_slot_end = Slot.end.__set__  # type: ignore[attr-defined]
_set_slot_remaining = Slot.remaining.__set__  # type: ignore[attr-defined]


def _instant_us(value: datetime, what: str) -> int:
    """Microseconds since the epoch of an aware datetime (exact)."""
    tz = value.tzinfo
    if tz is None or (not isinstance(tz, _ALWAYS_AWARE) and value.utcoffset() is None):
        raise ValueError(f"{what} must be an aware datetime, got naive {value!r}")
    ts = value.timestamp()
    whole = int(ts)
    if whole == ts:  # whole seconds: the float is exact
        return whole * _SECOND
    return (value - _EPOCH) // _US


def _wall_to_us(day: date, wall: time, zone: ZoneInfo) -> int:
    # fold=0 (the default): a time in a gap is read with the offset before the gap,
    # i.e. lands just after it; an ambiguous time takes its first occurrence.
    if wall.fold:
        wall = wall.replace(fold=0)
    return _instant_us(datetime.combine(day, wall, tzinfo=zone), "opening bound")


def _local_datetime(us: int, zone: ZoneInfo) -> datetime:
    sec, rest = divmod(us, _SECOND)
    if rest:
        return (_EPOCH + timedelta(microseconds=us)).astimezone(zone)
    return datetime.fromtimestamp(sec, zone)


def _local_ordinal(us: int, zone: ZoneInfo, default: int) -> int:
    """Ordinal of the local date of an instant, or `default` if out of datetime's range."""
    try:
        return _local_datetime(us, zone).toordinal()
    except (OverflowError, ValueError, OSError):
        return default


def _positive_us(value: timedelta, what: str) -> int:
    us = value // _US
    if us <= 0:
        raise ValueError(f"{what} must be positive, got {value!r}")
    return us


def _intervals_us(intervals: Iterable[Interval], what: str) -> list[tuple[int, int, int]]:
    """(start_us, end_us, count) of the non-empty intervals, validated."""
    result = []
    for iv in intervals:
        a = _instant_us(iv.start, f"{what} start")
        b = _instant_us(iv.end, f"{what} end")
        if b > a:
            result.append((a, b, iv.count))
        elif b < a:
            raise ValueError(f"{what} ends before it starts: {iv!r}")
    return result


def _check_opening(op: Opening) -> None:
    if not 0 <= op.weekday <= 6:
        raise ValueError(f"opening weekday must be 0 (Monday) .. 6 (Sunday): {op!r}")
    if op.end <= op.start:
        raise ValueError(f"opening must end after it starts: {op!r}")
    if op.every_weeks < 1:
        raise ValueError(f"opening every_weeks must be >= 1: {op!r}")


def compute_slots(
    *,
    openings: Iterable[Opening],
    absences: Iterable[Interval],
    busy: Iterable[Interval],
    motive: MotiveRule,
    capacity: int,
    start: date,
    days: int,
    zone: ZoneInfo,
    now: datetime,
    step: timedelta | None = None,
    limit: int | None = None,
) -> list[Slot]:
    """Bookable slots for one agenda and one motive, for the local dates
    start .. start+days-1, in order.

    ``busy`` holds appointments and holds (``count`` places each), ``absences`` the
    periods where the agenda is closed. Raises ValueError on invalid input (capacity
    < 1, days < 0, non-positive step or duration, naive datetimes, negative limit...).
    """
    absence_list = _intervals_us(absences, "absence")
    busy_list = _intervals_us(busy, "busy interval")
    collected, remaining, dur = _starts(
        openings=openings,
        absence_list=absence_list,
        busy_list=busy_list,
        motive=motive,
        capacity=capacity,
        start=start,
        days=days,
        zone=zone,
        now=now,
        step=step,
        limit=limit,
    )
    # --- build the result (the only place datetimes are created) ------------------
    result: list[Slot] = []
    local_cache: dict[int, datetime] = {}  # slot ends are often the next slot's start
    for s, left in zip(collected, remaining, strict=True):
        e = s + dur
        start_dt = local_cache.get(s)
        if start_dt is None:
            start_dt = _local_datetime(s, zone)
        end_dt = _local_datetime(e, zone)
        local_cache[e] = end_dt
        slot = _new_object(Slot)
        _set_slot_start(slot, start_dt)
        _set_slot_end(slot, end_dt)
        _set_slot_remaining(slot, left)
        result.append(slot)
    return result


def slot_starts(
    *,
    openings: Iterable[Opening],
    absences_us: Iterable[tuple[int, int]],
    busy_us: Iterable[tuple[int, int]],
    motive: MotiveRule,
    capacity: int,
    start: date,
    days: int,
    zone: ZoneInfo,
    now: datetime,
    step: timedelta | None = None,
    limit: int | None = None,
) -> tuple[list[int], list[int]]:
    """What ``compute_slots`` answers, as two lists: slot starts in integer microseconds since
    the epoch, and the places left in each. Absences and busy periods come the same way,
    ``(start_us, end_us)`` half-open (one place each): the hot path reads them as integers
    from the database and never builds a datetime per row or per slot."""
    absence_list = _checked_us(absences_us, "absence")
    busy_list = _checked_us(busy_us, "busy interval")
    collected, remaining, _dur = _starts(
        openings=openings,
        absence_list=absence_list,
        busy_list=busy_list,
        motive=motive,
        capacity=capacity,
        start=start,
        days=days,
        zone=zone,
        now=now,
        step=step,
        limit=limit,
    )
    return collected, remaining


def _checked_us(intervals: Iterable[tuple[int, int]], what: str) -> list[tuple[int, int, int]]:
    result = []
    for a, b in intervals:
        if b > a:
            result.append((a, b, 1))
        elif b < a:
            raise ValueError(f"{what} ends before it starts: {(a, b)!r}")
    return result


def _starts(
    *,
    openings: Iterable[Opening],
    absence_list: list[tuple[int, int, int]],
    busy_list: list[tuple[int, int, int]],
    motive: MotiveRule,
    capacity: int,
    start: date,
    days: int,
    zone: ZoneInfo,
    now: datetime,
    step: timedelta | None,
    limit: int | None,
) -> tuple[list[int], list[int], int]:
    """(slot starts in microseconds, places left in each, the motive's duration in
    microseconds): the engine proper, on integers."""
    # --- validation and conversion to integer microseconds -------------------------
    if capacity < 1:
        raise ValueError(f"capacity must be >= 1, got {capacity!r}")
    if days < 0:
        raise ValueError(f"days must be >= 0, got {days!r}")
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0 or None, got {limit!r}")
    dur = _positive_us(motive.duration, "motive duration")
    stride = dur if step is None else _positive_us(step, "step")
    now_us = _instant_us(now, "now")
    window_lo = max(now_us, now_us + motive.min_notice // _US)
    window_hi = None if motive.max_advance is None else now_us + motive.max_advance // _US

    motive_id = motive.id
    by_weekday: list[list[Opening]] = [[] for _ in range(7)]
    for op in openings:
        _check_opening(op)
        if motive_id in op.motive_ids:
            by_weekday[op.weekday].append(op)

    for _, _, count in busy_list:
        if count < 1:
            raise ValueError(f"busy interval count must be >= 1, got {count!r}")

    if days == 0 or limit == 0 or (window_hi is not None and window_hi < window_lo):
        return [], [], dur

    # --- blocked time: absences, plus busy time where the agenda is full -----------
    blocked = [(a, b) for a, b, _ in absence_list]
    # Step function of the busy level, used to compute `remaining` (capacity > 1).
    levels_x: list[int] = []
    levels_v: list[int] = []
    if capacity == 1:
        blocked.extend((a, b) for a, b, _ in busy_list)
    elif busy_list:
        deltas: dict[int, int] = {}
        for a, b, count in busy_list:
            deltas[a] = deltas.get(a, 0) + count
            deltas[b] = deltas.get(b, 0) - count
        level = 0
        full_since = None
        for x in sorted(deltas):
            level += deltas[x]
            levels_x.append(x)
            levels_v.append(level)
            if level >= capacity:
                if full_since is None:
                    full_since = x
            elif full_since is not None:
                blocked.append((full_since, x))
                full_since = None
    blocked.sort()
    block_lo: list[int] = []
    block_hi: list[int] = []  # disjoint and sorted, so both lists are increasing
    for a, b in blocked:
        if block_hi and a <= block_hi[-1]:
            if b > block_hi[-1]:
                block_hi[-1] = b
        else:
            block_lo.append(a)
            block_hi.append(b)
    n_blocked = len(block_lo)

    # --- walk the local dates, collecting slot starts ----------------------------
    # Dates whose slots all fall outside the booking window are skipped; the one-day
    # margin covers wall times that a DST gap at midnight pushes into the next date.
    first_ord = start.toordinal()
    end_ord = min(first_ord + days, _LAST_ORDINAL + 1)  # no date after date.max
    first_ord = max(first_ord, _local_ordinal(window_lo, zone, first_ord) - 1)
    if window_hi is not None:
        end_ord = min(end_ord, _local_ordinal(window_hi, zone, end_ord) + 2)

    collected: list[int] = []
    horizon = window_hi  # no start is wanted after this instant (None: no bound)
    last_ord = end_ord - 1  # lowered once `limit` starts are collected
    for ordinal in range(first_ord, end_ord):
        if ordinal > last_ord:
            break
        day = date.fromordinal(ordinal)
        todays = by_weekday[day.weekday()]
        if not todays:
            continue
        starts: list[int] = []
        contributing = 0
        for op in todays:
            if day < op.valid_from or (op.valid_until is not None and day > op.valid_until):
                continue
            if op.every_weeks > 1:
                anchor = op.valid_from.toordinal() - op.valid_from.weekday()
                if ((ordinal - day.weekday() - anchor) // 7) % op.every_weeks:
                    continue
            lo = _wall_to_us(day, op.start, zone)
            if horizon is not None and lo > horizon:
                continue
            # Allowed slot starts: [s_min, s_max], on the grid lo + k*stride.
            s_min = lo if lo >= window_lo else window_lo
            s_max = _wall_to_us(day, op.end, zone) - dur
            if horizon is not None and horizon < s_max:
                s_max = horizon
            if s_min > s_max:
                continue
            before = len(starts)
            # Subtract the blocked intervals that can touch a slot starting in range.
            cursor = s_min
            i = bisect_right(block_hi, s_min)
            reach = s_max + dur
            while True:
                if i < n_blocked and block_lo[i] < reach:
                    free_end = block_lo[i] - dur  # last start that ends before the block
                    next_cursor = block_hi[i]
                else:
                    free_end = s_max
                    next_cursor = None
                if free_end > s_max:
                    free_end = s_max
                if cursor <= free_end:
                    first = lo - ((lo - cursor) // stride) * stride  # ceil onto the grid
                    if first <= free_end:
                        starts.extend(range(first, free_end + 1, stride))
                if next_cursor is None:
                    break
                if next_cursor > cursor:
                    cursor = next_cursor
                if cursor > s_max:
                    break
                i += 1
            if len(starts) > before:
                contributing += 1
        if not starts:
            continue
        if contributing > 1:
            starts = sorted(set(starts))
        if collected and starts[0] <= collected[-1]:
            # Only around a DST change at midnight can two dates interleave.
            collected = sorted(set(collected).union(starts))
        else:
            collected.extend(starts)
        if limit is not None and len(collected) >= limit and last_ord > ordinal + 1:
            # The next date may still hold earlier starts (see above): look at it too,
            # with the horizon lowered to the last start we would keep, then stop.
            last_ord = ordinal + 1
            horizon = collected[limit - 1]
    if limit is not None:
        del collected[limit:]

    # --- places left in each slot ----------------------------------------------------
    n_levels = len(levels_x)
    if not n_levels:
        return collected, [capacity] * len(collected), dur
    remaining: list[int] = []
    for s in collected:
        e = s + dur
        j = bisect_right(levels_x, s) - 1
        peak = levels_v[j] if j >= 0 else 0
        j += 1
        while j < n_levels and levels_x[j] < e:
            if levels_v[j] > peak:
                peak = levels_v[j]
            j += 1
        remaining.append(capacity - peak)
    return collected, remaining, dur


def first_slot(
    *,
    openings: Iterable[Opening],
    absences: Iterable[Interval],
    busy: Iterable[Interval],
    motive: MotiveRule,
    capacity: int,
    start: date,
    days: int,
    zone: ZoneInfo,
    now: datetime,
    step: timedelta | None = None,
) -> Slot | None:
    """The earliest bookable slot in the date range (next availability), or None."""
    slots = compute_slots(
        openings=openings,
        absences=absences,
        busy=busy,
        motive=motive,
        capacity=capacity,
        start=start,
        days=days,
        zone=zone,
        now=now,
        step=step,
        limit=1,
    )
    return slots[0] if slots else None
