"""The demo logins: a patient with a child and a parent, the demo GP, the secretary and the
administrator of the demo health centre, and a superuser; the staff's second factor, the
secretary's agendas and the centre's policy."""

from __future__ import annotations

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import encrypt
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.hashers import make_password

from consulto.directory.models import Membership, Organisation, Practitioner
from consulto.practice.models import AgendaAssignment, PracticePolicy
from consulto.scheduling.models import Agenda

from .plans import DemoError, DirectoryPlan

DEMO_PASSWORD = "consulto-demo-2026"  # noqa: S105 - the documented password of demo accounts


@dataclass(frozen=True, slots=True)
class DemoLogin:
    email: str
    password: str
    role: str


# Staff log in with a second factor: the demo staff share this authenticator secret (base32).
# Add it to an authenticator app, or print the current code with `consulto demo-code`.
DEMO_TOTP_SECRET = "CONSULTODEMOSTAFFSECRETTOTPAB234"  # noqa: S105 (demo data, printed on purpose)
DEMO_LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin("patient@consulto.local", DEMO_PASSWORD, "patient, with a child and a parent"),
    DemoLogin("praticien@consulto.local", DEMO_PASSWORD, "general practitioner"),
    DemoLogin("secretariat@consulto.local", DEMO_PASSWORD, "secretary of the health centre"),
    DemoLogin("admin@consulto.local", DEMO_PASSWORD, "administrator of the health centre"),
    DemoLogin("root@consulto.local", DEMO_PASSWORD, "superuser (Django admin)"),
    DemoLogin("regulateur@consulto.local", DEMO_PASSWORD, "regulating doctor, SAMU 75"),
    DemoLogin("operateur@consulto.local", DEMO_PASSWORD, "unscheduled care operator, SAMU 75"),
    DemoLogin("samu-admin@consulto.local", DEMO_PASSWORD, "administrator of SAMU 75"),
    DemoLogin("cardiologie@consulto.local", DEMO_PASSWORD, "admin of a hospital's cardiology"),
)
# Who logs in with the demo authenticator: every login but the patient's and the superuser's.
STAFF_LOGINS = tuple(
    login for login in DEMO_LOGINS if login.email.split("@")[0] not in ("patient", "root")
)


def insert_logins(
    plan: DirectoryPlan, organisation: Organisation, practitioners: list[Practitioner]
) -> AbstractBaseUser:
    """The demo accounts, with the demo GP on their practitioner profile and the staff in the
    health centre; returns the demo patient's account."""
    user_model = get_user_model()
    emails = [login.email for login in DEMO_LOGINS]
    taken = list(user_model.objects.filter(email__in=emails).values_list("email", flat=True))
    if taken:
        raise DemoError(f"Demo accounts already exist outside a demo dataset: {', '.join(taken)}")
    password = make_password(DEMO_PASSWORD)  # one hash for all: computing it is deliberately slow
    doctor = practitioners[plan.agendas[plan.demo_agenda].practitioner or 0]
    patient, gp, secretary, admin, root = user_model.objects.bulk_create(
        [
            user_model(email=emails[0], first_name="Camille", last_name="Durand", password=password,
                       phone="06 39 98 20 26"),
            user_model(email=emails[1], first_name=doctor.first_name, last_name=doctor.last_name,
                       password=password),
            user_model(email=emails[2], first_name="Nadia", last_name="Benali", password=password),
            user_model(email=emails[3], first_name="Paul", last_name="Girard", password=password),
            user_model(email=emails[4], first_name="Admin", last_name="Consulto",
                       password=password, is_staff=True, is_superuser=True),
        ]
    )  # fmt: skip
    EmailAddress.objects.bulk_create(
        [
            EmailAddress(user=user, email=user.email, verified=True, primary=True)
            for user in (patient, gp, secretary, admin, root)
        ]
    )
    Practitioner.objects.filter(pk=doctor.pk).update(user=gp)
    Membership.objects.bulk_create(
        [
            Membership(user=gp, organisation=organisation, role=Membership.Role.PRACTITIONER),
            Membership(user=secretary, organisation=organisation, role=Membership.Role.SECRETARY),
            Membership(user=admin, organisation=organisation, role=Membership.Role.ADMIN),
        ]
    )
    return patient


def insert_showcase_logins(
    *, samu: Organisation, hospital: Organisation, department_id: int
) -> None:
    """SAMU 75's regulating doctor, operator and admin, and the admin of one department of
    the showcase's hospital."""
    user_model = get_user_model()
    password = make_password(DEMO_PASSWORD)
    emails = [login.email for login in DEMO_LOGINS[5:9]]
    regulator, operator, admin, department_admin = user_model.objects.bulk_create(
        [
            user_model(email=emails[0], first_name="Hélène", last_name="Marchand",
                       password=password),
            user_model(email=emails[1], first_name="Karim", last_name="Haddad", password=password),
            user_model(email=emails[2], first_name="Sophie", last_name="Lemaire",
                       password=password),
            user_model(email=emails[3], first_name="Antoine", last_name="Rousseau",
                       password=password),
        ]
    )  # fmt: skip
    EmailAddress.objects.bulk_create(
        [
            EmailAddress(user=user, email=user.email, verified=True, primary=True)
            for user in (regulator, operator, admin, department_admin)
        ]
    )
    Role = Membership.Role
    Membership.objects.bulk_create(
        [
            Membership(user=regulator, organisation=samu, role=Role.REGULATOR),
            Membership(user=operator, organisation=samu, role=Role.OPERATOR),
            Membership(user=admin, organisation=samu, role=Role.ADMIN),
            Membership(
                user=department_admin,
                organisation=hospital,
                role=Role.ADMIN,
                department_id=department_id,
            ),
        ]
    )


def insert_staff_access() -> None:
    """Staff (SAMU 75's and the hospital's too) get the demo authenticator; the secretary works
    on the centre's agendas."""
    user_model = get_user_model()
    staff = user_model.objects.filter(email__in=[login.email for login in STAFF_LOGINS])
    Authenticator.objects.bulk_create(
        [
            Authenticator(
                user=user, type=Authenticator.Type.TOTP, data={"secret": encrypt(DEMO_TOTP_SECRET)}
            )
            for user in staff
        ]
    )
    secretary = user_model.objects.get(email=DEMO_LOGINS[2].email)
    organisation_id = Membership.objects.get(user=secretary).organisation_id
    AgendaAssignment.objects.bulk_create(
        [
            AgendaAssignment(user=secretary, agenda_id=agenda_id)
            for agenda_id in Agenda.objects.filter(organisation_id=organisation_id).values_list(
                "pk", flat=True
            )
        ]
    )
    PracticePolicy.objects.create(organisation_id=organisation_id, no_show_limit=3)
