"""One rule for local times around a clock change, on every door that turns one into an instant
(core.time.wall_to_instant): 02:30 on the night the clocks go forward does not exist in Paris
and is refused with a message; 02:30 on the night they go back happens twice and is its first
occurrence, on summer time (UTC+2), as the slot engine places openings."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format

from consulto.scheduling import booking
from consulto.scheduling.models import Absence, Appointment
from consulto.teleconsultation.models import Delegation
from tests.conftest import PARIS, TEST_NOW, at


def _last_sunday(year: int, month: int) -> date:
    day = date(year, month + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() - 6) % 7)


def _next_change(month: int) -> date:
    """The next night (after the suite's today) when Paris changes its clocks in that month."""
    today = TEST_NOW.date()
    change = _last_sunday(today.year, month)
    return change if change > today else _last_sunday(today.year + 1, month)


SPRING_DAY, AUTUMN_DAY = _next_change(3), _next_change(10)
SPRING, AUTUMN = SPRING_DAY.isoformat(), AUTUMN_DAY.isoformat()
with translation.override("fr"):
    REFUSED = (
        f"02:30 n’existe pas le {date_format(SPRING_DAY, 'j F Y')} : "
        "on avance l’heure cette nuit-là."
    )
FIRST_0230_IN_AUTUMN = datetime.combine(AUTUMN_DAY, time(0, 30), tzinfo=UTC)


def test_the_nights_are_clock_changes():
    assert datetime.combine(SPRING_DAY, time(4), tzinfo=PARIS).utcoffset() == timedelta(hours=2)
    assert datetime.combine(AUTUMN_DAY, time(4), tzinfo=PARIS).utcoffset() == timedelta(hours=1)
    assert FIRST_0230_IN_AUTUMN.astimezone(PARIS).strftime("%H:%M%z") == "02:30+0200"


def _booked(w):
    return booking.book(
        agenda=w.agenda,
        motive=w.first,
        start=at(w.monday, 10),
        patient=w.profile,
        booked_by=w.secretary,
        channel=Appointment.Channel.SECRETARY,
    )


def test_the_absence_editor_refuses_a_time_skipped_in_spring(practice, as_user):
    client = as_user(practice.gp_user)
    url = reverse("practice:settings_absence_new", args=[practice.agenda.pk])
    data = {"start_date": SPRING, "start_time": "02:30", "end_date": SPRING, "end_time": "05:00"}
    response = client.post(url, data)
    assert response.status_code == 200
    assert REFUSED in response.content.decode()
    assert not Absence.objects.exists()


def test_the_absence_editor_takes_the_first_of_two_autumn_times(practice, as_user):
    client = as_user(practice.gp_user)
    url = reverse("practice:settings_absence_new", args=[practice.agenda.pk])
    data = {"start_date": AUTUMN, "start_time": "02:30", "end_date": AUTUMN, "end_time": "05:00"}
    assert client.post(url, data).status_code == 302
    assert Absence.objects.get().start == FIRST_0230_IN_AUTUMN


def test_blocking_a_period_refuses_a_time_skipped_in_spring(practice, as_user):
    client = as_user(practice.secretary)
    url = reverse("practice:block", args=[practice.agenda.pk])
    data = {"start_date": SPRING, "start_time": "01:00", "end_date": SPRING, "end_time": "02:30"}
    response = client.post(url, data)
    assert response.status_code == 200
    assert REFUSED in response.content.decode()
    assert not Absence.objects.exists()


def test_blocking_a_period_takes_the_first_of_two_autumn_times(practice, as_user):
    client = as_user(practice.secretary)
    url = reverse("practice:block", args=[practice.agenda.pk])
    data = {"start_date": AUTUMN, "start_time": "02:30", "end_date": AUTUMN, "end_time": "04:00"}
    assert client.post(url, data).status_code == 302
    assert Absence.objects.get().start == FIRST_0230_IN_AUTUMN


@pytest.mark.parametrize("day, expected", [(SPRING, None), (AUTUMN, FIRST_0230_IN_AUTUMN)])
def test_a_new_appointment_at_a_clock_change(practice, as_user, day, expected):
    w = practice
    client = as_user(w.secretary)
    data = {
        "agenda": w.agenda.pk,
        "motive": w.first.pk,
        "date": day,
        "time": "02:30",
        "patient_kind": "file",
        "file": w.file.pk,
    }
    response = client.post(reverse("practice:appointment_new"), data)
    booked = Appointment.objects.filter(status=Appointment.Status.BOOKED)
    if expected is None:
        assert REFUSED in response.content.decode()
        assert not booked.exists()
    else:
        # 02:30 is at night: booked once the secretary confirms that very time.
        assert "Réserver quand même" in response.content.decode() and not booked.exists()
        confirmed = data | {"confirmed": expected.isoformat()}
        assert client.post(reverse("practice:appointment_new"), confirmed).status_code == 302
        assert booked.get().start == expected


@pytest.mark.parametrize("day, expected", [(SPRING, None), (AUTUMN, FIRST_0230_IN_AUTUMN)])
def test_moving_with_the_form_at_a_clock_change(practice, as_user, day, expected):
    w = practice
    appointment = _booked(w)
    client = as_user(w.secretary)
    url = reverse("practice:appointment_move", args=[appointment.pk])
    page = client.post(url, {"date": day, "time": "02:30"}, follow=True).content.decode()
    moved = Appointment.objects.filter(rescheduled_from=appointment).first()
    if expected is None:
        assert REFUSED in page and moved is None
    else:
        assert moved is None  # at night: moved once confirmed
        data = {"date": day, "time": "02:30", "confirmed": expected.isoformat()}
        client.post(url, data)
        assert Appointment.objects.get(rescheduled_from=appointment).start == expected


@pytest.mark.parametrize("day, expected", [(SPRING, None), (AUTUMN, FIRST_0230_IN_AUTUMN)])
def test_dragging_in_the_calendar_at_a_clock_change(practice, as_user, day, expected):
    w = practice
    appointment = _booked(w)
    client = as_user(w.secretary)
    response = client.post(
        reverse("practice:appointment_move", args=[appointment.pk]),
        {"start": f"{day}T02:30:00Z"},
        headers={"Accept": "application/json"},
    )
    moved = Appointment.objects.filter(rescheduled_from=appointment).first()
    if expected is None:
        assert response.status_code == 422
        assert response.json()["message"].startswith("02:30 n’existe pas")
        assert moved is None
    else:
        assert response.status_code == 409 and moved is None  # at night: asked first
        confirmed = {"start": f"{day}T02:30:00Z", "confirmed": response.json()["confirm"]}
        response = client.post(
            reverse("practice:appointment_move", args=[appointment.pk]),
            confirmed,
            headers={"Accept": "application/json"},
        )
        assert response.status_code == 200
        assert Appointment.objects.get(rescheduled_from=appointment).start == expected


@pytest.mark.parametrize("day, expected", [(SPRING, None), (AUTUMN, FIRST_0230_IN_AUTUMN)])
def test_a_delegation_at_a_clock_change(practice, as_user, day, expected):
    w = practice
    w.gp2.rpps_status = w.gp2.RppsStatus.VALID
    w.gp2.save()
    client = as_user(w.gp_user)
    response = client.post(
        reverse("replacements"),
        {
            "substitute": w.gp2.rpps,
            "starts_at": f"{day}T02:30",
            "ends_at": f"{day}T18:00",
            "scope": "video",
        },
    )
    given = Delegation.objects.filter(titular=w.gp).first()
    if expected is None:
        assert REFUSED in response.content.decode()
        assert given is None
    else:
        assert given.starts_at == expected


def test_the_practice_calendar_shows_the_autumn_appointment_at_its_wall_time(practice, as_user):
    w = practice
    moved = booking.book(
        agenda=w.agenda,
        motive=w.first,
        start=FIRST_0230_IN_AUTUMN,
        patient=w.profile,
        booked_by=w.secretary,
        channel=Appointment.Channel.SECRETARY,
        as_staff=True,
    )
    client = as_user(w.secretary)
    end = AUTUMN_DAY + timedelta(days=1)
    url = reverse("practice:events") + f"?agendas={w.agenda.pk}&start={AUTUMN}&end={end}"
    [event] = client.get(url).json()["agendas"][str(w.agenda.pk)]["events"]
    assert event["id"] == str(moved.pk) and event["start"] == f"{AUTUMN}T02:30:00Z"
