"""A video appointment starting in five minutes: the patient and the practitioner may enter."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from consulto.scheduling.models import Appointment
from consulto.teleconsultation import rooms
from tests.practice.conftest import practice  # noqa: F401 (fixture)


@pytest.fixture
def call(practice, patient):  # noqa: F811
    w = practice
    start = timezone.now().replace(microsecond=0) + timedelta(minutes=5)
    appointment = Appointment.objects.create(
        agenda=w.agenda,
        motive=w.video,
        patient=patient,
        start=start,
        end=start + timedelta(minutes=15),
        booked_by=patient.owner,
    )
    room = rooms.ensure_room(appointment)
    return SimpleNamespace(
        w=w, room=room, appointment=appointment, patient_user=patient.owner, gp=w.gp_user
    )
