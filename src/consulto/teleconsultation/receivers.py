"""A video appointment gets its room in the booking's own transaction, whatever the door."""

from django.dispatch import receiver

from consulto.scheduling.events import appointment_booked

from .rooms import ensure_room


@receiver(appointment_booked, dispatch_uid="teleconsultation.room")
def open_room_on_booking(sender, appointment, **kwargs) -> None:
    ensure_room(appointment)
