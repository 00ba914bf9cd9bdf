"""The agenda as staff use it: what the calendar shows, booking by phone, moving by drag and drop,
cancelling with a reason, blocking a period, and the day's statuses."""

import html
import json
from datetime import date, time, timedelta

import pytest
from django.urls import reverse
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from consulto.core.errors import InvalidInput
from consulto.notifications.models import Message
from consulto.practice import services
from consulto.practice.models import PatientFile, PracticePolicy
from consulto.practice.selectors import contrast, from_wall, text_colour, wall
from consulto.scheduling import booking
from consulto.scheduling.models import Absence, Appointment, PatientProfile
from consulto.scheduling.selectors import compute, load_inputs, online_booking_stopped
from consulto.scheduling.visibility import EVERYONE
from tests.conftest import PARIS, at

Status = Appointment.Status


def _book(w, start, motive=None, patient=None, **kwargs):
    return booking.book(
        agenda=w.agenda,
        motive=motive or w.first,
        start=start,
        patient=patient or w.profile,
        booked_by=w.secretary,
        channel=Appointment.Channel.SECRETARY,
        **kwargs,
    )


def _events(client, w, start, days=7, agendas=None):
    ids = ",".join(str(a.pk) for a in (agendas or [w.agenda]))
    url = reverse("practice:events") + f"?agendas={ids}&start={start}&end={start + timedelta(days)}"
    response = client.get(url)
    assert response.status_code == 200, response.content
    return response.json()["agendas"]


def test_the_calendar_shows_patient_motive_and_status_at_the_site_wall_clock(practice, as_user):
    w = practice
    _book(w, at(w.monday, 9, 30))
    data = _events(as_user(w.secretary), w, w.monday)
    [event] = data[str(w.agenda.pk)]["events"]
    assert event["title"] == "Jeanne Petit · Première consultation"
    assert event["start"] == f"{w.monday}T09:30:00Z"
    assert event["end"] == f"{w.monday}T10:00:00Z"
    assert event["editable"] is True
    assert event["url"] == reverse("practice:appointment", args=[int(event["id"])])
    hours = data[str(w.agenda.pk)]["businessHours"]
    assert {"daysOfWeek": [1], "startTime": "09:00", "endTime": "12:00"} in hours


def test_statuses_and_cancellations_show_as_the_day_goes(practice, as_user):
    w = practice
    past_monday = w.monday - timedelta(days=14)
    seen = _book(w, at(past_monday, 9), as_staff=True, now=at(past_monday, 7))
    gone = _book(w, at(past_monday, 10), as_staff=True, now=at(past_monday, 7))
    booking.set_status(appointment=seen, status=Status.SEEN, by=w.gp_user)
    booking.cancel(appointment=gone, by=w.secretary, reason="x", as_staff=True)
    events = _events(as_user(w.gp_user), w, past_monday)[str(w.agenda.pk)]["events"]
    assert [e["title"] for e in events] == ["Jeanne Petit · Première consultation · Vu"]
    assert events[0]["editable"] is False


def test_several_agendas_come_in_one_answer(practice, as_user):
    w = practice
    _book(w, at(w.monday, 9))
    booking.book(
        agenda=w.agenda2, motive=w.motive2, start=at(w.monday, 9), patient=w.profile,
        booked_by=w.admin, as_staff=True,
    )  # fmt: skip
    data = _events(as_user(w.admin), w, w.monday, agendas=[w.agenda, w.agenda2])
    assert len(data[str(w.agenda.pk)]["events"]) == 1
    assert len(data[str(w.agenda2.pk)]["events"]) == 1


def test_wall_clock_times_survive_both_clock_changes():
    spring = date(2027, 3, 28)  # 02:00 -> 03:00 in Paris
    autumn = date(2026, 10, 25)
    for day in (spring, autumn):
        for hour in (1, 9, 23):
            instant = at(day, hour)
            assert from_wall(wall(instant, PARIS), PARIS) == instant
    with pytest.raises(InvalidInput) as refused:
        from_wall("2027-03-28T02:30:00Z", PARIS)  # the hour skipped in spring
    assert refused.value.field == "start"


