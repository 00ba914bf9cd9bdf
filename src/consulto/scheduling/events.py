"""What other apps may react to, inside the transaction that made it happen, without scheduling
knowing them (dependencies point one way: the apps above import scheduling, never the reverse).

``appointment_booked`` is sent once per new booking (not for a replayed request), so that the
practice opens the patient's file in the same transaction whatever the door (patient pages,
API, back office, waiting list).

``slot_freed`` is sent by every service that frees a slot someone could take (a patient's or the
practice's cancellation or move, an appointment replaced from the waiting list), so that the
waiting list (``patients``) offers it once the transaction commits; ``after``, when given, is
the earliest time to offer it (a move the practice may still undo keeps its old slot until
then). ``booking.cancel`` and ``booking.reschedule`` do not send it themselves: the service that
calls them decides (a demo's or a test's own moves offer nothing).

``appointment_changed`` is sent in the transaction of every change a partner would be told of:
``change`` is "booked" (a new booking, not a replay), "moved" (``appointment`` is the new one,
``previous`` the old), "cancelled" (not for the old side of a move) or the new status after a
step of the practice's day ("arrived", "in_progress", "seen", "no_show", or "booked" when a step
is undone). The webhooks and the SAS reports (``fhir``) hear it.

``patient_file_opened`` is sent when an organisation opens a patient's file (on a first booking
there, or by staff); the practice asks ``file_openings_watched`` first, so that a booking pays
no read to tell a new file from an existing one when nobody listens (``fhir``'s webhooks).
"""

from datetime import datetime

from django.dispatch import Signal

appointment_booked = Signal()  # kwargs: appointment
slot_freed = Signal()  # kwargs: agenda_id, start, after
appointment_changed = Signal()  # kwargs: appointment, change, previous
patient_file_opened = Signal()  # kwargs: organisation_id, profile_id
# A receiver answers True when it wants ``patient_file_opened`` for the organisation.
file_openings_watched = Signal()  # kwargs: organisation_id


def changed(appointment, change: str, previous=None) -> None:
    """Announce a change of ``appointment`` (call in the transaction that makes it)."""
    appointment_changed.send(sender=None, appointment=appointment, change=change, previous=previous)


def free_slot(*, agenda_id: int, start: datetime, after: datetime | None = None) -> None:
    """Announce that ``start`` on the agenda is free again (call in the freeing transaction)."""
    slot_freed.send(sender=None, agenda_id=agenda_id, start=start, after=after)


def file_opened(*, organisation_id: int, profile_id: int) -> None:
    """Announce a new patient file (call in the transaction that opens it)."""
    patient_file_opened.send(sender=None, organisation_id=organisation_id, profile_id=profile_id)


def watched_file_openings(organisation_id: int) -> bool:
    """Whether any app wants to hear of the files ``organisation_id`` opens."""
    answers = file_openings_watched.send(sender=None, organisation_id=organisation_id)
    return any(answer for _receiver, answer in answers)
