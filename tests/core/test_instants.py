"""Instants read as epoch seconds and written as wall-clock text (core/instants.py)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consulto.core.instants import EpochSeconds, WallClock, epoch
from consulto.scheduling.models import Absence

# Paris (clock changes at 01:00 UTC), Lord Howe (a half-hour change), Casablanca (two changes a
# few weeks apart around Ramadan), Nouméa and Cayenne (none), Chatham (+12:45/+13:45).
ZONES = [
    "Europe/Paris",
    "Australia/Lord_Howe",
    "Africa/Casablanca",
    "Pacific/Noumea",
    "America/Cayenne",
    "Pacific/Chatham",
]
FIRST = epoch(datetime(2020, 1, 1, tzinfo=UTC))
LAST = epoch(datetime(2035, 1, 1, tzinfo=UTC))


def _expected(zone: ZoneInfo, seconds: int) -> str:
    local = datetime.fromtimestamp(seconds, UTC).astimezone(zone)
    return local.replace(tzinfo=None).isoformat(timespec="minutes")


@given(
    zone=st.sampled_from(ZONES),
    low=st.integers(FIRST, LAST),
    days=st.integers(1, 42),
    instants=st.lists(st.integers(-3 * 86_400, 45 * 86_400), min_size=1, max_size=30),
)
def test_wall_clock_writes_what_astimezone_does(zone, low, days, instants):
    zone = ZoneInfo(zone)
    clock = WallClock(zone, low, low + days * 86_400)
    for offset in instants:
        seconds = low + offset  # inside the period, and a few days either side of it
        assert clock.minutes(seconds) == _expected(zone, seconds)


@pytest.mark.parametrize(
    "zone, around",
    [
        ("Europe/Paris", datetime(2027, 3, 28, 1, tzinfo=UTC)),  # spring forward
        ("Europe/Paris", datetime(2027, 10, 31, 1, tzinfo=UTC)),  # fall back
        ("Australia/Lord_Howe", datetime(2027, 4, 3, 15, tzinfo=UTC)),
    ],
)
def test_wall_clock_is_exact_to_the_second_at_a_clock_change(zone, around):
    zone = ZoneInfo(zone)
    centre = epoch(around)
    clock = WallClock(zone, centre - 3 * 86_400, centre + 3 * 86_400)
    for seconds in range(centre - 3_600, centre + 3_600, 1):
        assert clock.minutes(seconds) == _expected(zone, seconds)


@pytest.mark.django_db
def test_epoch_seconds_reads_a_column_as_whole_seconds_since_1970(world):
    start = datetime(2027, 3, 28, 1, 59, 59, 999_999, tzinfo=UTC)
    absence = Absence.objects.create(
        agenda=world.agenda, start=start, end=start + timedelta(hours=1, microseconds=2)
    )
    read = (
        Absence.objects.filter(pk=absence.pk)
        .values_list(EpochSeconds("start"), EpochSeconds("end"))
        .get()
    )
    # 01:59:59.999999 and 03:00:00.000001: fractions dropped, never rounded up.
    assert read == (epoch(start), epoch(start) + 3_601)
    assert epoch(start) == int(datetime(2027, 3, 28, 1, 59, 59, tzinfo=UTC).timestamp())


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 12, 9, 9, 15, tzinfo=UTC),
        datetime(2026, 12, 9, 9, 15, 0, 1, tzinfo=UTC),
        datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 0, 0, 500000, tzinfo=UTC),
    ],
)
@pytest.mark.django_db
def test_epoch_microseconds_reads_an_instant_exactly(world, moment):
    from consulto.core.instants import EpochMicroseconds

    absence = Absence.objects.create(
        agenda=world.agenda, start=moment, end=moment + timedelta(hours=1)
    )
    read = Absence.objects.filter(pk=absence.pk).values_list(
        EpochMicroseconds("start"), EpochMicroseconds("end")
    )
    expected = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    assert list(read) == [(expected, expected + 3_600_000_000)]
