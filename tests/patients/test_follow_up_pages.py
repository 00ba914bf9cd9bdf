"""The booking pages offer a motive's follow-up around its due day and book both with one
confirmation; each appointment gets its own confirmation message."""

from datetime import date, timedelta

import pytest
from allauth.account.models import EmailAddress
from django.contrib.messages import get_messages

from consulto.notifications.models import Message
from consulto.scheduling import booking
from consulto.scheduling.models import Appointment, PatientProfile
from tests.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(django_user_model, world):
    """A patient with her own profile; world.first is followed 14 days later by world.follow_up
    ("Consultation de suivi", 15 min, same agenda)."""
    user = django_user_model.objects.create_user(email="lea@example.org", password="x" * 12)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    user.me = PatientProfile.objects.create(
        owner=user, first_name="Léa", last_name="Roux", birth_date=date(1990, 4, 2)
    )
    world.first.follow_up = world.follow_up
    world.first.follow_up_after_days = 14
    world.first.save()
    world.due = world.monday + timedelta(days=14)
    return user


def _hold(client, world, hour=10):
    response = client.post(
        "/reserver/",
        {
            "agenda": world.agenda.pk,
            "motive": world.first.pk,
            "start": at(world.monday, hour).isoformat(),
        },
    )
    assert response.status_code == 302
    return response.url


def test_the_booking_page_proposes_follow_up_times_from_the_due_day(client, world, member):
    client.force_login(member)
    page = client.get(_hold(client, world)).content.decode()
    assert "Consultation de suivi" in page
    assert f'value="{at(world.due, 9).isoformat()}"' in page
    assert f'value="{at(world.due - timedelta(days=1), 9).isoformat()}"' not in page
    late = world.due + timedelta(days=booking.FOLLOW_UP_LATE_DAYS + 1)
    assert at(late, 9).isoformat() not in page


def test_both_are_booked_with_one_confirmation_and_each_is_confirmed(client, world, member):
    client.force_login(member)
    url = _hold(client, world)
    done = client.post(
        url,
        {
            "patient": str(member.me.pk),
            "idempotency_key": "f1",
            "follow_up_start": at(world.due, 11).isoformat(),
        },
    )
    booked = list(Appointment.objects.filter(status="booked").order_by("start"))
    assert [(a.motive, a.start) for a in booked] == [
        (world.first, at(world.monday, 10)),
        (world.follow_up, at(world.due, 11)),
    ]
    assert done.url == f"/rendez-vous/{booked[0].pk}/"
    (message,) = [str(m) for m in get_messages(done.wsgi_request)]
    assert "10:00" in message and "11:00" in message
    confirmations = Message.objects.filter(purpose="confirmation")
    assert {m.appointment_id for m in confirmations} == {a.pk for a in booked}


def test_no_follow_up_time_chosen_asks_for_one_and_books_nothing(client, world, member):
    client.force_login(member)
    url = _hold(client, world)
    for chosen in ("", "2026-13-01T10:00", at(world.due, 12, 30).isoformat()):
        response = client.post(
            url,
            {"patient": str(member.me.pk), "idempotency_key": "f2", "follow_up_start": chosen},
        )
        assert response.status_code == 200
        assert 'id="follow_error"' in response.content.decode()
    assert not Appointment.objects.filter(status="booked").exists()


def test_a_follow_up_taken_meanwhile_books_neither_and_keeps_the_hold(
    client, world, member, other_user, monkeypatch
):
    client.force_login(member)
    url = _hold(client, world)
    original = booking.book_with_follow_up

    def someone_else_first(**kwargs):
        # Another patient takes the follow-up time between the page's check and the booking
        # (inside the same transaction here, so it is undone with it).
        booking.book(
            agenda=world.agenda,
            motive=world.follow_up,
            start=at(world.due, 11),
            patient=PatientProfile.objects.create(
                first_name="Paul", last_name="Autre", birth_date=date(1970, 1, 1)
            ),
            booked_by=other_user,
        )
        return original(**kwargs)

    monkeypatch.setattr(booking, "book_with_follow_up", someone_else_first)
    response = client.post(
        url,
        {
            "patient": str(member.me.pk),
            "idempotency_key": "f3",
            "follow_up_start": at(world.due, 11).isoformat(),
        },
    )
    assert response.status_code == 409
    page = response.content.decode()
    assert 'id="follow_error"' in page
    assert not Appointment.objects.filter(booked_by=member, status="booked").exists()
    assert Appointment.objects.get(agenda=world.agenda, start=at(world.monday, 10)).status == "held"
    assert not Message.objects.filter(appointment__patient=member.me).exists()


def test_a_follow_up_time_gone_before_the_confirmation_asks_again(
    client, world, member, other_user
):
    client.force_login(member)
    url = _hold(client, world)
    booking.book(
        agenda=world.agenda,
        motive=world.follow_up,
        start=at(world.due, 11),
        patient=PatientProfile.objects.create(
            first_name="Paul", last_name="Autre", birth_date=date(1970, 1, 1)
        ),
        booked_by=other_user,
    )
    response = client.post(
        url,
        {
            "patient": str(member.me.pk),
            "idempotency_key": "f5",
            "follow_up_start": at(world.due, 11).isoformat(),
        },
    )
    assert response.status_code == 200 and 'id="follow_error"' in response.content.decode()
    assert not Appointment.objects.filter(booked_by=member, status="booked").exists()


def test_a_motive_without_follow_up_books_as_before(client, world, member):
    world.first.follow_up = None
    world.first.save()
    client.force_login(member)
    url = _hold(client, world)
    assert 'name="follow_up_start"' not in client.get(url).content.decode()
    client.post(url, {"patient": str(member.me.pk), "idempotency_key": "f4"})
    assert Appointment.objects.filter(status="booked").count() == 1
