"""Who sees which contacts: a matrix of agents, supervisors and managers of the in-house team and
two providers. A provider's people never see another provider's contacts (404), on every door:
the contact page, its actions, attachments, the team view and the live console."""

import pytest
from django.test import Client
from django.urls import reverse

from consulto.support import access, services
from consulto.support.models import Agent

pytestmark = pytest.mark.django_db(transaction=True)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _taken_by(desk, agent: Agent):
    """A written request with a screenshot, taken by ``agent``."""
    for other in (desk.alice, desk.bruno, desk.chloe):
        other.presence = Agent.Presence.AVAILABLE if other == agent else Agent.Presence.OFFLINE
        other.save()
    contact = services.ask_for_help(
        user=desk.pro_user,
        channel="email",
        category="account_pro",
        text="Je n'arrive pas à me connecter",
        attachments=[("capture.png", PNG)],
    )
    contact.refresh_from_db()
    services.accept(agent=agent, contact_id=contact.pk)
    return contact


# (viewer, owner of the contact) -> visible?
MATRIX = [
    ("alice", "alice", True),
    ("sam", "alice", True),
    ("manager", "alice", True),
    ("bruno", "alice", False),
    ("sam_a", "alice", False),
    ("sam_b", "alice", False),
    ("bruno", "bruno", True),
    ("sam_a", "bruno", True),
    ("chloe", "bruno", False),
    ("sam_b", "bruno", False),
    ("sam", "bruno", False),
    ("manager", "bruno", True),
    ("chloe", "chloe", True),
    ("sam_b", "chloe", True),
    ("sam_a", "chloe", False),
    ("alice", "chloe", False),
]


@pytest.mark.parametrize(("viewer", "owner", "visible"), MATRIX)
def test_contacts_are_seen_within_ones_scope_only(desk, viewer, owner, visible):
    contact = _taken_by(desk, getattr(desk, owner))
    agent = getattr(desk, viewer)
    client = Client()
    client.force_login(agent.user)
    page = client.get(reverse("support:contact", args=[contact.pk]))
    assert page.status_code == (200 if visible else 404)
    if visible:
        assert "Je n&#x27;arrive pas à me connecter" in page.content.decode()
    attachment = contact.ticket.entries.get(kind="customer").attachments.get()
    download = client.get(reverse("support:attachment", args=[attachment.pk]))
    assert download.status_code == (200 if visible else 404)
    listed = access.tickets(agent).filter(pk=contact.ticket_id).exists()
    assert listed is visible


def test_an_agent_cannot_act_on_a_contact_that_is_not_theirs(desk):
    contact = _taken_by(desk, desk.bruno)
    client = Client()
    client.force_login(desk.chloe.user)
    for action in ("hold", "end"):
        response = client.post(reverse("support:contact_action", args=[contact.pk, action]))
        assert response.status_code == 302  # back to the console with a message
    contact.refresh_from_db()
    assert contact.status == "active" and contact.hold_started_at is None
    with pytest.raises(services.NotFound):
        services.wrap_up(agent=desk.chloe, contact_id=contact.pk, reason="solved")
    with pytest.raises(services.NotFound):
        services.reply(agent=desk.chloe, ticket_id=contact.ticket_id, text="Bonjour")


def test_the_team_view_shows_a_supervisor_their_own_agents_only(desk):
    client = Client()
    client.force_login(desk.sam_a.user)
    page = client.get(reverse("support:team")).content.decode()
    assert "Bruno" in page and "Chloe" not in page and "Alice" not in page
    client.force_login(desk.manager.user)
    page = client.get(reverse("support:team")).content.decode()
    assert "Bruno" in page and "Chloe" in page and "Alice" in page
    client.force_login(desk.bruno.user)
    assert client.get(reverse("support:team")).status_code == 404


def test_the_console_is_closed_to_customers_and_to_agents_without_a_second_factor(desk):
    client = Client()
    client.force_login(desk.pro_user)
    assert client.get(reverse("support:console")).status_code == 404
    from allauth.mfa.models import Authenticator

    Authenticator.objects.filter(user=desk.alice.user).delete()
    client.force_login(desk.alice.user)
    response = client.get(reverse("support:console"))
    assert response.status_code == 302 and response["Location"] == reverse("mfa_activate_totp")


def test_a_customer_sees_their_own_requests_only_and_never_internal_notes(desk):
    contact = _taken_by(desk, desk.alice)
    services.add_note(agent=desk.alice, ticket_id=contact.ticket_id, text="Client pressé")
    services.reply(agent=desk.alice, ticket_id=contact.ticket_id, text="Essayez ceci")
    client = Client()
    client.force_login(desk.pro_user)
    page = client.get(reverse("support:request", args=[contact.ticket_id])).content.decode()
    assert "Essayez ceci" in page and "Client pressé" not in page
    client.force_login(desk.patient_user)
    assert client.get(reverse("support:request", args=[contact.ticket_id])).status_code == 404
    attachment = contact.ticket.entries.get(kind="customer").attachments.get()
    assert client.get(reverse("support:attachment", args=[attachment.pk])).status_code == 404


def test_the_live_conversation_of_a_contact_is_for_its_scope_only(desk):
    contact = _taken_by(desk, desk.bruno)
    client = Client()
    client.force_login(desk.sam_a.user)
    url = reverse("support:contact_entries", args=[contact.pk])
    assert "me connecter" in client.get(url).content.decode()
    client.force_login(desk.chloe.user)
    assert client.get(url).status_code == 404
