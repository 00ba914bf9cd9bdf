from datetime import date, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from consulto.scheduling import booking
from consulto.scheduling.models import Appointment
from tests.conftest import at

pytestmark = pytest.mark.django_db


def book(world, start, patient, user, motive=None, **kwargs):
    return booking.book(
        agenda=world.agenda,
        motive=motive or world.follow_up,
        start=start,
        patient=patient,
        booked_by=user,
        **kwargs,
    )


def test_it_books_an_offered_slot(world, patient, user):
    appointment = book(world, at(world.monday, 9), patient, user)
    assert appointment.status == Appointment.Status.BOOKED
    assert appointment.end - appointment.start == timedelta(minutes=15)
    assert appointment.exclusive is True


def test_it_refuses_a_slot_already_taken(world, patient, user, other_user):
    book(world, at(world.monday, 9), patient, user)
    with pytest.raises(booking.SlotTaken):
        book(world, at(world.monday, 9), patient, other_user)


def test_it_refuses_a_longer_motive_overlapping_a_booking(world, patient, user):
    book(world, at(world.monday, 9, 15), patient, user)
    with pytest.raises(booking.SlotTaken):
        book(world, at(world.monday, 9), patient, user, motive=world.first)


def test_it_refuses_a_time_that_is_not_a_slot(world, patient, user):
    with pytest.raises(booking.InvalidSlot):
        book(world, at(world.monday, 9, 7), patient, user)
    with pytest.raises(booking.InvalidSlot):  # lunch break
        book(world, at(world.monday, 12, 30), patient, user)
    with pytest.raises(booking.InvalidSlot):  # 30 minutes do not fit before noon
        book(world, at(world.monday, 11, 45), patient, user, motive=world.first)


def test_it_refuses_a_past_slot(world, patient, user):
    last_week = world.monday - timedelta(days=14)
    with pytest.raises(booking.InvalidSlot):
        book(world, at(last_week, 9), patient, user)


