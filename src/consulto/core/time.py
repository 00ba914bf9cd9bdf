"""Aware-time helpers: every datetime in Consulto carries a zone.

This is also the one place where what people send becomes a date or an instant:

* ``parse_date`` and ``parse_instant`` read ISO text and refuse what cannot be (2026-02-30, an
  offset of +99:00) as well as dates outside ``FIRST_YEAR``..``LAST_YEAR``: no page needs a
  year 0001 or 9999, and keeping every date a few centuries away from ``date.min`` and
  ``date.max`` means no arithmetic on it (a week later, the day before in UTC) can overflow.
* ``wall_to_instant`` turns a local date and wall-clock time into an instant, with one rule for
  clock changes, used by every form and view that does so (absences, blocked periods, new
  appointments, moves): a time the clock skips in spring does not exist and is refused with a
  message; a time that occurs twice in autumn is read as its first occurrence (still on summer
  time, ``fold=0``), which is also how the slot engine places openings (scheduling/availability),
  so a time typed by staff is the slot patients are offered.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from .errors import InvalidInput

PARIS = ZoneInfo("Europe/Paris")

FIRST_YEAR = 1900
LAST_YEAR = 2100
EARLIEST = date(FIRST_YEAR, 1, 1)
LATEST = date(LAST_YEAR, 12, 31)
# Instants are checked in UTC with a day of margin, so that they exist in every zone too.
_EARLIEST_INSTANT = datetime.combine(EARLIEST, time(0), tzinfo=UTC) + timedelta(days=1)
_LATEST_INSTANT = datetime.combine(LATEST, time(0), tzinfo=UTC)
_MIN_UTC = datetime.min.replace(tzinfo=UTC)
_ISO_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)?"
)
_MAX_UTC = datetime.max.replace(tzinfo=UTC)


class NonexistentTime(InvalidInput):
    """A wall-clock time skipped when the clocks go forward."""

    code = "nonexistent_time"


def now() -> datetime:
    return timezone.now()


def require_aware(value: datetime, name: str = "datetime") -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value


# Reading dates and instants ---------------------------------------------------------------------


def is_plausible_date(day: date) -> bool:
    return EARLIEST <= day <= LATEST


def is_plausible_instant(moment: datetime) -> bool:
    return _EARLIEST_INSTANT <= require_aware(moment) <= _LATEST_INSTANT


def parse_date(text) -> date | None:
    """A plausible date written ``YYYY-MM-DD``; None for anything else."""
    if not isinstance(text, str) or len(text) != 10:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if is_plausible_date(day) else None


def parse_instant(text) -> datetime | None:
    """A plausible instant written in ISO 8601 with its UTC offset; None for anything else
    (no offset, an offset of a day or more, a date that does not exist, a year out of range)."""
    if not isinstance(text, str) or not _ISO_DATETIME.fullmatch(text.strip()):
        return None
    try:
        moment = parse_datetime(text.strip())
    except ValueError:
        return None
    if moment is None or moment.tzinfo is None or not is_plausible_instant(moment):
        return None
    return moment


def parse_wall(text) -> datetime | None:
    """A plausible wall-clock date and time (naive), from ISO text; an offset or a ``Z`` is
    ignored (the calendar writes local times that way)."""
    if not isinstance(text, str) or not _ISO_DATETIME.fullmatch(text.strip()):
        return None
    try:
        moment = parse_datetime(text.strip())
    except ValueError:
        return None
    if moment is None or not is_plausible_date(moment.date()):
        return None
    return moment.replace(tzinfo=None)


# Wall clock and instants ------------------------------------------------------------------------


def wall_to_instant(
    day: date, clock: time, zone: ZoneInfo, *, field: str | None = None
) -> datetime:
    """The instant of ``day`` at ``clock`` in ``zone``, as an aware datetime in UTC: a local time
    that occurs twice compares unequal to any datetime of another zone (PEP 495), so instants
    travel in UTC and are shown in the zone.

    Raises ``NonexistentTime`` for a time the clocks skip, and ``InvalidInput`` for a date out of
    the plausible range; an ambiguous time is its first occurrence (see the module docstring).
    """
    if not is_plausible_date(day):
        raise InvalidInput(
            _("Choose a date between %(first)s and %(last)s.")
            % {"first": FIRST_YEAR, "last": LAST_YEAR},
            field=field,
        )
    naive = datetime.combine(day, clock.replace(tzinfo=None, fold=0))
    local = naive.replace(tzinfo=zone)
    if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise NonexistentTime(
            _(
                "%(time)s does not exist on %(date)s: the clocks go forward that night. "
                "Choose a time before or after the change."
            )
            % {"time": clock.strftime("%H:%M"), "date": date_format(day, "j F Y")},
            field=field,
        )
    return local.astimezone(UTC)


def years_before(day: date, years: int) -> date:
    """The same day ``years`` earlier; 29 February becomes the 28th in a year without one."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of a local date, as an aware datetime in UTC (a midnight skipped by a
    clock change starts the day at the end of the gap). Saturates at the ends of datetime's
    range instead of overflowing."""
    try:
        return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    except OverflowError:
        return _MIN_UTC if day.year == date.min.year else _MAX_UTC


def shift_date(day: date, days: int) -> date:
    """``day`` plus ``days``, stopping at ``date.min`` and ``date.max``."""
    ordinal = min(max(day.toordinal() + days, 1), date.max.toordinal())
    return date.fromordinal(ordinal)


def shift_instant(moment: datetime, delta: timedelta) -> datetime:
    """``moment`` plus ``delta``, stopping at the ends of datetime's range."""
    try:
        return moment + delta
    except OverflowError:
        return _MIN_UTC if delta < timedelta(0) else _MAX_UTC
