"""Online booking stopped for a patient becomes a booking rule kept by scheduling
(``scheduling.OnlineBookingStop``): each file's flag is copied there, then the column goes
(0004). Backwards, the stops go back to the files' flags."""

from django.db import migrations


def to_scheduling(apps, schema_editor):
    PatientFile = apps.get_model("practice", "PatientFile")
    OnlineBookingStop = apps.get_model("scheduling", "OnlineBookingStop")
    stopped = PatientFile.objects.filter(online_booking_blocked=True).values_list(
        "organisation_id", "profile_id"
    )
    OnlineBookingStop.objects.bulk_create(
        [
            OnlineBookingStop(organisation_id=organisation_id, profile_id=profile_id)
            for organisation_id, profile_id in stopped.iterator(chunk_size=2000)
        ],
        batch_size=2000,
        ignore_conflicts=True,
    )


def to_files(apps, schema_editor):
    PatientFile = apps.get_model("practice", "PatientFile")
    OnlineBookingStop = apps.get_model("scheduling", "OnlineBookingStop")
    for organisation_id, profile_id in OnlineBookingStop.objects.values_list(
        "organisation_id", "profile_id"
    ).iterator(chunk_size=2000):
        PatientFile.objects.update_or_create(
            organisation_id=organisation_id,
            profile_id=profile_id,
            defaults={"online_booking_blocked": True},
        )
    OnlineBookingStop.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("practice", "0002_secretaries_absences_policy_and_patient_address"),
        ("scheduling", "0006_online_booking_stop"),
    ]

    operations = [migrations.RunPython(to_scheduling, to_files)]
