"""Background tasks of the patient side (Django's Tasks API, run by the task worker)."""

from datetime import datetime

from django_tasks import task

from . import waitlist


@task()
def offer_freed_slot(agenda_id: int, start_iso: str) -> int | None:
    """Offer a slot that just freed to the first patient waiting for it."""
    made = waitlist.offer(agenda_id=agenda_id, start=datetime.fromisoformat(start_iso))
    return made.pk if made else None


@task()
def offer_lapsed(offer_id: int) -> int | None:
    """An offer's hold is over: if it was not taken, the next patient waiting gets the slot."""
    made = waitlist.lapse(offer_id=offer_id)
    return made.pk if made else None
