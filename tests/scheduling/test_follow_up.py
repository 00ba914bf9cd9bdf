"""A follow-up booked together with its first appointment (a second test, a results
consultation): both or neither, in one transaction, on SQLite and PostgreSQL alike."""

import threading
from datetime import date, time, timedelta

import pytest
from django.db import connection

from consulto.notifications.models import Message
from consulto.scheduling import booking
from consulto.scheduling.models import Agenda, Appointment, Motive, Opening, PatientProfile
from tests.conftest import at

Status = Appointment.Status


@pytest.fixture
def follow(world):
    """world.first ("Première consultation", 30 min) is followed 14 days later by a results
    consultation on another agenda of the practice ("Résultats", Mon–Fri 9–12)."""
    w = world
    w.results = Agenda.objects.create(
        organisation=w.organisation, site=w.site, name="Résultats", practitioner=w.gp
    )
    w.results_motive = Motive.objects.create(
        agenda=w.results,
        label="Consultation de résultats",
        duration_minutes=15,
        online=False,  # booked only as the follow-up of the first
        open_to_new_patients=False,
    )
    for weekday in range(5):
        opening = Opening.objects.create(
            agenda=w.results,
            site=w.site,
            weekday=weekday,
            start_time=time(9),
            end_time=time(12),
            valid_from=date.today() - timedelta(days=7),
        )
        opening.motives.set([w.results_motive])
    w.first.follow_up = w.results_motive
    w.first.follow_up_after_days = 14
    w.first.save()
    w.due = w.monday + timedelta(days=14)
    return w


def _book(w, *, patient, booked_by, start=None, follow_up_start=None, **kwargs):
    return booking.book_with_follow_up(
        agenda=w.agenda,
        motive=w.first,
        start=start or at(w.monday, 10),
        follow_up_start=follow_up_start or at(w.due, 10),
        patient=patient,
        booked_by=booked_by,
        **kwargs,
    )


def _snapshot():
    return (
        list(Appointment.objects.order_by("pk").values_list("pk", "status")),
        PatientProfile.objects.count(),
        Message.objects.count(),
    )


def test_both_are_booked_for_the_same_patient(follow, patient, user):
    w = follow
    first, second = _book(w, patient=patient, booked_by=user)
    assert (first.status, second.status) == (Status.BOOKED, Status.BOOKED)
    assert (first.agenda, first.motive, first.start) == (w.agenda, w.first, at(w.monday, 10))
    assert (second.agenda, second.motive, second.start) == (
        w.results,
        w.results_motive,
        at(w.due, 10),
    )
    assert second.end == at(w.due, 10, 15)
    assert first.patient == second.patient == patient


def test_a_new_person_gets_one_profile_for_both(follow, user):
    w = follow
    identity = booking.PatientIdentity(
        first_name="Léa", last_name="Moreau", birth_date=date(2001, 4, 3)
    )
    first, second = _book(w, patient=identity, booked_by=user)
    assert first.patient_id == second.patient_id
    assert PatientProfile.objects.filter(last_name="Moreau").count() == 1


def test_when_the_follow_up_is_taken_neither_is_booked_and_nothing_is_written(
    follow, patient, user, other_user
):
    w = follow
    booking.book(
        agenda=w.results,
        motive=w.results_motive,
        start=at(w.due, 10),
        patient=PatientProfile.objects.create(
            first_name="Paul", last_name="Autre", birth_date=date(1970, 1, 1)
        ),
        booked_by=other_user,
        as_staff=True,
    )
    before = _snapshot()
    identity = booking.PatientIdentity(
        first_name="Léa", last_name="Moreau", birth_date=date(2001, 4, 3)
    )
    with pytest.raises(booking.SlotTaken):
        _book(w, patient=identity, booked_by=user, idempotency_key="k1")
    assert _snapshot() == before  # no first appointment, no profile, no message
    assert not Appointment.objects.filter(agenda=w.agenda, start=at(w.monday, 10)).exists()


