"""The help panel and the customer's pages, as a practitioner and a patient use them: answers
first, then the channels; errors in the user's language; nothing typed is trusted."""

from datetime import timedelta

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from consulto.support import services
from consulto.support.models import Contact, Survey, Ticket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pro(desk):
    client = Client(HTTP_USER_AGENT="Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X)")
    client.force_login(desk.pro_user)
    return client


def test_the_help_panel_suggests_answers_for_the_page_one_came_from(pro):
    page = pro.get(reverse("support:help"), HTTP_REFERER="http://testserver/pro/reglages/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Définir vos horaires d’ouverture" in html or "Set your opening hours" in html
    assert "Me rappeler maintenant" in html
    assert "un conseiller est libre maintenant" in html  # alice is available now


def test_the_help_search_forgives_accents_and_case(pro):
    html = pro.get(reverse("support:help"), {"q": "CAMERA"}).content.decode()
    assert "caméra" in html.lower()
    html = pro.get(reverse("support:help"), {"q": "zzzz introuvable"}).content.decode()
    assert "introuvable" in html  # "nothing found for …", and the channels below


def test_asking_to_be_called_back_now_records_the_page_and_the_phone(desk, pro):
    signed = signing.dumps("/pro/reglages/", salt="consulto.support.page")
    response = pro.post(
        reverse("support:help"),
        {"category": "video_now", "channel": "now", "phone": "0611223344", "page": signed},
    )
    ticket = Ticket.objects.get(customer=desk.pro_user)
    assert response.status_code == 302
    assert response["Location"] == reverse("support:request", args=[ticket.pk])
    contact = ticket.contacts.get()
    assert contact.phone == "0611223344" and contact.channel == "call"
    from consulto.support.services import read_snapshot

    data = read_snapshot(agent=desk.alice, snapshot=contact.snapshot)
    assert data["page"] == "/pro/reglages/" and "iOS" in data["browser"]["os"]


def test_a_forged_page_is_ignored(desk, pro):
    pro.post(
        reverse("support:help"),
        {"category": "video_now", "channel": "now", "page": "/pro/forged/"},
    )
    contact = Contact.objects.get(ticket__customer=desk.pro_user)
    data = services.read_snapshot(agent=desk.alice, snapshot=contact.snapshot)
    assert data["page"] == ""


def test_a_written_request_needs_a_message_and_says_so_in_french(pro):
    response = pro.post(reverse("support:help"), {"category": "billing", "channel": "email"})
    assert response.status_code == 422
    assert "Dites-nous ce qui se passe" in response.content.decode()
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"category": "nope", "channel": "now"},
        {"category": "video_now", "channel": "fax"},
        {"category": "billing", "channel": "email", "text": "a\x00b"},
        {"category": "video_now", "channel": "later", "call_at": "9999-12-31T23:00:00+00:00"},
        {"category": "video_now", "channel": "later", "call_at": "2026-13-45"},
        {"category": "billing", "channel": "email", "text": "x" * 10_001},
    ],
)
def test_bad_input_is_a_form_error_never_a_500(pro, data):
    response = pro.post(reverse("support:help"), data)
    assert response.status_code == 422
    assert not Ticket.objects.exists()


def test_a_callback_at_a_time_offers_the_agents_shifts_and_books_one(desk, pro):
    html = pro.get(reverse("support:help")).content.decode()
    assert 'name="call_at"' in html
    response = pro.post(reverse("support:help"), {"category": "video", "channel": "later"})
    assert "Choisissez une heure" in response.content.decode()
    from consulto.support import dispatch

    slot = dispatch.callback_slots(
        product="video", kind="technical", language="fr", now=timezone.now()
    )[3]
    response = pro.post(
        reverse("support:help"),
        {"category": "video", "channel": "later", "call_at": slot.isoformat()},
    )
    assert response.status_code == 302
    contact = Contact.objects.get(ticket__customer=desk.pro_user)
    assert contact.status == "scheduled" and contact.not_before == slot


def test_a_customer_cancels_a_waiting_callback(desk, pro):
    services.set_presence(agent=desk.alice, presence="offline")
    contact = services.ask_for_help(user=desk.pro_user, channel="call", category="video")
    page = reverse("support:request", args=[contact.ticket_id])
    assert "Annuler cette demande" in pro.get(page).content.decode()
    pro.post(page, {"cancel": str(contact.pk)})
    contact.refresh_from_db()
    assert contact.status == "abandoned"


def test_the_survey_page_takes_one_answer_from_1_to_5(desk):
    contact = services.ask_for_help(user=desk.pro_user, channel="call", category="video_now")
    services.accept(agent=desk.alice, contact_id=contact.pk)
    services.wrap_up(
        agent=desk.alice, contact_id=contact.pk, reason="solved", ticket_status="solved"
    )
    survey = Survey.objects.get()
    client = Client()  # the link works from the e-mail, logged in or not
    url = reverse("support:survey", args=[survey.token])
    assert client.post(url, {"score": "9"}).status_code == 422
    response = client.post(url, {"score": "5", "comment": "Parfait"})
    assert response.status_code == 200 and "Merci" in response.content.decode()
    survey.refresh_from_db()
    assert survey.score == 5
    assert client.get(reverse("support:survey", args=["nope"])).status_code == 404


def test_the_agent_console_shows_the_offer_and_the_snapshot_after_accepting(desk):
    contact = services.ask_for_help(
        user=desk.pro_user, channel="call", category="video_now", page="/pro/"
    )
    client = Client()
    client.force_login(desk.alice.user)
    html = client.get(reverse("support:console")).content.decode()
    assert "Claire Martin" in html and "Accepter" in html
    response = client.post(reverse("support:contact_action", args=[contact.pk, "accept"]))
    assert response["Location"] == reverse("support:contact", args=[contact.pk])
    html = client.get(response["Location"]).content.decode()
    assert "Cabinet des Lilas" in html and desk.gp.rpps in html
    later = (timezone.localtime() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("support:contact", args=[contact.pk]),
        {"form": "consult", "question": "Que faire ?", "call_back_at": later},
    )
    assert response.status_code == 302
    client.force_login(desk.sam.user)
    assert "Alice" in client.get(reverse("support:console")).content.decode()


def test_the_backlog_lists_open_tickets_with_their_service_level(desk, clock):
    services.set_presence(agent=desk.alice, presence="offline")
    contact = services.ask_for_help(
        user=desk.pro_user, channel="email", category="account_pro", text="Mot de passe"
    )
    services.set_presence(agent=desk.alice, presence="available")
    services.accept(agent=desk.alice, contact_id=contact.pk)
    client = Client()
    client.force_login(desk.alice.user)
    html = client.get(reverse("support:tickets")).content.decode()
    assert contact.ticket.reference in html and "Mot de passe" in html
    clock.shift(timedelta(days=4))  # past the three days of a normal request's resolution
    client.force_login(desk.alice.user)  # the staff session lapsed meanwhile
    html = client.get(reverse("support:tickets"), {"overdue": "on"}).content.decode()
    assert contact.ticket.reference in html and "en retard" in html
    page = reverse("support:ticket", args=[contact.ticket_id])
    response = client.post(page, {"form": "status", "status": "solved"})
    assert response.status_code == 302
    contact.ticket.refresh_from_db()
    assert contact.ticket.status == "solved"
    assert client.post(page, {"form": "status", "status": "nope"}).status_code == 422
    client.force_login(desk.chloe.user)
    assert client.get(page).status_code == 404
    assert contact.ticket.reference not in client.get(reverse("support:tickets")).content.decode()
