"""Model instances from rows of plain SQL, converted as the ORM converts them.

For the few reads that run on every request of a hot path (an API token and its user, the
motive being booked with its agenda): their SQL is written once, where a queryset compiles
its SQL again on every call, which costs more than the query itself on a local database.
Each value goes through the converters a queryset applies (the backend's, then the field's:
SQLite's booleans and naive datetimes, encrypted fields...), so an instance is the one a
queryset would give.
"""

from __future__ import annotations

from django.db import connection


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
