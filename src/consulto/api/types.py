"""Field types every API endpoint uses for what it reads, so that hostile input is refused with a
422 naming the field, before any query or date arithmetic, on SQLite and PostgreSQL alike.

- ``Id`` / ``BodyId``: a database id, 1 to 2**63 - 1 (beyond it SQLite and PostgreSQL raise an
  overflow instead of finding nothing). ``BodyId`` is strict: JSON ``"1"``, ``1.0`` or ``true``
  are not ids.
- ``Text``: a string without NUL (PostgreSQL cannot store one; nothing typed by a person has one).
- ``AwareDatetime``: an ISO 8601 string with its UTC offset (no number taken for a timestamp, no
  local time without offset), between ``core.time.FIRST_YEAR`` and ``LAST_YEAR``.
- ``Day``: a calendar date between the same bounds (``IsoDay`` in a body: only a YYYY-MM-DD
  string, never a number taken for a timestamp).
"""

import re
from datetime import date, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, Strict, WithJsonSchema

from consulto.core.time import FIRST_YEAR, LAST_YEAR, is_plausible_date, is_plausible_instant

MAX_ID = 2**63 - 1
# Real offsets run from -12:00 to +14:00; Python accepts up to a day.
MAX_OFFSET = timedelta(hours=14)
# YYYY-MM-DDTHH:MM[:SS[.ffffff]] then Z or ±HH:MM: what RFC 3339 calls a date-time.
ISO_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:\d{2})"
)


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("This text contains a NUL character, which is not allowed.")
    return value


def _parse_aware(value: object) -> datetime:
    example = "e.g. 2026-12-01T09:00:00+01:00"
    if not isinstance(value, str) or not ISO_DATETIME.fullmatch(value):
        raise ValueError(f"Give a date and time in ISO 8601 with its UTC offset, {example}.")
    text = value.upper().replace("Z", "+00:00")
    fraction = re.search(r"\.(\d+)", text)
    if fraction and len(fraction.group(1)) > 6:  # nanoseconds: Python keeps microseconds
        text = text.replace(fraction.group(0), "." + fraction.group(1)[:6])
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"This date or time does not exist, {example}.") from None
    offset = parsed.utcoffset()
    if offset is None or abs(offset) > MAX_OFFSET:
        raise ValueError(f"Give a real UTC offset, between -12:00 and +14:00, {example}.")
    if not is_plausible_instant(parsed):
        raise ValueError(f"Give a date between {FIRST_YEAR} and {LAST_YEAR}.")
    return parsed


def _parse_iso_day(value: object) -> date:
    if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
        raise ValueError("Give a date as YYYY-MM-DD, e.g. 1980-05-17.")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError("This date does not exist.") from None


def _day_in_range(value: date) -> date:
    if not is_plausible_date(value):
        raise ValueError(f"Give a date between {FIRST_YEAR} and {LAST_YEAR}.")
    return value


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
BodyId = Annotated[int, Strict(), Field(ge=1, le=MAX_ID)]
Text = Annotated[str, Strict(), AfterValidator(_no_nul)]
QueryText = Annotated[str, AfterValidator(_no_nul)]
AwareDatetime = Annotated[
    datetime,
    BeforeValidator(_parse_aware),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
Day = Annotated[date, AfterValidator(_day_in_range)]
IsoDay = Annotated[
    date,
    BeforeValidator(_parse_iso_day),
    AfterValidator(_day_in_range),
    WithJsonSchema({"type": "string", "format": "date"}),
]
