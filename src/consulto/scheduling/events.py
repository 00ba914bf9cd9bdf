"""What other apps may react to, inside the booking's transaction, without scheduling knowing
them: ``appointment_booked`` is sent once per new booking (not for a replayed request), so that
the practice opens the patient's file in the same transaction whatever the door (patient pages,
API, back office, waiting list)."""

from django.dispatch import Signal

appointment_booked = Signal()  # kwargs: appointment
