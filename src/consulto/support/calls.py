"""The in-product support call: an audio call between the agent's console and the customer's
page, over our WebRTC signaling and relay (TURN) like video consultations.

Who may join a contact's call: the agent who took it (while it is in progress) and the ticket's
customer (while the request is open: they wait on their page for the call). Everything else is
refused. The call's talk and hold times are the contact's (``services.hold`` and ``end``).
"""

from __future__ import annotations

from consulto.teleconsultation.rooms import ice_servers

from . import access
from .models import Contact

AGENT, CUSTOMER = "agent", "customer"
CUSTOMER_STATUSES = (
    Contact.Status.SCHEDULED,
    Contact.Status.WAITING,
    Contact.Status.OFFERED,
    Contact.Status.ACTIVE,
)


def group_of(contact_id: int) -> str:
    return f"support-call-{contact_id}"


def join(user, contact_id: int) -> tuple[str | None, dict | None]:
    """The side ``user`` takes in the contact's call and the page's hello, or (None, None)."""
    contact = (
        Contact.objects.select_related("ticket")
        .filter(pk=contact_id, channel=Contact.Channel.CALL)
        .first()
    )
    if contact is None:
        return None, None
    side = None
    agent = access.agent_of(user)
    if agent is not None and contact.agent_id == agent.pk:
        if contact.status == Contact.Status.ACTIVE:
            side = AGENT
    elif contact.ticket.customer_id == user.pk and contact.status in CUSTOMER_STATUSES:
        side = CUSTOMER
    if side is None:
        return None, None
    return side, {"type": "hello", "side": side, "iceServers": ice_servers(f"u{user.pk}")}


def ongoing_call(ticket) -> Contact | None:
    """The customer's call of this ticket that may still ring."""
    return (
        ticket.contacts.filter(channel=Contact.Channel.CALL, status__in=CUSTOMER_STATUSES)
        .order_by("-requested_at")
        .first()
    )
