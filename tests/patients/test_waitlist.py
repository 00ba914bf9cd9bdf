"""The waiting list: a freed slot is held for the first patient waiting, then the next."""

from datetime import date, timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from consulto.notifications.models import Message
from consulto.patients import waitlist
from consulto.patients.models import WaitlistEntry, WaitlistOffer
from consulto.scheduling import booking
from consulto.scheduling.models import Appointment, PatientProfile
from tests.conftest import at

pytestmark = pytest.mark.django_db


def profile(user, first="Alice"):
    return PatientProfile.objects.create(
        owner=user, first_name=first, last_name="Durand", birth_date=date(1980, 5, 17)
    )


@pytest.fixture
def carol(django_user_model):
    return django_user_model.objects.create_user(email="carol@example.org", password="x" * 12)


@pytest.fixture
def monday_nine(world, user, patient):
    """Alice's appointment, which she is about to cancel."""
    return booking.book(
        agenda=world.agenda,
        motive=world.first,
        start=at(world.monday, 9),
        patient=patient,
        booked_by=user,
    )


def wait(user, world, *, before=None, appointment=None, first="Bob"):
    return waitlist.join(
        user=user,
        patient=profile(user, first),
        motive=world.first,
        before=before or at(world.monday + timedelta(days=30), 0),
        appointment=appointment,
    )


def test_joining_from_the_practitioner_page(client, world, other_user):
    client.force_login(other_user)
    bob = profile(other_user, "Bob")
    response = client.post(
        "/liste-attente/",
        {
            "agenda": world.agenda.pk,
            "motive": world.first.pk,
            "patient": bob.pk,
            "before": (world.monday + timedelta(days=3)).isoformat(),
        },
        follow=True,
    )
    assert "liste d’attente" in response.content.decode()
    entry = WaitlistEntry.objects.get(user=other_user)
    assert entry.patient == bob and entry.status == "waiting"
    assert entry.before == at(world.monday + timedelta(days=3), 0)
    page = client.get("/rendez-vous/").content.decode()
    assert "Sur liste d’attente" in page


def test_a_cancellation_queues_the_offer_after_commit(
    client, world, user, monday_nine, django_capture_on_commit_callbacks
):
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/rendez-vous/{monday_nine.pk}/annuler/")
    assert DBTaskResult.objects.filter(task_path__endswith="offer_freed_slot").exists()


def test_the_first_patient_waiting_gets_the_freed_slot_held_and_a_message(
    world, user, other_user, monday_nine
):
    entry = wait(other_user, world)
    booking.cancel(appointment=monday_nine, by=user)
    made = waitlist.offer(agenda_id=world.agenda.pk, start=monday_nine.start)
    assert made.entry == entry
    assert made.hold.status == "held" and made.hold.booked_by == other_user
    left = made.hold.hold_expires_at - timezone.now()
    assert timedelta(minutes=29) < left <= timedelta(minutes=30)
    message = Message.objects.get(purpose="waitlist_offer", recipient=other_user.email)
    assert f"/reserver/{made.hold.pk}/" in message.body
    # Nobody else can take it meanwhile.
    with pytest.raises(booking.SlotTaken):
        booking.hold(agenda=world.agenda, motive=world.first, start=monday_nine.start, held_by=user)


def test_the_patient_takes_the_offer_from_the_link(client, world, user, other_user, monday_nine):
    entry = wait(other_user, world)
    booking.cancel(appointment=monday_nine, by=user)
    made = waitlist.offer(agenda_id=world.agenda.pk, start=monday_nine.start)
    client.force_login(other_user)
    page = client.get(f"/reserver/{made.hold.pk}/").content.decode()
    assert "la liste d’attente vous le garde" in page
    client.post(
        f"/reserver/{made.hold.pk}/", {"patient": str(entry.patient_id), "idempotency_key": "w1"}
    )
    made.refresh_from_db()
    entry.refresh_from_db()
    assert made.status == "taken" and entry.status == "booked"
    assert Appointment.objects.get(pk=made.hold.pk).status == "booked"


def test_a_lapsed_offer_goes_to_the_next_patient(world, user, other_user, carol, monday_nine):
    wait(other_user, world, first="Bob")
    second = wait(carol, world, first="Carol")
    booking.cancel(appointment=monday_nine, by=user)
    first_offer = waitlist.offer(agenda_id=world.agenda.pk, start=monday_nine.start)
    assert waitlist.lapse(offer_id=first_offer.pk) is None  # too early: still Bob's
    later = first_offer.hold.hold_expires_at + timedelta(seconds=1)
    next_offer = waitlist.lapse(offer_id=first_offer.pk, now=later)
    assert next_offer.entry == second
    first_offer.refresh_from_db()
    assert first_offer.status == "lapsed"
    assert Appointment.objects.get(pk=first_offer.hold.pk).status == "expired"


def test_taking_an_earlier_slot_cancels_the_later_appointment(
    client, world, user, other_user, monday_nine
):
    bob = profile(other_user, "Bob")
    friday = booking.book(
        agenda=world.agenda,
        motive=world.first,
        start=at(world.monday + timedelta(days=4), 17),
        patient=bob,
        booked_by=other_user,
    )
    client.force_login(other_user)
    client.post("/liste-attente/", {"appointment": friday.pk})
    entry = WaitlistEntry.objects.get(user=other_user)
    assert entry.appointment == friday and entry.before == friday.start
    booking.cancel(appointment=monday_nine, by=user)
    made = waitlist.offer(agenda_id=world.agenda.pk, start=monday_nine.start)
    client.post(f"/reserver/{made.hold.pk}/", {"patient": str(bob.pk), "idempotency_key": "w2"})
    friday.refresh_from_db()
    assert friday.status == "cancelled"
    assert Appointment.objects.get(pk=made.hold.pk).status == "booked"


def test_a_slot_later_than_wanted_is_not_offered(world, user, other_user, monday_nine):
    wait(other_user, world, before=at(world.monday, 8))
    booking.cancel(appointment=monday_nine, by=user)
    assert waitlist.offer(agenda_id=world.agenda.pk, start=monday_nine.start) is None
    assert not WaitlistOffer.objects.exists()


def test_a_motive_too_long_for_the_freed_slot_is_skipped(world, user, other_user, carol, patient):
    quarter = booking.book(
        agenda=world.agenda,
        motive=world.follow_up,
        start=at(world.monday, 11, 45),
        patient=patient,
        booked_by=user,
    )
    wait(other_user, world, first="Bob")  # 30 minutes do not fit before noon
    fits = waitlist.join(
        user=carol,
        patient=profile(carol, "Carol"),
        motive=world.follow_up,
        before=at(world.monday + timedelta(days=30), 0),
    )
    booking.cancel(appointment=quarter, by=user)
    made = waitlist.offer(agenda_id=world.agenda.pk, start=quarter.start)
    assert made.entry == fits


def test_leaving_the_waiting_list(client, world, other_user, user):
    entry = wait(other_user, world)
    client.force_login(user)
    assert client.post(f"/liste-attente/{entry.pk}/retirer/").status_code == 404
    client.force_login(other_user)
    client.post(f"/liste-attente/{entry.pk}/retirer/")
    entry.refresh_from_db()
    assert entry.status == "withdrawn"
