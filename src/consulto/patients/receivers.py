"""The waiting list hears of every freed slot, whichever app freed it (``scheduling.events``):
the practice's services free slots without importing the patient side."""

from django.dispatch import receiver

from consulto.scheduling.events import slot_freed

from . import waitlist


@receiver(slot_freed, dispatch_uid="patients.offer_freed_slot")
def offer_freed_slot(sender, agenda_id, start, after=None, **kwargs) -> None:
    waitlist.slot_freed(agenda_id=agenda_id, start=start, after=after)
