from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import translation
from icalendar import Calendar

from consulto.notifications import services
from consulto.notifications.ics import appointment_ics
from consulto.notifications.models import Message
from consulto.scheduling import booking
from tests.conftest import at

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


def calendar_of(message) -> Calendar:
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    assert parts[0].get_filename() == "rendez-vous.ics"
    return Calendar.from_ical(parts[0].get_payload(decode=True))


def test_the_confirmation_email_arrives_with_an_ics_at_the_local_time(world, book, run_tasks, smtp):
    world.follow_up.instructions = "Apportez votre carte Vitale."
    world.follow_up.save()
    appointment = book(at(world.monday, 9))

    assert ("deliver", "sent") in run_tasks()

    [received] = smtp.messages
    assert received["To"] == "alice@example.org"
    assert received["Subject"].strip().startswith("Rendez-vous confirmé le ")
    text = received.get_body(preferencelist=("plain",)).get_content()
    when = f"{world.monday:%d}".lstrip("0")
    assert f"{when} " in text and "à 09:00" in text
    assert "Dr Claire Martin" in text
    assert "12 rue des Lilas" in text
    assert "Apportez votre carte Vitale." in text
    assert "http://127.0.0.1:8000/rendez-vous/" in text
    assert "jusqu’au" in text or "jusqu'au" in text
    assert "à 09:00" in received.get_body(preferencelist=("html",)).get_content()

    calendar = calendar_of(received)
    assert str(calendar["METHOD"]) == "REQUEST"
    [event] = calendar.events
    assert event.start == appointment.start
    assert event.start.astimezone(PARIS).hour == 9
    assert event.end - event.start == timedelta(minutes=15)
    assert str(event["UID"]) == f"appointment-{appointment.pk}@127.0.0.1"
    assert "Consultation de suivi" in str(event["SUMMARY"])
    assert "Dr Claire Martin" in str(event["SUMMARY"])
    assert "12 rue des Lilas" in str(event["LOCATION"])
    assert "Apportez votre carte Vitale." in str(event["DESCRIPTION"])
    [alarm] = event.walk("VALARM")
    assert alarm["TRIGGER"].dt == timedelta(hours=-2)


def test_the_confirmation_sms_goes_to_the_patient_phone_in_e164(
    world, patient, book, run_tasks, sms_outbox
):
    patient.phone = "06 12 34 56 78"
    patient.save()
    book(at(world.monday, 9))
    run_tasks()
    [sent] = sms_outbox
    assert sent["to"] == "+33612345678"
    assert "Dr Claire Martin" in sent["text"]
    assert "09:00" in sent["text"]


def test_an_invalid_phone_is_recorded_as_skipped(world, patient, book, run_tasks, sms_outbox):
    patient.phone = "12"
    patient.save()
    book(at(world.monday, 9))
    run_tasks()
    assert sms_outbox == []
    message = Message.objects.get(purpose="confirmation", channel="sms")
    assert message.status == "skipped"


def test_a_replayed_booking_confirms_once(world, book, run_tasks):
    first = book(at(world.monday, 9), idempotency_key="k1")
    again = book(at(world.monday, 9), idempotency_key="k1")
    assert again.pk == first.pk
    run_tasks()
    assert len(mail.outbox) == 1
    assert Message.objects.filter(purpose="confirmation").count() == 1


def test_messages_are_in_french_even_from_an_english_page(world, book, run_tasks):
    with translation.override("en"):
        book(at(world.monday, 9))
    run_tasks()
    [sent] = mail.outbox
    assert "Votre rendez-vous est confirmé." in sent.body
    assert "lundi" in sent.body


def test_a_secretary_booking_is_confirmed_to_the_patient_address(
    world, patient, other_user, book, run_tasks
):
    patient.email = "alice.durand@example.org"
    patient.save()
    book(at(world.monday, 9), booked_by=other_user, channel="secretary")
    run_tasks()
    assert [m.to for m in mail.outbox] == [["alice.durand@example.org"]]