def test_motive_colours_keep_text_readable():
    assert text_colour("#ffeb3b") == "#000000"
    assert text_colour("#0b3d91") == "#ffffff"
    # The purple and red of the demo failed AA with a dark grey (4.23 and 4.32 against 4.5).
    assert contrast(text_colour("#8d5fd3"), "#8d5fd3") >= 4.5
    assert contrast(text_colour("#d1495b"), "#d1495b") >= 4.5
    assert text_colour("not a colour") == "#ffffff"


@given(st.from_regex(r"#[0-9a-f]{6}", fullmatch=True))
def test_any_motive_colour_gets_a_text_colour_that_passes_wcag_aa(colour):
    assert contrast(text_colour(colour), colour) >= 4.5


def test_a_secretary_books_a_new_patient_by_phone(practice, as_user):
    w = practice
    client = as_user(w.secretary)
    data = {
        "agenda": w.agenda.pk, "motive": w.first.pk, "date": w.monday.isoformat(),
        "time": "other", "other_time": "07:30", "patient_kind": "new", "last_name": "Nouveau",
        "first_name": "Nina", "birth_date": "1990-04-02", "phone": "0611223344",
    }  # fmt: skip
    warned = client.post(reverse("practice:appointment_new"), data)
    assert warned.status_code == 200 and not Appointment.objects.exists()
    assert "En dehors des plages d'ouverture" in html.unescape(warned.content.decode())
    confirmed = at(w.monday, 7, 30).isoformat()
    response = client.post(reverse("practice:appointment_new"), data | {"confirmed": confirmed})
    assert response.status_code == 302
    appointment = Appointment.objects.get(patient__last_name="Nouveau")
    # Staff may book outside the openings (07:30), and the practice keeps the identity.
    assert appointment.start == at(w.monday, 7, 30)
    assert appointment.channel == Appointment.Channel.SECRETARY
    assert appointment.patient.owner is None
    assert PatientFile.objects.filter(organisation=w.organisation, profile=appointment.patient)
    assert Message.objects.filter(appointment=appointment, purpose="confirmation").exists()


def test_booking_a_known_patient_finds_them_by_name_or_birth_date(practice, as_user):
    w = practice
    client = as_user(w.secretary)
    url = reverse("practice:file_picker")
    for query in ("peti", "02/03/1950"):
        page = client.get(url, {"agenda": w.agenda.pk, "query": query}).content.decode()
        assert f'value="{w.file.pk}"' in page
    assert "Loin" not in client.get(url, {"agenda": w.agenda.pk, "query": "loin"}).content.decode()
    response = client.post(
        reverse("practice:appointment_new"),
        {"agenda": w.agenda.pk, "motive": w.follow_up.pk, "date": w.monday.isoformat(),
         "time": "09:00", "patient_kind": "file", "file": w.file.pk},
    )  # fmt: skip
    assert response.status_code == 302
    assert Appointment.objects.get(patient=w.profile).start == at(w.monday, 9)


def test_a_booking_over_another_is_refused_in_the_form_and_writes_nothing(practice, as_user):
    w = practice
    _book(w, at(w.monday, 9))
    profiles = PatientProfile.objects.count()
    response = as_user(w.secretary).post(
        reverse("practice:appointment_new"),
        {
            "agenda": w.agenda.pk, "motive": w.first.pk, "date": w.monday.isoformat(),
            "time": "09:15", "patient_kind": "new", "last_name": "Chevauchement",
            "first_name": "Paul", "birth_date": "1990-04-02",
        },
    )  # fmt: skip
    assert response.status_code == 200
    with translation.override("fr"):
        expected = str(services.TAKEN)
    assert expected in html.unescape(response.content.decode())
    assert PatientProfile.objects.count() == profiles
    assert not PatientFile.objects.filter(profile__last_name="Chevauchement").exists()