def test_the_database_refuses_an_overlap_that_bypasses_the_service(world, patient):
    start = at(world.monday, 10)
    Appointment.objects.create(
        agenda=world.agenda,
        motive=world.first,
        patient=patient,
        start=start,
        end=start + timedelta(minutes=30),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.create(
            agenda=world.agenda,
            motive=world.follow_up,
            patient=patient,
            start=start + timedelta(minutes=15),
            end=start + timedelta(minutes=30),
        )


def test_the_database_accepts_back_to_back_and_cancelled_overlaps(world, patient):
    start = at(world.monday, 10)
    first = Appointment.objects.create(
        agenda=world.agenda,
        motive=world.follow_up,
        patient=patient,
        start=start,
        end=start + timedelta(minutes=15),
    )
    Appointment.objects.create(
        agenda=world.agenda,
        motive=world.follow_up,
        patient=patient,
        start=start + timedelta(minutes=15),
        end=start + timedelta(minutes=30),
    )
    first.status = Appointment.Status.CANCELLED
    first.save()
    Appointment.objects.create(
        agenda=world.agenda,
        motive=world.follow_up,
        patient=patient,
        start=start,
        end=start + timedelta(minutes=15),
    )


def test_a_retried_request_books_once(world, patient, user):
    first = book(world, at(world.monday, 9), patient, user, idempotency_key="abc-1")
    again = book(world, at(world.monday, 9), patient, user, idempotency_key="abc-1")
    assert again.pk == first.pk
    assert (first.replayed, again.replayed) == (False, True)
    assert Appointment.objects.count() == 1


def test_a_reused_key_for_another_slot_is_refused(world, patient, user):
    book(world, at(world.monday, 9), patient, user, idempotency_key="abc-2")
    with pytest.raises(booking.IdempotencyKeyReused):
        book(world, at(world.monday, 10), patient, user, idempotency_key="abc-2")


def test_it_creates_the_patient_profile_once_from_an_identity(world, user):
    identity = booking.PatientIdentity("Léa", "Petit", date(2015, 3, 2), phone="0612345678")
    a = book(world, at(world.monday, 9), identity, user)
    b = book(world, at(world.monday, 10), identity, user)
    assert a.patient_id == b.patient_id
    assert a.patient.owner == user


def test_a_hold_counts_as_busy_and_becomes_the_booking(world, patient, user, other_user):
    now = timezone.now()
    held = booking.hold(
        agenda=world.agenda,
        motive=world.follow_up,
        start=at(world.monday, 9),
        held_by=user,
        now=now,
    )
    with pytest.raises(booking.SlotTaken):
        book(world, at(world.monday, 9), patient, other_user, now=now)
    booked = book(world, at(world.monday, 9), patient, user, from_hold=held, now=now)
    assert booked.pk == held.pk
    assert booked.status == Appointment.Status.BOOKED
    assert booked.hold_expires_at is None


def test_an_expired_hold_frees_the_slot_by_itself(world, patient, user, other_user):
    now = timezone.now()
    booking.hold(
        agenda=world.agenda,
        motive=world.follow_up,
        start=at(world.monday, 9),
        held_by=user,
        now=now,
        minutes=5,
    )
    later = now + timedelta(minutes=6)
    taken = book(world, at(world.monday, 9), patient, other_user, now=later)
    assert taken.status == Appointment.Status.BOOKED
    assert Appointment.objects.filter(status=Appointment.Status.EXPIRED).count() == 1


def test_cancelling_frees_the_slot_and_keeps_history(world, patient, user, other_user):
    first = book(world, at(world.monday, 9), patient, user)
    booking.cancel(appointment=first, by=user, reason="Empêchement")
    again = book(world, at(world.monday, 9), patient, other_user)
    first.refresh_from_db()
    assert first.status == Appointment.Status.CANCELLED
    assert first.cancel_reason == "Empêchement"
    assert again.status == Appointment.Status.BOOKED


def test_a_patient_cannot_cancel_after_the_deadline(world, patient, user):
    appointment = book(world, at(world.monday, 9), patient, user)
    too_late = at(world.monday, 7)  # the motive's deadline is 4 hours before
    with pytest.raises(booking.CancellationTooLate):
        booking.cancel(appointment=appointment, by=user, now=too_late)
    booking.cancel(appointment=appointment, by=user, as_staff=True, now=too_late)


def test_a_stranger_cannot_cancel(world, patient, user, other_user):
    appointment = book(world, at(world.monday, 9), patient, user)
    with pytest.raises(booking.PermissionDenied):
        booking.cancel(appointment=appointment, by=other_user)


def test_reschedule_books_the_new_slot_and_frees_the_old_together(world, patient, user, other_user):
    old = book(world, at(world.monday, 9), patient, user)
    new = booking.reschedule(appointment=old, new_start=at(world.monday, 9, 15), by=user)
    old.refresh_from_db()
    assert old.status == Appointment.Status.CANCELLED
    assert new.rescheduled_from_id == old.pk
    assert book(world, at(world.monday, 9), patient, other_user).status == "booked"


def test_a_failed_reschedule_leaves_the_old_appointment_booked(world, patient, user, other_user):
    old = book(world, at(world.monday, 9), patient, user)
    book(world, at(world.monday, 10), patient, other_user)
    with pytest.raises(booking.SlotTaken):
        booking.reschedule(appointment=old, new_start=at(world.monday, 10), by=user)
    old.refresh_from_db()
    assert old.status == Appointment.Status.BOOKED


def test_reschedule_may_overlap_its_own_old_time(world, patient, user):
    old = book(world, at(world.monday, 9), patient, user, motive=world.first)
    new = booking.reschedule(
        appointment=old, new_start=at(world.monday, 9, 15), by=user, as_staff=True
    )
    assert new.start == at(world.monday, 9, 15)


def test_a_capacity_agenda_takes_n_patients_at_once_and_no_more(world, patient, user):
    start = at(world.monday, 8)
    for _ in range(6):
        booking.book(
            agenda=world.line, motive=world.flu, start=start, patient=patient, booked_by=user
        )
    with pytest.raises(booking.SlotTaken):
        booking.book(
            agenda=world.line, motive=world.flu, start=start, patient=patient, booked_by=user
        )
    assert Appointment.objects.filter(agenda=world.line).count() == 6


def test_every_write_bumps_the_agenda_version(world, patient, user):
    world.agenda.refresh_from_db()
    before = world.agenda.version
    appointment = book(world, at(world.monday, 9), patient, user)
    booking.cancel(appointment=appointment, by=user)
    world.agenda.refresh_from_db()
    assert world.agenda.version == before + 2


def test_a_hold_schedules_its_own_expiry_on_the_task_queue(
    world, user, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    with django_capture_on_commit_callbacks(execute=True):
        held = booking.hold(
            agenda=world.agenda, motive=world.follow_up, start=at(world.monday, 9), held_by=user
        )
    queued = DBTaskResult.objects.get(task_path__endswith="expire_lapsed_holds")
    assert queued.run_after == held.hold_expires_at
    # and the refresh of the agenda's next availability, at once
    refresh = DBTaskResult.objects.get(task_path__endswith="refresh_availability")
    assert refresh.args_kwargs["args"] == [[world.agenda.pk]]


def test_a_write_lock_that_cannot_be_had_is_slot_taken_not_a_crash(world):
    from django.db import OperationalError

    def write():
        raise OperationalError("database is locked")

    with pytest.raises(booking.SlotTaken):
        booking._run_reservation(write, agenda_ids=[world.agenda.pk])


def test_a_lock_refused_around_a_booking_and_its_messages_is_slot_taken(world):
    from django.db import OperationalError

    with pytest.raises(booking.SlotTaken), booking.reservation():
        raise OperationalError("database is locked")


def test_a_slot_already_full_is_refused_without_taking_the_agendas_lock(
    world, patient, user, other_user
):
    """A rush on one slot: the losers read that it is taken and answer at once, instead of
    queueing on the agenda's row lock behind the winner (the lock bumps the version)."""
    book(world, at(world.monday, 9), patient, user)
    version = world.agenda.__class__.objects.get(pk=world.agenda.pk).version
    with pytest.raises(booking.SlotTaken):
        book(world, at(world.monday, 9), patient, other_user)
    assert world.agenda.__class__.objects.get(pk=world.agenda.pk).version == version


def test_a_full_slot_is_refused_in_the_same_order_of_reasons_as_a_free_one(
    world, patient, user, other_user
):
    """Taken and also refused by a rule or the openings: the rule or the openings answer, as
    they do under the lock."""
    start = at(world.monday, 9)
    book(world, start, patient, user)
    world.follow_up.min_notice_minutes = 60 * 24 * 30
    world.follow_up.save()
    with pytest.raises(booking.rules.OutsideBookingWindow):
        book(world, start, patient, other_user)
    world.follow_up.min_notice_minutes = 0
    world.follow_up.save()
    # Staff put an appointment outside the openings; a patient asking for that time is told it
    # is not a slot, not that it is taken.
    evening = at(world.monday, 19)
    book(world, evening, patient, user, as_staff=True)
    with pytest.raises(booking.InvalidSlot):
        book(world, evening, patient, other_user)


def test_a_replay_of_a_full_slot_still_returns_the_first_booking(world, patient, user):
    first = book(world, at(world.monday, 9), patient, user, idempotency_key="same")
    again = book(world, at(world.monday, 9), patient, user, idempotency_key="same")
    assert (again.pk, again.replayed) == (first.pk, True)
