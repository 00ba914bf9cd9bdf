"""A practice world: one health centre with two GPs, an admin and a secretary; another practice
whose staff must never see the first one's agendas or files. Every staff account has TOTP."""

from datetime import date

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from consulto.directory.models import Membership, Organisation, Practitioner, Site, Specialty
from consulto.practice.models import AgendaAssignment, PatientFile
from consulto.scheduling.models import Agenda, Motive, PatientProfile
from tests.conftest import valid_rpps

Role = Membership.Role


def with_totp(user) -> str:
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


@pytest.fixture
def practice(world, django_user_model):
    """world + staff: ``admin``, ``gp_user`` (owns world.agenda), ``gp2_user`` (owns ``agenda2``),
    ``secretary`` (assigned to world.agenda only), ``outsider`` (admin of ``other_org``),
    ``patient_user`` (no staff role), a patient ``file`` in the centre and one in ``other_org``."""
    w = world
    make = django_user_model.objects.create_user
    w.totp = {}
    w.admin = make(email="admin@centre.test", password="x" * 12, first_name="Ada")
    w.gp_user = make(email="martin@centre.test", password="x" * 12, first_name="Claire")
    w.gp2_user = make(email="bernard@centre.test", password="x" * 12, first_name="Paul")
    w.secretary = make(email="secretariat@centre.test", password="x" * 12, first_name="Sam")
    w.outsider = make(email="admin@ailleurs.test", password="x" * 12)
    w.patient_user = make(email="patient@example.org", password="x" * 12)
    w.gp.user = w.gp_user
    w.gp.save()
    w.gp2 = Practitioner.objects.create(
        title="Dr",
        first_name="Paul",
        last_name="Bernard",
        rpps=valid_rpps(2),
        specialty=Specialty.objects.get(code="medecin-generaliste"),
        user=w.gp2_user,
    )
    w.agenda2 = Agenda.objects.create(
        organisation=w.organisation, practitioner=w.gp2, site=w.site, name="Dr Bernard"
    )
    w.motive2 = Motive.objects.create(agenda=w.agenda2, label="Consultation", duration_minutes=20)
    for user, role in (
        (w.admin, Role.ADMIN),
        (w.gp_user, Role.PRACTITIONER),
        (w.gp2_user, Role.PRACTITIONER),
        (w.secretary, Role.SECRETARY),
    ):
        Membership.objects.create(user=user, organisation=w.organisation, role=role)
        w.totp[user.pk] = with_totp(user)
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    AgendaAssignment.objects.create(user=w.secretary, agenda=w.agenda)

    w.other_org = Organisation.objects.create(name="Cabinet d'ailleurs")
    w.other_site = Site.objects.create(
        organisation=w.other_org,
        name="Ailleurs",
        address="1 rue d'Ailleurs",
        postcode="13001",
        city="Marseille",
        latitude=43.3,
        longitude=5.37,
    )
    w.other_agenda = Agenda.objects.create(
        organisation=w.other_org, site=w.other_site, name="Ailleurs"
    )
    w.other_motive = Motive.objects.create(
        agenda=w.other_agenda, label="Consultation", duration_minutes=20
    )
    Membership.objects.create(user=w.outsider, organisation=w.other_org, role=Role.ADMIN)
    with_totp(w.outsider)

    w.profile = PatientProfile.objects.create(
        first_name="Jeanne", last_name="Petit", birth_date=date(1950, 3, 2), phone="0612345678"
    )
    w.file = PatientFile.objects.create(organisation=w.organisation, profile=w.profile)
    w.other_profile = PatientProfile.objects.create(
        first_name="Marc", last_name="Loin", birth_date=date(1970, 1, 1)
    )
    w.other_file = PatientFile.objects.create(organisation=w.other_org, profile=w.other_profile)
    return w


@pytest.fixture
def as_user(client):
    """``as_user(user)`` logs the test client in as that user and returns it."""

    def log_in(user):
        client.force_login(user)
        return client

    return log_in
