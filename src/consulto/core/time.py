"""Aware-time helpers: every datetime in Consulto carries a zone."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from django.utils import timezone

PARIS = ZoneInfo("Europe/Paris")


def now() -> datetime:
    return timezone.now()


def require_aware(value: datetime, name: str = "datetime") -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of a local date, as an aware datetime in UTC."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


# The instants Consulto books, shows and accepts: outside them a date is an input error, never an
# OverflowError deep in date arithmetic (year 1 minus a day, year 9999 plus an hour).
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2101, 1, 1, tzinfo=UTC)


def in_range(value: datetime) -> bool:
    """Is this aware instant between ``EARLIEST`` and ``LATEST``?"""
    return EARLIEST <= value <= LATEST
