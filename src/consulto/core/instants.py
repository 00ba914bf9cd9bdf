"""Instants read as integers straight from SQL, and written as wall-clock text.

A page that lists hundreds of appointments pays, per timestamp, the driver's parsing, Django's
converter and an aware ``datetime`` (on PostgreSQL about half of the agenda's week of events).
``EpochSeconds`` has the database hand over an integer instead, and ``WallClock`` turns it into
the local wall-clock text of one zone with integer arithmetic: the zone's offsets over the
period are looked up once, not once per instant.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Aggregate, BigIntegerField, Func, TextField, Value

_DAY = 86_400


class EpochSeconds(Func):
    """The whole seconds since 1970-01-01 UTC of a datetime column (fractions dropped)."""

    output_field = BigIntegerField()

    @property
    def convert_value(self):
        # The database already hands over an int: no converter called per row.
        return self._convert_value_noop

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="EXTRACT(EPOCH FROM DATE_TRUNC('second', %(expressions)s))::bigint",
            **extra,
        )

    def as_sqlite(self, compiler, connection, **extra):
        # Django stores an aware datetime as UTC text, 'YYYY-MM-DD HH:MM:SS[.ffffff]': the
        # fraction is cut off as text (SQLite would round it to the millisecond, possibly up to
        # the next second). The '%s' format is a parameter: a literal '%' in the SQL would be
        # read as a placeholder when the query has parameters, and not when it has none.
        sql, params = compiler.compile(self.source_expressions[0])
        return f"CAST(STRFTIME(%s, SUBSTR({sql}, 1, 19)) AS INTEGER)", ("%s", *params)


class EpochMicroseconds(Func):
    """The microseconds since 1970-01-01 UTC of a datetime column, exactly (NULL stays NULL)."""

    output_field = BigIntegerField()
    arity = 1

    @property
    def convert_value(self):
        return self._convert_value_noop

    def as_postgresql(self, compiler, connection, **extra):
        # EXTRACT gives an exact numeric on PostgreSQL 14+.
        template = "(EXTRACT(EPOCH FROM %(expressions)s) * 1000000)::bigint"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        # Whole seconds of the first 19 characters, then the six digits of the fraction when
        # there is one ('YYYY-MM-DD HH:MM:SS.ffffff'). '%s' goes as a parameter (see above).
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            f"(CAST(STRFTIME(%s, SUBSTR({sql}, 1, 19)) AS INTEGER) * 1000000"
            f" + CAST(COALESCE(NULLIF(SUBSTR({sql}, 21, 6), ''), '0') AS INTEGER))"
        ), ("%s", *params, *params)


class Integer(Value):
    """A constant integer column (``Value(n, IntegerField())``) without Django's per-row
    ``int()`` converter: a read of thousands of rows with one applies no converter at all."""

    def __init__(self, value: int | None):
        super().__init__(value, output_field=BigIntegerField())

    @property
    def convert_value(self):
        return self._convert_value_noop


class IdList(Aggregate):
    """The ids of a group as one comma-separated text (``"3,17,42"``): a one-to-many read in
    one row per parent instead of one row per pair (whose other columns would be repeated)."""

    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra):
        template = "string_agg(%(expressions)s::text, ',')"
        return super().as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(
            compiler, connection, template="group_concat(%(expressions)s)", **extra
        )


def epoch(value: datetime) -> int:
    """The whole epoch seconds of an aware datetime (as ``EpochSeconds`` reads it)."""
    return int((value - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(seconds=1))


def _offset(zone: ZoneInfo, seconds: int) -> int:
    return int(datetime.fromtimestamp(seconds, UTC).astimezone(zone).utcoffset().total_seconds())


class WallClock:
    """Epoch seconds to the wall-clock time of ``zone``; fast over [low, high] (epoch seconds),
    exact everywhere.

    The offsets are sampled once a day over the period and each change is found to the second
    by bisection: a zone changes its offset at most once a day.
    """

    def __init__(self, zone: ZoneInfo, low: int, high: int):
        low, high = low - _DAY, high + _DAY
        self._zone, self._low, self._high = zone, low, high
        self._starts = [low]
        self._offsets = [_offset(zone, low)]
        sample = low
        while sample < high:
            following = min(sample + _DAY, high)
            after = _offset(zone, following)
            if after != self._offsets[-1]:
                before_change, changed = sample, following
                while changed - before_change > 1:
                    middle = (before_change + changed) // 2
                    if _offset(zone, middle) == after:
                        changed = middle
                    else:
                        before_change = middle
                self._starts.append(changed)
                self._offsets.append(after)
            sample = following
        self._single = self._offsets[0] if len(self._offsets) == 1 else None
        self._days: dict[int, str] = {}

    def local(self, seconds: int) -> int:
        """The local wall clock of the instant, as epoch seconds of a UTC clock."""
        if not self._low <= seconds <= self._high:
            return seconds + _offset(self._zone, seconds)
        if self._single is not None:
            return seconds + self._single
        return seconds + self._offsets[bisect_right(self._starts, seconds) - 1]

    def minutes(self, seconds: int) -> str:
        """'2026-12-14T09:30' for the instant's local wall clock (seconds dropped)."""
        day, rest = divmod(self.local(seconds), _DAY)
        text = self._days.get(day)
        if text is None:
            text = self._days[day] = datetime.fromtimestamp(day * _DAY, UTC).strftime("%Y-%m-%dT")
        hours, minutes = divmod(rest // 60, 60)
        return f"{text}{hours:02d}:{minutes:02d}"
