"""Read queries of the support desk: the agent's console, a contact with its snapshot, the
supervisor's team view, and the customer's own requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Min, Q
from django.utils import timezone

from consulto.core import crypto

from . import access, dispatch, services
from .models import Agent, ConsultRequest, Contact, Entry, Product, Ticket

Status = Contact.Status
QUEUE_SHOWN = 50


@dataclass
class QueueItem:
    contact: Contact
    wait_seconds: int
    mine: bool = False  # pinned to this agent (their planned callback, a transfer to them)


@dataclass
class Console:
    agent: Agent
    offers: list[tuple[Contact, int]]  # (contact, seconds left)
    mine: list[Contact]
    queue: list[QueueItem]
    scheduled: list[Contact]
    consults: list[ConsultRequest] = field(default_factory=list)
    asked: list[ConsultRequest] = field(default_factory=list)  # their questions to supervisors
    waiting_total: int = 0


def console(agent: Agent, *, now: datetime | None = None) -> Console:
    now = now or timezone.now()
    base = Contact.objects.select_related("ticket", "ticket__customer")
    offers = [
        (c, max(0, int((c.offer_expires_at - now).total_seconds())))
        for c in base.select_related("snapshot")
        .filter(status=Status.OFFERED, offered_to=agent)
        .order_by("offer_expires_at")
    ]
    for contact, _seconds in offers:
        # Who is asking, before accepting: the snapshot's summary (reading it is audited).
        data = (
            services.read_snapshot(agent=agent, snapshot=contact.snapshot)
            if contact.snapshot
            else {}
        )
        contact.summary = summary_of(data)
    mine = list(
        base.filter(agent=agent, status__in=(Status.ACTIVE, Status.WRAP_UP)).order_by("accepted_at")
    )
    skills = list(agent.skills.values_list("product", flat=True))
    waiting = Contact.objects.filter(
        status=Status.WAITING, product__in=skills, language__in=agent.language_set
    ).filter(Q(pinned_agent__isnull=True) | Q(pinned_agent=agent))
    waiting = waiting.filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
    queue = [
        QueueItem(c, int((now - c.requested_at).total_seconds()), c.pinned_agent_id == agent.pk)
        for c in waiting.order_by("-priority", "requested_at")[:QUEUE_SHOWN]
    ]
    scheduled = list(
        base.filter(status=Status.SCHEDULED, pinned_agent=agent).order_by("not_before")[:20]
    )
    consults = []
    if access.is_supervisor(agent):
        consults = list(
            access.consults_for(agent)
            .filter(resolved_at__isnull=True)
            .select_related("agent__user", "contact")
            .prefetch_related("messages__author")
            .order_by("-created_at")[:20]
        )
    mine_asked = list(
        ConsultRequest.objects.filter(agent=agent)
        .select_related("contact__ticket")
        .prefetch_related("messages__author")
        .order_by("-created_at")[:5]
    )
    for consult in (*consults, *mine_asked):
        consult.lines = [(m.author, crypto.decrypt_text(m.body)) for m in consult.messages.all()]
    return Console(
        agent=agent,
        asked=mine_asked,
        offers=offers,
        mine=mine,
        queue=queue,
        scheduled=scheduled,
        consults=consults,
        waiting_total=Contact.objects.filter(status=Status.WAITING).count(),
    )


def summary_of(data: dict) -> dict:
    """The lines of a snapshot an agent reads before saying hello."""
    organisations = data.get("organisations") or []
    onboarding = data.get("onboarding") or {}
    calls = (data.get("video") or {}).get("calls") or []
    return {
        "name": (data.get("practitioner") or {}).get("name")
        or (data.get("account") or {}).get("name")
        or (data.get("account") or {}).get("email", ""),
        "organisation": organisations[0]["name"] if organisations else "",
        "role": organisations[0]["role"] if organisations else "",
        "onboarding": onboarding,
        "last_call": calls[0] if calls else None,
        "errors": len(data.get("errors") or []),
        "page": data.get("page", ""),
        "professional": data.get("professional", False),
    }


@dataclass
class EntryView:
    entry: Entry
    text: str
    attachments: list


@dataclass
class ContactView:
    contact: Contact
    ticket: Ticket
    subject: str
    snapshot: dict
    entries: list[EntryView]
    previous: list[Ticket]
    is_mine: bool


def contact_view(agent: Agent, contact_id: int, *, ip: str | None = None) -> ContactView:
    contact = (
        access.contacts(agent)
        .select_related("ticket", "ticket__customer", "ticket__organisation", "snapshot")
        .filter(pk=contact_id)
        .first()
    )
    if contact is None:
        from consulto.core.errors import NotFound

        raise NotFound()
    ticket = contact.ticket
    data = (
        services.read_snapshot(agent=agent, snapshot=contact.snapshot, ip=ip)
        if contact.snapshot
        else {}
    )
    previous = []
    if ticket.customer_id:
        previous = list(
            access.tickets(agent)
            .filter(customer_id=ticket.customer_id)
            .exclude(pk=ticket.pk)
            .order_by("-created_at")[:10]
        )
        for other in previous:
            other.subject_text = crypto.decrypt_text(other.subject)
    return ContactView(
        contact=contact,
        ticket=ticket,
        subject=crypto.decrypt_text(ticket.subject),
        snapshot=data,
        entries=entries_of(ticket, internal=True),
        previous=previous,
        is_mine=contact.agent_id == agent.pk,
    )


def entries_of(ticket: Ticket, *, internal: bool) -> list[EntryView]:
    qs = ticket.entries.select_related("author").prefetch_related("attachments")
    if not internal:
        qs = qs.exclude(kind=Entry.Kind.NOTE)
    return [EntryView(e, crypto.decrypt_text(e.body), list(e.attachments.all())) for e in qs]


@dataclass
class TeamRow:
    agent: Agent
    contacts: list[Contact]
    since_seconds: int


@dataclass
class SkillQueue:
    product: str
    label: str
    waiting: int
    oldest_seconds: int


def team_view(supervisor: Agent, *, now: datetime | None = None):
    """Who is on what, the queue per skill, the oldest wait: for supervisors and managers."""
    now = now or timezone.now()
    agents = list(access.colleagues(supervisor).order_by("team__name", "user__last_name"))
    live = Contact.objects.filter(
        agent__in=agents, status__in=(Status.ACTIVE, Status.WRAP_UP)
    ).select_related("ticket")
    by_agent: dict[int, list[Contact]] = {}
    for contact in live:
        by_agent.setdefault(contact.agent_id, []).append(contact)
    rows = [
        TeamRow(
            a,
            by_agent.get(a.pk, []),
            int((now - a.presence_since).total_seconds()) if a.presence_since else 0,
        )
        for a in agents
    ]
    stats = {
        row["product"]: row
        for row in Contact.objects.filter(status__in=(Status.WAITING, Status.OFFERED))
        .values("product")
        .annotate(n=Count("id"), oldest=Min("requested_at"))
    }
    queues = [
        SkillQueue(
            value,
            label,
            stats.get(value, {}).get("n", 0),
            int((now - stats[value]["oldest"]).total_seconds()) if value in stats else 0,
        )
        for value, label in Product.choices
    ]
    return rows, queues


def customer_requests(user) -> list[Ticket]:
    tickets = list(Ticket.objects.filter(customer=user).order_by("-created_at")[:50])
    for ticket in tickets:
        ticket.subject_text = crypto.decrypt_text(ticket.subject)
    return tickets


def customer_request(user, ticket_id: int):
    ticket = Ticket.objects.filter(pk=ticket_id, customer=user).first()
    if ticket is None:
        return None
    ticket.subject_text = crypto.decrypt_text(ticket.subject)
    contacts = list(ticket.contacts.order_by("-requested_at"))
    return ticket, contacts, entries_of(ticket, internal=False)


def expected_wait_seconds(*, product: str, kind: str, language: str, now=None) -> int | None:
    now = now or timezone.now()
    wait = dispatch.expected_wait(product=product, kind=kind, language=language, now=now)
    return None if wait is None else int(wait.total_seconds())


@dataclass
class TicketRow:
    ticket: Ticket
    subject: str
    first_overdue: bool
    resolution_overdue: bool


OPEN_TICKETS = (Ticket.Status.NEW, Ticket.Status.OPEN, Ticket.Status.WAITING)


def ticket_list(
    agent: Agent,
    *,
    status: str = "",
    product: str = "",
    overdue: bool = False,
    mine: bool = False,
    now: datetime | None = None,
    limit: int = 100,
) -> list[TicketRow]:
    """The tickets the agent may see, the most urgent first: priority, then the answer due
    soonest. Open ones by default; ``overdue`` keeps those past a service-level time."""
    now = now or timezone.now()
    qs = access.tickets(agent).select_related("customer", "team", "assignee__user")
    qs = qs.filter(status=status) if status else qs.filter(status__in=OPEN_TICKETS)
    if product:
        qs = qs.filter(product=product)
    if mine:
        qs = qs.filter(assignee=agent)
    if overdue:
        qs = qs.filter(
            Q(first_response_at__isnull=True, first_response_due__lt=now)
            | Q(solved_at__isnull=True, resolution_due__lt=now)
        )
    rows = []
    for ticket in qs.order_by("-priority", "resolution_due", "pk")[:limit]:
        rows.append(
            TicketRow(
                ticket,
                crypto.decrypt_text(ticket.subject),
                ticket.first_response_at is None and ticket.first_response_due < now,
                ticket.solved_at is None and ticket.resolution_due < now,
            )
        )
    return rows


@dataclass
class TicketView:
    ticket: Ticket
    subject: str
    contacts: list[Contact]
    entries: list[EntryView]
    snapshot: dict
    first_overdue: bool
    resolution_overdue: bool


def ticket_view(agent: Agent, ticket_id: int, *, ip: str | None = None, now=None) -> TicketView:
    now = now or timezone.now()
    ticket = access.ticket_for(agent, ticket_id)
    latest = ticket.snapshots.order_by("-taken_at", "-pk").first()
    data = services.read_snapshot(agent=agent, snapshot=latest, ip=ip) if latest else {}
    return TicketView(
        ticket=ticket,
        subject=crypto.decrypt_text(ticket.subject),
        contacts=list(ticket.contacts.select_related("agent__user").order_by("-requested_at")),
        entries=entries_of(ticket, internal=True),
        snapshot=data,
        first_overdue=ticket.first_response_at is None and ticket.first_response_due < now,
        resolution_overdue=ticket.solved_at is None and ticket.resolution_due < now,
    )