def test_a_cancellation_sends_a_cancel_ics_and_skips_the_reminders(
    world, user, book, run_tasks, smtp, django_capture_on_commit_callbacks
):
    appointment = book(at(world.monday + timedelta(weeks=1), 9))
    run_tasks()
    with django_capture_on_commit_callbacks(execute=True):
        cancelled = booking.cancel(appointment=appointment, by=user)
        services.appointment_cancelled(appointment=cancelled)
    run_tasks()

    assert len(smtp.messages) == 2
    assert smtp.messages[1]["Subject"].strip().startswith("Rendez-vous annulé")
    cancel = calendar_of(smtp.messages[1])
    assert str(cancel["METHOD"]) == "CANCEL"
    [event] = cancel.events
    assert str(event["UID"]) == f"appointment-{appointment.pk}@127.0.0.1"
    assert event["SEQUENCE"] > calendar_of(smtp.messages[0]).events[0]["SEQUENCE"]
    reminders = Message.objects.filter(purpose__startswith="reminder")
    assert reminders.count() == 2
    assert set(reminders.values_list("status", flat=True)) == {"skipped"}


def test_a_move_is_told_in_one_email_that_updates_the_same_calendar_event(
    world, user, book, run_tasks, smtp, django_capture_on_commit_callbacks
):
    appointment = book(at(world.monday, 9))
    run_tasks()
    with django_capture_on_commit_callbacks(execute=True):
        moved = booking.reschedule(appointment=appointment, new_start=at(world.monday, 10), by=user)
        services.appointment_rescheduled(old=appointment, new=moved)
    run_tasks()

    confirmation, move = smtp.messages
    assert move["Subject"].strip().startswith("Rendez-vous déplacé au ")
    assert "à 10:00" in move["Subject"]
    text = move.get_body(preferencelist=("plain",)).get_content()
    assert "à 09:00" in text  # the old time, for reference
    first, second = calendar_of(confirmation).events[0], calendar_of(move).events[0]
    assert str(calendar_of(move)["METHOD"]) == "REQUEST"
    assert second["UID"] == first["UID"]
    assert second["SEQUENCE"] > first["SEQUENCE"]
    assert second.start.astimezone(PARIS).hour == 10


def test_the_ics_download_of_a_video_appointment_has_no_address(world, book):
    appointment = book(at(world.monday, 9), motive=world.video, notify=False)
    calendar = Calendar.from_ical(appointment_ics(appointment, method="PUBLISH"))
    assert str(calendar["METHOD"]) == "PUBLISH"
    [event] = calendar.events
    assert "rue des Lilas" not in str(event["LOCATION"])
    assert "ORGANIZER" not in event
    assert calendar.timezones[0].tz_name == "Europe/Paris"


def test_a_video_appointment_message_carries_the_link_to_its_room(
    world, patient, book, run_tasks, sms_outbox
):
    from consulto.teleconsultation import rooms

    patient.phone = "06 12 34 56 78"
    patient.save()
    appointment = book(at(world.monday, 9), motive=world.video)
    run_tasks()
    [email] = [m for m in mail.outbox if "Rendez-vous" in m.subject]
    link = next(w for w in email.body.split() if "/visio/lien/" in w)
    token = link.rstrip("/").rsplit("/", 1)[1]
    check = rooms.check_link(token, now=appointment.start)
    assert check.room.appointment == appointment and not check.reason
    [sms_message] = sms_outbox
    assert "/visio/lien/" in sms_message["text"]


