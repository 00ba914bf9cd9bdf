"""Booking by phone and moving, as staff do it: the chosen agenda's motives and free slots, the
warnings before an unusual time (past, night, outside the openings), and "Undo" after a move."""

import html
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from consulto.notifications import services as notify
from consulto.notifications import sms
from consulto.notifications.models import Message
from consulto.practice import services
from consulto.scheduling import booking
from consulto.scheduling.models import Appointment, Motive
from tests.conftest import at

Status = Appointment.Status


def _book(w, start, motive=None):
    return booking.book(
        agenda=w.agenda, motive=motive or w.first, start=start, patient=w.profile,
        booked_by=w.secretary, channel=Appointment.Channel.SECRETARY,
    )  # fmt: skip


def _page(response) -> str:
    return html.unescape(response.content.decode())


def _options(page: str, name: str) -> list[str]:
    select = page.split(f'name="{name}"', 1)[1].split("</select>", 1)[0]
    return [part.split('"', 1)[0] for part in select.split('<option value="')[1:]]


def _slots(page: str) -> list[str]:
    return [
        part.split('"', 1)[0]
        for part in page.split('<input type="radio" name="time" value="')[1:]
        if not part.startswith("other")
    ]


def test_the_motives_offered_are_the_chosen_agendas_only(practice, as_user):
    w = practice
    client = as_user(w.admin)
    url = reverse("practice:appointment_new")
    page = _page(client.get(url, {"agenda": w.agenda2.pk}))
    assert _options(page, "motive") == [str(w.motive2.pk)]
    page = _page(client.get(url, {"agenda": w.agenda.pk}))
    assert _options(page, "motive") == [str(m.pk) for m in (w.first, w.follow_up, w.video)]
    # Another agenda's motive, sent anyway, is refused by name.
    response = client.post(url, {
        "agenda": w.agenda.pk, "motive": w.motive2.pk, "date": w.monday.isoformat(),
        "time": "09:00", "patient_kind": "file", "file": w.file.pk,
    })  # fmt: skip
    assert "Choisissez un motif de cet agenda." in _page(response)
    assert not Appointment.objects.exists()


def test_the_form_offers_the_free_slots_of_the_agenda_for_the_motive(practice, as_user):
    w = practice
    _book(w, at(w.monday, 9))  # 09:00-09:30 taken
    staff_only = Motive.objects.create(
        agenda=w.agenda, label="Suivi diabète", duration_minutes=30, online=False
    )
    w.agenda.openings.first().motives.add(staff_only)
    client = as_user(w.secretary)
    url = reverse("practice:appointment_slots")
    page = _page(client.get(url, {"agenda": w.agenda.pk, "motive": w.follow_up.pk,
                                  "date": w.monday.isoformat()}))  # fmt: skip
    slots = _slots(page)
    assert slots[:3] == ["09:30", "09:45", "10:00"] and "14:00" in slots
    assert "09:00" not in slots and "09:15" not in slots
    assert 'value="other"' in page  # another time stays possible
    # A motive patients cannot book online is bookable by staff, in its openings.
    page = _page(client.get(url, {"agenda": w.agenda.pk, "motive": staff_only.pk,
                                  "date": w.monday.isoformat()}))  # fmt: skip
    assert _slots(page)[0] == "09:30"


def test_a_day_without_free_slot_points_to_the_next_one(practice, as_user):
    w = practice
    sunday = w.monday - timedelta(days=1)
    client = as_user(w.secretary)
    page = _page(client.get(reverse("practice:appointment_slots"), {
        "agenda": w.agenda.pk, "motive": w.follow_up.pk, "date": sunday.isoformat(),
    }))  # fmt: skip
    assert _slots(page) == []
    assert "Aucun créneau libre ce jour-là pour ce motif." in page
    assert f'name="show_day" value="{w.monday.isoformat()}"' in page
    # Without JavaScript the same button sends the form back showing that day.
    page = _page(client.post(reverse("practice:appointment_new"), {
        "agenda": w.agenda.pk, "motive": w.follow_up.pk, "date": sunday.isoformat(),
        "show_day": w.monday.isoformat(), "patient_kind": "file",
    }))  # fmt: skip
    assert _slots(page)[0] == "09:00" and "errorlist" not in page


