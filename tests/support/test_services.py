"""The support desk's services, told as stories: a practitioner asks for help, routing offers
the contact, the agent answers, files it, the customer is surveyed."""

import json
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone

from consulto.core import crypto
from consulto.core.errors import InvalidInput
from consulto.core.models import AuditEvent, ServerError
from consulto.notifications.models import Message
from consulto.notifications.services import send_message
from consulto.support import services
from consulto.support.models import Agent, Contact, Entry, Shift, Snapshot, Survey, Ticket

pytestmark = pytest.mark.django_db(transaction=True)

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
Status = Contact.Status


def ask(user, channel="call", category="video_now", **kwargs):
    kwargs.setdefault("page", "/pro/")
    kwargs.setdefault("user_agent", CHROME)
    return services.ask_for_help(user=user, channel=channel, category=category, **kwargs)


def test_a_callback_asked_now_is_offered_at_once_to_an_available_agent(desk):
    contact = ask(desk.pro_user)
    contact.refresh_from_db()
    assert contact.status == Status.OFFERED
    assert contact.offered_to == desk.alice
    assert contact.priority == 2  # a practitioner who cannot consult comes first
    assert contact.offer_expires_at == pytest.approx(
        contact.requested_at + timedelta(seconds=20), abs=timedelta(seconds=2)
    )


def test_the_snapshot_tells_the_agent_who_asks_and_is_encrypted_at_rest(desk):
    ServerError.objects.create(user=desk.pro_user, method="GET", path="/pro/", error="KeyError")
    contact = ask(desk.pro_user, page="/pro/reglages/")
    stored = Snapshot.objects.get(ticket=contact.ticket)
    assert "Martin" not in stored.data and "Cabinet" not in stored.data  # encrypted
    contact.refresh_from_db()
    services.accept(agent=desk.alice, contact_id=contact.pk)
    data = services.read_snapshot(agent=desk.alice, snapshot=stored)
    assert data["account"]["email"] == "claire.martin@cabinet.test"
    assert data["account"]["email_verified"] is True
    assert data["practitioner"]["rpps"] == desk.gp.rpps
    assert [o["name"] for o in data["organisations"]] == ["Cabinet des Lilas"]
    assert data["page"] == "/pro/reglages/"
    assert data["agendas"][0]["motives"] == 3 and data["agendas"][0]["video_motives"] == 1
    assert data["agendas"][0]["weekly_hours"] == 35.0
    assert data["errors"][0]["error"] == "KeyError"
    assert data["browser"]["browser"].startswith("Chrome") and "Windows" in data["browser"]["os"]
    read = AuditEvent.objects.filter(target_type="support_snapshot", target_id=str(stored.pk))
    assert read.filter(actor=desk.alice.user).count() == 1


def test_a_patients_snapshot_holds_their_upcoming_appointments_not_a_practice(desk):
    contact = ask(desk.patient_user, channel="email", category="appointment", text="Bonjour")
    data = json.loads(crypto.decrypt_text(contact.snapshot.data))
    assert data["professional"] is False
    assert "organisations" not in data and data["appointments"] == []


def test_a_patient_cannot_choose_a_professional_category(desk):
    with pytest.raises(InvalidInput):
        ask(desk.patient_user, category="video_now")


def test_accepting_answering_and_filing_record_the_times(desk, clock):
    contact = ask(desk.pro_user)
    clock.shift(timedelta(seconds=5))
    services.accept(agent=desk.alice, contact_id=contact.pk)
    desk.alice.refresh_from_db()
    assert desk.alice.presence == Agent.Presence.BUSY
    clock.shift(timedelta(seconds=60))
    services.hold(agent=desk.alice, contact_id=contact.pk, on=True)
    clock.shift(timedelta(seconds=30))
    services.hold(agent=desk.alice, contact_id=contact.pk, on=False)
    clock.shift(timedelta(seconds=90))
    services.end(agent=desk.alice, contact_id=contact.pk)
    desk.alice.refresh_from_db()
    assert desk.alice.presence == Agent.Presence.WRAP_UP
    clock.shift(timedelta(seconds=40))
    services.wrap_up(agent=desk.alice, contact_id=contact.pk, reason="configured", note="Caméra")
    contact.refresh_from_db()
    assert contact.status == Status.DONE
    assert contact.hold_seconds == pytest.approx(30, abs=1)
    assert contact.talk_seconds == pytest.approx(150, abs=2)
    assert contact.wrap_seconds == pytest.approx(40, abs=1)
    desk.alice.refresh_from_db()
    assert desk.alice.presence == Agent.Presence.AVAILABLE
    ticket = contact.ticket
    ticket.refresh_from_db()
    assert ticket.team == desk.in_house and ticket.status == Ticket.Status.OPEN
    note = ticket.entries.get(kind=Entry.Kind.NOTE)
    assert crypto.decrypt_text(note.body) == "Caméra"


