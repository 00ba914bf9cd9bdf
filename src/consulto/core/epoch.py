"""Read datetimes as integers straight from SQL, on the hot paths that read thousands of them.

Django turns every datetime column it reads into an aware ``datetime`` (SQLite: parsing the
stored text; PostgreSQL: psycopg parsing, then a converter per row). Where the reader only
compares or subtracts instants (the slot engine works on integer microseconds), that per-row
cost is most of the read. ``EpochMicroseconds("start")`` selects the instant as a plain integer
instead, exactly (fractions of a second included), on both databases.
"""

from django.db.models import Aggregate, BigIntegerField, Func, TextField


class EpochMicroseconds(Func):
    """Microseconds since 1970-01-01 UTC of a datetime column (NULL stays NULL)."""

    output_field = BigIntegerField()
    arity = 1

    def as_sql(self, compiler, connection, **extra):  # pragma: no cover - per vendor below
        raise NotImplementedError(f"EpochMicroseconds is not written for {connection.vendor}")

    def as_postgresql(self, compiler, connection, **extra):
        # EXTRACT gives an exact numeric on PostgreSQL 14+.
        template = "(EXTRACT(EPOCH FROM %(expressions)s) * 1000000)::bigint"
        return super().as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        # Django stores UTC as 'YYYY-MM-DD HH:MM:SS[.ffffff]' (six digits when there is a
        # fraction): whole seconds from strftime, the fraction from the text.
        sql, params = compiler.compile(self.source_expressions[0])
        template = (
            "(CAST(strftime('%%s', {v}) AS INTEGER) * 1000000"
            " + CAST(COALESCE(NULLIF(substr({v}, 21, 6), ''), '0') AS INTEGER))"
        )
        return template.format(v=sql), params * 2


class IdList(Aggregate):
    """The ids of a group as one comma-separated text (``"3,17,42"``): a one-to-many read in
    one row per parent instead of one row per pair (whose other columns would be repeated)."""

    output_field = TextField()

    def as_sql(self, compiler, connection, **extra):  # pragma: no cover - per vendor below
        raise NotImplementedError(f"IdList is not written for {connection.vendor}")

    def as_postgresql(self, compiler, connection, **extra):
        return super().as_sql(
            compiler, connection, template="string_agg(%(expressions)s::text, ',')", **extra
        )

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(
            compiler, connection, template="group_concat(%(expressions)s)", **extra
        )
