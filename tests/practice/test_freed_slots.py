"""Slots the practice frees go to the waiting list, though the practice never imports the
patient side (``scheduling.events.slot_freed``): a cancellation's at once, a move's once its
"Undo" has lapsed, an undo's at once; the offer reaches the patient waiting."""

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from consulto.patients import waitlist
from consulto.patients.models import WaitlistOffer
from consulto.practice import services
from consulto.scheduling import booking
from consulto.scheduling.models import Appointment, PatientProfile
from tests.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def waiting(practice):
    """A patient of the centre waits for an earlier first consultation."""
    w = practice
    bob = PatientProfile.objects.create(
        owner=w.patient_user, first_name="Bob", last_name="Roux", birth_date=date(1985, 1, 2)
    )
    return waitlist.join(
        user=w.patient_user,
        patient=bob,
        motive=w.first,
        before=at(w.monday + timedelta(days=30), 0),
    )


@pytest.fixture
def booked(practice):
    w = practice
    return booking.book(
        agenda=w.agenda, motive=w.first, start=at(w.monday, 9), patient=w.profile,
        booked_by=w.secretary, channel=Appointment.Channel.SECRETARY, as_staff=True,
    )  # fmt: skip


def offers_queued() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path="consulto.patients.tasks.offer_freed_slot"))


def freed(queued: DBTaskResult) -> tuple[int, datetime]:
    agenda_id, start = queued.args_kwargs["args"]
    return agenda_id, datetime.fromisoformat(start)


def run(queued: DBTaskResult):
    return queued.task.call(*queued.args_kwargs["args"], **queued.args_kwargs["kwargs"])


def test_a_practice_cancellation_offers_the_slot_to_the_patient_waiting(
    practice, waiting, booked, django_capture_on_commit_callbacks
):
    w = practice
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel(user=w.secretary, appointment_id=booked.pk, reason="Docteur absent")
    [queued] = offers_queued()
    assert freed(queued) == (w.agenda.pk, at(w.monday, 9))
    made = WaitlistOffer.objects.get(pk=run(queued))
    assert made.entry == waiting and made.start == at(w.monday, 9)
    assert made.hold.status == Appointment.Status.HELD


def test_a_practice_move_offers_the_old_slot_once_undo_has_lapsed(
    practice, waiting, booked, django_capture_on_commit_callbacks
):
    w = practice
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        moved = services.move(
            user=w.secretary, appointment_id=booked.pk, new_start=at(w.monday, 16)
        )
    [queued] = offers_queued()
    assert freed(queued) == (w.agenda.pk, at(w.monday, 9))
    assert queued.run_after >= before + services.UNDO_GRACE
    with django_capture_on_commit_callbacks(execute=True):
        back = services.undo_move(user=w.secretary, appointment_id=moved.pk)
    assert back.start == at(w.monday, 9)
    # The slot the undo frees (16:00) is offered at once; the old one is taken again.
    undone = [q for q in offers_queued() if q.pk != queued.pk]
    assert [freed(q) for q in undone] == [(w.agenda.pk, at(w.monday, 16))]
    assert run(queued) is None
    assert WaitlistOffer.objects.get(pk=run(undone[0])).entry == waiting


def test_a_status_change_frees_nothing(
    practice, waiting, booked, django_capture_on_commit_callbacks
):
    w = practice
    with django_capture_on_commit_callbacks(execute=True):
        services.set_status(user=w.secretary, appointment_id=booked.pk, status="arrived")
    assert offers_queued() == []
