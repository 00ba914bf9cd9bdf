"""Background tasks of the FHIR facade (Django's Tasks API, run by the task worker)."""

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from . import retention, sas_reports, webhooks


@task()
def deliver_webhook(delivery_id: int) -> str | None:
    """Attempt one webhook delivery; enqueued with the change it tells, and for each retry."""
    return webhooks.deliver(delivery_id=delivery_id)


@task()
def send_sas_report(report_id: int) -> str | None:
    """Attempt one report to the SAS platform; enqueued with the change, and for each retry."""
    return sas_reports.send(report_id=report_id)


SWEEP_EVERY = timedelta(minutes=5)


@task()
def deliver_due_outbox() -> int:
    """Safety net: attempt whatever is due (an enqueue lost), then come back in a while (one
    such chain runs, started by ``ensure_sweep``)."""
    try:
        return webhooks.deliver_due() + sas_reports.send_due()
    finally:
        deliver_due_outbox.using(run_after=timezone.now() + SWEEP_EVERY).enqueue()


def ensure_sweep() -> None:
    """Start the outbox sweep unless one is already waiting in the queue."""
    from django_tasks_db.models import DBTaskResult

    waiting = DBTaskResult.objects.filter(task_path=deliver_due_outbox.module_path, status="READY")
    if not waiting.exists():
        deliver_due_outbox.enqueue()


PURGE_EVERY = timedelta(days=1)


@task()
def purge_api_calls() -> int:
    """Delete the call records past their retention (``retention.purge_api_calls``), then come
    back tomorrow (one such chain runs, started by ``ensure_api_call_purge``)."""
    try:
        return retention.purge_api_calls()
    finally:
        purge_api_calls.using(run_after=timezone.now() + PURGE_EVERY).enqueue()


def ensure_api_call_purge() -> None:
    """Start the daily purge unless one is already waiting in the queue."""
    from django_tasks_db.models import DBTaskResult

    waiting = DBTaskResult.objects.filter(task_path=purge_api_calls.module_path, status="READY")
    if not waiting.exists():
        purge_api_calls.enqueue()
