"""Background tasks of scheduling (Django's Tasks API, run by the task worker)."""

from django_tasks import task

from . import booking


@task()
def expire_lapsed_holds() -> int:
    """Tidy holds whose time is up; enqueued for each hold's expiry by ``booking.hold``."""
    return booking.expire_holds()
