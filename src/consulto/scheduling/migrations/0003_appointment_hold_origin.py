"""Where a hold made on the patient pages comes from: keyed digests of the client's address and
of the browser session, to count the holds one visitor keeps at once (scheduling/limits.py)."""

from django.db import migrations, models

# ALTER TABLE ... ADD COLUMN on both databases: Django's AddField would rebuild the table on
# SQLite, dropping the triggers that refuse overlapping appointments (0002_no_overlap).
COLUMNS = ("held_from", "held_session")


def _add(name: str) -> migrations.RunSQL:
    return migrations.RunSQL(
        f"ALTER TABLE scheduling_appointment ADD COLUMN {name} varchar(32) NOT NULL DEFAULT ''",
        f"ALTER TABLE scheduling_appointment DROP COLUMN {name}",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0002_no_overlap"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="appointment",
                    name=name,
                    field=models.CharField(blank=True, default="", editable=False, max_length=32),
                )
                for name in COLUMNS
            ],
            database_operations=[_add(name) for name in COLUMNS],
        ),
        migrations.AddIndex(
            model_name="appointment",
            index=models.Index(
                condition=models.Q(("status", "held")),
                fields=["held_from", "hold_expires_at"],
                name="appointment_live_hold",
            ),
        ),
        migrations.AddIndex(
            model_name="appointment",
            index=models.Index(
                condition=models.Q(("status", "held")),
                fields=["held_session", "hold_expires_at"],
                name="appointment_session_hold",
            ),
        ),
    ]
