"""Online booking stopped for a patient moved from the practice's file to scheduling: the
migration carries every stop over, and back."""

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from consulto.scheduling.models import OnlineBookingStop

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("practice", "0002_secretaries_absences_policy_and_patient_address")]
AFTER = [("practice", "0004_remove_patientfile_online_booking_blocked")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


def test_the_stops_written_in_patient_files_move_to_scheduling_and_back():
    apps = migrate(BEFORE)
    try:
        organisation = apps.get_model("directory", "Organisation").objects.create(name="Lilas")
        profile = apps.get_model("scheduling", "PatientProfile")
        stopped, free = (
            profile.objects.create(first_name=name, last_name="Roux", birth_date=date(1990, 1, 1))
            for name in ("Léa", "Tom")
        )
        files = apps.get_model("practice", "PatientFile").objects
        files.create(organisation=organisation, profile=stopped, online_booking_blocked=True)
        files.create(organisation=organisation, profile=free)

        apps = migrate(AFTER)
        stops = apps.get_model("scheduling", "OnlineBookingStop").objects
        assert list(stops.values_list("organisation_id", "profile_id")) == [
            (organisation.pk, stopped.pk)
        ]

        apps = migrate(BEFORE)
        files = apps.get_model("practice", "PatientFile").objects
        assert list(files.filter(online_booking_blocked=True).values_list("profile_id")) == [
            (stopped.pk,)
        ]
        assert not OnlineBookingStop.objects.exists()
    finally:
        migrate(AFTER)
