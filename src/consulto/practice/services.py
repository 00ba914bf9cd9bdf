"""What staff do to an agenda: book for a patient, move, cancel with a reason, block a period,
mark arrived / seen / no-show. Each action checks the role first, runs in one transaction with
the patient's message, and the agenda pages hear about it at once (scheduling/live.py). A freed
slot is announced (``scheduling.events.free_slot``): the waiting list hears it."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consulto.core import audit
from consulto.core.errors import DomainError, InvalidInput
from consulto.core.time import require_aware
from consulto.notifications import services as notify
from consulto.scheduling import booking, events, live
from consulto.scheduling.models import Absence, Agenda, Appointment, Motive

from . import files, permissions, selectors
from .permissions import Perm, check_agenda

Status = Appointment.Status
# Staff see the agenda: they need to hear why, not to "choose another slot" as a patient does.
TAKEN = _("Another appointment already takes this time.")
# A move is told to the patient (and its old slot offered to the waiting list) this long after
# it is made: an "Undo" within that time leaves the patient undisturbed.
UNDO_GRACE = timedelta(minutes=1)


class NeedsConfirmation(DomainError):
    """The time is unusual (past, night, outside the openings, during an absence): staff may
    book or move there, once they have seen why and confirmed."""

    code = "needs_confirmation"
    status = 409
    default_message = _("Check this time before going ahead.")

    def __init__(self, cautions: list[str]):
        super().__init__(field="start")
        self.cautions = cautions


# How far back and ahead staff may book or move: a walk-in of last month may be recorded, not
# one of the year 1.
STAFF_PAST, STAFF_AHEAD = timedelta(days=366), timedelta(days=3660)


def _confirm(*, agenda: Agenda, motive: Motive, start: datetime, confirmed: bool) -> None:
    now = timezone.now()
    if not now - STAFF_PAST <= start <= now + STAFF_AHEAD:
        raise InvalidInput(
            _("Choose a date between one year ago and ten years from now."), field="date"
        )
    if confirmed:
        return
    found = selectors.cautions(agenda=agenda, motive=motive, start=start, now=now)
    if found:
        raise NeedsConfirmation(found)


def _agenda(user, agenda_id: int, perm: Perm = Perm.AGENDA) -> Agenda:
    agenda = Agenda.objects.select_related("site", "practitioner").filter(pk=agenda_id).first()
    if agenda is None:
        raise Http404
    check_agenda(user, agenda, perm)
    return agenda


def _appointment(user, appointment_id: int) -> Appointment:
    return selectors.appointment_for_staff(user=user, appointment_id=appointment_id)


def _as_substitute(user, appointment: Appointment) -> None:
    """A substitute's action is audited: done by them, on the titular's behalf."""
    titular = getattr(appointment, "acting_for", None)
    if titular is not None:
        audit.record(
            actor=user,
            on_behalf_of=titular,
            action=audit.Action.UPDATE,
            target_type="appointment",
            target_id=appointment.pk,
            organisation_id=appointment.agenda.organisation_id,
        )


def _channel(user, agenda: Agenda) -> str:
    if agenda.practitioner_id and agenda.practitioner.user_id == user.pk:
        return Appointment.Channel.PRACTITIONER
    return Appointment.Channel.SECRETARY


def book_for_patient(
    *,
    user,
    agenda_id: int,
    motive_id: int,
    start: datetime,
    file_id: int | None = None,
    new_patient: dict | None = None,
    ip: str | None = None,
    confirmed: bool = False,
) -> Appointment:
    """Book a known patient (their file) or a new one (a file is made) by phone or at the desk.

    Staff may book outside the openings, at night or in the past once they have confirmed
    (``NeedsConfirmation`` says why until then); never over another appointment (the database
    says no).
    """
    require_aware(start, "start")
    agenda = _agenda(user, agenda_id)
    motive = Motive.objects.filter(pk=motive_id, agenda=agenda, is_active=True).first()
    if motive is None:
        raise InvalidInput(_("Choose a motive of this agenda."), field="motive")
    _confirm(agenda=agenda, motive=motive, start=start, confirmed=confirmed)
    with booking.reservation():
        if file_id is not None:
            file = files.get_file(user=user, file_id=file_id)
            if file.organisation_id != agenda.organisation_id:
                raise Http404
        elif new_patient:
            file = files.create_file(
                user=user, organisation_id=agenda.organisation_id, identity=new_patient, ip=ip
            )
        else:
            raise InvalidInput(_("Choose the patient or enter a new one."), field="patient")
        try:
            appointment = booking.book(
                agenda=agenda,
                motive=motive,
                start=start,
                patient=file.profile,
                booked_by=user,
                channel=_channel(user, agenda),
                as_staff=True,
            )
        except booking.SlotTaken as taken:
            raise booking.SlotTaken(TAKEN) from taken
        notify.appointment_booked(appointment=appointment)
    return appointment


def move(*, user, appointment_id: int, new_start: datetime, confirmed: bool = False) -> Appointment:
    """Move within the same agenda (drag and drop): the new time is booked and the old one freed
    together, or nothing changes. An unusual time needs ``confirmed`` (as when booking)."""
    require_aware(new_start, "new_start")
    appointment = _appointment(user, appointment_id)
    if appointment.acting_for is not None and not permissions.covers(user, appointment, new_start):
        raise InvalidInput(_("This time is outside your replacement period."), field="start")
    if appointment.status == Status.BOOKED:
        _confirm(
            agenda=appointment.agenda,
            motive=appointment.motive,
            start=new_start,
            confirmed=confirmed,
        )
    grace = timezone.now() + UNDO_GRACE
    with transaction.atomic():
        try:
            moved = booking.reschedule(
                appointment=appointment, new_start=new_start, by=user, as_staff=True
            )
        except booking.SlotTaken as taken:
            raise booking.SlotTaken(TAKEN) from taken
        notify.appointment_rescheduled(old=appointment, new=moved, send_after=grace)
        _as_substitute(user, appointment)
        events.free_slot(agenda_id=appointment.agenda_id, start=appointment.start, after=grace)
    return moved


def moved_from_by(*, user, appointment: Appointment) -> Appointment | None:
    """Where ``user`` moved this still booked appointment from, on the practice's side (what
    "Undo" would put it back to); None otherwise."""
    previous = appointment.rescheduled_from
    if (
        appointment.status != Status.BOOKED
        or previous is None
        or previous.cancelled_by_id != user.pk
        or not previous.cancelled_by_practice
    ):
        return None
    return previous


def undo_move(*, user, appointment_id: int) -> Appointment:
    """Put an appointment back where the same person just moved it from ("Undo"). Within
    ``UNDO_GRACE`` the patient hears nothing of either; later, they are told like of any move."""
    appointment = _appointment(user, appointment_id)
    previous = moved_from_by(user=user, appointment=appointment)
    if previous is None:
        raise InvalidInput(_("This move can no longer be undone."), field="start")
    if appointment.acting_for is not None and not permissions.covers(
        user, appointment, previous.start
    ):
        raise InvalidInput(_("This time is outside your replacement period."), field="start")
    with transaction.atomic():
        try:
            back = booking.reschedule(
                appointment=appointment, new_start=previous.start, by=user, as_staff=True
            )
        except booking.SlotTaken as taken:
            raise booking.SlotTaken(
                _("The former time has been taken meanwhile: the appointment stays where it is.")
            ) from taken
        notify.appointment_move_undone(moved=appointment, back=back)
        _as_substitute(user, appointment)
        events.free_slot(agenda_id=appointment.agenda_id, start=appointment.start)
    return back


def cancel(*, user, appointment_id: int, reason: str) -> Appointment:
    """Cancel with a reason; the patient is told, the freed slot goes to the waiting list."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Say why the appointment is cancelled."), field="reason")
    appointment = _appointment(user, appointment_id)
    with transaction.atomic():
        cancelled = booking.cancel(
            appointment=appointment, by=user, reason=reason, as_staff=True, by_practice=True
        )
        notify.appointment_cancelled(appointment=cancelled)
        _as_substitute(user, appointment)
        events.free_slot(agenda_id=cancelled.agenda_id, start=cancelled.start)
    return cancelled


