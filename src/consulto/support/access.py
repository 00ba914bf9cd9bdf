"""Who in the support desk may see what: the one place these rules live.

A provider works for us under contract: its people see their own provider's agents, contacts
and tickets, never another provider's nor the in-house teams'. Anything outside a person's
scope is *not found* (404): its existence is not leaked.

| who                        | tickets and contacts                              | agents        |
|----------------------------|---------------------------------------------------|---------------|
| agent                      | their scope's*, and any offered or pinned to them | their scope's |
| supervisor                 | their scope's*                                    | their scope's |
| support manager (in-house) | all, including those no team took yet             | all           |

* scope: the agent's provider (or "in-house"): tickets that a team of it took. Waiting contacts
nobody took yet appear in an agent's queue as product, channel, language and wait only; their
ticket opens once offered to the agent or taken by them.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from consulto.core.errors import NotFound

from .models import Agent, ConsultRequest, Contact, Ticket

Role = Agent.Role


def agent_of(user) -> Agent | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Agent.objects.select_related("team", "team__provider", "user")
        .filter(user=user, is_active=True)
        .first()
    )


def is_manager(agent: Agent) -> bool:
    return agent.role == Role.MANAGER and agent.team.provider_id is None


def is_supervisor(agent: Agent) -> bool:
    return agent.role in (Role.SUPERVISOR, Role.MANAGER)


def _scope(agent: Agent) -> Q:
    """Tickets and contacts of the agent's provider (or of the in-house teams)."""
    if agent.team.provider_id is None:
        return Q(team__provider__isnull=True, team__isnull=False)
    return Q(team__provider_id=agent.team.provider_id)


def tickets(agent: Agent) -> QuerySet[Ticket]:
    if is_manager(agent):
        return Ticket.objects.all()
    mine = Q(contacts__offered_to=agent) | Q(contacts__pinned_agent=agent)
    if is_supervisor(agent):
        return Ticket.objects.filter(_scope(agent)).distinct()
    return Ticket.objects.filter(_scope(agent) | mine).distinct()


def contacts(agent: Agent) -> QuerySet[Contact]:
    if is_manager(agent):
        return Contact.objects.all()
    mine = Q(offered_to=agent) | Q(pinned_agent=agent) | Q(agent=agent)
    return Contact.objects.filter(Q(ticket__in=tickets(agent)) | mine)


def ticket_for(agent: Agent, ticket_id: int, *, lock: bool = False) -> Ticket:
    found = tickets(agent).filter(pk=ticket_id).values_list("pk", flat=True).first()
    if found is None:
        raise NotFound()
    qs = Ticket.objects.select_related("customer", "organisation", "team", "assignee__user")
    if lock:
        qs = qs.select_for_update(of=("self",))
    return qs.get(pk=found)


def colleagues(agent: Agent) -> QuerySet[Agent]:
    """The agents this one may see, and transfer to."""
    qs = Agent.objects.filter(is_active=True).select_related("user", "team")
    if is_manager(agent):
        return qs
    if agent.team.provider_id is None:
        return qs.filter(team__provider__isnull=True)
    return qs.filter(team__provider_id=agent.team.provider_id)


def consults_for(supervisor: Agent) -> QuerySet[ConsultRequest]:
    if not is_supervisor(supervisor):
        return ConsultRequest.objects.none()
    return ConsultRequest.objects.filter(agent__in=colleagues(supervisor))