def test_when_the_first_is_taken_neither_is_booked(follow, patient, user, other_user):
    w = follow
    booking.book(
        agenda=w.agenda,
        motive=w.first,
        start=at(w.monday, 10),
        patient=PatientProfile.objects.create(
            first_name="Paul", last_name="Autre", birth_date=date(1970, 1, 1)
        ),
        booked_by=other_user,
    )
    before = _snapshot()
    with pytest.raises(booking.SlotTaken):
        _book(w, patient=patient, booked_by=user)
    assert _snapshot() == before
    assert not Appointment.objects.filter(agenda=w.results).exists()


def test_a_held_first_slot_stays_held_when_the_follow_up_fails(follow, patient, user, other_user):
    w = follow
    held = booking.hold(agenda=w.agenda, motive=w.first, start=at(w.monday, 10), held_by=user)
    booking.book(
        agenda=w.results,
        motive=w.results_motive,
        start=at(w.due, 10),
        patient=PatientProfile.objects.create(
            first_name="Paul", last_name="Autre", birth_date=date(1970, 1, 1)
        ),
        booked_by=other_user,
        as_staff=True,
    )
    with pytest.raises(booking.SlotTaken):
        _book(w, patient=patient, booked_by=user, from_hold=held)
    held.refresh_from_db()
    assert held.status == Status.HELD and held.patient is None
    # Another follow-up time: both go through, the hold becoming the first.
    first, second = _book(
        w, patient=patient, booked_by=user, from_hold=held, follow_up_start=at(w.due, 10, 15)
    )
    assert first.pk == held.pk and second.start == at(w.due, 10, 15)


@pytest.mark.parametrize(
    "days, hour",
    [
        (-1, 10),  # the day before it is due: sooner than the practice said
        (booking.FOLLOW_UP_LATE_DAYS + 1, 10),  # more than a week late
        (0, 12),  # due day, but outside the openings (12:00 ends the morning)
        (0, 15),  # the afternoon: the results agenda opens mornings only
    ],
)
def test_a_follow_up_outside_its_window_or_its_slots_books_nothing(
    follow, patient, user, days, hour
):
    w = follow
    before = _snapshot()
    with pytest.raises(booking.InvalidSlot):
        _book(
            w,
            patient=patient,
            booked_by=user,
            follow_up_start=at(w.due + timedelta(days=days), hour),
        )
    assert _snapshot() == before


def test_a_follow_up_may_be_a_few_days_late(follow, patient, user):
    w = follow
    late = w.due + timedelta(days=booking.FOLLOW_UP_LATE_DAYS)
    if late.weekday() >= 5:
        late -= timedelta(days=late.weekday() - 4)
    _first, second = _book(w, patient=patient, booked_by=user, follow_up_start=at(late, 9))
    assert second.start == at(late, 9)


def test_a_same_day_follow_up_comes_after_the_first(follow, patient, user):
    w = follow
    w.first.follow_up_after_days = 0
    w.first.save()
    with pytest.raises(booking.FollowUpOutsideWindow):
        _book(w, patient=patient, booked_by=user, follow_up_start=at(w.monday, 10, 15))
    _first, second = _book(w, patient=patient, booked_by=user, follow_up_start=at(w.monday, 11))
    assert second.start == at(w.monday, 11)


def test_a_retried_request_books_both_once(follow, patient, user):
    w = follow
    first, second = _book(w, patient=patient, booked_by=user, idempotency_key="abc")
    again_first, again_second = _book(w, patient=patient, booked_by=user, idempotency_key="abc")
    assert (again_first.pk, again_second.pk) == (first.pk, second.pk)
    assert again_first.replayed and again_second.replayed
    assert Appointment.objects.filter(status=Status.BOOKED).count() == 2


def test_a_motive_without_follow_up_says_so(world, patient, user):
    with pytest.raises(booking.NoFollowUp):
        booking.book_with_follow_up(
            agenda=world.agenda,
            motive=world.video,
            start=at(world.monday, 10),
            follow_up_start=at(world.monday, 11),
            patient=patient,
            booked_by=user,
        )


def test_what_is_written_with_them_is_undone_with_them(follow, patient, user):
    w = follow
    seen = []

    def confirm(first, second):
        seen.append((first.pk, second.pk))
        raise booking.SlotTaken()  # a late refusal, after both rows were written

    with pytest.raises(booking.SlotTaken):
        _book(w, patient=patient, booked_by=user, also=confirm)
    assert len(seen) == 1
    assert not Appointment.objects.exists()


