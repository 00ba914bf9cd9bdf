"""Background tasks of the support desk (Django's Tasks API, run by the task worker)."""

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from . import dispatch, services

SWEEP_EVERY = timedelta(seconds=30)


@task()
def route_waiting() -> int:
    """A routing pass: a callback fell due, or a waiting contact's requirements relaxed."""
    return dispatch.route()


@task()
def expire_offer(contact_id: int) -> bool:
    """The offer's countdown ran out: the contact goes to someone else."""
    return services.expire_offer(contact_id=contact_id)


@task()
def chat_timeout(contact_id: int) -> bool:
    """Nobody answered the chat in time: it becomes a written request."""
    return services.chat_unanswered(contact_id=contact_id)


@task()
def sweep() -> int:
    """Safety net: offers past their countdown, callbacks due, a routing pass; then again in a
    few seconds (one such chain runs, started by ``ensure_sweep``)."""
    try:
        return services.sweep()
    finally:
        sweep.using(run_after=timezone.now() + SWEEP_EVERY).enqueue()


def ensure_sweep() -> None:
    from django_tasks_db.models import DBTaskResult

    waiting = DBTaskResult.objects.filter(task_path=sweep.module_path, status="READY")
    if not waiting.exists():
        sweep.enqueue()


@task()
def purge_server_errors() -> int:
    """The server errors kept for support are dropped after a week; again tomorrow."""
    from consulto.core import errors_seen

    try:
        return errors_seen.purge()
    finally:
        purge_server_errors.using(run_after=timezone.now() + timedelta(days=1)).enqueue()


def ensure_purge() -> None:
    from django_tasks_db.models import DBTaskResult

    waiting = DBTaskResult.objects.filter(task_path=purge_server_errors.module_path, status="READY")
    if not waiting.exists():
        purge_server_errors.enqueue()
