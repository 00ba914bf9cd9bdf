"""Rule 1 in the database: active appointments of a capacity-1 agenda never overlap.

PostgreSQL: an exclusion constraint over (agenda, tstzrange(start, end)) with btree_gist.
SQLite: triggers that abort an insert or update creating an overlap. Both raise an integrity
error that booking.py maps to "slot taken".
"""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations

ACTIVE = "status NOT IN ('cancelled', 'expired')"

POSTGRES_FORWARD = f"""
ALTER TABLE scheduling_appointment ADD CONSTRAINT appointment_no_overlap
EXCLUDE USING gist (agenda_id WITH =, tstzrange(start, "end", '[)') WITH &&)
WHERE (exclusive AND {ACTIVE});
"""
POSTGRES_BACKWARD = "ALTER TABLE scheduling_appointment DROP CONSTRAINT appointment_no_overlap;"

SQLITE_CHECK = f"""
WHEN NEW.exclusive AND NEW.{ACTIVE}
BEGIN
    SELECT RAISE(ABORT, 'appointment_no_overlap')
    WHERE EXISTS (
        SELECT 1 FROM scheduling_appointment AS a
        WHERE a.agenda_id = NEW.agenda_id
          AND a.id IS NOT NEW.id
          AND a.exclusive
          AND a.{ACTIVE}
          AND a.start < NEW."end"
          AND a."end" > NEW.start
    );
END;
"""
SQLITE_FORWARD = [
    "CREATE TRIGGER appointment_no_overlap_insert BEFORE INSERT ON scheduling_appointment "
    + SQLITE_CHECK,
    "CREATE TRIGGER appointment_no_overlap_update BEFORE UPDATE OF agenda_id, start, \"end\", "
    "status, exclusive ON scheduling_appointment " + SQLITE_CHECK,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER appointment_no_overlap_insert;",
    "DROP TRIGGER appointment_no_overlap_update;",
]


class VendorSQL(migrations.RunSQL):
    """RunSQL that runs only on one database vendor."""

    def __init__(self, vendor, sql, reverse_sql):
        self.vendor = vendor
        super().__init__(sql, reverse_sql)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0001_initial")]

    operations = [
        BtreeGistExtension(),
        VendorSQL("postgresql", POSTGRES_FORWARD, POSTGRES_BACKWARD),
        VendorSQL("sqlite", SQLITE_FORWARD, SQLITE_BACKWARD),
    ]