def test_staff_book_a_follow_up_outside_the_openings(follow, patient, practice):
    w = follow
    _first, second = _book(
        w,
        patient=patient,
        booked_by=practice.secretary,
        as_staff=True,
        channel=Appointment.Channel.SECRETARY,
        follow_up_start=at(w.due, 16),
    )
    assert second.start == at(w.due, 16)


@pytest.mark.django_db(transaction=True)
@pytest.mark.concurrency
def test_two_patients_racing_for_one_follow_up_slot_get_one_pair(follow, django_user_model):
    """Each wants another first slot but the same follow-up: exactly one pair is booked, the
    loser has neither (on PostgreSQL the agendas' locks serialise them, on SQLite the writes)."""
    w = follow
    clients = 6
    users = [
        django_user_model.objects.create_user(email=f"r{i}@example.org", password="x" * 12)
        for i in range(clients)
    ]
    profiles = [
        PatientProfile.objects.create(
            owner=u, first_name=f"R{i}", last_name="Test", birth_date=date(1990, 1, 1)
        )
        for i, u in enumerate(users)
    ]
    barrier = threading.Barrier(clients)
    results: list = [None] * clients

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = _book(
                w,
                patient=profiles[i],
                booked_by=users[i],
                start=at(w.monday, 9) + timedelta(minutes=30 * i),
            )
        except Exception as error:  # collected and asserted on below
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    won = [r for r in results if isinstance(r, tuple)]
    lost = [r for r in results if isinstance(r, booking.SlotTaken)]
    assert (len(won), len(lost)) == (1, clients - 1), results
    active = Appointment.objects.filter(status=Status.BOOKED)
    assert active.filter(agenda=w.results).count() == 1
    assert active.filter(agenda=w.agenda).count() == 1
    (winner_first, winner_second) = won[0]
    assert set(active.values_list("pk", flat=True)) == {winner_first.pk, winner_second.pk}


def _api(client, user, w, **changes):
    import json

    from consulto.api.models import ApiToken

    token = ApiToken.issue(user)[1]
    body = {
        "agenda": w.agenda.pk,
        "motive": w.first.pk,
        "start": at(w.monday, 10).isoformat(),
        "follow_up_start": at(w.due, 10).isoformat(),
        "patient": {"first_name": "Alice", "last_name": "Durand", "birth_date": "1980-05-17"},
        **changes,
    }
    return client.post(
        "/api/v1/appointments",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "api-1"},
    )


def test_the_api_books_a_follow_up_with_its_first(client, follow, user):
    w = follow
    response = _api(client, user, w)
    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer["follow_up"]["start"] == at(w.due, 10).isoformat()
    assert answer["follow_up"]["agenda_id"] == w.results.pk
    assert (
        Message.objects.filter(purpose="confirmation").values("appointment").distinct().count() == 2
    )
    again = _api(client, user, w)
    assert again.status_code == 200 and again.json()["follow_up"]["id"] == answer["follow_up"]["id"]


def test_the_api_answers_409_and_books_nothing_when_the_follow_up_is_taken(
    client, follow, user, other_user
):
    w = follow
    booking.book(
        agenda=w.results,
        motive=w.results_motive,
        start=at(w.due, 10),
        patient=PatientProfile.objects.create(
            first_name="Paul", last_name="Autre", birth_date=date(1970, 1, 1)
        ),
        booked_by=other_user,
        as_staff=True,
    )
    before = _snapshot()
    response = _api(client, user, w)
    assert response.status_code == 409
    assert response.json()["error"] == "slot_taken"
    assert _snapshot() == before


@pytest.mark.parametrize("value", ["2026-13-40T10:00:00+01:00", "0001-01-01T00:00:00+00:00", 12])
def test_the_api_refuses_a_bad_follow_up_start_with_a_4xx(client, follow, user, value):
    response = _api(client, user, follow, follow_up_start=value)
    assert 400 <= response.status_code < 500
    assert not Appointment.objects.exists()


def test_the_api_refuses_a_follow_up_out_of_its_window(client, follow, user):
    w = follow
    response = _api(client, user, w, follow_up_start=at(w.monday, 11).isoformat())
    assert response.status_code == 422
    assert response.json()["error"] == "follow_up_outside_window"
