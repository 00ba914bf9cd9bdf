"""The practice opens a patient's file in the booking's own transaction, whatever the door."""

from django.dispatch import receiver

from consulto.scheduling.events import appointment_booked

from .files import open_file_if_missing


@receiver(appointment_booked, dispatch_uid="practice.open_file")
def open_file_on_booking(sender, appointment, **kwargs) -> None:
    if appointment.patient_id is None:
        return
    open_file_if_missing(
        organisation_id=appointment.agenda.organisation_id,
        profile_id=appointment.patient_id,
        created_by_id=appointment.booked_by_id,
        announce=True,
    )