def _cancel(appointment, django_capture_on_commit_callbacks, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        cancelled = booking.cancel(appointment=appointment, **kwargs)
        services.appointment_cancelled(appointment=cancelled)
    return cancelled


def test_the_practice_reason_reaches_the_patient_when_the_one_who_cancels_also_booked(
    world, patient, other_user, book, run_tasks, sms_outbox, django_capture_on_commit_callbacks
):
    patient.phone = "06 12 34 56 78"
    patient.save()
    secretary = other_user
    appointment = book(at(world.monday, 9), booked_by=secretary, channel="secretary")
    run_tasks()
    mail.outbox.clear()
    sms_outbox.clear()
    _cancel(
        appointment, django_capture_on_commit_callbacks,
        by=secretary, reason="Docteur malade", as_staff=True, by_practice=True,
    )  # fmt: skip
    run_tasks()
    [email] = mail.outbox
    assert "Motif indiqué par le cabinet : Docteur malade" in email.body
    assert "Docteur malade" in email.alternatives[0][0]
    [text] = sms_outbox
    assert "annulé" in text["text"] and "Motif : Docteur malade" in text["text"]


def test_a_patient_cancelling_what_the_secretary_booked_is_not_told_a_practice_reason(
    world, patient, user, other_user, book, run_tasks, sms_outbox,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    patient.phone = "06 12 34 56 78"
    patient.save()
    appointment = book(at(world.monday, 9), booked_by=other_user, channel="secretary")
    run_tasks()
    mail.outbox.clear()
    sms_outbox.clear()
    _cancel(appointment, django_capture_on_commit_callbacks, by=user, reason="Empêchement")
    run_tasks()
    [email] = mail.outbox
    assert "Empêchement" not in email.body and "cabinet :" not in email.body
    assert sms_outbox == []  # the patient knows: no SMS for their own cancellation


def test_a_practice_move_is_texted_and_a_patient_move_is_not(
    world, patient, user, book, run_tasks, sms_outbox, django_capture_on_commit_callbacks
):
    patient.phone = "06 12 34 56 78"
    patient.save()
    appointment = book(at(world.monday, 9))
    run_tasks()
    sms_outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        moved = booking.reschedule(appointment=appointment, new_start=at(world.monday, 10), by=user)
        services.appointment_rescheduled(old=appointment, new=moved)
    run_tasks()
    assert sms_outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        again = booking.reschedule(
            appointment=moved, new_start=at(world.monday, 11), by=user, as_staff=True
        )
        services.appointment_rescheduled(old=moved, new=again)
    run_tasks()
    [text] = sms_outbox
    assert "11:00" in text["text"]


def test_a_staff_booking_never_takes_the_staff_member_address_or_phone(
    world, patient, other_user, book, run_tasks, sms_outbox
):
    other_user.phone = "06 99 99 99 99"
    other_user.save()
    patient.email = ""
    patient.save()
    patient.owner.email = "alice@example.org"
    book(at(world.monday, 9), booked_by=other_user, channel="secretary")
    run_tasks()
    assert [m.to for m in mail.outbox] == [["alice@example.org"]]
    assert sms_outbox == []  # the patient has no phone: nothing to the secretary's


def _soon(world):
    """The first slot of the follow-up motive from now (a patient or API client can book it)."""
    from django.utils import timezone

    from consulto.scheduling.selectors import agenda_slots
    from consulto.scheduling.visibility import EVERYONE

    now = timezone.now()
    [slot] = agenda_slots(
        agenda=world.agenda,
        motive=world.follow_up,
        start=now.date(),
        days=14,
        now=now,
        limit=1,
        audience=EVERYONE,
    )
    return slot.start


def test_a_confirmation_that_could_not_go_out_before_the_start_is_dropped(
    world, patient, book, run_tasks, sms_outbox
):
    """The patient pages' door: the worker was down until after the appointment began."""
    patient.phone = "06 12 34 56 78"
    patient.save()
    start = _soon(world)
    appointment = book(start)
    assert run_tasks(start + timedelta(minutes=1))
    assert mail.outbox == [] and sms_outbox == []
    assert set(
        Message.objects.filter(appointment=appointment, purpose="confirmation").values_list(
            "status", "last_error"
        )
    ) == {("skipped", "appointment already started")}


def test_an_api_booking_confirmed_too_late_is_not_announced(
    client, world, user, run_tasks, sms_outbox, django_capture_on_commit_callbacks
):
    """The API's door: the same rule, in notifications."""
    import json

    from consulto.api.models import ApiToken

    _token, secret = ApiToken.issue(user)
    start = _soon(world)
    body = {
        "agenda": world.agenda.pk, "motive": world.follow_up.pk, "start": start.isoformat(),
        "patient": {"first_name": "Alice", "last_name": "Durand", "birth_date": "1980-05-17",
                    "phone": "06 12 34 56 78", "email": "alice@example.org"},
    }  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/appointments", data=json.dumps(body), content_type="application/json",
            headers={"Authorization": f"Bearer {secret}"},
        )  # fmt: skip
    assert response.status_code == 201, response.content
    run_tasks(start + timedelta(minutes=5))
    assert mail.outbox == [] and sms_outbox == []
    assert not Message.objects.filter(status="sent").exists()


def test_nothing_is_written_for_an_appointment_booked_or_moved_into_the_past(
    world, patient, book, sms_outbox, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    patient.phone = "06 12 34 56 78"
    patient.save()
    past = timezone.now() - timedelta(hours=3)
    booked = book(past, as_staff=True)
    assert not Message.objects.filter(appointment=booked).exists()
    later = book(at(world.monday, 9))
    with django_capture_on_commit_callbacks(execute=True):
        moved = booking.reschedule(
            appointment=later, new_start=past - timedelta(hours=1), by=None, as_staff=True
        )
        services.appointment_rescheduled(old=later, new=moved)
    assert not Message.objects.filter(appointment=moved).exists()
    assert not Message.objects.filter(
        appointment=later, purpose__startswith="reminder", status="pending"
    ).exists()
