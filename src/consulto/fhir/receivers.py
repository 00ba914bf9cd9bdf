"""What the FHIR facade hears from the apps below it, inside their transactions: the webhooks'
events and the appointments reported to the SAS are written to the outbox there."""

from django.dispatch import receiver

from consulto.scheduling import events

from . import sas_reports, webhooks

Event = webhooks.Event


@receiver(events.appointment_booked, dispatch_uid="fhir.webhooks.booked")
def appointment_booked(sender, appointment, **kwargs) -> None:
    webhooks.appointment_event(appointment=appointment, event=Event.APPOINTMENT_BOOKED)


@receiver(events.appointment_changed, dispatch_uid="fhir.appointment_changed")
def appointment_changed(sender, appointment, change, previous=None, **kwargs) -> None:
    event = webhooks.CHANGES.get(change)
    # A hold given up is "cancelled" too: it was never booked, nobody is told.
    if event is not None and not (change == "cancelled" and appointment.patient_id is None):
        webhooks.appointment_event(appointment=appointment, event=event, previous=previous)
    sas_reports.on_change(appointment=appointment, change=change, previous=previous)


@receiver(events.file_openings_watched, dispatch_uid="fhir.webhooks.files_watched")
def file_openings_watched(sender, organisation_id, **kwargs) -> bool:
    return bool(webhooks.subscribed(organisation_id).get(Event.PATIENT_FILE_OPENED))


@receiver(events.patient_file_opened, dispatch_uid="fhir.webhooks.file_opened")
def patient_file_opened(sender, organisation_id, profile_id, **kwargs) -> None:
    webhooks.record(
        organisation_id=organisation_id,
        event=Event.PATIENT_FILE_OPENED,
        data={"patient": f"Patient/{profile_id}"},
    )
