"""Background tasks of notifications (Django's Tasks API, run by the task worker)."""

from datetime import datetime, timedelta

from django.utils import timezone
from django_tasks import task

from . import services


@task()
def deliver(message_id: int) -> str:
    """Send one outbox message; enqueued after the commit that wrote it, and for each retry."""
    return services.send_message(message_id=message_id)


@task()
def send_reminder(appointment_id: int, purpose: str, channel: str, expected_start_iso: str) -> str:
    """Send one reminder at its time; enqueued by ``services.schedule_reminders``."""
    return services.send_reminder(
        appointment_id=appointment_id,
        purpose=purpose,
        channel=channel,
        expected_start=datetime.fromisoformat(expected_start_iso),
    )


SWEEP_EVERY = timedelta(minutes=5)


@task()
def deliver_due_messages() -> int:
    """Safety net: send whatever is due in the outbox, e.g. if an enqueue was lost; then come
    back in a few minutes (one such chain runs, started by ``ensure_sweep``)."""
    try:
        return services.deliver_due()
    finally:
        deliver_due_messages.using(run_after=timezone.now() + SWEEP_EVERY).enqueue()


def ensure_sweep() -> None:
    """Start the outbox sweep unless one is already waiting in the queue."""
    from django_tasks_db.models import DBTaskResult

    waiting = DBTaskResult.objects.filter(
        task_path=deliver_due_messages.module_path, status="READY"
    )
    if not waiting.exists():
        deliver_due_messages.enqueue()