def test_a_free_slot_picked_in_the_list_is_booked(practice, as_user):
    w = practice
    response = as_user(w.secretary).post(reverse("practice:appointment_new"), {
        "agenda": w.agenda.pk, "motive": w.follow_up.pk, "date": w.monday.isoformat(),
        "time": "09:45", "other_time": "", "patient_kind": "file", "file": w.file.pk,
    })  # fmt: skip
    assert response.status_code == 302
    assert Appointment.objects.get().start == at(w.monday, 9, 45)


@pytest.mark.parametrize(
    ("when", "warning"),
    [
        ("night", "La nuit (03:00–03:15)"),
        ("past", "Cet horaire est déjà passé"),
        ("lunch", "En dehors des plages d'ouverture"),
    ],
)
def test_an_unusual_time_is_booked_only_once_confirmed(practice, as_user, when, warning):
    w = practice
    now = timezone.now()
    start = {
        "night": at(w.monday, 3),
        "past": (now - timedelta(days=2))
        .astimezone(w.agenda.site.zone)
        .replace(hour=10, minute=0, second=0, microsecond=0),
        "lunch": at(w.monday, 12, 30),
    }[when]
    data = {
        "agenda": w.agenda.pk, "motive": w.follow_up.pk, "date": start.date().isoformat(),
        "time": "other", "other_time": f"{start:%H:%M}", "patient_kind": "file",
        "file": w.file.pk,
    }  # fmt: skip
    client = as_user(w.secretary)
    warned = _page(client.post(reverse("practice:appointment_new"), data))
    assert warning in warned and "Réserver quand même" in warned
    assert not Appointment.objects.exists()
    # A confirmation given for another time does not count.
    client.post(reverse("practice:appointment_new"), data | {"confirmed": "2020-01-01T10:00"})
    assert not Appointment.objects.exists()
    confirmed = data | {"confirmed": start.isoformat()}
    response = client.post(reverse("practice:appointment_new"), confirmed)
    assert response.status_code == 302
    booked = Appointment.objects.get()
    assert booked.start == start
    confirmations = Message.objects.filter(appointment=booked, purpose="confirmation")
    assert confirmations.exists() == (when != "past")
    assert when != "past" or not Message.objects.filter(appointment=booked).exists()


def test_the_service_itself_asks_for_the_confirmation(practice):
    w = practice
    with pytest.raises(services.NeedsConfirmation) as needed:
        services.book_for_patient(
            user=w.secretary, agenda_id=w.agenda.pk, motive_id=w.first.pk,
            start=at(w.monday, 22), file_id=w.file.pk,
        )  # fmt: skip
    assert len(needed.value.cautions) == 2  # at night, outside the openings
    assert not Appointment.objects.exists()


def test_a_time_during_an_absence_is_warned_about(practice, as_user):
    w = practice
    from consulto.scheduling.models import Absence

    Absence.objects.create(agenda=w.agenda, start=at(w.monday, 9), end=at(w.monday, 12))
    cautions = services.selectors.cautions(
        agenda=w.agenda, motive=w.first, start=at(w.monday, 10), now=timezone.now()
    )
    assert cautions == ["Pendant une absence ou une période bloquée de cet agenda."]


def test_a_drop_at_night_asks_then_moves_once_confirmed(practice, as_user):
    w = practice
    appointment = _book(w, at(w.monday, 9))
    client = as_user(w.secretary)
    url = reverse("practice:appointment_move", args=[appointment.pk])
    answer = client.post(url, {"start": f"{w.monday}T20:45:00Z"}, HTTP_ACCEPT="application/json")
    assert answer.status_code == 409
    body = answer.json()
    assert body["error"] == "needs_confirmation"
    assert any("La nuit" in c for c in body["cautions"])
    assert Appointment.objects.get(pk=appointment.pk).status == Status.BOOKED
    answer = client.post(
        url, {"start": f"{w.monday}T20:45:00Z", "confirmed": body["confirm"]},
        HTTP_ACCEPT="application/json",
    )  # fmt: skip
    assert answer.status_code == 200
    assert Appointment.objects.get(pk=answer.json()["id"]).start == at(w.monday, 20, 45)