def set_status(*, user, appointment_id: int, status: str) -> Appointment:
    if status not in {
        Status.BOOKED,
        Status.ARRIVED,
        Status.IN_PROGRESS,
        Status.SEEN,
        Status.NO_SHOW,
    }:
        raise InvalidInput(_("Unknown status."), field="status")
    appointment = _appointment(user, appointment_id)
    with transaction.atomic():
        changed = booking.set_status(appointment=appointment, status=status, by=user)
        _as_substitute(user, appointment)
        if status == Status.NO_SHOW and changed.patient_id:
            files.apply_no_show_policy(
                organisation_id=appointment.agenda.organisation_id, profile_id=changed.patient_id
            )
    return changed


def block_period(
    *, user, agenda_id: int, start: datetime, end: datetime, reason: str = ""
) -> tuple[Absence, int]:
    """Take a period out of online booking; returns it with the number of appointments already
    in it (they stay: the practice decides whether to move them)."""
    require_aware(start, "start")
    require_aware(end, "end")
    if end <= start:
        raise InvalidInput(_("The end must be after the start."), field="end")
    agenda = _agenda(user, agenda_id, Perm.ABSENCES)
    with transaction.atomic():
        absence = Absence.objects.create(
            agenda=agenda, start=start, end=end, reason=(reason or "").strip()[:200]
        )
        overlapping = (
            Appointment.objects.active().filter(agenda=agenda).overlapping(start, end).count()
        )
        live.announce([agenda.pk], kind="blocked")
    return absence, overlapping


def unblock(*, user, absence_id: int) -> None:
    absence = Absence.objects.filter(pk=absence_id).first()
    if absence is None:
        raise Http404
    _agenda(user, absence.agenda_id, Perm.ABSENCES)
    with transaction.atomic():
        absence.delete()
        live.announce([absence.agenda_id], kind="unblocked")