def test_an_agent_never_holds_two_calls(desk):
    first = ask(desk.pro_user)
    second = ask(desk.patient_user, category="video_patient")
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == Status.OFFERED  # priority: the practitioner who cannot consult
    assert second.status == Status.WAITING


def test_an_offer_not_answered_goes_to_the_next_agent_and_the_silent_one_is_put_on_break(
    desk, clock
):
    desk.bruno.presence = Agent.Presence.AVAILABLE
    desk.bruno.idle_since = timezone.now()  # alice has been idle longer: she is offered first
    desk.bruno.save()
    contact = ask(desk.pro_user)
    contact.refresh_from_db()
    assert contact.offered_to == desk.alice
    clock.shift(timedelta(seconds=21))
    assert services.expire_offer(contact_id=contact.pk)
    contact.refresh_from_db()
    assert contact.offered_to == desk.bruno
    desk.alice.refresh_from_db()
    assert desk.alice.presence == Agent.Presence.BREAK


def test_the_routing_pass_after_a_change_runs_at_the_time_the_service_was_given(desk):
    # Alice works tomorrow morning only; the callback is asked tomorrow at 10:00 (now=...),
    # while the machine's clock says today.
    tomorrow = timezone.localdate() + timedelta(days=1)
    desk.alice.shifts.all().delete()
    Shift.objects.create(agent=desk.alice, weekday=tomorrow.weekday(), start=time(9), end=time(11))
    asked = datetime.combine(tomorrow, time(10), tzinfo=ZoneInfo("Europe/Paris"))
    contact = ask(desk.pro_user, now=asked)
    contact.refresh_from_db()
    assert contact.status == Status.OFFERED and contact.offered_to == desk.alice
    assert contact.offer_expires_at == asked + timedelta(seconds=20)


def test_an_agent_on_break_is_offered_nothing(desk):
    services.set_presence(agent=desk.alice, presence=Agent.Presence.BREAK)
    contact = ask(desk.pro_user)
    contact.refresh_from_db()
    assert contact.status == Status.WAITING
    services.set_presence(agent=desk.alice, presence=Agent.Presence.AVAILABLE)
    contact.refresh_from_db()
    assert contact.status == Status.OFFERED and contact.offered_to == desk.alice


def test_two_agents_cannot_both_accept_one_contact(desk):
    contact = ask(desk.pro_user)
    services.accept(agent=desk.alice, contact_id=contact.pk)
    with pytest.raises(services.Conflict):
        services.accept(agent=desk.bruno, contact_id=contact.pk)
    with pytest.raises(services.Conflict):
        services.accept(agent=desk.alice, contact_id=contact.pk)


def test_solving_a_ticket_sends_one_survey_by_email_and_its_answer_is_kept(desk):
    contact = ask(desk.pro_user)
    services.accept(agent=desk.alice, contact_id=contact.pk)
    services.wrap_up(
        agent=desk.alice, contact_id=contact.pk, reason="solved", ticket_status="solved"
    )
    services.set_ticket_status(agent=desk.alice, ticket_id=contact.ticket_id, status="solved")
    messages = Message.objects.filter(purpose="support", dedupe_key__startswith="support-survey")
    assert messages.count() == 1
    send_message(message_id=messages.get().pk)
    sent = mail.outbox[-1]
    assert sent.to == ["claire.martin@cabinet.test"]
    survey = Survey.objects.get(ticket=contact.ticket)
    assert f"/aide/avis/{survey.token}/" in sent.body
    assert sent.reply_to[0].startswith(f"support+{contact.ticket_id}.")
    assert Message.objects.get(pk=messages.get().pk).body == ""  # erased once sent
    services.answer_survey(token=survey.token, score=4, comment="Rapide")
    survey.refresh_from_db()
    assert (survey.score, survey.comment) == (4, "Rapide")
    with pytest.raises(InvalidInput):
        services.answer_survey(token=survey.token, score=6)