def test_the_move_form_warns_before_moving_into_the_past(practice, as_user):
    w = practice
    appointment = _book(w, at(w.monday, 9))
    past = (timezone.now() - timedelta(days=1)).astimezone(w.agenda.site.zone)
    data = {"date": past.date().isoformat(), "time": "10:00"}
    client = as_user(w.secretary)
    page = _page(client.post(reverse("practice:appointment_move", args=[appointment.pk]), data))
    assert "Cet horaire est déjà passé" in page and "Déplacer quand même" in page
    assert Appointment.objects.get(pk=appointment.pk).status == Status.BOOKED


def _move(client, appointment, start_text):
    return client.post(
        reverse("practice:appointment_move", args=[appointment.pk]),
        {"start": start_text}, HTTP_ACCEPT="application/json",
    ).json()  # fmt: skip


def test_undo_right_after_a_move_puts_it_back_and_the_patient_hears_of_neither(
    practice, as_user, django_capture_on_commit_callbacks
):
    w = practice
    # Two weeks ahead or more: no reminder of the appointment falls due during the test, even
    # on a Monday morning (next Monday's 9:00 is due for its 7-day reminder at 9:00 today).
    monday = w.monday + timedelta(weeks=1)
    w.profile.email = "jeanne.petit@example.org"
    w.profile.save()
    appointment = _book(w, at(monday, 9))
    client = as_user(w.secretary)
    with django_capture_on_commit_callbacks(execute=True):
        moved = _move(client, appointment, f"{monday}T16:00:00Z")
    assert moved["message"].startswith("Rendez-vous déplacé au lundi")
    with django_capture_on_commit_callbacks(execute=True):
        undone = client.post(moved["undoUrl"], HTTP_ACCEPT="application/json").json()
    back = Appointment.objects.get(pk=undone["id"])
    assert back.start == at(monday, 9) and back.status == Status.BOOKED
    assert "de retour le lundi" in undone["message"]
    mail.outbox.clear()
    notify.deliver_due(now=timezone.now() + timedelta(minutes=5))
    assert mail.outbox == []
    assert not Message.objects.filter(purpose="rescheduled", status="pending").exists()
    # The reminders follow the appointment back.
    assert Message.objects.filter(appointment=back, purpose="reminder_1d").exists()


def test_undo_after_the_patient_was_told_tells_them_again(
    practice, as_user, django_capture_on_commit_callbacks
):
    w = practice
    w.profile.email = "jeanne.petit@example.org"
    w.profile.save()
    appointment = _book(w, at(w.monday, 9))
    client = as_user(w.secretary)
    with django_capture_on_commit_callbacks(execute=True):
        moved = _move(client, appointment, f"{w.monday}T16:00:00Z")
    notify.deliver_due(now=timezone.now() + services.UNDO_GRACE + timedelta(seconds=1))
    assert [m.subject for m in mail.outbox if "déplacé" in m.subject]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(moved["undoUrl"], HTTP_ACCEPT="application/json")
    notify.deliver_due(now=timezone.now() + services.UNDO_GRACE + timedelta(seconds=1))
    [told] = [m for m in mail.outbox if "déplacé" in m.subject]
    assert "09:00" in told.subject


def test_only_the_one_who_moved_it_may_undo_and_only_once(practice, as_user):
    w = practice
    appointment = _book(w, at(w.monday, 9))
    moved = _move(as_user(w.secretary), appointment, f"{w.monday}T16:00:00Z")
    refused = as_user(w.gp_user).post(moved["undoUrl"], HTTP_ACCEPT="application/json")
    assert refused.status_code == 422
    client = as_user(w.secretary)
    assert client.post(moved["undoUrl"], HTTP_ACCEPT="application/json").status_code == 200
    assert client.post(moved["undoUrl"], HTTP_ACCEPT="application/json").status_code == 422


def test_the_appointment_page_offers_undo_after_a_move(practice, as_user):
    w = practice
    appointment = _book(w, at(w.monday, 9))
    client = as_user(w.secretary)
    response = client.post(
        reverse("practice:appointment_move", args=[appointment.pk]),
        {"date": w.monday.isoformat(), "time": "10:30"}, follow=True,
    )  # fmt: skip
    page = _page(response)
    assert "Déplacé depuis le lundi" in page and "Annuler le déplacement" in page
    moved = Appointment.objects.get(status=Status.BOOKED)
    page = _page(client.post(
        reverse("practice:appointment_undo_move", args=[moved.pk]), follow=True
    ))  # fmt: skip
    assert "de retour le lundi" in page
    assert Appointment.objects.get(status=Status.BOOKED).start == at(w.monday, 9)


