"""What a booking reads and locks inside its transaction, in plain SQL.

Every booking runs these (the API in a rush, the patient pages): written once as SQL, each
costs microseconds of Python where the ORM spends a fraction of a millisecond compiling its
query. They answer as the ORM queries they stand for (``tests/scheduling/test_booking_reads.py``
holds them to it on both databases). Datetimes go in and come out as the ORM passes them: UTC,
naive on SQLite, aware on PostgreSQL. Only table and column names of the models are written
into the SQL; every value is a parameter.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from functools import cache

from django.db import connection

from consulto.core import rows
from consulto.directory.models import Practitioner, Site

from .models import Absence, Agenda, Appointment, Motive, Opening, PatientProfile


def _name(name: str) -> str:
    return connection.ops.quote_name(name)


def _instant(value: datetime):
    return connection.ops.adapt_datetimefield_value(value)


def _aware(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo is not None else value.replace(tzinfo=UTC)


def motive_to_book(*, agenda_id: int, motive_id: int) -> Motive | None:
    """The motive ``motive_id`` of agenda ``agenda_id`` (active or not), with its agenda, the
    agenda's site and practitioner selected: what a booking request names."""
    motive, agenda = rows.columns(Motive, "m"), rows.columns(Agenda, "a")
    site, practitioner = rows.columns(Site, "s"), rows.columns(Practitioner, "p")
    sql = (
        f"SELECT {motive.sql}, {agenda.sql}, {site.sql}, {practitioner.sql}"  # noqa: S608
        f" FROM {_name(Motive._meta.db_table)} m"
        f" JOIN {_name(Agenda._meta.db_table)} a ON a.id = m.agenda_id"
        f" JOIN {_name(Site._meta.db_table)} s ON s.id = a.site_id"
        f" LEFT JOIN {_name(Practitioner._meta.db_table)} p ON p.id = a.practitioner_id"
        " WHERE m.id = %s AND m.agenda_id = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [motive_id, agenda_id])
        row = cursor.fetchone()
    if row is None:
        return None
    parts, at = [], 0
    for columns in (motive, agenda, site, practitioner):
        parts.append(columns.load(row[at : at + columns.count]))
        at += columns.count
    found, found.agenda = parts[0], parts[1]
    found.agenda.site, found.agenda.practitioner = parts[2], parts[3]
    return found


def lock_agenda(agenda_id: int) -> None:
    """Take the agenda's row lock for the rest of the transaction and bump the version that
    keys cached availability."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_name(Agenda._meta.db_table)} SET version = version + 1 WHERE id = %s",  # noqa: S608
            [agenda_id],
        )


def openings_allowing(
    *,
    agenda_id: int,
    motive_id: int,
    day: date,
    audience: frozenset[str],
    start: datetime,
    end: datetime,
) -> list[tuple[time, time, date, date | None, int, bool]]:
    """(start_time, end_time, valid_from, valid_until, every_weeks, absent) of the openings of
    ``day``'s weekday that allow the motive, that ``audience`` sees and that apply on ``day``;
    ``absent``: whether an absence of the agenda overlaps [start, end)."""
    visibilities = sorted(audience)
    sql = (
        "SELECT o.start_time, o.end_time, o.valid_from, o.valid_until, o.every_weeks,"  # noqa: S608
        f" EXISTS (SELECT 1 FROM {_name(Absence._meta.db_table)} a WHERE a.agenda_id = %s"
        f" AND a.{_name('start')} < %s AND a.{_name('end')} > %s)"
        f" FROM {_name(Opening._meta.db_table)} o"
        f" JOIN {_name(Opening.motives.through._meta.db_table)} m ON m.opening_id = o.id"
        " WHERE o.agenda_id = %s AND o.weekday = %s AND m.motive_id = %s"
        f" AND o.visibility IN ({', '.join(['%s'] * len(visibilities))})"
        " AND o.valid_from <= %s AND (o.valid_until IS NULL OR o.valid_until >= %s)"
    )
    params = [agenda_id, _instant(end), _instant(start), agenda_id, day.weekday(), motive_id]
    params += [*visibilities, day, day]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(*row[:5], bool(row[5])) for row in cursor.fetchall()]


def occupying(
    *, agenda_id: int, start: datetime, end: datetime
) -> list[tuple[datetime, datetime, str, datetime | None]]:
    """(start, end, status, hold_expires_at) of the agenda's appointments and holds that are
    not cancelled nor marked expired and overlap [start, end) (a lapsed hold among them)."""
    freeing = list(Appointment.FREEING_STATUSES)
    sql = (
        f"SELECT {_name('start')}, {_name('end')}, status, hold_expires_at"  # noqa: S608
        f" FROM {_name(Appointment._meta.db_table)}"
        " WHERE agenda_id = %s AND status NOT IN (%s, %s)"
        f" AND {_name('start')} < %s AND {_name('end')} > %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [agenda_id, *freeing, _instant(end), _instant(start)])
        return [
            (_aware(a), _aware(b), status, _aware(lapses))
            for a, b, status, lapses in cursor.fetchall()
        ]


def key_used(*, booked_by_id: int, key: str) -> bool:
    """Has this account already booked with this idempotency key?"""
    sql = (
        f"SELECT 1 FROM {_name(Appointment._meta.db_table)}"  # noqa: S608
        " WHERE booked_by_id = %s AND idempotency_key = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [booked_by_id, key])
        return cursor.fetchone() is not None


@cache
def _profile_columns() -> tuple[list[str], list[str]]:
    fields = PatientProfile._meta.concrete_fields
    return [f.column for f in fields], [f.attname for f in fields]


def _iexact(column: str) -> str:
    """``column`` equals a parameter whatever the case, as the ORM's ``iexact`` says it."""
    ops = connection.ops
    lhs = ops.lookup_cast("iexact", "CharField") % _name(column)
    return f"{lhs} {connection.operators['iexact'] % '%s'}"


def own_profiles(
    *, owner_id: int, first_name: str, last_name: str, birth_date: date
) -> tuple[PatientProfile | None, bool]:
    """The account's profile that names this person (first name and last name whatever their
    case, birth date), the first made if several, and whether the account has its "self"
    profile: one query."""
    columns, attnames = _profile_columns()
    named = f"({_iexact('first_name')} AND {_iexact('last_name')} AND birth_date = %s)"
    sql = (
        f"SELECT {', '.join(_name(c) for c in columns)}, CASE WHEN {named} THEN 1 ELSE 0 END"  # noqa: S608
        f" FROM {_name(PatientProfile._meta.db_table)}"
        f" WHERE owner_id = %s AND ({named} OR relationship = %s) ORDER BY id"
    )
    prep = connection.ops.prep_for_iexact_query
    identity = [prep(first_name), prep(last_name), birth_date]
    params = [*identity, owner_id, *identity, PatientProfile.Relationship.SELF.value]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    existing = None
    for row in rows:
        if row[-1]:
            values = [_aware(v) if isinstance(v, datetime) else v for v in row[:-1]]
            existing = PatientProfile.from_db(connection.alias, attnames, values)
            break
    relationship = columns.index("relationship")
    has_self = any(row[relationship] == PatientProfile.Relationship.SELF for row in rows)
    return existing, has_self
