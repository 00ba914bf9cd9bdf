"""Model instances to and from rows of plain SQL, converted as the ORM converts them.

For the few statements that run on every request of a hot path (an API token and its user, the
motive being booked with its agenda; a booking's messages and their tasks): their SQL is written
once, where a queryset compiles its SQL again on every call, which costs more than the query
itself on a local database. Each value read goes through the converters a queryset applies
(the backend's, then the field's: SQLite's booleans and naive datetimes, encrypted fields...),
so an instance is the one a queryset would give; each value written through the field's
``pre_save`` and ``get_db_prep_save``, as ``bulk_create`` does.
"""

from __future__ import annotations

from django.db import connection, connections


class Columns:
    """The concrete columns of ``model`` under the table alias ``alias``: ``sql`` to write in
    a SELECT, ``count`` of them, and ``load(values)`` to make the instance of a row's slice
    (None when its primary key is NULL: nothing matched a LEFT JOIN)."""

    def __init__(self, model, alias: str):
        fields = model._meta.concrete_fields
        quote = connection.ops.quote_name
        self.model = model
        self.sql = ", ".join(f"{alias}.{quote(field.column)}" for field in fields)
        self.count = len(fields)
        self._attnames = [field.attname for field in fields]
        self._pk = next(i for i, field in enumerate(fields) if field.primary_key)
        self._converters = []
        for i, field in enumerate(fields):
            column = field.get_col(alias)
            found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            if found:
                self._converters.append((i, column, found))

    def load(self, values):
        if values[self._pk] is None:
            return None
        values = list(values)
        for i, column, converters in self._converters:
            for converter in converters:
                values[i] = converter(values[i], column, connection)
        return self.model.from_db(connection.alias, self._attnames, values)


_known: dict[tuple, Columns] = {}


def columns(model, alias: str) -> Columns:
    """``Columns`` of ``model`` under ``alias``, made once per database vendor."""
    key = (model, alias, connection.vendor)
    found = _known.get(key)
    if found is None:
        found = _known[key] = Columns(model, alias)
    return found


class Inserter:
    """One INSERT of several ``model`` instances, its SQL written once per row count: each
    value goes through the field's ``pre_save`` and ``get_db_prep_save`` as in ``bulk_create``
    (no signals either); the primary keys the database gives come back on the instances."""

    def __init__(self, model, rows: int):
        meta = model._meta
        quote = connection.ops.quote_name
        self.fields = [f for f in meta.concrete_fields if not (f.primary_key and f.db_returning)]
        self.returning = [f for f in meta.concrete_fields if f.primary_key and f.db_returning]
        columns = ", ".join(quote(f.column) for f in self.fields)
        placeholders = "(" + ", ".join(["%s"] * len(self.fields)) + ")"
        self.sql = (
            f"INSERT INTO {quote(meta.db_table)} ({columns})"  # noqa: S608 - names of the model
            f" VALUES {', '.join([placeholders] * rows)}"
        )
        if self.returning:
            self.sql += " RETURNING " + ", ".join(quote(f.column) for f in self.returning)

    def __call__(self, objs) -> None:
        params = []
        for obj in objs:
            for field in self.fields:
                params.append(field.get_db_prep_save(field.pre_save(obj, True), connection))
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            returned = cursor.fetchall() if self.returning else []
        for obj, values in zip(objs, returned, strict=bool(self.returning)):
            for field, value in zip(self.returning, values, strict=True):
                setattr(obj, field.attname, value)
        for obj in objs:
            obj._state.adding = False
            obj._state.db = connection.alias


_inserters: dict[tuple, Inserter] = {}


def insert(objs: list) -> None:
    """Write ``objs`` (instances of one model) in one INSERT (see ``Inserter``): where the
    ORM's ``bulk_create`` compiles the statement again for every call, which costs more than
    the database's work for a few rows."""
    if not objs:
        return
    if not connection.features.can_return_rows_from_bulk_insert:
        type(objs[0]).objects.bulk_create(objs)
        return
    key = (type(objs[0]), len(objs), connection.vendor)
    inserter = _inserters.get(key)
    if inserter is None:
        inserter = _inserters[key] = Inserter(type(objs[0]), len(objs))
    inserter(objs)


def plain(queryset) -> list[tuple]:
    """All the rows of a ``values_list`` queryset as the database driver gives them: no
    converter and no iterator per chunk of rows. Only for columns that need no conversion
    (integers, such as ``core.instants.EpochMicroseconds``): a read of thousands of rows spends
    more in Django's per-row machinery than in the database."""
    sql, params = queryset.query.get_compiler(queryset.db).as_sql()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
