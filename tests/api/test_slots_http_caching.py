"""HTTP caching of an agenda's slots on the API: an ETag from the agenda's version, 304 while the
slots are the same, a new ETag after any change, and never one reader's ETag for another."""

from datetime import date, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consulto.api import api as api_module
from consulto.api.models import ApiToken
from consulto.directory.models import Membership, Organisation, Practitioner, Specialty
from consulto.scheduling import booking
from consulto.scheduling.models import Appointment, Opening, PatientProfile
from tests.conftest import at, valid_rpps

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _minute_start(clock):
    """Start each test early in its minute (not on it: a slot starting on the minute leaves the
    window just after): the ETag holds the booking window's minute, and two requests of a test
    must fall in the same one."""
    now = timezone.now()
    clock.move_to(now.replace(second=1, microsecond=0))


def slots(client, world, *, etag=None, token=None, motive=None, start=None):
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return client.get(
        f"/api/v1/agendas/{world.agenda.pk}/slots",
        {"motive": (motive or world.follow_up).pk, "start": start or world.monday.isoformat()},
        headers=headers,
    )


def _user(django_user_model, email):
    return django_user_model.objects.create_user(email=email, password="x" * 12)


@pytest.fixture
def readers(world, django_user_model):
    """Bearer tokens of a patient new to the practice, two patients it knows (each seen three
    weeks ago), a practitioner of another organisation and a regulator."""
    users = {
        name: _user(django_user_model, f"{name}@example.org")
        for name in ("newcomer", "known", "known_too", "practitioner", "regulator")
    }
    for hour, name in ((9, "known"), (10, "known_too")):
        profile = PatientProfile.objects.create(
            owner=users[name], first_name=name, last_name="Connu", birth_date=date(1980, 1, 1)
        )
        past = at(date.today() - timedelta(days=21), hour)
        Appointment.objects.create(
            agenda=world.agenda,
            motive=world.first,
            patient=profile,
            start=past,
            end=past + timedelta(minutes=30),
            status=Appointment.Status.SEEN,
        )
    elsewhere = Organisation.objects.create(name="Cabinet du Parc")
    Practitioner.objects.create(
        first_name="Anne",
        last_name="Parc",
        rpps=valid_rpps(40),
        specialty=Specialty.objects.get(code="medecin-generaliste"),
        user=users["practitioner"],
    )
    Membership.objects.create(
        user=users["practitioner"], organisation=elsewhere, role=Membership.Role.PRACTITIONER
    )
    samu = Organisation.objects.create(
        name="SAMU 75", kind=Organisation.Kind.REGULATION_CENTRE, territory="75"
    )
    Membership.objects.create(
        user=users["regulator"], organisation=samu, role=Membership.Role.REGULATOR
    )
    return {name: ApiToken.issue(user)[1] for name, user in users.items()}


