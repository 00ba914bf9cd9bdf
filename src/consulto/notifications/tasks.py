"""Background tasks of notifications (Django's Tasks API, run by the task worker)."""

from datetime import datetime

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


@task()
def deliver_due_messages() -> int:
    """Safety net: send whatever is due in the outbox, e.g. if an enqueue was lost."""
    return services.deliver_due()
