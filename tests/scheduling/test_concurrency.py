"""Many clients book the same slot at the same instant: the database lets exactly the right
number through, on SQLite and on PostgreSQL alike."""

import threading
from datetime import date

import pytest
from django.db import connection

from consulto.scheduling import booking
from consulto.scheduling.models import Appointment, PatientProfile
from tests.conftest import at

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]

CLIENTS = 12


def race(n: int, attempt) -> list:
    """Run ``attempt(i)`` in n threads released together; return results or exceptions."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = attempt(i)
        except Exception as error:  # collected and asserted on below
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.fixture
def patients(world, django_user_model):
    users = [
        django_user_model.objects.create_user(email=f"p{i}@example.org", password="x" * 12)
        for i in range(CLIENTS)
    ]
    profiles = [
        PatientProfile.objects.create(
            owner=u, first_name=f"P{i}", last_name="Test", birth_date=date(1990, 1, 1)
        )
        for i, u in enumerate(users)
    ]
    return list(zip(users, profiles, strict=True))


def outcome(results) -> tuple[int, int, list]:
    won = [r for r in results if isinstance(r, Appointment)]
    taken = [r for r in results if isinstance(r, booking.SlotTaken)]
    other = [r for r in results if not isinstance(r, Appointment | booking.SlotTaken)]
    return len(won), len(taken), other


def test_exactly_one_concurrent_booking_wins_a_capacity_one_slot(world, patients):
    start = at(world.monday, 9)

    def attempt(i):
        user, profile = patients[i]
        return booking.book(
            agenda=world.agenda,
            motive=world.follow_up,
            start=start,
            patient=profile,
            booked_by=user,
        )

    won, taken, other = outcome(race(CLIENTS, attempt))
    assert other == []
    assert (won, taken) == (1, CLIENTS - 1)
    assert Appointment.objects.active().filter(agenda=world.agenda).count() == 1


def test_overlapping_motives_racing_for_one_agenda_never_overlap(world, patients):
    # Half ask for 30 minutes at 9:00, half for 15 minutes at 9:15: at most one can win.
    def attempt(i):
        user, profile = patients[i]
        motive, start = (
            (world.first, at(world.monday, 9))
            if i % 2
            else (world.follow_up, at(world.monday, 9, 15))
        )
        return booking.book(
            agenda=world.agenda, motive=motive, start=start, patient=profile, booked_by=user
        )

    won, taken, other = outcome(race(CLIENTS, attempt))
    assert other == []
    assert won == 1
    assert won + taken == CLIENTS


def test_exactly_capacity_concurrent_bookings_win_a_capacity_slot(world, patients):
    start = at(world.monday, 8)

    def attempt(i):
        user, profile = patients[i]
        return booking.book(
            agenda=world.line, motive=world.flu, start=start, patient=profile, booked_by=user
        )

    won, taken, other = outcome(race(CLIENTS, attempt))
    assert other == []
    assert (won, taken) == (world.line.capacity, CLIENTS - world.line.capacity)
    assert Appointment.objects.active().filter(agenda=world.line).count() == world.line.capacity


def test_concurrent_retries_of_one_request_book_once(world, patients):
    user, profile = patients[0]
    start = at(world.monday, 10)

    def attempt(_i):
        return booking.book(
            agenda=world.agenda,
            motive=world.follow_up,
            start=start,
            patient=profile,
            booked_by=user,
            idempotency_key="same-request",
        )

    results = race(8, attempt)
    assert all(isinstance(r, Appointment) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert Appointment.objects.filter(idempotency_key="same-request").count() == 1
