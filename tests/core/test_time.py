"""core.time: dates and instants read from what people send, bounded; one rule for clock
changes; helpers that saturate instead of overflowing."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from consulto.core.errors import InvalidInput
from consulto.core.time import (
    NonexistentTime,
    local_midnight,
    parse_date,
    parse_instant,
    parse_wall,
    shift_date,
    shift_instant,
    wall_to_instant,
)
from consulto.scheduling.selectors import utc_span

PARIS = ZoneInfo("Europe/Paris")
SANTIAGO = ZoneInfo("America/Santiago")  # its clocks change at midnight


@pytest.mark.parametrize(
    "text", ["2026-02-30", "0000-01-01", "0001-01-01", "9999-12-31", "2026-1-1", "a\x00b", "", None]
)
def test_a_date_that_cannot_be_or_is_out_of_range_is_not_read(text):
    assert parse_date(text) is None


def test_a_plausible_date_is_read():
    assert parse_date("2026-12-14") == date(2026, 12, 14)
    assert parse_date("1900-01-01") == date(1900, 1, 1)
    assert parse_date("2100-12-31") == date(2100, 12, 31)


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-14T09:00:00+99:00",  # an offset of four days
        "2026-02-30T09:00:00+01:00",
        "0001-01-01T00:00:00.0Z",
        "9999-12-31T23:59:59+00:00",
        "2026-12-14T09:00:00",  # no offset: which instant?
        "2026-12-14",
        "x" * 10_000,
        "2026-12-14T09:00:00\x00+01:00",
    ],
)
def test_an_instant_that_cannot_be_is_not_read(text):
    assert parse_instant(text) is None


def test_an_instant_keeps_its_offset():
    moment = parse_instant("2026-12-14T09:00:00+01:00")
    assert moment == datetime(2026, 12, 14, 8, tzinfo=UTC)
    assert parse_instant("2026-12-14T08:00:00Z") == moment


def test_a_calendar_wall_time_drops_its_z():
    assert parse_wall("2026-12-14T09:30:00Z") == datetime(2026, 12, 14, 9, 30)
    assert parse_wall("9999-12-31T09:30:00Z") is None


def test_a_time_skipped_in_spring_is_refused_with_a_french_message():
    with translation.override("fr"), pytest.raises(NonexistentTime) as refused:
        wall_to_instant(date(2027, 3, 28), time(2, 30), PARIS, field="time")
    assert refused.value.field == "time"
    assert str(refused.value.message) == (
        "02:30 n’existe pas le 28 mars 2027 : on avance l’heure cette nuit-là. "
        "Choisissez une heure avant ou après le changement."
    )


def test_the_times_around_the_spring_gap_exist():
    assert wall_to_instant(date(2027, 3, 28), time(1, 59), PARIS) == datetime(
        2027, 3, 28, 0, 59, tzinfo=UTC
    )
    assert wall_to_instant(date(2027, 3, 28), time(3, 0), PARIS) == datetime(
        2027, 3, 28, 1, 0, tzinfo=UTC
    )


def test_a_time_that_occurs_twice_in_autumn_is_its_first_occurrence():
    # 02:30 comes first on summer time (UTC+2), then again an hour later on winter time.
    first = wall_to_instant(date(2027, 10, 31), time(2, 30), PARIS)
    assert first == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)
    # Even when the time says it means the second one: one rule, whatever the caller passes.
    assert wall_to_instant(date(2027, 10, 31), time(2, 30, fold=1), PARIS) == first


def test_a_midnight_skipped_by_the_clocks_starts_the_day_after_the_gap():
    # Chile moves from -04 to -03 at midnight on the first Sunday of September.
    with pytest.raises(NonexistentTime):
        wall_to_instant(date(2026, 9, 6), time(0, 0), SANTIAGO)
    assert local_midnight(date(2026, 9, 6), SANTIAGO) == datetime(2026, 9, 6, 4, tzinfo=UTC)


def test_a_date_out_of_range_is_refused_as_input():
    with pytest.raises(InvalidInput):
        wall_to_instant(date(9999, 12, 31), time(23, 59), PARIS)
    with pytest.raises(InvalidInput):
        wall_to_instant(date(1, 1, 1), time(0, 0), PARIS)


def test_the_helpers_saturate_at_the_ends_of_the_datetime_range():
    assert local_midnight(date.min, PARIS) == datetime.min.replace(tzinfo=UTC)
    assert shift_date(date.max, 3) == date.max
    assert shift_date(date.min, -3) == date.min
    assert shift_instant(
        datetime.max.replace(tzinfo=UTC), timedelta(days=2)
    ) == datetime.max.replace(tzinfo=UTC)
    low, high = utc_span(date.min, 7)
    # 7 days and 15 hours each side (every zone's local dates), from datetime's first instant
    assert low == datetime.min.replace(tzinfo=UTC)
    assert high == datetime(1, 1, 9, 6, tzinfo=UTC)
    low, high = utc_span(date.max, 7)
    assert high == datetime.max.replace(tzinfo=UTC)
