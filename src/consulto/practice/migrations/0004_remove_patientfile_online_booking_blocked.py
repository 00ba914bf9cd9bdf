"""The flag now lives in scheduling (0003 copied it); a migration of its own, so that on
PostgreSQL the copy's rows are committed before the table is altered."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("practice", "0003_online_booking_stops_move_to_scheduling")]

    operations = [migrations.RemoveField(model_name="patientfile", name="online_booking_blocked")]