def test_a_reply_goes_out_by_email_from_the_tickets_address(desk):
    contact = ask(desk.pro_user, channel="email", category="account_pro", text="Ma facture ?")
    contact.refresh_from_db()
    assert contact.status == Status.OFFERED  # written requests are routed too
    services.accept(agent=desk.alice, contact_id=contact.pk)
    services.reply(agent=desk.alice, ticket_id=contact.ticket_id, text="Voici votre facture.")
    message = Message.objects.get(dedupe_key__startswith="support-reply")
    send_message(message_id=message.pk)
    sent = mail.outbox[-1]
    assert "Voici votre facture." in sent.body
    assert sent.extra_headers["Message-ID"].startswith(f"<ticket-{contact.ticket_id}.")
    contact.ticket.refresh_from_db()
    assert contact.ticket.status == Ticket.Status.WAITING


def test_a_chat_nobody_answers_becomes_a_written_request(desk):
    services.set_presence(agent=desk.alice, presence=Agent.Presence.OFFLINE)
    contact = ask(desk.pro_user, channel="chat", category="agenda_settings", text="Bonjour")
    assert services.chat_unanswered(contact_id=contact.pk)
    contact.refresh_from_db()
    assert contact.channel == "email" and contact.converted_from_chat
    assert not services.chat_unanswered(contact_id=contact.pk)


def test_consulting_the_supervisor_plans_a_callback_for_the_same_agent(desk, clock):
    contact = ask(desk.pro_user)
    services.accept(agent=desk.alice, contact_id=contact.pk)
    later = timezone.now() + timedelta(hours=1)
    services.consult_supervisor(
        agent=desk.alice,
        contact_id=contact.pk,
        question="Remise à zéro du TOTP ?",
        call_back_at=later,
    )
    callback = Contact.objects.get(ticket=contact.ticket, status=Status.SCHEDULED)
    assert callback.pinned_agent == desk.alice
    assert callback.snapshot_id == contact.snapshot_id
    desk.bruno.presence = Agent.Presence.AVAILABLE
    desk.bruno.save()
    clock.shift(timedelta(hours=1, minutes=1))
    from consulto.support import dispatch

    dispatch.route()
    callback.refresh_from_db()
    assert callback.status == Status.OFFERED and callback.offered_to == desk.alice


def test_a_callback_at_a_time_is_only_accepted_when_agents_work_then(desk):
    from consulto.support.models import Shift

    Shift.objects.all().delete()  # nobody works any more
    with pytest.raises(InvalidInput):
        ask(desk.pro_user, call_at=timezone.now() + timedelta(hours=2))


def test_attachments_are_checked_and_stored_encrypted(desk, settings):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    contact = ask(
        desk.pro_user,
        channel="email",
        category="agenda_bug",
        text="Capture",
        attachments=[("écran.png", png)],
    )
    entry = contact.ticket.entries.get(kind=Entry.Kind.CUSTOMER)
    attachment = entry.attachments.get()
    stored = (services.attachments_dir() / f"{attachment.storage_key}.bin").read_bytes()
    assert png not in stored
    name, kind, content = services.read_attachment(
        viewer=desk.pro_user, attachment_id=attachment.pk
    )
    assert (name, kind, content) == ("écran.png", "image/png", png)
    with pytest.raises(InvalidInput):
        ask(
            desk.pro_user,
            channel="email",
            category="agenda_bug",
            text="x",
            attachments=[("virus.exe", b"MZ\x90\x00")],
        )


def test_a_transfer_to_a_skill_goes_back_to_the_queue_with_the_snapshot(desk):
    contact = ask(desk.pro_user)
    services.accept(agent=desk.alice, contact_id=contact.pk)
    successor = services.transfer(
        agent=desk.alice, contact_id=contact.pk, product="billing", kind="account_management"
    )
    contact.refresh_from_db()
    assert contact.status == Status.DONE and contact.wrap_reason == "escalated"
    assert successor.snapshot_id == contact.snapshot_id
    assert successor.product == "billing"


