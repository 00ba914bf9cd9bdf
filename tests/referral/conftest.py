"""A regulation world: the practice world's GP near 75019, SAMU 75 with a regulating doctor, an
operator and an admin (each with TOTP), and SAMU 13 whose regulator must never see SAMU 75's
cases."""

from datetime import date

import pytest
from allauth.account.models import EmailAddress

from consulto.directory.models import Membership, Organisation
from consulto.notifications import sms
from consulto.referral import services
from consulto.referral.models import RegulationCase
from tests.practice.conftest import with_totp

Role = Membership.Role


@pytest.fixture(autouse=True)
def sms_outbox():
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


@pytest.fixture
def regulation(world, django_user_model):
    w = world
    make = django_user_model.objects.create_user
    w.samu = Organisation.objects.create(
        name="SAMU 75", kind=Organisation.Kind.REGULATION_CENTRE, territory="75"
    )
    w.samu13 = Organisation.objects.create(
        name="SAMU 13", kind=Organisation.Kind.REGULATION_CENTRE, territory="13"
    )
    w.totp = getattr(w, "totp", {})  # the practice fixture may have filled it
    w.regulator = make(email="regulateur@samu75.test", password="x" * 12)
    w.operator = make(email="osnp@samu75.test", password="x" * 12)
    w.centre_admin = make(email="admin@samu75.test", password="x" * 12)
    w.regulator13 = make(email="regulateur@samu13.test", password="x" * 12)
    for user, centre, role in (
        (w.regulator, w.samu, Role.REGULATOR),
        (w.operator, w.samu, Role.OPERATOR),
        (w.centre_admin, w.samu, Role.ADMIN),
        (w.regulator13, w.samu13, Role.REGULATOR),
    ):
        Membership.objects.create(user=user, organisation=centre, role=role)
        w.totp[user.pk] = with_totp(user)
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    w.first.instructions = "Apportez votre carte Vitale."
    w.first.save()
    return w


def call(**overrides) -> services.CallDetails:
    values = dict(
        caller=RegulationCase.Caller.PATIENT,
        caller_name="",
        first_name="Louise",
        last_name="Morel",
        birth_date=date(1988, 4, 2),
        phone="+33611223344",
        email="louise@example.org",
        postcode="75019",
        address="",
        need=RegulationCase.Need.GP_48H,
        specialty=None,
        reason="Fièvre à 39 depuis deux jours, toux.",
    )
    values.update(overrides)
    return services.CallDetails(**values)


@pytest.fixture
def case(regulation):
    return services.open_case(centre=regulation.samu, by=regulation.regulator, call=call())


@pytest.fixture
def as_user(client):
    def log_in(user):
        client.force_login(user)
        return client

    return log_in
