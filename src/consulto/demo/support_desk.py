"""The demo support desk: an in-house team in Paris and two outsourced providers (Lille and
Rabat), agents with skills at different levels and shifts covering the day, logins for an agent,
a supervisor and the support manager, and two weeks of contacts so that the console and the team
view are alive.

Run on every ``manage.py demo`` (so on every ``make run``); it adds nothing when the in-house
team exists. Deterministic: the same seed gives the same desk.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import encrypt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone, translation

from consulto.core import crypto
from consulto.directory.models import Membership, Organisation

from .dataset.logins import DEMO_PASSWORD, DEMO_TOTP_SECRET

IN_HOUSE_TEAM = "Consulto Paris"


@dataclass(frozen=True)
class SupportLogin:
    email: str
    role: str


SUPPORT_LOGINS = (
    SupportLogin("conseiller@consulto.local", "support agent, in-house (Paris)"),
    SupportLogin("superviseur@consulto.local", "support supervisor, in-house"),
    SupportLogin("responsable-support@consulto.local", "support manager (every team)"),
    SupportLogin("conseiller-lille@consulto.local", "agent of provider Relais Contact (Lille)"),
    SupportLogin("superviseur-lille@consulto.local", "supervisor of Relais Contact"),
    SupportLogin("superviseur-rabat@consulto.local", "supervisor of Atlas Support (Rabat)"),
)
PRODUCTS = ("agenda", "video", "practice", "account", "billing")
FIRST = (
    "Camille",
    "Lucas",
    "Inès",
    "Hugo",
    "Sarah",
    "Yanis",
    "Léa",
    "Karim",
    "Emma",
    "Nabil",
    "Chloé",
    "Mehdi",
    "Manon",
    "Théo",
    "Amina",
    "Julien",
    "Zoé",
    "Samir",
    "Louise",
    "Rayan",
)
LAST = (
    "Bernard",
    "Haddad",
    "Lefèvre",
    "Benali",
    "Moreau",
    "Garnier",
    "Chevalier",
    "Amrani",
    "Roux",
    "Fontaine",
    "Mercier",
    "El Idrissi",
    "Blanc",
    "Guerin",
    "Faure",
    "Lambert",
)


def ensure_support_desk(*, seed: int = 2026, now: datetime | None = None) -> bool:
    """Create the demo desk unless it exists; True when created."""
    from consulto.support.models import Team

    if Team.objects.filter(name=IN_HOUSE_TEAM).exists():
        return False
    now = now or timezone.now()
    rng = random.Random(seed)
    # The customers' words (the categories' labels) in the platform's language.
    with transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
        _create(rng, now)
    return True


def _create(rng: random.Random, now: datetime) -> None:
    from consulto.support.models import Agent, ReplyTemplate, RoutingPolicy, Team

    lille = Organisation.objects.create(
        name="Relais Contact (Lille)", kind=Organisation.Kind.SUPPORT_PROVIDER
    )
    rabat = Organisation.objects.create(
        name="Atlas Support (Rabat)", kind=Organisation.Kind.SUPPORT_PROVIDER
    )
    paris = Team.objects.create(name=IN_HOUSE_TEAM)
    home = Team.objects.create(name="Consulto — à domicile")
    team_lille = Team.objects.create(name="Relais Contact — Lille", provider=lille)
    team_rabat = Team.objects.create(name="Atlas Support — Rabat", provider=rabat)
    RoutingPolicy.objects.create(
        relax_level_after=[60, 180],
        relax_kind_after=300,
        provider_shares={
            "in_house": 0.5,
            f"provider:{lille.pk}": 0.25,
            f"provider:{rabat.pk}": 0.25,
        },
        offer_seconds=20,
    )
    users = get_user_model()
    password = make_password(DEMO_PASSWORD)
    named = {
        "conseiller@consulto.local": (paris, Agent.Role.AGENT, "Camille", "Durand"),
        "superviseur@consulto.local": (paris, Agent.Role.SUPERVISOR, "Nadia", "Perrin"),
        "responsable-support@consulto.local": (paris, Agent.Role.MANAGER, "Marc", "Olivier"),
        "conseiller-lille@consulto.local": (team_lille, Agent.Role.AGENT, "Lucas", "Vandamme"),
        "superviseur-lille@consulto.local": (team_lille, Agent.Role.SUPERVISOR, "Anne", "Delcroix"),
        "superviseur-rabat@consulto.local": (team_rabat, Agent.Role.SUPERVISOR, "Youssef", "Alami"),
    }
    agents = []
    for email, (team, role, first, last) in named.items():
        user = users.objects.create(
            email=email, password=password, first_name=first, last_name=last
        )
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        Authenticator.objects.create(
            user=user, type=Authenticator.Type.TOTP, data={"secret": encrypt(DEMO_TOTP_SECRET)}
        )
        agents.append(_agent(rng, user, team, role, expert=role != Agent.Role.AGENT))
    teams = [paris, paris, home, team_lille, team_lille, team_rabat]
    for n in range(24):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        user = users.objects.create(
            email=f"agent{n + 1:02d}@support.consulto.local",
            password=make_password(None),
            first_name=first,
            last_name=last,
        )
        agents.append(_agent(rng, user, teams[n % len(teams)], Agent.Role.AGENT))
    ReplyTemplate.objects.bulk_create(
        [
            ReplyTemplate(
                title="Autoriser la caméra",
                product="video",
                body=(
                    "Cliquez sur le cadenas à gauche de l'adresse, autorisez la caméra et le "
                    "micro, puis relancez le test du matériel depuis votre espace."
                ),
            ),
            ReplyTemplate(
                title="Ouvrir la prise de rendez-vous en ligne",
                product="agenda",
                body="Réglages > Agenda : cochez « Ouvert à la prise de rendez-vous en ligne ».",
            ),
            ReplyTemplate(
                title="Clôture",
                body="Je reste à votre disposition. Bonne journée, le support Consulto.",
            ),
        ]
    )
    _history(rng, agents, now)
    _waiting(now)


def _waiting(now: datetime) -> None:
    """Two written requests waiting for an agent: the console has something to take."""
    from consulto.support import services

    customers = list(
        get_user_model()
        .objects.filter(memberships__role=Membership.Role.PRACTITIONER)
        .distinct()
        .order_by("pk")[:2]
    )
    texts = (
        ("agenda_settings", "Bonjour, comment ouvrir mes créneaux du samedi matin en ligne ?"),
        ("video", "Mes patients n'entendent pas le son pendant la téléconsultation."),
    )
    for customer, (category, text) in zip(customers, texts, strict=False):
        services.ask_for_help(
            user=customer, channel="email", category=category, text=text, page="/pro/", now=now
        )


def _agent(rng: random.Random, user, team, role: str, *, expert: bool = False):
    from consulto.support.models import Agent, Shift, Skill

    kind = "technical" if rng.random() < 0.45 else "account_management"
    agent = Agent.objects.create(
        user=user,
        team=team,
        role=role,
        kind=kind,
        languages="fr,en" if rng.random() < 0.3 else "fr",
        presence=Agent.Presence.OFFLINE,
    )
    # Everyone starts on the agenda, then learns video, then practice management.
    path = ["agenda", "video", "practice", "account", "billing"]
    known = 5 if expert else rng.randint(1, 5)
    Skill.objects.bulk_create(
        [
            Skill(agent=agent, product=product, level=3 if expert else rng.randint(1, 3))
            for product in path[:known]
        ]
    )
    early = rng.random() < 0.5
    # Breaks staggered over two hours, so that the desk never empties at once.
    slot = rng.randrange(4)
    if early:
        start, end, pause = time(8), time(16), time(11 + slot // 2, 30 * (slot % 2))
    else:
        start, end, pause = time(12), time(20), time(15 + slot // 2, 30 * (slot % 2))
    shifts = [
        Shift(agent=agent, weekday=d, start=start, end=end, break_start=pause, break_minutes=60)
        for d in range(5)
    ]
    if rng.random() < 0.3:
        shifts.append(Shift(agent=agent, weekday=5, start=time(9), end=time(13)))
    Shift.objects.bulk_create(shifts)
    return agent


def _history(rng: random.Random, agents: list, now: datetime) -> None:
    """Two weeks of contacts taken, talked, filed; tickets solved and surveyed."""
    from consulto.support.categories import CATEGORIES
    from consulto.support.models import Contact, Entry, Survey, Ticket

    customers = list(
        get_user_model()
        .objects.filter(memberships__role=Membership.Role.PRACTITIONER)
        .distinct()
        .order_by("pk")[:30]
    )
    if not customers:
        return
    workers = [a for a in agents if a.skills.exists()]
    pro_categories = [c for c in CATEGORIES if c.professional]
    channels = ["call"] * 7 + ["email"] * 2 + ["chat"]
    for _n in range(160):
        category = rng.choice(pro_categories)
        customer = rng.choice(customers)
        agent = rng.choice(workers)
        asked = now - timedelta(days=rng.randint(1, 14), minutes=rng.randint(0, 600))
        answered = asked + timedelta(seconds=rng.randint(5, 240))
        talk = rng.randint(90, 900)
        hold = rng.choice([0, 0, 0, 30, 60])
        wrap = rng.randint(20, 120)
        ended = answered + timedelta(seconds=talk + hold)
        ticket = Ticket.objects.create(
            customer=customer,
            customer_email=customer.email,
            is_professional=True,
            subject=crypto.encrypt_text(str(category.label)),
            category=category.code,
            product=category.product,
            kind=category.kind,
            priority=2 if category.blocking else 0,
            status=Ticket.Status.SOLVED if rng.random() < 0.85 else Ticket.Status.WAITING,
            team=agent.team,
            assignee=agent,
            first_response_due=asked + timedelta(hours=8),
            first_response_at=answered,
            resolution_due=asked + timedelta(days=3),
            solved_at=ended,
            reply_token=secrets.token_hex(16),
        )
        Ticket.objects.filter(pk=ticket.pk).update(created_at=asked)
        contact = Contact.objects.create(
            ticket=ticket,
            channel=rng.choice(channels),
            status=Contact.Status.DONE,
            product=category.product,
            kind=category.kind,
            priority=ticket.priority,
            requested_at=asked,
            agent=agent,
            team=agent.team,
            accepted_at=answered,
            ended_at=ended,
            wrapped_at=ended + timedelta(seconds=wrap),
            talk_seconds=talk,
            hold_seconds=hold,
            wrap_seconds=wrap,
            wrap_reason=rng.choice(["solved", "explained", "configured", "bug"]),
        )
        Entry.objects.create(
            ticket=ticket,
            contact=contact,
            kind=Entry.Kind.NOTE,
            author=agent.user,
            body=crypto.encrypt_text(
                rng.choice(
                    [
                        "Réglage fait avec le praticien, test OK.",
                        "Expliqué la configuration des motifs en ligne.",
                        "Caméra bloquée par le navigateur : autorisée, test OK.",
                        "Bug remonté à l'équipe produit.",
                    ]
                )
            ),
        )
        if ticket.status == Ticket.Status.SOLVED and rng.random() < 0.4:
            Survey.objects.create(
                ticket=ticket,
                token=secrets.token_urlsafe(24)[:32],
                score=rng.choice([5, 5, 5, 4, 4, 3, 2]),
                answered_at=ended + timedelta(hours=2),
            )
