"""HTTP caching of the week of slots the practitioner page sends to htmx: an ETag from the
agenda's version and the reader, 304 while neither changed, private to the browser."""

from datetime import date, time, timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from consulto.patients import selectors
from consulto.scheduling import booking
from consulto.scheduling.models import Appointment, Opening, PatientProfile
from tests.conftest import at

pytestmark = pytest.mark.django_db

WEEK = {"HX-Request": "true", "HX-Target": "week"}


@pytest.fixture(autouse=True)
def _minute_start(clock):
    """Start each test early in its minute (not on it: a slot starting on the minute leaves the
    window just after): the ETag holds the booking window's minute, and two requests of a test
    must fall in the same one."""
    clock.move_to(timezone.now().replace(second=1, microsecond=0))


def week(client, world, *, etag=None, headers=WEEK):
    extra = {"If-None-Match": etag} if etag else {}
    return client.get(
        f"/praticien/{world.gp.pk}/",
        {"agenda": world.agenda.pk, "motive": world.first.pk, "week": world.monday.isoformat()},
        headers={**headers, **extra},
    )


def vary(response) -> set[str]:
    return {v.strip().lower() for v in response["Vary"].split(",")}


def test_the_week_answers_304_to_its_etag(client, world):
    first = week(client, world)
    assert first.status_code == 200 and 'class="days week"' in first.content.decode()
    tag = first["ETag"]
    assert "private" in first["Cache-Control"] and "no-cache" in first["Cache-Control"]
    assert {"cookie", "hx-target"} <= vary(first)

    again = week(client, world, etag=tag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == tag
    assert "private" in again["Cache-Control"] and {"cookie", "hx-target"} <= vary(again)


def test_a_304_loads_no_slot(client, world, monkeypatch):
    tag = week(client, world)["ETag"]

    def no_slots(**kwargs):
        raise AssertionError("slots loaded for a 304")

    monkeypatch.setattr(selectors, "week_of_slots", no_slots)
    assert week(client, world, etag=tag).status_code == 304


def test_a_booking_gives_the_week_a_new_etag(client, world, patient, user):
    before = week(client, world)
    taken = at(world.monday, 9)
    assert f'value="{taken.isoformat()}"' in before.content.decode()
    booking.book(
        agenda=world.agenda, motive=world.first, start=taken, patient=patient, booked_by=user
    )

    after = week(client, world, etag=before["ETag"])
    assert after.status_code == 200
    assert f'value="{taken.isoformat()}"' not in after.content.decode()
    assert week(client, world, etag=after["ETag"]).status_code == 304


def test_an_opening_change_gives_the_week_a_new_etag(client, world):
    before = week(client, world)["ETag"]
    opening = Opening.objects.filter(agenda=world.agenda, weekday=0, start_time=time(9)).get()
    opening.delete()
    after = week(client, world, etag=before)
    assert after.status_code == 200
    assert f'value="{at(world.monday, 9).isoformat()}"' not in after.content.decode()


def test_another_browser_never_gets_a_304_for_a_copy_it_does_not_hold(client, world):
    tag = week(client, world)["ETag"]
    # The same anonymous page, but the forms of another browser carry another CSRF secret.
    assert week(Client(), world, etag=tag).status_code == 200
    # A new CSRF secret in the same browser (at login, say): the kept copy's token is stale.
    client.cookies[settings.CSRF_COOKIE_NAME] = "x" * 32
    assert week(client, world, etag=tag).status_code == 200


def test_logging_in_gives_the_week_a_new_etag(client, world, user):
    anonymous = week(client, world)["ETag"]
    client.force_login(user)
    response = week(client, world, etag=anonymous)
    assert response.status_code == 200
    assert response["ETag"] != anonymous


def test_a_patient_the_practice_comes_to_know_gets_a_new_etag(client, world, user):
    client.force_login(user)
    before = week(client, world)["ETag"]
    profile = PatientProfile.objects.create(
        owner=user, first_name="Alice", last_name="Durand", birth_date=date(1980, 5, 17)
    )
    past = at(date.today() - timedelta(days=21), 9)
    # Not through booking.py: the agenda's version stays, only the reader's audience changes.
    Appointment.objects.create(
        agenda=world.agenda,
        motive=world.first,
        patient=profile,
        start=past,
        end=past + timedelta(minutes=30),
        status=Appointment.Status.SEEN,
    )
    assert week(client, world, etag=before).status_code == 200


def test_the_whole_page_ignores_the_weeks_etag(client, world):
    tag = week(client, world)["ETag"]
    page = week(client, world, etag=tag, headers={})
    assert page.status_code == 200
    assert "<html" in page.content.decode()
    assert not page.has_header("ETag")