def test_a_nul_byte_in_a_request_is_a_clear_error(desk):
    with pytest.raises(InvalidInput):
        ask(desk.pro_user, channel="email", category="billing", text="a\x00b")


def test_a_request_of_another_kind_waits_for_an_agent_of_that_kind(desk):
    contact = ask(desk.pro_user, channel="email", category="billing", text="Ma facture ?")
    contact.refresh_from_db()
    assert contact.status == Status.WAITING  # alice does technical support only
    with pytest.raises(services.NotFound):
        services.take(agent=desk.alice, contact_id=contact.pk)


def test_a_server_error_is_remembered_for_the_user_who_hit_it(desk):
    from django.test import RequestFactory

    from consulto.core.errors_seen import remember

    request = RequestFactory().get("/pro/agenda/")
    request._cached_user = desk.pro_user  # what the page loaded before it failed
    try:
        raise KeyError("x")
    except KeyError:
        remember(sender=None, request=request)
    error = ServerError.objects.get(user=desk.pro_user)
    assert (error.path, error.error) == ("/pro/agenda/", "KeyError")


def test_server_errors_are_forgotten_after_a_week(desk, clock):
    from consulto.core import errors_seen

    ServerError.objects.create(user=desk.pro_user, method="GET", path="/pro/", error="KeyError")
    clock.shift(timedelta(days=6))
    assert errors_seen.purge() == 0
    clock.shift(timedelta(days=2))
    assert errors_seen.purge() == 1


def test_a_chat_is_answered_on_the_customers_page_not_by_email(desk):
    contact = ask(desk.pro_user, channel="chat", category="video", text="Bonjour ?")
    services.accept(agent=desk.alice, contact_id=contact.pk)
    services.customer_reply(user=desk.pro_user, ticket_id=contact.ticket_id, text="Vous êtes là ?")
    services.reply(agent=desk.alice, ticket_id=contact.ticket_id, text="Oui, je regarde.")
    assert not Message.objects.filter(dedupe_key__startswith="support-reply").exists()
    texts = [crypto.decrypt_text(e.body) for e in contact.ticket.entries.exclude(kind="event")]
    assert texts == ["Bonjour ?", "Vous êtes là ?", "Oui, je regarde."]


def test_asking_again_about_the_same_problem_adds_a_contact_to_the_open_ticket(desk, clock):
    first = ask(desk.pro_user, channel="email", category="agenda_bug", text="Créneaux absents")
    clock.shift(timedelta(hours=3))
    again = ask(desk.pro_user, channel="call", category="agenda_bug")
    other = ask(desk.pro_user, channel="email", category="account_pro", text="Connexion")
    assert again.ticket_id == first.ticket_id
    assert other.ticket_id != first.ticket_id
    assert first.ticket.contacts.count() == 2 and first.ticket.snapshots.count() == 2
    Ticket.objects.filter(pk=first.ticket_id).update(status=Ticket.Status.SOLVED)
    Contact.objects.filter(ticket=first.ticket).update(status=Status.DONE, offered_to=None)
    later = ask(desk.pro_user, channel="email", category="agenda_bug", text="Encore")
    assert later.ticket_id != first.ticket_id  # a solved problem that comes back is a new one


def test_a_customer_cannot_fill_the_queue(desk):
    services.set_presence(agent=desk.alice, presence="offline")
    for category in ("agenda_bug", "account_pro", "billing"):
        ask(desk.pro_user, channel="email", category=category, text="?")
    with pytest.raises(InvalidInput):
        ask(desk.pro_user, channel="call", category="video")
    assert Contact.objects.filter(ticket__customer=desk.pro_user).count() == 3


def test_a_caller_goes_before_an_older_written_request_of_the_same_priority(desk, clock):
    services.set_presence(agent=desk.alice, presence="offline")
    written = ask(desk.patient_user, channel="email", category="account_patient", text="?")
    clock.shift(timedelta(minutes=5))
    caller = ask(desk.pro_user, channel="call", category="account_pro")
    services.set_presence(agent=desk.alice, presence="available")
    caller.refresh_from_db()
    written.refresh_from_db()
    assert caller.status == Status.OFFERED and caller.offered_to == desk.alice
    assert written.status == Status.WAITING  # alice on a call takes nothing else
