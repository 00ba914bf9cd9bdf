"""Routing in the database: reads the waiting contacts and the agents as plain data, asks the
pure engine (``routing``) who takes what, and writes the offers.

One routing pass runs at a time (a transaction-scoped advisory lock on PostgreSQL; SQLite's
write transactions are serial already), so two passes never offer one agent more than their
capacity. A pass runs after each change that can free or fill a place (a new contact, an agent
available, an offer declined, a contact wrapped up), when a scheduled callback falls due, when a
waiting contact's requirements relax, and every few seconds as a safety net (``tasks.sweep``).
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from consulto.core import queue

from . import live, routing
from .models import Agent, Contact, Decline, RoutingPolicy

logger = logging.getLogger(__name__)
Status = Contact.Status
Presence = Agent.Presence
ROUTE = "consulto.support.tasks.route_waiting"
EXPIRE = "consulto.support.tasks.expire_offer"
CHAT_TIMEOUT = "consulto.support.tasks.chat_timeout"
LOCK_KEY = 0x5355_5050  # "SUPP"
CALLBACK_STEP = timedelta(minutes=30)
# Average handle time used for the expected wait until reports measure it.
DEFAULT_HANDLE = timedelta(minutes=6)
LOADED = (Status.OFFERED, Status.ACTIVE, Status.WRAP_UP)


def lock() -> None:
    """Serialise routing passes and hand-taking (inside the caller's transaction)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])


def policy() -> tuple[routing.Policy, RoutingPolicy]:
    row = RoutingPolicy.objects.order_by("pk").first() or RoutingPolicy()
    engine = routing.Policy(
        relax_level_after=tuple(timedelta(seconds=int(s)) for s in row.relax_level_after or ()),
        relax_kind_after=(
            timedelta(seconds=row.relax_kind_after) if row.relax_kind_after is not None else None
        ),
        provider_shares=dict(row.provider_shares or {}),
    )
    return engine, row


def agents_state(*, now: datetime, agent_ids=None, presences=None) -> list[routing.Agent]:
    """The agents as the engine sees them: skills, shifts around ``now``, load per channel."""
    qs = Agent.objects.filter(is_active=True).select_related("team")
    if presences is not None:
        qs = qs.filter(presence__in=presences)
    if agent_ids is not None:
        qs = qs.filter(pk__in=agent_ids)
    agents = list(qs.prefetch_related("skills", "shifts"))
    loads: dict[int, dict[str, int]] = {}
    rows = (
        Contact.objects.filter(status__in=LOADED)
        .filter(Q(agent__in=agents) | Q(offered_to__in=agents))
        .values("agent_id", "offered_to_id", "channel")
        .annotate(n=Count("id"))
    )
    for row in rows:
        holder = row["agent_id"] or row["offered_to_id"]
        per = loads.setdefault(holder, {})
        per[row["channel"]] = per.get(row["channel"], 0) + row["n"]
    return [_engine_agent(a, loads.get(a.pk, {}), now=now) for a in agents]


def _engine_agent(agent: Agent, load: dict[str, int], *, now: datetime) -> routing.Agent:
    zone = ZoneInfo(agent.time_zone)
    today = now.astimezone(zone).date()
    pattern = {
        shift.weekday: routing.DayShift(
            start=shift.start,
            end=shift.end,
            break_start=shift.break_start,
            break_length=timedelta(minutes=shift.break_minutes if shift.break_start else 0),
        )
        for shift in agent.shifts.all()
    }
    return routing.Agent(
        id=agent.pk,
        provider=agent.team.provider_key,
        kind=agent.kind,
        skills={s.product: s.level for s in agent.skills.all()},
        languages=agent.language_set,
        presence=agent.presence,
        load=load,
        capacity={
            Contact.Channel.CALL: agent.capacity_calls,
            Contact.Channel.CHAT: agent.capacity_chats,
            Contact.Channel.EMAIL: agent.capacity_written,
        },
        idle_since=agent.idle_since or agent.presence_since or now,
        shifts=routing.shift_intervals(
            pattern,
            start_date=today - timedelta(days=1),
            end_date=today + timedelta(days=8),
            zone=zone,
        ),
    )


def engine_priority(contact: Contact) -> int:
    """The contact's priority first; within it, people waiting live (a call, a chat) before a
    written request, whose answer is due in hours: an agent busy with e-mails can take no call,
    so e-mails must not take the agents a waiting caller needs."""
    live = contact.channel != Contact.Channel.EMAIL
    return contact.priority * 2 + (1 if live else 0)


def engine_contact(contact: Contact, declined: frozenset[int]) -> routing.Contact:
    return routing.Contact(
        id=contact.pk,
        channel=contact.channel,
        product=contact.product,
        kind=contact.kind,
        language=contact.language,
        priority=engine_priority(contact),
        waiting_since=contact.requested_at,
        level=contact.required_level,
        declined_by=declined,
        pinned_agent=contact.pinned_agent_id,
        not_before=contact.not_before,
    )


def _waiting(*, now: datetime) -> list[routing.Contact]:
    contacts = list(
        Contact.objects.filter(status=Status.WAITING).filter(
            Q(not_before__isnull=True) | Q(not_before__lte=now)
        )
    )
    declines: dict[int, set[int]] = {}
    for contact_id, agent_id in Decline.objects.filter(contact__in=contacts).values_list(
        "contact_id", "agent_id"
    ):
        declines.setdefault(contact_id, set()).add(agent_id)
    return [engine_contact(c, frozenset(declines.get(c.pk, ()))) for c in contacts]


def assigned_counts(*, now: datetime) -> dict[str, int]:
    """Contacts each provider took today: the split between providers steers by them."""
    since = now - timedelta(hours=24)
    counts: dict[str, int] = {}
    rows = (
        Contact.objects.filter(accepted_at__gte=since, team__isnull=False)
        .values("team__provider_id")
        .annotate(n=Count("id"))
    )
    for row in rows:
        key = f"provider:{row['team__provider_id']}" if row["team__provider_id"] else "in_house"
        counts[key] = counts.get(key, 0) + row["n"]
    return counts


def route(*, now: datetime | None = None) -> int:
    """One routing pass: offer every waiting contact that an agent can take now."""
    now = now or timezone.now()
    # Scheduled callbacks that fell due join the waiting ones.
    Contact.objects.filter(status=Status.SCHEDULED, not_before__lte=now).update(
        status=Status.WAITING
    )
    with transaction.atomic():
        lock()
        waiting = _waiting(now=now)
        if not waiting:
            return 0
        engine_policy, row = policy()
        agents = agents_state(now=now, presences=(Presence.AVAILABLE, Presence.BUSY))
        if not agents:
            return 0
        assignments = routing.route(
            waiting, agents, now=now, policy=engine_policy, assigned_counts=assigned_counts(now=now)
        )
        expires = now + timedelta(seconds=row.offer_seconds)
        offered = 0
        tasks = []
        for assignment in assignments:
            changed = Contact.objects.filter(
                pk=assignment.contact_id, status=Status.WAITING
            ).update(
                status=Status.OFFERED,
                offered_to_id=assignment.agent_id,
                offer_expires_at=expires,
                relaxed=",".join(assignment.relaxed)[:40],
            )
            if changed:
                offered += 1
                tasks.append((EXPIRE, (assignment.contact_id,), expires))
                live.announce_agent(assignment.agent_id)
        queue.on_commit_many(tasks)
        if offered:
            live.announce_queue()
    return offered


def route_after_commit(*, now: datetime | None = None) -> None:
    """A routing pass once the current transaction commits, at the change's ``now``; its failure
    never undoes the change that asked for it (the sweep runs it again)."""

    def run() -> None:
        try:
            route(now=now)
        except Exception:
            logger.warning("a routing pass failed; the sweep will run it again", exc_info=True)

    transaction.on_commit(run)


def after_new_contact(contact: Contact, *, now: datetime) -> None:
    """Route it now (or at its time), and again when its requirements relax; a chat nobody
    answers becomes a written request."""
    engine_policy, row = policy()
    start = contact.not_before or now
    tasks = [(ROUTE, (), start + wait) for wait in engine_policy.relax_level_after]
    if engine_policy.relax_kind_after is not None:
        tasks.append((ROUTE, (), start + engine_policy.relax_kind_after))
    if contact.not_before is not None:
        tasks.append((ROUTE, (), contact.not_before))
    if contact.channel == Contact.Channel.CHAT:
        tasks.append(
            (CHAT_TIMEOUT, (contact.pk,), now + timedelta(minutes=row.chat_unanswered_minutes))
        )
    queue.on_commit_many(tasks)
    live.announce_queue()
    if contact.not_before is None:
        route_after_commit(now=now)


def may_take(agent: Agent, contact: Contact, *, now: datetime) -> bool:
    """Whether the agent could be routed this waiting contact now (the queue they see)."""
    if contact.status != Status.WAITING:
        return False
    if contact.not_before is not None and contact.not_before > now:
        return False
    engine_policy, _row = policy()
    declined = frozenset(Decline.objects.filter(contact=contact).values_list("agent_id", flat=True))
    state = agents_state(now=now, agent_ids=[agent.pk])
    if not state:
        return False
    return routing.eligible(
        engine_contact(contact, declined - {agent.pk}), state[0], now=now, policy=engine_policy
    )


def callback_slots(
    *, product: str, kind: str, language: str, now: datetime, days: int = 3
) -> list[datetime]:
    """Times a callback may be asked for: 30-minute slots when agents with the skill work."""
    agents = agents_state(now=now)
    booked = Counter(
        Contact.objects.filter(status=Status.SCHEDULED, not_before__gte=now).values_list(
            "not_before", flat=True
        )
    )
    start = _next_step(now + timedelta(minutes=30))
    return routing.callback_slots(
        agents,
        product=product,
        kind=kind,
        language=language,
        start=start,
        end=start + timedelta(days=days),
        step=CALLBACK_STEP,
        booked=booked,
    )


def callback_time_offered(*, product: str, kind: str, language: str, at: datetime, now) -> bool:
    return at in set(callback_slots(product=product, kind=kind, language=language, now=now))


def expected_wait(*, product: str, kind: str, language: str, now: datetime) -> timedelta | None:
    """How long a callback asked now should wait, or None when nobody with the skill works now."""
    asked = routing.Contact(
        id=0,
        channel=Contact.Channel.CALL,
        product=product,
        kind=kind,
        language=language,
        priority=1,  # a callback asked now: a normal live contact (``engine_priority``)
        waiting_since=now,
        level=1,
    )
    engine_policy, _row = policy()
    return routing.expected_wait(
        asked,
        _waiting(now=now),
        agents_state(now=now),
        now=now,
        policy=engine_policy,
        handle_time=DEFAULT_HANDLE,
    )


def _next_step(moment: datetime) -> datetime:
    moment = moment.replace(second=0, microsecond=0)
    extra = moment.minute % 30
    return moment + timedelta(minutes=(30 - extra) % 30)


def today(agent: Agent, now: datetime) -> date:
    return now.astimezone(ZoneInfo(agent.time_zone)).date()
