"""What a patient does: hold a slot, book it for someone, cancel, move, manage relatives.

Each action is one transaction that calls the scheduling core (the only door for bookings) and
the notifications outbox, so a booking and its confirmation message are written together.
"""

from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consulto.core.errors import InvalidInput, NotFound
from consulto.notifications import services as notify
from consulto.scheduling import booking, events, limits, rules, visibility
from consulto.scheduling.models import Appointment, Motive, PatientProfile
from consulto.scheduling.selectors import compute, load_inputs
from consulto.scheduling.visibility import PUBLIC

from . import selectors, waitlist
from .models import WaitlistEntry


def hold_slot(
    *, motive: Motive, start: datetime, user, visitor: limits.Visitor, replacing: int | None
) -> Appointment:
    """Reserve ``start`` for a few minutes; the patient's previous hold, if any, is given back.

    Counts against the visitor's limits (``scheduling/limits.py``): holds over a window, and
    holds kept at once."""
    limits.count_hold(visitor)
    if replacing:
        booking.release_hold(hold_id=replacing, by=user)
    now = timezone.now()
    return booking.hold(
        agenda=motive.agenda,
        motive=motive,
        start=start,
        held_by=user if user.is_authenticated else None,
        visitor=visitor,
        now=now,
        audience=selectors.patient_audience(user, motive.agenda, now=now),
    )


class KeptForKnownPatients(rules.NewPatientsNotAccepted):
    default_message = _(
        "This slot is kept for patients the practitioner has already seen. Choose one of them, "
        "or another slot."
    )


def _check_kept_for_known(held: Appointment, patient: PatientProfile) -> None:
    """A slot of an opening for known patients, held by an account the practice knows, is
    booked only for a person it knows (not a relative never seen there)."""
    agenda, now = held.agenda, timezone.now()
    if visibility.knows(patient.pk, agenda, now=now):
        return
    day = held.start.astimezone(agenda.site.zone).date()
    inputs = load_inputs([agenda], start=day, days=1, now=now, with_busy=False, audience=PUBLIC)
    offered = compute(inputs[agenda.pk], motive=held.motive, start=day, days=1, now=now)
    wanted = held.start.astimezone(UTC)
    if not any(slot.start.astimezone(UTC) == wanted for slot in offered):
        raise KeptForKnownPatients()


@transaction.atomic
def save_own_profile(*, user, data: dict) -> PatientProfile:
    """Create or update the account holder's own identity."""
    profile = selectors.own_profile(user) or PatientProfile(
        owner=user, relationship=PatientProfile.Relationship.SELF, email=user.email
    )
    for field, value in data.items():
        setattr(profile, field, value)
    profile.save()
    return profile


@transaction.atomic
def save_relative(*, user, data: dict, relative: PatientProfile | None = None) -> PatientProfile:
    if relative is not None and relative.owner_id != user.pk:
        raise NotFound()
    relative = relative or PatientProfile(owner=user)
    for field, value in data.items():
        setattr(relative, field, value)
    if relative.relationship == PatientProfile.Relationship.SELF:
        raise InvalidInput(_("A relative cannot be yourself."), field="relationship")
    relative.save()
    return relative


@transaction.atomic
def remove_relative(*, user, relative: PatientProfile) -> None:
    """Forget a relative; their past appointments stay in the practices' history."""
    if relative.owner_id != user.pk or relative.relationship == PatientProfile.Relationship.SELF:
        raise NotFound()
    if relative.appointments.filter(status=Appointment.Status.BOOKED, end__gt=timezone.now()):
        raise InvalidInput(
            _("Cancel this person's upcoming appointments before removing them."),
            field="relative",
        )
    relative.owner = None
    relative.save(update_fields=["owner"])
    WaitlistEntry.objects.filter(patient=relative, status=WaitlistEntry.Status.WAITING).update(
        status=WaitlistEntry.Status.WITHDRAWN
    )


def confirm_booking(
    *,
    hold_id: int,
    user,
    patient: PatientProfile,
    idempotency_key: str,
    visitor: limits.Visitor | None = None,
    follow_up_start: datetime | None = None,
) -> Appointment:
    """Turn the patient's hold into a booking (or book the slot afresh if the hold lapsed).

    With ``follow_up_start``, the motive's follow-up is booked with it, both or neither, each
    with its own confirmation (``booking.book_with_follow_up``); the follow-up is then the
    returned appointment's ``follow_up_appointment``.

    Counts against the visitor's booking limits (per account, patient and address). The rules
    of the motive, online booking stopped for this patient included, are ``booking.book``'s."""
    held = Appointment.objects.select_related("agenda__site", "motive").filter(pk=hold_id).first()
    if held is None:
        raise booking.HoldExpired()
    if patient.owner_id != user.pk:
        raise NotFound()
    if visitor is not None:
        limits.count_booking(
            visitor,
            identity=limits.identity_digest(
                patient.first_name, patient.last_name, patient.birth_date
            ),
        )
    # A hold the account never claimed lapsed before login: book afresh if still free.
    from_hold = held if held.booked_by_id == user.pk else None
    with booking.reservation():
        if held.status == Appointment.Status.HELD and held.booked_by_id == user.pk:
            _check_kept_for_known(held, patient)
        if follow_up_start is not None:

            def confirm(first: Appointment, second: Appointment) -> None:
                notify.appointment_booked(appointment=first)
                notify.appointment_booked(appointment=second)
                waitlist.taken(hold=held, appointment=first, user=user)

            appointment, appointment.follow_up_appointment = booking.book_with_follow_up(
                agenda=held.agenda,
                motive=held.motive,
                start=held.start,
                follow_up_start=follow_up_start,
                patient=patient,
                booked_by=user,
                from_hold=from_hold,
                idempotency_key=idempotency_key,
                also=confirm,
            )
            return appointment
        appointment = booking.book(
            agenda=held.agenda,
            motive=held.motive,
            start=held.start,
            patient=patient,
            booked_by=user,
            from_hold=from_hold,
            idempotency_key=idempotency_key,
        )
        if not appointment.replayed:
            notify.appointment_booked(appointment=appointment)
            waitlist.taken(hold=held, appointment=appointment, user=user)
    return appointment


def cancel_appointment(*, user, appointment: Appointment, reason: str = "") -> Appointment:
    """Cancel, tell the patient, and offer the freed slot to the waiting list."""
    with transaction.atomic():
        cancelled = booking.cancel(
            appointment=appointment, by=user, reason=reason or Appointment.REASON_BY_PATIENT
        )
        notify.appointment_cancelled(appointment=cancelled)
        events.free_slot(agenda_id=cancelled.agenda_id, start=cancelled.start)
    return cancelled


def move_appointment(*, user, appointment: Appointment, new_start: datetime) -> Appointment:
    with transaction.atomic():
        moved = booking.reschedule(appointment=appointment, new_start=new_start, by=user)
        notify.appointment_rescheduled(old=appointment, new=moved)
        events.free_slot(agenda_id=appointment.agenda_id, start=appointment.start)
    return moved
