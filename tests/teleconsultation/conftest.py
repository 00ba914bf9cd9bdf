"""A video appointment starting in five minutes: the patient and the practitioner may enter."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from consulto.directory.models import Membership, Practitioner
from consulto.scheduling.models import Appointment
from consulto.teleconsultation import rooms
from tests.conftest import valid_rpps
from tests.practice.conftest import as_user, practice, with_totp  # noqa: F401 (fixtures)


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


@pytest.fixture
def substitute(call, django_user_model):
    """Dr Remy, a GP of another practice (not a member of the titular's centre)."""
    user = django_user_model.objects.create_user(
        email="remy@ailleurs.test", password="x" * 12, first_name="Rémy"
    )
    with_totp(user)
    practitioner = Practitioner.objects.create(
        user=user,
        rpps=valid_rpps(77),
        first_name="Rémy",
        last_name="Remplaçant",
        title="Dr",
        specialty=call.w.gp.specialty,
        rpps_status=Practitioner.RppsStatus.VALID,
    )
    Membership.objects.create(
        user=user, organisation=call.w.other_org, role=Membership.Role.PRACTITIONER
    )
    return practitioner
