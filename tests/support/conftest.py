"""A support desk: an in-house team and two outsourced providers, each with agents and a
supervisor, every shift covering the whole week; a practitioner and a patient who ask for help.
Every agent has TOTP (the console shows customers' data)."""

from datetime import time

import pytest
from allauth.account.models import EmailAddress

from consulto.directory.models import Membership, Organisation
from consulto.support.models import Agent, RoutingPolicy, Shift, Skill, Team
from tests.practice.conftest import with_totp

from .dovecot import imap_server  # noqa: F401 (fixture: a throwaway IMAP server)

ALL_DAY = (time(0), time(23, 59, 59))


def make_agent(
    make_user,
    email: str,
    team: Team,
    *,
    skills: dict[str, int],
    role: str = Agent.Role.AGENT,
    kind: str = "technical",
    languages: str = "fr",
    presence: str = Agent.Presence.AVAILABLE,
    idle_since=None,
) -> Agent:
    from django.utils import timezone

    user = make_user(email=email, password="x" * 12, first_name=email.split("@")[0].title())
    with_totp(user)
    agent = Agent.objects.create(
        user=user,
        team=team,
        role=role,
        kind=kind,
        languages=languages,
        presence=presence,
        presence_since=timezone.now(),
        idle_since=idle_since or timezone.now(),
    )
    for product, level in skills.items():
        Skill.objects.create(agent=agent, product=product, level=level)
    for weekday in range(7):
        Shift.objects.create(agent=agent, weekday=weekday, start=ALL_DAY[0], end=ALL_DAY[1])
    return agent


EVERYTHING = {"agenda": 3, "video": 3, "practice": 3, "account": 3, "billing": 3}


@pytest.fixture
def desk(world, django_user_model):
    """world + a support desk. ``in_house``, ``provider_a``, ``provider_b`` teams; agents
    ``alice`` (in-house, technical), ``bruno`` (provider A), ``chloe`` (provider B); supervisors
    ``sam_a`` (provider A), ``sam_b`` (provider B), ``sam`` (in-house); ``manager`` (in-house
    support manager). All offline but alice unless a test says otherwise. Customers:
    ``pro_user`` (the GP, a practitioner of world.organisation, verified e-mail) and
    ``patient_user``."""
    w = world
    make = django_user_model.objects.create_user
    RoutingPolicy.objects.create(offer_seconds=20)
    a = Organisation.objects.create(name="Prestataire A", kind="support_provider")
    b = Organisation.objects.create(name="Prestataire B", kind="support_provider")
    w.provider_a, w.provider_b = a, b
    w.in_house = Team.objects.create(name="Consulto Paris")
    w.team_a = Team.objects.create(name="A Lille", provider=a)
    w.team_b = Team.objects.create(name="B Rabat", provider=b)
    offline = Agent.Presence.OFFLINE
    w.alice = make_agent(make, "alice@support.test", w.in_house, skills=EVERYTHING)
    w.bruno = make_agent(make, "bruno@a.test", w.team_a, skills=EVERYTHING, presence=offline)
    w.chloe = make_agent(make, "chloe@b.test", w.team_b, skills=EVERYTHING, presence=offline)
    role = Agent.Role
    w.sam = make_agent(
        make, "sam@support.test", w.in_house, skills={}, role=role.SUPERVISOR, presence=offline
    )
    w.sam_a = make_agent(
        make, "sam@a.test", w.team_a, skills={}, role=role.SUPERVISOR, presence=offline
    )
    w.sam_b = make_agent(
        make, "sam@b.test", w.team_b, skills={}, role=role.SUPERVISOR, presence=offline
    )
    w.manager = make_agent(
        make, "manager@support.test", w.in_house, skills={}, role=role.MANAGER, presence=offline
    )
    w.pro_user = make(
        email="claire.martin@cabinet.test",
        password="x" * 12,
        first_name="Claire",
        last_name="Martin",
        phone="0601020304",
    )
    EmailAddress.objects.create(
        user=w.pro_user, email=w.pro_user.email, verified=True, primary=True
    )
    w.gp.user = w.pro_user
    w.gp.save()
    Membership.objects.create(
        user=w.pro_user, organisation=w.organisation, role=Membership.Role.PRACTITIONER
    )
    w.patient_user = make(email="patiente@example.org", password="x" * 12, first_name="Jeanne")
    return w
