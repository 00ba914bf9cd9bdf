"""Background tasks of the FHIR facade (Django's Tasks API, run by the task worker)."""

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from . import retention

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
