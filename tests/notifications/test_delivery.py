from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from consulto.notifications import services
from consulto.notifications.models import Message
from tests.conftest import at, next_weekday
from tests.notifications.conftest import free_port, use_smtp

pytestmark = pytest.mark.django_db


def test_a_failing_smtp_server_is_retried_then_the_message_is_marked_failed(
    world, book, run_tasks, smtp_down
):
    # Four weeks ahead: no reminder falls due during the day of retries this test goes through.
    book(at(next_weekday(0, weeks_ahead=4), 9))
    message = Message.objects.get(purpose="confirmation")
    now = timezone.now()
    waits = []
    for _attempt in range(4):
        assert run_tasks(now) == [("deliver", "pending")]
        message.refresh_from_db()
        waits.append(message.next_attempt_at - now)
        assert "Connection refused" in message.last_error or "Errno" in message.last_error
        assert run_tasks(message.next_attempt_at - timedelta(seconds=1)) == []
        now = message.next_attempt_at
    assert waits == [timedelta(minutes=m) for m in (1, 4, 16, 64)]
    assert run_tasks(now) == [("deliver", "failed")]
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("failed", 5)
    assert run_tasks(now + timedelta(days=1)) == []


def test_a_message_is_sent_once_the_server_is_back(world, settings, book, run_tasks, smtp):
    port = settings.EMAIL_PORT
    use_smtp(settings, free_port())
    book(at(world.monday, 9))
    assert run_tasks() == [("deliver", "pending")]
    use_smtp(settings, port)
    message = Message.objects.get(purpose="confirmation")
    assert run_tasks(message.next_attempt_at) == [("deliver", "sent")]
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == ("sent", 2, "")
    assert len(smtp.messages) == 1


def test_a_sent_message_is_never_sent_again(world, book, run_tasks):
    book(at(world.monday, 9))
    run_tasks()
    message = Message.objects.get(purpose="confirmation")
    assert services.send_message(message_id=message.pk) == "sent"
    assert len(mail.outbox) == 1


def test_the_outbox_sweep_sends_what_a_lost_task_left_pending(world, user, patient):
    from consulto.scheduling import booking

    # Booked and written, but the transaction's on-commit enqueue never happened.
    appointment = booking.book(
        agenda=world.agenda,
        motive=world.follow_up,
        start=at(world.monday, 9),
        patient=patient,
        booked_by=user,
    )
    services.appointment_booked(appointment=appointment)
    assert services.deliver_due() == 1
    assert len(mail.outbox) == 1
    assert services.deliver_due() == 0


def test_a_message_written_by_another_app_is_delivered_once(sms_outbox, db):
    def offer():
        return services.queue_message(
            channel="sms",
            purpose="waitlist_offer",
            recipient="06 12 34 56 78",
            body="Un créneau s'est libéré.",
            dedupe_key="waitlist:1:offer",
        )

    assert offer() is not None
    assert offer() is None
    assert services.deliver_due() == 1
    assert sms_outbox == [{"to": "+33612345678", "text": "Un créneau s'est libéré."}]


def test_the_outbox_sweep_is_started_once_and_keeps_coming_back(db):
    from django_tasks_db.models import DBTaskResult

    from consulto.notifications.tasks import deliver_due_messages, ensure_sweep

    ensure_sweep()
    ensure_sweep()
    waiting = DBTaskResult.objects.filter(task_path=deliver_due_messages.module_path)
    assert waiting.filter(status="READY").count() == 1
    deliver_due_messages.call()
    later = waiting.filter(status="READY").order_by("-enqueued_at").first()
    assert later.run_after > timezone.now()
