"""Tests of the pure slot engine (consulto.scheduling.availability).

Example tests pin down each rule on a readable case; Hypothesis properties state the
rules as laws and compare the engine with a deliberately naive reference
implementation (`reference_slots`). No database is needed.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consulto.scheduling.availability import (
    Interval,
    MotiveRule,
    Opening,
    Slot,
    compute_slots,
    first_slot,
)

PARIS = ZoneInfo("Europe/Paris")
REUNION = ZoneInfo("Indian/Reunion")
MARTINIQUE = ZoneInfo("America/Martinique")
CAYENNE = ZoneInfo("America/Cayenne")

MONDAY = date(2026, 3, 2)  # an ordinary Monday, far from DST changes
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)
ALL_WEEK = date(2020, 1, 6)  # valid_from for openings that should simply always apply

M30 = MotiveRule(id=1, duration=timedelta(minutes=30))


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def hm(text: str) -> time:
    hours, mins = text.split(":")
    return time(int(hours), int(mins))


def opening(
    weekday: int,
    start: str,
    end: str,
    motives: set[int] | None = None,
    valid_from: date = ALL_WEEK,
    valid_until: date | None = None,
    every_weeks: int = 1,
) -> Opening:
    return Opening(
        weekday=weekday,
        start=hm(start),
        end=hm(end),
        motive_ids=frozenset({1} if motives is None else motives),
        valid_from=valid_from,
        valid_until=valid_until,
        every_weeks=every_weeks,
    )


def at(day: date, clock: str, zone: ZoneInfo = PARIS) -> datetime:
    return datetime.combine(day, hm(clock), tzinfo=zone)


def slots(**kwargs) -> list[Slot]:
    """compute_slots with defaults: Paris, capacity 1, 30-min motive, now long ago."""
    params = {
        "absences": [],
        "busy": [],
        "motive": M30,
        "capacity": 1,
        "start": MONDAY,
        "days": 1,
        "zone": PARIS,
        "now": LONG_AGO,
    }
    params.update(kwargs)
    return compute_slots(**params)


def clocks(result: list[Slot]) -> list[str]:
    return [s.start.strftime("%H:%M") for s in result]


def day_clocks(result: list[Slot]) -> dict[date, list[str]]:
    by_day: dict[date, list[str]] = {}
    for s in result:
        by_day.setdefault(s.start.date(), []).append(s.start.strftime("%H:%M"))
    return by_day


def real_duration(s: Slot) -> timedelta:
    # Subtracting two datetimes with the same ZoneInfo is wall-clock arithmetic in
    # Python; real durations need UTC.
    return s.end.astimezone(UTC) - s.start.astimezone(UTC)


# --------------------------------------------------------------------------------------
# Example tests
# --------------------------------------------------------------------------------------


def test_it_offers_the_grid_of_each_opening_and_nothing_during_the_lunch_break():
    result = slots(openings=[opening(0, "09:00", "12:00"), opening(0, "14:00", "16:00")])
    assert clocks(result) == [
        "09:00", "09:30", "10:00", "10:30", "11:00", "11:30",
        "14:00", "14:30", "15:00", "15:30",
    ]  # fmt: skip
    assert all(s.remaining == 1 for s in result)
    assert all(real_duration(s) == minutes(30) for s in result)


def test_a_lunch_break_absence_cuts_a_long_opening():
    lunch = Interval(at(MONDAY, "12:00"), at(MONDAY, "13:30"))
    result = slots(openings=[opening(0, "11:00", "15:00")], absences=[lunch])
    assert clocks(result) == ["11:00", "11:30", "13:30", "14:00", "14:30"]


def test_it_never_offers_a_slot_that_overruns_the_opening():
    result = slots(openings=[opening(0, "09:00", "12:00")], step=minutes(15))
    assert clocks(result)[-2:] == ["11:15", "11:30"]  # 11:45 would end at 12:15
    assert "11:45" not in clocks(result)
    assert clocks(slots(openings=[opening(0, "09:00", "10:50")])) == [
        "09:00",
        "09:30",
        "10:00",
    ]


def test_slots_are_on_a_grid_anchored_at_the_opening_start():
    motive = MotiveRule(id=1, duration=minutes(20))
    result = slots(openings=[opening(0, "08:10", "09:30")], motive=motive)
    assert clocks(result) == ["08:10", "08:30", "08:50", "09:10"]
    result = slots(openings=[opening(0, "08:10", "09:30")], motive=motive, step=minutes(30))
    assert clocks(result) == ["08:10", "08:40", "09:10"]


def test_overlapping_openings_give_the_union_of_their_grids_without_duplicates():
    result = slots(openings=[opening(0, "09:00", "11:00"), opening(0, "09:15", "10:15")])
    assert clocks(result) == ["09:00", "09:15", "09:30", "09:45", "10:00", "10:30"]


def test_a_slot_must_fit_in_one_opening_not_across_two_adjacent_ones():
    motive = MotiveRule(id=1, duration=minutes(45))
    result = slots(
        openings=[opening(0, "09:00", "10:00"), opening(0, "10:00", "11:00")], motive=motive
    )
    assert clocks(result) == ["09:00", "10:00"]


def test_an_every_second_week_opening_counts_weeks_from_the_monday_of_valid_from():
    # valid_from is a Wednesday: its week (from Monday 5 January) is week 0, but that
    # Monday is before valid_from, so the first occurrence is Monday 19 January.
    biweekly = opening(0, "09:00", "10:00", valid_from=date(2026, 1, 7), every_weeks=2)
    result = slots(openings=[biweekly], start=date(2026, 1, 1), days=40)
    assert sorted(day_clocks(result)) == [date(2026, 1, 19), date(2026, 2, 2)]


def test_an_opening_applies_only_between_valid_from_and_valid_until_inclusive():
    wednesday = opening(
        2, "09:00", "09:30", valid_from=date(2026, 3, 4), valid_until=date(2026, 3, 18)
    )
    result = slots(openings=[wednesday], start=date(2026, 2, 23), days=35)
    assert sorted(day_clocks(result)) == [date(2026, 3, 4), date(2026, 3, 11), date(2026, 3, 18)]


def test_it_offers_nothing_in_an_opening_that_does_not_list_the_motive():
    other = opening(0, "09:00", "10:00", motives={2, 3})
    assert slots(openings=[other]) == []
    both = opening(0, "10:00", "11:00", motives={1, 2})
    assert clocks(slots(openings=[other, both])) == ["10:00", "10:30"]


def test_an_absence_spanning_several_days_removes_every_slot_it_covers():
    openings = [opening(day, "09:00", "12:00") for day in range(5)]
    holiday = Interval(
        at(MONDAY + timedelta(days=1), "10:00"), at(MONDAY + timedelta(days=3), "11:00")
    )
    by_day = day_clocks(slots(openings=openings, absences=[holiday], days=5))
    assert by_day[MONDAY + timedelta(days=1)] == ["09:00", "09:30"]
    assert MONDAY + timedelta(days=2) not in by_day
    assert by_day[MONDAY + timedelta(days=3)] == ["11:00", "11:30"]
    assert len(by_day[MONDAY]) == len(by_day[MONDAY + timedelta(days=4)]) == 6


def test_intervals_are_half_open():
    absence = Interval(at(MONDAY, "09:30"), at(MONDAY, "10:00"))
    booked = Interval(at(MONDAY, "10:30"), at(MONDAY, "11:00"))
    result = slots(openings=[opening(0, "09:00", "11:30")], absences=[absence], busy=[booked])
    assert clocks(result) == ["09:00", "10:00", "11:00"]


def test_a_busy_interval_partly_overlapping_a_slot_blocks_it():
    booked = Interval(at(MONDAY, "09:40"), at(MONDAY, "09:50"))
    result = slots(openings=[opening(0, "09:00", "11:00")], busy=[booked], step=minutes(10))
    assert "09:10" in clocks(result)  # ends at 09:40
    assert not {"09:20", "09:30", "09:40"} & set(clocks(result))
    assert "09:50" in clocks(result)


def test_capacity_six_stays_open_with_five_booked_and_closes_with_six():
    morning = [opening(0, "09:00", "10:00")]
    five = [Interval(at(MONDAY, "09:00"), at(MONDAY, "09:30"), count=5)]
    result = slots(openings=morning, busy=five, capacity=6)
    assert [(c, s.remaining) for c, s in zip(clocks(result), result, strict=True)] == [
        ("09:00", 1),
        ("09:30", 6),
    ]
    six = [*five, Interval(at(MONDAY, "09:10"), at(MONDAY, "09:20"))]
    assert clocks(slots(openings=morning, busy=six, capacity=6)) == ["09:30"]


def test_remaining_is_capacity_minus_the_peak_of_concurrent_bookings():
    # Two bookings of 3 that overlap only during 09:15-09:30: peak 6 there, 3 elsewhere.
    busy = [
        Interval(at(MONDAY, "09:00"), at(MONDAY, "09:30"), count=3),
        Interval(at(MONDAY, "09:15"), at(MONDAY, "09:45"), count=3),
        Interval(at(MONDAY, "10:15"), at(MONDAY, "10:20")),
        Interval(at(MONDAY, "10:20"), at(MONDAY, "10:30")),
    ]
    result = slots(openings=[opening(0, "09:00", "11:00")], busy=busy, capacity=7, step=minutes(15))
    assert [(c, s.remaining) for c, s in zip(clocks(result), result, strict=True)] == [
        ("09:00", 1),
        ("09:15", 1),
        ("09:30", 4),
        ("09:45", 7),
        ("10:00", 6),  # back-to-back bookings of 1 never overlap
        ("10:15", 6),
        ("10:30", 7),
    ]
    full = slots(openings=[opening(0, "09:00", "11:00")], busy=busy, capacity=6, step=minutes(15))
    assert clocks(full) == ["09:30", "09:45", "10:00", "10:15", "10:30"]


def test_min_notice_and_max_advance_bound_the_slot_start():
    openings = [opening(day, "09:00", "12:00") for day in range(7)]
    now = at(MONDAY, "09:10")
    motive = MotiveRule(id=1, duration=minutes(30), min_notice=timedelta(hours=2))
    assert clocks(slots(openings=openings, motive=motive, now=now)) == ["11:30"]
    motive = MotiveRule(id=1, duration=minutes(30), max_advance=timedelta(days=1))
    by_day = day_clocks(slots(openings=openings, motive=motive, now=now, days=7))
    assert by_day == {
        MONDAY: ["09:30", "10:00", "10:30", "11:00", "11:30"],
        MONDAY + timedelta(days=1): ["09:00"],
    }


def test_the_booking_window_bounds_are_inclusive():
    now = at(MONDAY, "09:00")
    motive = MotiveRule(id=1, duration=minutes(30), min_notice=minutes(30), max_advance=minutes(60))
    assert clocks(slots(openings=[opening(0, "09:00", "12:00")], motive=motive, now=now)) == [
        "09:30",
        "10:00",
    ]


def test_it_never_offers_a_slot_starting_before_now_even_with_a_negative_notice():
    motive = MotiveRule(id=1, duration=minutes(30), min_notice=-timedelta(hours=1))
    now = at(MONDAY, "10:05")
    assert clocks(slots(openings=[opening(0, "09:00", "12:00")], motive=motive, now=now)) == [
        "10:30",
        "11:00",
        "11:30",
    ]


def test_now_in_the_middle_of_a_day_keeps_the_slot_starting_exactly_now():
    now = at(MONDAY, "10:00").astimezone(UTC)
    result = slots(
        openings=[opening(0, "09:00", "12:00"), opening(1, "09:00", "10:00")], days=2, now=now
    )
    assert day_clocks(result) == {
        MONDAY: ["10:00", "10:30", "11:00", "11:30"],
        MONDAY + timedelta(days=1): ["09:00", "09:30"],
    }


def test_limit_returns_the_first_slots_and_first_slot_the_next_availability():
    openings = [opening(day, "09:00", "12:00") for day in range(5)]
    busy = [Interval(at(MONDAY, "09:00"), at(MONDAY, "12:00"))]
    everything = slots(openings=openings, busy=busy, days=5)
    assert slots(openings=openings, busy=busy, days=5, limit=3) == everything[:3]
    assert slots(openings=openings, busy=busy, days=5, limit=0) == []
    assert slots(openings=openings, busy=busy, days=5, limit=1000) == everything
    kwargs = {
        "openings": openings,
        "absences": [],
        "busy": busy,
        "motive": M30,
        "capacity": 1,
        "start": MONDAY,
        "days": 5,
        "zone": PARIS,
        "now": LONG_AGO,
    }
    nxt = first_slot(**kwargs)
    assert nxt == everything[0]
    assert nxt.start == at(MONDAY + timedelta(days=1), "09:00")
    assert first_slot(**{**kwargs, "days": 1}) is None


def test_zero_days_gives_no_slot():
    assert slots(openings=[opening(0, "09:00", "12:00")], days=0) == []


def test_slots_are_expressed_in_the_agenda_zone_and_are_plain_frozen_values():
    (first, *_) = slots(openings=[opening(0, "09:00", "12:00")], now=LONG_AGO.astimezone(REUNION))
    assert first.start.tzinfo is PARIS and first.end.tzinfo is PARIS
    assert first == Slot(at(MONDAY, "09:00"), at(MONDAY, "09:30"), 1)
    assert hash(first) == hash(Slot(at(MONDAY, "09:00"), at(MONDAY, "09:30"), 1))
    with pytest.raises(FrozenInstanceError):
        first.remaining = 2  # type: ignore[misc]


@pytest.mark.parametrize("sunday", [date(2026, 3, 29), date(2026, 10, 25)])
def test_dst_days_in_paris_keep_the_wall_clock_slots_of_an_ordinary_sunday(sunday):
    sunday_morning = opening(6, "09:00", "12:00")
    result = slots(openings=[sunday_morning], start=sunday - timedelta(days=14), days=22)
    by_day = day_clocks(result)
    expected = ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]
    for offset in (-14, -7, 0, 7):
        assert by_day[sunday + timedelta(days=offset)] == expected
    assert all(real_duration(s) == minutes(30) for s in result)
    on_the_day = [s for s in result if s.start.date() == sunday]
    assert on_the_day[0].start.astimezone(UTC).time() == (
        time(7, 0) if sunday.month == 3 else time(8, 0)
    )


def test_an_opening_across_the_spring_forward_gap_lasts_its_real_duration():
    # 01:00-04:00 on 2026-03-29 in Paris is two real hours: 02:00-03:00 does not exist.
    result = slots(openings=[opening(6, "01:00", "04:00")], start=date(2026, 3, 29))
    assert clocks(result) == ["01:00", "01:30", "03:00", "03:30"]
    assert all(real_duration(s) == minutes(30) for s in result)
    assert result[1].end == at(date(2026, 3, 29), "03:00")


def test_a_wall_clock_time_in_the_gap_maps_to_the_instant_just_after_it():
    result = slots(openings=[opening(6, "02:30", "04:00")], start=date(2026, 3, 29))
    assert clocks(result) == ["03:30"]  # 02:30 is read as 01:30 UTC = 03:30 CEST
    assert result[0].start.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_an_opening_across_the_fall_back_hour_repeats_the_ambiguous_clock_times():
    # 01:00-04:00 on 2026-10-25 in Paris is four real hours; 02:00-03:00 happens twice.
    result = slots(openings=[opening(6, "01:00", "04:00")], start=date(2026, 10, 25))
    assert clocks(result) == [
        "01:00",
        "01:30",
        "02:00",
        "02:30",
        "02:00",
        "02:30",
        "03:00",
        "03:30",
    ]
    assert [s.start.fold for s in result] == [0, 0, 0, 0, 1, 1, 0, 0]
    assert [s.start.utcoffset() for s in result] == [timedelta(hours=2)] * 4 + [
        timedelta(hours=1)
    ] * 4
    assert all(real_duration(s) == minutes(30) for s in result)


def test_an_ambiguous_opening_start_takes_its_first_occurrence():
    result = slots(openings=[opening(6, "02:30", "03:00")], start=date(2026, 10, 25))
    # 02:30 CEST (00:30 UTC) to 03:00 CET (02:00 UTC): 90 real minutes.
    assert [s.start.astimezone(UTC).time() for s in result] == [
        time(0, 30),
        time(1, 0),
        time(1, 30),
    ]


@pytest.mark.parametrize(("zone", "utc_hour"), [(REUNION, 4), (CAYENNE, 11), (MARTINIQUE, 12)])
def test_overseas_zones_use_their_own_wall_clock(zone, utc_hour):
    result = slots(openings=[opening(0, "08:00", "09:00")], zone=zone)
    assert clocks(result) == ["08:00", "08:30"]
    assert result[0].start.tzinfo is zone
    assert result[0].start.astimezone(UTC) == datetime(2026, 3, 2, utc_hour, tzinfo=UTC)


def test_sub_second_intervals_are_handled_exactly():
    booked = Interval(at(MONDAY, "09:00"), at(MONDAY, "09:30") + timedelta(microseconds=1))
    assert clocks(slots(openings=[opening(0, "09:00", "11:00")], busy=[booked])) == [
        "10:00",
        "10:30",
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"capacity": 0}, "capacity"),
        ({"days": -1}, "days"),
        ({"step": timedelta(0)}, "step"),
        ({"step": -minutes(5)}, "step"),
        ({"motive": MotiveRule(id=1, duration=timedelta(0))}, "duration"),
        ({"limit": -1}, "limit"),
        ({"now": datetime(2026, 3, 2, 9, 0)}, "now"),
        ({"absences": [Interval(datetime(2026, 3, 2, 9), datetime(2026, 3, 2, 10))]}, "absence"),
        ({"busy": [Interval(at(MONDAY, "09:00"), datetime(2026, 3, 2, 10))]}, "busy"),
        ({"busy": [Interval(at(MONDAY, "10:00"), at(MONDAY, "09:00"))]}, "busy"),
        ({"busy": [Interval(at(MONDAY, "09:00"), at(MONDAY, "10:00"), count=0)]}, "count"),
        ({"openings": [opening(0, "10:00", "09:00")]}, "opening"),
        ({"openings": [opening(7, "09:00", "10:00")]}, "weekday"),
        ({"openings": [opening(0, "09:00", "10:00", every_weeks=0)]}, "every_weeks"),
    ],
)
def test_bad_input_raises_a_clear_value_error(change, message):
    params = {"openings": [opening(0, "09:00", "12:00")], **change}
    with pytest.raises(ValueError, match=message):
        slots(**params)


# --------------------------------------------------------------------------------------
# Reference implementation: deliberately naive, obviously correct, slow
# --------------------------------------------------------------------------------------


def occurs(op: Opening, day: date) -> bool:
    if day.weekday() != op.weekday or day < op.valid_from:
        return False
    if op.valid_until is not None and day > op.valid_until:
        return False
    monday_of_first_week = op.valid_from - timedelta(days=op.valid_from.weekday())
    weeks = (day - monday_of_first_week).days // 7
    return weeks % op.every_weeks == 0


def in_utc(intervals: list[Interval]) -> list[Interval]:
    # Aware datetimes sharing a ZoneInfo compare by wall clock (fold ignored), so the
    # reference compares everything in UTC.
    return [
        Interval(iv.start.astimezone(UTC), iv.end.astimezone(UTC), iv.count) for iv in intervals
    ]


def overlaps(start: datetime, end: datetime, iv: Interval) -> bool:
    return iv.start < end and start < iv.end


def busy_level(busy: list[Interval], instant: datetime) -> int:
    return sum(iv.count for iv in busy if iv.start <= instant < iv.end)


def peak_busy(busy: list[Interval], start: datetime, end: datetime) -> int:
    # The level only rises where an interval starts, so its maximum over [start, end)
    # is reached at `start` or at an interval start inside the slot.
    instants = [start] + [iv.start for iv in busy if start < iv.start < end]
    return max(busy_level(busy, t) for t in instants)


def opening_grid(op: Opening, day: date, zone: ZoneInfo, duration: timedelta, step: timedelta):
    """(start, end) in UTC of every grid slot fitting in the opening on that day."""
    open_start = datetime.combine(day, op.start, tzinfo=zone).astimezone(UTC)
    open_end = datetime.combine(day, op.end, tzinfo=zone).astimezone(UTC)
    start = open_start
    while start + duration <= open_end:
        yield start, start + duration
        start += step


def in_window(start: datetime, motive: MotiveRule, now: datetime) -> bool:
    if start < now or start < now + motive.min_notice:
        return False
    return motive.max_advance is None or start <= now + motive.max_advance


def candidate_slots(*, openings, absences, motive, start, days, zone, now, step=None, **_):
    """Every grid slot of an occurring opening that allows the motive, inside the
    booking window and clear of absences (capacity not yet considered)."""
    step = step or motive.duration
    now = now.astimezone(UTC)
    absences = in_utc(absences)
    found = set()
    for offset in range(days):
        day = start + timedelta(days=offset)
        for op in openings:
            if not occurs(op, day) or motive.id not in op.motive_ids:
                continue
            for slot_start, slot_end in opening_grid(op, day, zone, motive.duration, step):
                if not in_window(slot_start, motive, now):
                    continue
                if any(overlaps(slot_start, slot_end, a) for a in absences):
                    continue
                found.add((slot_start, slot_end))
    return sorted(found)


def reference_slots(*, busy, capacity, limit=None, **kwargs) -> list[tuple]:
    """(start UTC, end UTC, remaining) of every bookable slot, in order."""
    busy = in_utc(busy)
    result = []
    for slot_start, slot_end in candidate_slots(**kwargs):
        peak = peak_busy(busy, slot_start, slot_end)
        if peak < capacity:
            result.append((slot_start, slot_end, capacity - peak))
    return result if limit is None else result[:limit]


def as_utc(result: list[Slot]) -> list[tuple]:
    return [(s.start.astimezone(UTC), s.end.astimezone(UTC), s.remaining) for s in result]


# --------------------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------------------

ZONES = [PARIS, REUNION, MARTINIQUE]
DURATIONS = [minutes(n) for n in (10, 15, 20, 30, 45)]


def last_sunday(year: int, month: int) -> date:
    day = date(year, month + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() - 6) % 7)


DST_SUNDAYS = [last_sunday(y, m) for y in range(2024, 2036) for m in (3, 10)]

start_dates = st.one_of(
    st.dates(min_value=date(2024, 1, 1), max_value=date(2035, 12, 1)),
    # Around the Paris DST changes, where wall clock and instants disagree.
    st.builds(
        lambda sunday, back: sunday - timedelta(days=back),
        st.sampled_from(DST_SUNDAYS),
        st.integers(0, 6),
    ),
)


@st.composite
def wall_times(draw) -> tuple[time, time]:
    # 5-minute boundaries, with extra weight on the night hours where DST changes.
    start_min = draw(st.one_of(st.integers(0, 287), st.integers(0, 48))) * 5
    end_min = min(start_min + draw(st.integers(1, 60)) * 5, 24 * 60 - 1)
    return time(*divmod(start_min, 60)), time(*divmod(end_min, 60))


@st.composite
def openings_for(draw, first_day: date, days: int) -> Opening:
    start, end = draw(wall_times())
    valid_from = first_day + timedelta(days=draw(st.integers(-20, 4)))
    valid_until = draw(
        st.one_of(
            st.none(), st.none(), st.integers(0, 30).map(lambda n: valid_from + timedelta(days=n))
        )
    )
    return Opening(
        # Mostly a weekday that the date range contains.
        weekday=draw(
            st.integers(0, max(days - 1, 0)).map(lambda n: (first_day.weekday() + n) % 7)
            | st.integers(0, 6)
        ),
        start=start,
        end=end,
        motive_ids=draw(st.sampled_from([{1}, {1}, {1, 2}, {2}]).map(frozenset)),
        valid_from=valid_from,
        valid_until=valid_until,
        every_weeks=draw(st.sampled_from([1, 1, 1, 2, 3])),
    )


@st.composite
def intervals_near(draw, first_day: date, zone: ZoneInfo, days: int, max_count: int):
    # Anchored on local days of the range, at the same kind of wall times as openings,
    # so that intervals actually meet the slots.
    day = first_day + timedelta(days=draw(st.integers(-1, max(days, 1))))
    offset = draw(st.one_of(st.integers(0, 24 * 60), st.integers(0, 5 * 60)))
    length = draw(st.one_of(st.integers(1, 120), st.integers(1, 3 * 24 * 60)))
    jitter = draw(st.sampled_from([0, 0, 0, 0, 1, 30, -1]))  # seconds off the minute
    midnight = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    start = midnight + timedelta(minutes=offset, seconds=jitter)
    end = start + timedelta(minutes=length)
    tz = draw(st.sampled_from([UTC, zone]))
    return Interval(start.astimezone(tz), end.astimezone(tz), count=draw(st.integers(1, max_count)))


@st.composite
def intervals_in(draw, openings: list[Opening], first_day: date, zone: ZoneInfo, days: int):
    # Starting inside (or just before) an opening on a day of the range, to exercise
    # partial overlaps and capacity.
    op = draw(st.sampled_from(openings))
    day = first_day + timedelta(days=draw(st.integers(0, days - 1)))
    open_start = datetime.combine(day, op.start, tzinfo=zone).astimezone(UTC)
    start = open_start + timedelta(minutes=draw(st.integers(-30, 300)))
    end = start + timedelta(minutes=draw(st.integers(1, 90)))
    return Interval(start, end, count=draw(st.integers(1, 3)))


@st.composite
def scenarios(draw, max_days: int = 9) -> dict:
    zone = draw(st.sampled_from(ZONES))
    start = draw(start_dates)
    days = draw(st.integers(1, max_days))  # days=0 has its own example test
    origin = datetime.combine(start, time(0), tzinfo=UTC)
    max_advance = draw(st.one_of(st.none(), st.none(), st.integers(0, 12 * 24 * 60).map(minutes)))
    motive = MotiveRule(
        id=1,
        duration=draw(st.sampled_from(DURATIONS)),
        min_notice=draw(st.sampled_from([0, 0, 30, 120, 24 * 60]).map(minutes)),
        max_advance=max_advance,
    )
    now = origin + timedelta(
        minutes=draw(st.integers(-3 * 24 * 60, 0) | st.integers(0, days * 24 * 60))
    )
    openings = draw(st.lists(openings_for(start, days), min_size=1, max_size=5))
    busy = intervals_near(start, zone, days, 3) | intervals_in(openings, start, zone, days)
    return {
        "openings": openings,
        "absences": draw(st.lists(intervals_near(start, zone, days, 1), max_size=3)),
        "busy": draw(st.lists(busy, max_size=12)),
        "motive": motive,
        "capacity": draw(st.just(1) | st.integers(2, 6)),
        "start": start,
        "days": days,
        "zone": zone,
        "now": now.astimezone(draw(st.sampled_from([UTC, zone]))),
        "step": draw(st.none() | st.sampled_from([5, 10, 15, 30]).map(minutes)),
    }


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------


@PROPERTY
@given(scenarios())
def test_no_slot_ever_overlaps_an_absence(scenario):
    absences = in_utc(scenario["absences"])
    for start, end, _ in as_utc(compute_slots(**scenario)):
        assert not any(overlaps(start, end, a) for a in absences)


@PROPERTY
@given(scenarios())
def test_with_capacity_one_no_slot_overlaps_a_busy_interval(scenario):
    scenario["capacity"] = 1
    busy = in_utc(scenario["busy"])
    for start, end, remaining in as_utc(compute_slots(**scenario)):
        assert remaining == 1
        assert not any(overlaps(start, end, b) for b in busy)


@PROPERTY
@given(scenarios())
def test_every_slot_lies_on_the_grid_of_an_occurring_opening_allowing_the_motive(scenario):
    motive, zone = scenario["motive"], scenario["zone"]
    step = scenario["step"] or motive.duration
    for s in compute_slots(**scenario):
        start, end = s.start.astimezone(UTC), s.end.astimezone(UTC)
        assert end - start == motive.duration
        homes = []
        for offset in range(scenario["days"]):
            day = scenario["start"] + timedelta(days=offset)
            for op in scenario["openings"]:
                if occurs(op, day) and motive.id in op.motive_ids:
                    open_start = datetime.combine(day, op.start, tzinfo=zone).astimezone(UTC)
                    open_end = datetime.combine(day, op.end, tzinfo=zone).astimezone(UTC)
                    if open_start <= start and end <= open_end:
                        homes.append((start - open_start) % step == timedelta(0))
        assert any(homes), f"{s} is in no opening or off every grid"


@PROPERTY
@given(scenarios())
def test_a_slot_is_offered_iff_fewer_than_capacity_are_booked_at_every_instant(scenario):
    offered = {s.start.astimezone(UTC): s.remaining for s in compute_slots(**scenario)}
    busy = in_utc(scenario["busy"])
    for start, end in candidate_slots(**scenario):
        peak = peak_busy(busy, start, end)
        if peak < scenario["capacity"]:
            assert offered.pop(start) == scenario["capacity"] - peak
        else:
            assert start not in offered
    assert offered == {}, "offered slots that are not even candidates"


@PROPERTY
@given(scenarios())
def test_every_slot_respects_the_booking_window(scenario):
    motive, now = scenario["motive"], scenario["now"].astimezone(UTC)
    for start, _, _ in as_utc(compute_slots(**scenario)):
        assert start >= now
        assert start >= now + motive.min_notice
        if motive.max_advance is not None:
            assert start <= now + motive.max_advance


@PROPERTY
@given(scenarios())
def test_output_is_sorted_unique_and_expressed_in_the_zone(scenario):
    result = compute_slots(**scenario)
    instants = [s.start.astimezone(UTC) for s in result]
    assert instants == sorted(set(instants))
    for s in result:
        assert s.start.tzinfo is scenario["zone"] and s.end.tzinfo is scenario["zone"]
        assert 1 <= s.remaining <= scenario["capacity"]
        # Local fields (fold included) are those of the instant in the zone.
        for dt in (s.start, s.end):
            expected = dt.astimezone(UTC).astimezone(scenario["zone"])
            assert (dt.replace(tzinfo=None), dt.fold) == (
                expected.replace(tzinfo=None),
                expected.fold,
            )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.none() | st.integers(0, 8))
def test_engine_equals_the_naive_reference(scenario, limit):
    assert as_utc(compute_slots(**scenario, limit=limit)) == reference_slots(
        **scenario, limit=limit
    )


@PROPERTY
@given(scenarios(), st.integers(0, 6))
def test_limit_is_a_prefix_and_first_slot_is_the_head(scenario, limit):
    everything = as_utc(compute_slots(**scenario))
    assert as_utc(compute_slots(**scenario, limit=limit)) == everything[:limit]
    head = first_slot(**scenario)
    assert (as_utc([head]) if head else []) == everything[:1]


@settings(max_examples=100, deadline=None)
@given(
    year=st.integers(2024, 2035),
    month=st.sampled_from([3, 10]),
    start_min=st.integers(6 * 12, 21 * 12).map(lambda n: n * 5),
    length=st.integers(1, 48).map(lambda n: n * 5),
    duration=st.sampled_from(DURATIONS),
    step=st.none() | st.sampled_from([5, 10, 15, 30]).map(minutes),
)
def test_dst_sundays_in_paris_give_the_wall_clock_slots_of_the_sunday_before(
    year, month, start_min, length, duration, step
):
    end_min = min(start_min + length, 22 * 60)
    sunday_opening = Opening(
        weekday=6,
        start=time(*divmod(start_min, 60)),
        end=time(*divmod(end_min, 60)),
        motive_ids=frozenset({1}),
        valid_from=date(2020, 1, 1),
    )
    change_day = last_sunday(year, month)
    result = slots(
        openings=[sunday_opening],
        motive=MotiveRule(id=1, duration=duration),
        step=step,
        start=change_day - timedelta(days=7),
        days=8,
    )
    walls: dict[date, list[tuple[time, time]]] = {}
    for s in result:
        assert real_duration(s) == duration
        walls.setdefault(s.start.date(), []).append((s.start.time(), s.end.time()))
    assert walls.get(change_day) == walls.get(change_day - timedelta(days=7))
