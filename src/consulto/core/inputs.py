"""Reading what a request carries: ids, dates and text, each bounded before it goes anywhere.

A value a database column cannot hold (an id past 64 bits, a NUL byte in text, which PostgreSQL
refuses and SQLite stores) or that date arithmetic cannot take (year 9999) is refused here as
bad input (400, or a form error), never left to fail deeper as a server error.

* ``IdConverter`` is the ``<id:...>`` of every urls.py: ASCII digits that fit a signed 64-bit
  integer; anything else does not match, hence 404.
* ``parse_id`` and ``parse_ids`` read ids from query strings and forms; ``query_date`` reads
  a date parameter of a page (``BadRequest``, i.e. 400, for a value present but wrong).
* ``has_nul`` is used by ``core.middleware.RefuseNulBytes`` on what reaches every view.
"""

from __future__ import annotations

import re
from datetime import date

from django.core.exceptions import BadRequest

from .time import parse_date

MAX_ID = 2**63 - 1
_ID = re.compile(r"[0-9]{1,19}")


class IdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise ValueError("not an id")
        return number

    def to_url(self, value) -> str:
        return str(int(value))


def parse_id(value) -> int | None:
    """A positive id that fits the database, from text or an int; None for anything else
    (including Unicode digits such as "²" that ``str.isdigit`` accepts and ``int`` refuses)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 1 <= value <= MAX_ID else None
    if not isinstance(value, str) or not _ID.fullmatch(value.strip()):
        return None
    number = int(value.strip())
    return number if 1 <= number <= MAX_ID else None


def parse_ids(values, *, limit: int) -> list[int]:
    """The valid ids among ``values`` (texts, each possibly "1,2,3"), first ``limit`` of them."""
    if isinstance(values, str):
        values = [values]
    found = []
    for value in values:
        for part in str(value).split(","):
            number = parse_id(part)
            if number is not None and number not in found:
                found.append(number)
    return found[:limit]


def has_nul(text) -> bool:
    return isinstance(text, str) and "\x00" in text


def query_date(params, name: str, default: date | None = None) -> date | None:
    """The date in query parameter ``name`` (``YYYY-MM-DD``); ``default`` when it is absent or
    empty; 400 when it is not a plausible date."""
    raw = params.get(name, "")
    if not raw:
        return default
    found = parse_date(raw)
    if found is None:
        raise BadRequest(f"{name}: not a date")
    return found
