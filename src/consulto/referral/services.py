"""What a regulator does with a case: open it from a call, book for the patient, record an extra
patient agreed by phone, close it, cancel or move the booking it made. Each is one transaction
with its audit events; the patient is told through ``notifications``.

The reason of a case is health data: stored encrypted (``core.crypto``), and each write and
each read of it leaves an audit event, as a patient file does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from consulto.core import audit, crypto
from consulto.core.errors import DomainError, InvalidInput
from consulto.directory.models import Organisation, Practitioner, Specialty
from consulto.notifications import services as notify
from consulto.scheduling import booking, visibility
from consulto.scheduling.models import Agenda, Appointment, Motive, PatientProfile, Referral

from .models import RegulationCase

Outcome = RegulationCase.Outcome
Action = audit.Action
CASE = "regulation_case"
TAKEN = gettext_lazy(
    "Someone else has just taken this slot: it is no longer offered. Choose another one below."
)


class CaseClosed(DomainError):
    code = "case_closed"
    status = 409
    default_message = gettext_lazy("This case is closed: reopen a new case for a new call.")


class TooLateToCancel(DomainError):
    code = "cancellation_too_late"
    status = 409
    default_message = gettext_lazy(
        "It is too late to cancel this appointment online: call the practice."
    )


@dataclass(frozen=True)
class CallDetails:
    """What the regulator wrote down during the call."""

    caller: str
    caller_name: str
    first_name: str
    last_name: str
    birth_date: date
    phone: str
    email: str
    postcode: str
    address: str
    need: str
    specialty: Specialty | None
    reason: str


def open_case(
    *,
    centre: Organisation,
    by,
    call: CallDetails,
    now: datetime | None = None,
    ip: str | None = None,
) -> RegulationCase:
    now = now or timezone.now()
    with transaction.atomic():
        case = RegulationCase.objects.create(
            centre=centre,
            opened_by=by,
            opened_at=now,
            caller=call.caller,
            caller_name=call.caller_name,
            first_name=call.first_name,
            last_name=call.last_name,
            birth_date=call.birth_date,
            phone=call.phone,
            email=call.email,
            postcode=call.postcode,
            address=call.address,
            need=call.need,
            specialty=call.specialty if call.need == RegulationCase.Need.SPECIALIST else None,
            reason=crypto.encrypt_text(call.reason) if call.reason else "",
        )
        _audit(case, by, Action.CREATE, ip)
    return case


def read_reason(*, case: RegulationCase, by, ip: str | None = None) -> str:
    """The reason of the call, decrypted; the read is audited."""
    if not case.reason:
        return ""
    with transaction.atomic():
        _audit(case, by, Action.READ, ip)
    return crypto.decrypt_text(case.reason)


def book_for_case(
    *,
    case: RegulationCase,
    agenda_id: int,
    motive_id: int,
    start: datetime,
    by,
    now: datetime | None = None,
    ip: str | None = None,
) -> Appointment:
    """Book an offered slot for the case's patient in one step: the patient's profile found by
    identity (or made, without an account), the appointment booked through the regulator's door
    (the openings a regulator sees, never a known patients' one), the referral that marks it
    in the practitioner's agenda, the case closed as booked, the patient's SMS and e-mail queued.
    All of it commits together, or nothing does (``booking.SlotTaken`` on a race)."""
    now = now or timezone.now()
    agenda = Agenda.objects.select_related("organisation", "site").filter(pk=agenda_id).first()
    motive = Motive.objects.filter(pk=motive_id, agenda_id=agenda_id, is_active=True).first()
    if agenda is None or not agenda.is_active or motive is None:
        raise InvalidInput(_("This slot is no longer offered: choose another one."))
    try:
        with booking.reservation():
            case = _locked(case)
            if case.outcome == Outcome.BOOKED and case.appointment_id:
                current = case.appointment
                if (current.agenda_id, current.motive_id, current.start) == (
                    agenda.pk,
                    motive.pk,
                    start,
                ):
                    return current  # the same request again (a double Enter)
                raise CaseClosed(_("This case already has an appointment: move or cancel it."))
            if case.closed_at is not None:
                raise CaseClosed()
            profile = _patient_profile(case)
            appointment = booking.book(
                agenda=agenda,
                motive=motive,
                start=start,
                patient=profile,
                booked_by=by,
                channel=Appointment.Channel.REGULATOR,
                audience=visibility.REGULATOR,
                idempotency_key=(
                    f"case-{case.pk}-{case.appointment_id or 0}-{agenda.pk}-{motive.pk}"
                    f"-{int(start.timestamp())}"
                ),
                now=now,
            )
            Referral.objects.create(
                appointment=appointment,
                kind=Referral.Kind.REGULATION,
                from_organisation=case.centre,
                referrer_label=case.centre.name,
                referred_by=by,
                reason=case.reason,  # the same ciphertext: the practitioner reads the reason
                urgency=Referral.Urgency.TWO_DAYS,
            )
            case.patient = profile
            case.appointment = appointment
            case.outcome = Outcome.BOOKED
            case.closed_at = now
            case.closed_by = by
            case.save(update_fields=["patient", "appointment", "outcome", "closed_at", "closed_by"])
            _audit(case, by, Action.UPDATE, ip)
            audit.record(
                actor=by,
                action=Action.CREATE,
                target_type="appointment",
                target_id=appointment.pk,
                organisation_id=agenda.organisation_id,
                ip=ip,
            )
            notify.appointment_booked(appointment=appointment)
    except booking.SlotTaken as taken:
        raise booking.SlotTaken(TAKEN) from taken
    return appointment


def record_extra(
    *,
    case: RegulationCase,
    practitioner_id: int,
    expected_at: datetime,
    by,
    now: datetime | None = None,
    ip: str | None = None,
) -> RegulationCase:
    """The practitioner agreed on the phone to see the patient beyond their slots."""
    now = now or timezone.now()
    practitioner = Practitioner.objects.filter(
        pk=practitioner_id, takes_extra_patients=True
    ).first()
    if practitioner is None:
        raise InvalidInput(_("This practitioner does not take extra patients."))
    with transaction.atomic():
        case = _locked(case)
        if case.closed_at is not None:
            raise CaseClosed()
        case.outcome = Outcome.EXTRA
        case.extra_practitioner = practitioner
        case.extra_at = expected_at
        case.closed_at, case.closed_by = now, by
        case.save(
            update_fields=["outcome", "extra_practitioner", "extra_at", "closed_at", "closed_by"]
        )
        _audit(case, by, Action.UPDATE, ip)
    return case


def close_case(
    *,
    case: RegulationCase,
    outcome: str,
    by,
    now: datetime | None = None,
    ip: str | None = None,
) -> RegulationCase:
    """Close without a booking: sent to the emergency department, or advice only."""
    if outcome not in (Outcome.EMERGENCY, Outcome.ADVICE):
        raise InvalidInput(_("Choose how the call ended."), field="outcome")
    now = now or timezone.now()
    with transaction.atomic():
        case = _locked(case)
        if case.closed_at is not None:
            raise CaseClosed()
        case.outcome = outcome
        case.closed_at, case.closed_by = now, by
        case.save(update_fields=["outcome", "closed_at", "closed_by"])
        _audit(case, by, Action.UPDATE, ip)
    return case


def cancel_booking(
    *,
    case: RegulationCase,
    reason: str,
    by,
    now: datetime | None = None,
    ip: str | None = None,
) -> RegulationCase:
    """Cancel the appointment booked for the case; the patient is told, the case reopens (the
    cancelled appointment stays in its record)."""
    now = now or timezone.now()
    with transaction.atomic():
        case = _locked(case)
        appointment = _booked_appointment(case)
        booking.cancel(
            appointment=appointment,
            by=by,
            reason=reason,
            as_staff=True,
            by_practice=True,
            now=now,
        )
        notify.appointment_cancelled(appointment=appointment)
        case.outcome = Outcome.OPEN
        case.closed_at, case.closed_by = None, None
        case.save(update_fields=["outcome", "closed_at", "closed_by"])
        _audit(case, by, Action.UPDATE, ip)
        _audit_appointment(appointment, by, Action.DELETE, ip)
    return case


def move_booking(
    *,
    case: RegulationCase,
    new_start: datetime,
    by,
    now: datetime | None = None,
    ip: str | None = None,
) -> Appointment:
    """Move the case's appointment to another slot of the same agenda a regulator sees."""
    now = now or timezone.now()
    try:
        with booking.reservation():
            case = _locked(case)
            appointment = _booked_appointment(case)
            moved = booking.reschedule(
                appointment=appointment,
                new_start=new_start,
                by=by,
                audience=visibility.REGULATOR,
                now=now,
            )
            # Moved by the regulator, not by the patient: they are told by SMS too.
            Appointment.objects.filter(pk=appointment.pk).update(cancelled_by_practice=True)
            notify.appointment_rescheduled(old=appointment, new=moved)
            case.appointment = moved
            case.save(update_fields=["appointment"])
            _audit(case, by, Action.UPDATE, ip)
            _audit_appointment(moved, by, Action.UPDATE, ip)
    except booking.SlotTaken as taken:
        raise booking.SlotTaken(TAKEN) from taken
    return moved


def cancel_from_link(*, appointment: Appointment, now: datetime | None = None) -> Appointment:
    """The patient cancels from the signed page (no account): the motive's deadline binds
    them as any patient; the practice is told by its agenda."""
    now = now or timezone.now()
    with transaction.atomic():
        current = Appointment.objects.select_related("motive").get(pk=appointment.pk)
        if current.status == Appointment.Status.CANCELLED:
            return current
        deadline = current.start - timedelta(hours=current.motive.cancellation_deadline_hours)
        if current.status == Appointment.Status.BOOKED and now > deadline:
            raise TooLateToCancel()
        cancelled = booking.cancel(
            appointment=current,
            by=None,
            reason=Appointment.REASON_BY_PATIENT,
            as_staff=True,  # the signed link stands for the patient; the deadline is checked above
            now=now,
        )
        notify.appointment_cancelled(appointment=cancelled)
        RegulationCase.objects.filter(appointment=cancelled, outcome=Outcome.BOOKED).update(
            outcome=Outcome.OPEN, closed_at=None, closed_by=None
        )
        audit.record(
            actor=None,
            action=Action.DELETE,
            target_type="appointment",
            target_id=cancelled.pk,
            organisation_id=cancelled.agenda.organisation_id,
            on_behalf_of_id=None,
        )
    return cancelled


# Internals ---------------------------------------------------------------------------------


def _locked(case: RegulationCase) -> RegulationCase:
    return (
        # Only the case's row is locked (PostgreSQL refuses FOR UPDATE on the nullable side of
        # the outer join to its appointment).
        RegulationCase.objects.select_for_update(of=("self",))
        .select_related("centre", "appointment")
        .get(pk=case.pk)
    )


def _booked_appointment(case: RegulationCase) -> Appointment:
    appointment = case.appointment
    if appointment is None or appointment.status != Appointment.Status.BOOKED:
        raise InvalidInput(_("This case has no booked appointment to change."))
    return appointment


def _patient_profile(case: RegulationCase) -> PatientProfile:
    return profile_for(
        booking.PatientIdentity(
            first_name=case.first_name,
            last_name=case.last_name,
            birth_date=case.birth_date,
            phone=case.phone,
            email=case.email,
        )
    )


def profile_for(person: booking.PatientIdentity) -> PatientProfile:
    """The person a professional books for, among known profiles (one without an account
    first), else a new profile without an account. Call it in the booking's transaction."""
    found = (
        PatientProfile.objects.filter(
            first_name__iexact=person.first_name,
            last_name__iexact=person.last_name,
            birth_date=person.birth_date,
        )
        .order_by(F("owner_id").asc(nulls_first=True), "pk")
        .first()
    )
    if found is None:
        return PatientProfile.objects.create(
            owner=None,
            relationship=PatientProfile.Relationship.SELF,
            first_name=person.first_name,
            last_name=person.last_name,
            birth_date=person.birth_date,
            phone=person.phone,
            email=person.email,
        )
    if found.owner_id is None:
        # No account to hold their contact: the numbers just given on the phone are the fresh ones.
        changed = [
            n
            for n in ("phone", "email")
            if getattr(person, n) and getattr(found, n) != getattr(person, n)
        ]
        for name in changed:
            setattr(found, name, getattr(person, name))
        if changed:
            found.save(update_fields=changed)
    return found


def _audit(case: RegulationCase, by, action: str, ip: str | None) -> None:
    audit.record(
        actor=by,
        action=action,
        target_type=CASE,
        target_id=case.pk,
        organisation_id=case.centre_id,
        ip=ip,
    )


def _audit_appointment(appointment: Appointment, by, action: str, ip: str | None) -> None:
    audit.record(
        actor=by,
        action=action,
        target_type="appointment",
        target_id=appointment.pk,
        organisation_id=appointment.agenda.organisation_id,
        ip=ip,
    )
