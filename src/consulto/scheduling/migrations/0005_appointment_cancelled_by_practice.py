"""Which side cancelled an appointment: the practice's reason is told to the patient.

On SQLite, adding a NOT NULL column rebuilds the table, and the rebuild drops the triggers that
refuse overlaps (0002_no_overlap): they are created again after it, both ways.
"""

import importlib

from django.db import migrations, models

no_overlap = importlib.import_module("consulto.scheduling.migrations.0002_no_overlap")
RECREATE = [
    sql.replace("CREATE TRIGGER", "CREATE TRIGGER IF NOT EXISTS", 1)
    for sql in no_overlap.SQLITE_FORWARD
]


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0004_motive_price")]

    operations = [
        # Backwards, this runs last: the triggers come back after the column is dropped.
        no_overlap.VendorSQL("sqlite", migrations.RunSQL.noop, RECREATE),
        migrations.AddField(
            model_name="appointment",
            name="cancelled_by_practice",
            field=models.BooleanField(
                db_default=False, default=False, verbose_name="cancelled by the practice"
            ),
        ),
        no_overlap.VendorSQL("sqlite", RECREATE, migrations.RunSQL.noop),
    ]
