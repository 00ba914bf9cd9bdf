"""Background tasks of scheduling (Django's Tasks API, run by the task worker)."""

from django.utils import timezone
from django_tasks import task

from . import booking, index


@task()
def expire_lapsed_holds() -> int:
    """Tidy holds whose time is up; enqueued for each hold's expiry by ``booking.hold``."""
    return booking.expire_holds()


@task()
def refresh_availability(agenda_ids: list[int]) -> int:
    """Recompute the next-availability index and the cached slots of agendas a write changed;
    enqueued once that write commits (``models.agendas_changed``)."""
    return index.refresh(agenda_ids)


@task()
def sweep_availability_index() -> int:
    """Keep the next-availability index ahead of the clock (``index.sweep``), then come back
    in a minute (one such chain runs, started by ``ensure_index_sweep``)."""
    try:
        return index.sweep()
    finally:
        sweep_availability_index.using(run_after=timezone.now() + index.SWEEP_EVERY).enqueue()


def ensure_index_sweep() -> None:
    """Start the index sweep unless one is already waiting in the queue."""
    from django_tasks_db.models import DBTaskResult

    waiting = DBTaskResult.objects.filter(
        task_path=sweep_availability_index.module_path, status="READY"
    )
    if not waiting.exists():
        sweep_availability_index.enqueue()