def test_book_for_this_patient_opens_the_form_with_the_patient_chosen(practice, as_user):
    w = practice
    client = as_user(w.secretary)
    page = _page(client.get(reverse("practice:appointment_new"), {"file": w.file.pk}))
    assert f'name="file" value="{w.file.pk}" checked' in page
    assert "PETIT Jeanne" in page
    assert _options(page, "agenda") == [str(w.agenda.pk)]  # the file's organisation only
    elsewhere = client.get(reverse("practice:appointment_new"), {"file": w.other_file.pk})
    assert elsewhere.status_code == 404


def test_the_sms_of_a_practice_move_waits_for_the_undo_grace(
    practice, as_user, django_capture_on_commit_callbacks
):
    w = practice
    # Two weeks ahead or more: no reminder of the appointment falls due during the test, even
    # on a Monday morning (next Monday's 9:00 is due for its 7-day reminder at 9:00 today).
    monday = w.monday + timedelta(weeks=1)
    appointment = _book(w, at(monday, 9))
    sms.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _move(as_user(w.secretary), appointment, f"{monday}T16:00:00Z")
    notify.deliver_due()
    assert sms.outbox == []
    notify.deliver_due(now=timezone.now() + services.UNDO_GRACE + timedelta(seconds=1))
    [text] = sms.outbox
    assert "16:00" in text["text"]


@pytest.mark.parametrize(
    "change",
    [
        {"time": "25:99"},
        {"time": "other", "other_time": "99:99"},
        {"date": "0001-01-01", "time": "other", "other_time": "00:00"},
        {"date": "9999-12-31", "time": "other", "other_time": "23:59"},
        {"agenda": "999999999999999999999"},
        {"motive": "abc"},
        {"show_day": "2026-02-30"},
        {"show_day": "9999-12-31"},
        {"file": "99999999999999999999999"},
        {"confirmed": "x" * 100},
        {"date": "2027-03-28", "time": "other", "other_time": "02:30"},  # skipped in spring
    ],
)
def test_hostile_input_gets_a_clear_answer_never_a_500(practice, as_user, change):
    w = practice
    client = as_user(w.secretary)
    data = {
        "agenda": w.agenda.pk, "motive": w.first.pk, "date": w.monday.isoformat(),
        "time": "09:00", "patient_kind": "file", "file": w.file.pk,
    } | change  # fmt: skip
    answer = client.post(reverse("practice:appointment_new"), data)
    assert answer.status_code in (200, 403, 404), answer.status_code
    assert not Appointment.objects.exists()
    slots = {k: v for k, v in data.items() if k in ("agenda", "motive", "date")}
    assert client.get(reverse("practice:appointment_slots"), slots).status_code in (200, 403, 404)


@pytest.mark.parametrize("start", ["0001-01-01T00:00:00Z", "9999-12-31T23:50:00Z", "garbage"])
def test_a_move_to_an_impossible_time_is_refused_in_words(practice, as_user, start):
    w = practice
    appointment = _book(w, at(w.monday, 9))
    client = as_user(w.secretary)
    url = reverse("practice:appointment_move", args=[appointment.pk])
    answer = client.post(url, {"start": start, "confirmed": start}, HTTP_ACCEPT="application/json")
    assert answer.status_code == 422 and answer.json()["message"]
    page = client.post(url, {"date": start[:10], "time": "00:00"}, follow=True)
    assert page.status_code == 200
    assert Appointment.objects.get(pk=appointment.pk).start == at(w.monday, 9)


def test_a_click_in_the_calendar_picks_that_time(practice, as_user):
    w = practice
    client = as_user(w.secretary)
    url = reverse("practice:appointment_new")
    page = _page(client.get(url, {"agenda": w.agenda.pk, "start": f"{w.monday}T10:00:00Z"}))
    assert 'name="time" value="10:00" checked' in page
    # A time that is no free slot (lunch) goes to "another time", typed in.
    page = _page(client.get(url, {"agenda": w.agenda.pk, "start": f"{w.monday}T12:30:00Z"}))
    assert 'name="time" value="other" checked' in page
    assert 'name="other_time" value="12:30"' in page
