from django.db import migrations, models

# ALTER TABLE ... ADD COLUMN on both databases: Django's AddField would rebuild the table on
# SQLite, dropping the triggers that refuse overlapping appointments (0002_no_overlap).
ADD_COLUMN = (
    "ALTER TABLE scheduling_appointment ADD COLUMN held_from varchar(32) NOT NULL DEFAULT ''"
)
DROP_COLUMN = "ALTER TABLE scheduling_appointment DROP COLUMN held_from"


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0002_no_overlap"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="appointment",
                    name="held_from",
                    field=models.CharField(blank=True, default="", editable=False, max_length=32),
                ),
            ],
            database_operations=[migrations.RunSQL(ADD_COLUMN, DROP_COLUMN)],
        ),
        migrations.AddIndex(
            model_name="appointment",
            index=models.Index(
                condition=models.Q(("status", "held")),
                fields=["held_from", "hold_expires_at"],
                name="appointment_live_hold",
            ),
        ),
    ]
