"""A referral world: the practice of tests/practice (Dr Martin refers her patient Jeanne Petit)
and a hospital's cardiology department whose openings carry each visibility."""

from datetime import date, time, timedelta

import pytest
from allauth.account.models import EmailAddress

from consulto.directory.models import (
    Department,
    Membership,
    Organisation,
    Practitioner,
    Site,
    Specialty,
)
from consulto.scheduling.models import Agenda, Motive, Opening
from tests.conftest import valid_rpps
from tests.practice.conftest import as_user, practice, with_totp  # noqa: F401 (fixtures)

PDF = b"%PDF-1.7\n% Courrier d'adressage\n" + b"lettre " * 100
REASON = "Souffle systolique 3/6 découvert ce jour, dyspnée d'effort"
# Each visibility has its own hour on weekdays: 8:00 regulation only, 9–12 professionals,
# 12–13 known patients, 14–17 everyone.
HOURS = {
    "snp": (time(8), time(9)),
    "pro": (time(9), time(12)),
    "known": (time(12), time(13)),
    "public": (time(14), time(17)),
}


@pytest.fixture
def referral_world(practice, django_user_model):  # noqa: F811
    """practice + ``hospital`` with a cardiology ``department``, Dr Coeur (``cardio_user``) and
    their agenda ``cardio`` (motive ``consult``); ``stranger``, a practitioner of other_org."""
    w = practice
    cardiology = Specialty.objects.get(code="cardiologue")
    w.hospital = Organisation.objects.create(name="Hôpital Saint-Louis", kind="hospital")
    w.department = Department.objects.create(
        organisation=w.hospital, name="Cardiologie", specialty=cardiology
    )
    w.hospital_site = Site.objects.create(
        organisation=w.hospital,
        name="Hôpital Saint-Louis",
        address="1 avenue Claude Vellefaux",
        postcode="75010",
        city="Paris",
        latitude=48.8735,
        longitude=2.3685,
    )
    w.cardio_user = django_user_model.objects.create_user(
        email="coeur@hopital.test", password="x" * 12, first_name="Henri", last_name="Coeur"
    )
    w.cardiologist = Practitioner.objects.create(
        title="Dr",
        first_name="Henri",
        last_name="Coeur",
        rpps=valid_rpps(7),
        specialty=cardiology,
        user=w.cardio_user,
    )
    Membership.objects.create(
        user=w.cardio_user, organisation=w.hospital, role=Membership.Role.PRACTITIONER
    )
    w.totp[w.cardio_user.pk] = with_totp(w.cardio_user)
    EmailAddress.objects.create(
        user=w.cardio_user, email=w.cardio_user.email, verified=True, primary=True
    )
    w.cardio = Agenda.objects.create(
        organisation=w.hospital,
        practitioner=w.cardiologist,
        site=w.hospital_site,
        department=w.department,
        name="Dr Coeur",
    )
    w.consult = Motive.objects.create(
        agenda=w.cardio, label="Consultation de cardiologie", duration_minutes=30
    )
    valid_from = date.today() - timedelta(days=30)
    for visibility, (start, end) in HOURS.items():
        for weekday in range(5):
            opening = Opening.objects.create(
                agenda=w.cardio,
                site=w.hospital_site,
                weekday=weekday,
                start_time=start,
                end_time=end,
                valid_from=valid_from,
                visibility=visibility,
            )
            opening.motives.set([w.consult])

    make = django_user_model.objects.create_user
    w.stranger = make(email="loin@ailleurs.test", password="x" * 12)
    Practitioner.objects.create(
        title="Dr",
        first_name="Marc",
        last_name="Lointain",
        rpps=valid_rpps(8),
        specialty=Specialty.objects.get(code="medecin-generaliste"),
        user=w.stranger,
    )
    Membership.objects.create(
        user=w.stranger, organisation=w.other_org, role=Membership.Role.PRACTITIONER
    )
    with_totp(w.stranger)
    return w
