"""``appointment_booked(just_booked=True)``, the booking path's way (one INSERT for the messages,
one for their tasks, inside the booking's transaction), writes what the general path writes."""

from datetime import UTC, date, timedelta

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from consulto.core import queue
from consulto.notifications import services
from consulto.notifications.models import Message, ReminderSettings
from consulto.scheduling import booking
from tests.conftest import at

pytestmark = pytest.mark.django_db

DELIVER, SEND_REMINDER = services.DELIVER, services.SEND_REMINDER


def written(appointment):
    """The messages and tasks about ``appointment``, with its id and time taken out."""
    shift = appointment.start
    messages = sorted(
        (
            m.purpose,
            m.channel,
            m.recipient,
            m.status,
            m.language,
            m.last_error,
            m.next_attempt_at - shift if m.expected_start else None,
            m.expected_start == appointment.start if m.expected_start else None,
            m.dedupe_key.replace(f"appointment:{appointment.pk}:", "appointment:#:"),
        )
        for m in Message.objects.filter(appointment=appointment)
    )
    ids = set(Message.objects.filter(appointment=appointment).values_list("pk", flat=True))
    tasks = []
    for task in DBTaskResult.objects.all():
        args = task.args_kwargs["args"]
        if task.task_path == DELIVER and args[0] in ids:
            purpose = Message.objects.get(pk=args[0]).purpose
            tasks.append((task.task_path, purpose, task.run_after.year))
        elif task.task_path == SEND_REMINDER and args[0] == appointment.pk:
            tasks.append(
                (
                    task.task_path,
                    args[1],
                    args[2],
                    args[3] == appointment.start.astimezone(UTC).isoformat(),
                    task.run_after - shift,
                )
            )
    return messages, sorted(tasks, key=str)


@pytest.mark.parametrize("phone", ["06 12 34 56 78", "12"])  # "12": an SMS skipped at once
@pytest.mark.parametrize("sms_1d", [True, False])
def test_the_bulk_path_writes_the_same_rows_as_the_general_one(
    world, user, django_capture_on_commit_callbacks, phone, sms_1d
):
    ReminderSettings.objects.create(practitioner=world.gp, sms_1d=sms_1d)
    identity = dict(
        first_name="Alice", last_name="Durand", birth_date=date(1980, 5, 17), phone=phone
    )
    made = []
    for days, bulk in ((0, False), (7, True)):
        start = at(world.monday + timedelta(days=days), 9)
        with django_capture_on_commit_callbacks(execute=True):
            appointment = booking.book(
                agenda=world.agenda,
                motive=world.follow_up,
                start=start,
                patient=booking.PatientIdentity(**identity),
                booked_by=user,
                also=(lambda a: services.appointment_booked(appointment=a, just_booked=True))
                if bulk
                else None,
            )
            if not bulk:
                services.appointment_booked(appointment=appointment)
        made.append(appointment)
    general, bulk = (written(a) for a in made)
    assert bulk == general
    assert len(bulk[0]) == (4 if sms_1d else 3) + 1


def test_the_tasks_of_a_booking_exist_only_if_it_commits(world):
    calls = [
        (DELIVER, (1,), None),
        (SEND_REMINDER, (1, "reminder_1d", "email", "x"), at(world.monday, 9)),
    ]
    with pytest.raises(RuntimeError), transaction.atomic():
        queue.enqueue_with_commit(calls)
        assert DBTaskResult.objects.count() == 2  # written in the transaction itself
        raise RuntimeError
    assert DBTaskResult.objects.count() == 0
    with transaction.atomic():
        queue.enqueue_with_commit(calls)
    rows = {row.task_path: row for row in DBTaskResult.objects.all()}
    assert rows[DELIVER].task.run_after is None  # due at once, as the backend marks it
    assert rows[SEND_REMINDER].run_after == at(world.monday, 9)
    assert rows[SEND_REMINDER].args_kwargs == {
        "args": [1, "reminder_1d", "email", "x"],
        "kwargs": {},
    }