def test_the_same_slots_answer_304_to_their_etag(client, world):
    first = slots(client, world)
    assert first.status_code == 200
    tag = first["ETag"]
    assert tag.startswith('W/"')
    assert "no-cache" in first["Cache-Control"] and "private" not in first["Cache-Control"]
    assert {"Authorization", "Cookie"} <= {v.strip() for v in first["Vary"].split(",")}

    again = slots(client, world, etag=tag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == tag
    assert "no-cache" in again["Cache-Control"]


def test_a_304_is_answered_without_loading_any_slot(client, world, monkeypatch):
    tag = slots(client, world)["ETag"]

    def no_slots(*args, **kwargs):
        raise AssertionError("slots loaded for a 304")

    monkeypatch.setattr(api_module, "slots_for_many", no_slots)
    assert slots(client, world, etag=tag).status_code == 304


def test_an_anonymous_304_costs_one_query(client, world):
    tag = slots(client, world)["ETag"]
    with CaptureQueriesContext(connection) as queries:
        assert slots(client, world, etag=tag).status_code == 304
    assert len(queries) == 1, [q["sql"] for q in queries]  # the motive with its agenda


def test_another_day_motive_or_stale_etag_answers_200(client, world):
    tag = slots(client, world)["ETag"]
    later = (world.monday + timedelta(days=7)).isoformat()
    assert slots(client, world, etag=tag, start=later).status_code == 200
    assert slots(client, world, etag=tag, motive=world.first).status_code == 200
    assert slots(client, world, etag='W/"something-else"').status_code == 200


def test_a_booking_gives_a_new_etag(client, world, patient, user):
    before = slots(client, world)
    taken = at(world.monday, 9)
    assert taken.isoformat() in {s["start"] for s in before.json()["slots"]}
    booking.book(
        agenda=world.agenda, motive=world.follow_up, start=taken, patient=patient, booked_by=user
    )

    after = slots(client, world, etag=before["ETag"])
    assert after.status_code == 200
    assert after["ETag"] != before["ETag"]
    assert taken.isoformat() not in {s["start"] for s in after.json()["slots"]}
    assert slots(client, world, etag=after["ETag"]).status_code == 304


def test_a_cancellation_gives_a_new_etag(client, world, patient, user):
    appointment = booking.book(
        agenda=world.agenda,
        motive=world.follow_up,
        start=at(world.monday, 9),
        patient=patient,
        booked_by=user,
    )
    before = slots(client, world)["ETag"]
    booking.cancel(appointment=appointment, by=user)
    assert slots(client, world, etag=before).status_code == 200


def test_an_opening_change_gives_a_new_etag(client, world):
    before = slots(client, world)
    opening = Opening.objects.filter(agenda=world.agenda, weekday=0, start_time=time(9)).get()
    opening.start_time = time(10)
    opening.save()

    after = slots(client, world, etag=before["ETag"])
    assert after.status_code == 200
    assert after["ETag"] != before["ETag"]
    assert at(world.monday, 9).isoformat() not in {s["start"] for s in after.json()["slots"]}


def test_the_etag_changes_as_the_booking_window_moves(client, world, clock):
    before = slots(client, world)["ETag"]
    clock.move_to(timezone.now() + timedelta(minutes=1))
    assert slots(client, world, etag=before).status_code == 200


def test_different_audiences_never_share_an_etag(client, world, readers):
    tags = {
        "public": slots(client, world)["ETag"],
        **{
            name: slots(client, world, token=readers[name])["ETag"]
            for name in ("known", "practitioner", "regulator")
        },
    }
    assert len(set(tags.values())) == len(tags)
    # Nobody gets a 304 for another audience's answer.
    for name in ("known", "practitioner", "regulator"):
        assert slots(client, world, token=readers[name], etag=tags["public"]).status_code == 200
        assert slots(client, world, etag=tags[name]).status_code == 200


def test_a_reader_the_practice_comes_to_know_gets_a_new_etag(client, world, readers):
    newcomer = ApiToken.objects.get(user__email="newcomer@example.org").user
    before = slots(client, world, token=readers["newcomer"])["ETag"]
    profile = PatientProfile.objects.create(
        owner=newcomer, first_name="Nouveau", last_name="Venu", birth_date=date(1990, 1, 1)
    )
    past = at(date.today() - timedelta(days=14), 11)
    # Not through booking.py: the agenda's version stays, only the reader's audience changes.
    Appointment.objects.create(
        agenda=world.agenda,
        motive=world.first,
        patient=profile,
        start=past,
        end=past + timedelta(minutes=30),
        status=Appointment.Status.SEEN,
    )
    assert slots(client, world, token=readers["newcomer"], etag=before).status_code == 200


def test_no_etag_validates_another_readers_copy(client, world, readers):
    known = slots(client, world, token=readers["known"])
    known_too = slots(client, world, token=readers["known_too"])
    # The same slots, not the same ETag: each credentialed answer is its reader's own.
    assert known.json()["slots"] == known_too.json()["slots"]
    assert known["ETag"] != known_too["ETag"]
    assert slots(client, world, token=readers["known_too"], etag=known["ETag"]).status_code == 200
    assert slots(client, world, token=readers["known"], etag=known["ETag"]).status_code == 304
    # A reader with credentials is never given the public's copy, even with the same slots.
    public = slots(client, world)["ETag"]
    newcomer = slots(client, world, token=readers["newcomer"])
    assert newcomer["ETag"] != public
    assert slots(client, world, token=readers["newcomer"], etag=public).status_code == 200


def test_a_credentialed_answer_is_private(client, world, readers):
    response = slots(client, world, token=readers["known"])
    assert "private" in response["Cache-Control"] and "no-cache" in response["Cache-Control"]
    assert (
        slots(client, world, token=readers["known"], etag=response["ETag"])["Cache-Control"]
        == (response["Cache-Control"])
    )


def test_errors_carry_no_etag(client, world):
    response = client.get(f"/api/v1/agendas/{world.agenda.pk}/slots", {"motive": 999999})
    assert response.status_code == 422
    assert not response.has_header("ETag")