def test_another_organisation_file_cannot_be_booked_into_this_agenda(practice, as_user):
    w = practice
    response = as_user(w.secretary).post(
        reverse("practice:appointment_new"),
        {"agenda": w.agenda.pk, "motive": w.first.pk, "date": w.monday.isoformat(),
         "time": "09:00", "patient_kind": "file", "file": w.other_file.pk},
    )  # fmt: skip
    assert response.status_code == 200
    assert not Appointment.objects.exists()


def test_drag_and_drop_moves_and_tells_the_patient(practice, as_user):
    w = practice
    appointment = _book(w, at(w.monday, 9))
    response = as_user(w.secretary).post(
        reverse("practice:appointment_move", args=[appointment.pk]),
        {"start": f"{w.monday}T16:00:00Z"},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200
    moved = Appointment.objects.get(pk=response.json()["id"])
    assert moved.start == at(w.monday, 16)
    appointment.refresh_from_db()
    assert appointment.status == Status.CANCELLED
    assert Message.objects.filter(appointment=moved, purpose="rescheduled").exists()


def test_a_drop_onto_another_appointment_is_refused_with_a_message(practice, as_user):
    w = practice
    appointment = _book(w, at(w.monday, 9))
    _book(w, at(w.monday, 10))
    response = as_user(w.secretary).post(
        reverse("practice:appointment_move", args=[appointment.pk]),
        {"start": f"{w.monday}T10:15:00Z"},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 409
    assert response.json()["error"] == "slot_taken"
    appointment.refresh_from_db()
    assert appointment.status == Status.BOOKED and appointment.start == at(w.monday, 9)


def test_cancelling_needs_a_reason_and_tells_the_patient(practice, as_user):
    w = practice
    appointment = _book(w, at(w.monday, 9))
    client = as_user(w.gp_user)
    url = reverse("practice:appointment_cancel", args=[appointment.pk])
    client.post(url, {"reason": ""})
    appointment.refresh_from_db()
    assert appointment.status == Status.BOOKED
    asked = client.post(url, {"reason": "Docteur malade"})
    appointment.refresh_from_db()
    assert appointment.status == Status.BOOKED  # a confirmation first
    page = html.unescape(asked.content.decode())
    assert "Annuler le rendez-vous ?" in page and "Docteur malade" in page
    assert "prévenu par SMS, avec le motif" in page
    client.post(url, {"reason": "Docteur malade", "confirmed": "1"})
    appointment.refresh_from_db()
    assert appointment.status == Status.CANCELLED
    assert appointment.cancel_reason == "Docteur malade"
    assert Message.objects.filter(appointment=appointment, purpose="cancellation").exists()


def test_the_reason_of_the_secretary_who_booked_and_cancels_reaches_the_patient(
    practice, as_user, django_capture_on_commit_callbacks
):
    from django.core import mail

    from consulto.notifications import services as notify
    from consulto.notifications import sms

    w = practice
    w.profile.email = "jeanne.petit@example.org"
    w.profile.save()
    appointment = _book(w, at(w.monday, 9))  # booked by the secretary
    url = reverse("practice:appointment_cancel", args=[appointment.pk])
    sms.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        as_user(w.secretary).post(url, {"reason": "Docteur malade", "confirmed": "1"})
    notify.deliver_due()
    [email] = [m for m in mail.outbox if "annulé" in m.subject]
    assert "Motif indiqué par le cabinet : Docteur malade" in email.body
    [text] = sms.outbox
    assert "Motif : Docteur malade" in text["text"]


def test_blocking_a_period_removes_its_slots_and_warns_of_appointments_in_it(practice, as_user):
    w = practice
    _book(w, at(w.monday, 9))
    response = as_user(w.secretary).post(
        reverse("practice:block", args=[w.agenda.pk]),
        {"start_date": w.monday.isoformat(), "start_time": "08:00",
         "end_date": w.monday.isoformat(), "end_time": "12:00", "reason": "Formation"},
        follow=True,
    )  # fmt: skip
    page = response.content.decode()
    assert "1 " in page and ("stay booked" in page or "restent" in page)
    assert Absence.objects.get(agenda=w.agenda).start == at(w.monday, 8)
    inputs = load_inputs(
        [w.agenda], start=w.monday, days=1, now=at(w.monday, 6), audience=EVERYONE
    )[w.agenda.pk]
    slots = compute(inputs, motive=w.follow_up, start=w.monday, days=1, now=at(w.monday, 6))
    assert slots and all(s.start.astimezone(PARIS).time() >= time(14) for s in slots)


def test_the_day_goes_arrived_then_seen_and_no_show_only_once_time_has_come(practice, as_user):
    w = practice
    future = _book(w, at(w.monday, 9))
    client = as_user(w.gp_user)
    url = reverse("practice:appointment_status", args=[future.pk])
    client.post(url, {"status": "no_show"})
    future.refresh_from_db()
    assert future.status == Status.BOOKED
    client.post(url, {"status": "arrived"})
    client.post(url, {"status": "seen"})
    future.refresh_from_db()
    assert future.status == Status.SEEN


def test_no_shows_past_the_practice_limit_stop_online_booking(practice, as_user):
    w = practice
    PracticePolicy.objects.create(organisation=w.organisation, no_show_limit=2)
    client = as_user(w.secretary)
    for weeks in (3, 2):
        day = w.monday - timedelta(weeks=weeks)
        missed = _book(w, at(day, 9), as_staff=True, now=at(day, 7))
        client.post(reverse("practice:appointment_status", args=[missed.pk]), {"status": "no_show"})
    assert online_booking_stopped(profile_id=w.file.profile_id, organisation_id=w.organisation.pk)
    page = client.get(reverse("practice:file", args=[w.file.pk])).content.decode()
    assert "2" in page
    assert "La réservation en ligne est bloquée pour ce patient." in page
    listed = client.get(reverse("practice:files")).content.decode()
    assert "pas de réservation en ligne" in listed


def test_an_online_booking_opens_the_patient_file(practice, patient):
    w = practice
    booking.book(
        agenda=w.agenda, motive=w.first, start=at(w.monday, 11), patient=patient,
        booked_by=patient.owner,
    )  # fmt: skip
    assert PatientFile.objects.filter(organisation=w.organisation, profile=patient).exists()


def test_the_agenda_page_lists_the_day_for_screen_readers_and_phones(practice, as_user):
    w = practice
    _book(w, at(w.monday, 9))
    page = as_user(w.secretary).get(
        reverse("practice:agenda") + f"?agendas={w.agenda.pk}&date={w.monday}"
    )
    html = page.content.decode()
    assert "09:00–09:30" in html and "Jeanne Petit" in html
    config = json.loads(html.split('id="agenda-config" type="application/json">')[1].split("<")[0])
    assert config["agendas"] == [{"id": w.agenda.pk, "name": "Dr Martin"}]
    assert "nonce-" in page["Content-Security-Policy"]


def test_the_week_view_asks_a_fixed_number_of_queries(
    practice, as_user, django_assert_max_num_queries
):
    """The page (its agendas read with the permission in one query, no department query when
    none has a department) and its events request (the agendas and the permission in one
    query), whatever the number of appointments."""
    w = practice
    for hour in (9, 10, 11, 14, 15):
        _book(w, at(w.monday, hour))
    client = as_user(w.admin)
    ids = f"{w.agenda.pk},{w.agenda2.pk}"
    page = reverse("practice:agenda") + f"?agendas={ids}&view=week&date={w.monday}"
    events = reverse("practice:events") + f"?agendas={ids}&start={w.monday}"
    events += f"&end={w.monday + timedelta(days=7)}"
    assert client.get(page).status_code == 200  # the session's second-factor check, once
    # session, user, memberships, substitute's agendas, agendas, day's list, absences'
    # permission, onboarding checklist
    with django_assert_max_num_queries(8):
        assert client.get(page).status_code == 200
    # session, user, memberships, substitute's agendas, agendas, appointments, absences,
    # openings
    with django_assert_max_num_queries(8):
        assert client.get(events).status_code == 200
