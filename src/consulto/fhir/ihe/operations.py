"""``$hold`` (ITI-116) and ``$book`` (ITI-117: book, and cancel) through ``scheduling.booking``,
whose transactions and database constraints refuse a double booking whatever the door."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.utils.translation import gettext as _

from consulto.core.time import is_plausible_date
from consulto.notifications import services as notify
from consulto.patients import services as patient_services
from consulto.referral import services as referral_services
from consulto.scheduling import booking, booking_reads, events, limits, visibility
from consulto.scheduling.models import Agenda, Appointment, Motive, PatientProfile

from ..access import Consumer
from ..http import FhirError, invalid, not_found
from ..refs import SlotId, parse_pk
from ..resources.appointments import slot_of_proposed
from .parameters import Parts, instant, logical_id
from .reads import reload, visible_appointments, visible_patients

Status = Appointment.Status

# $hold ------------------------------------------------------------------------------------------


class Unavailable(FhirError):
    """The potential appointment cannot be held or booked any more (ITI-116: an issue of
    severity ``fatal`` and code ``not-found``)."""

    def __init__(self, diagnostics: str, *, status: int = 409):
        super().__init__(status, diagnostics, code="not-found")
        self.severity = "fatal"


def hold(consumer: Consumer, request, parts: Parts, *, now: datetime) -> Appointment:
    """Hold the potential appointment named by ``appointment-reference`` (ITI-116)."""
    part = parts.one("appointment-reference")
    if part is not None:
        target = _target(part.get("valueReference"), name="appointment-reference")
    else:
        resource = _appointment_resource(parts)
        if resource is None:
            raise invalid(
                _("appointment-reference is required: a proposed Appointment of $find."),
                expression="appointment-reference",
            )
        target = _resource_target(resource)
    if not isinstance(target, SlotId):
        raise invalid(
            _("Only a proposed Appointment of $find can be held."),
            expression="appointment-reference",
        )
    agenda, motive = _slot_pair(target, consumer)
    visitor = None
    if not consumer.is_staff_of(agenda.organisation_id):
        visitor = limits.Visitor(
            account_id=consumer.user.pk,
            address=limits.address_digest(limits.client_address(request)),
        )
        if not consumer.is_partner:
            limits.count_hold(visitor)
    try:
        held = booking.hold(
            agenda=agenda,
            motive=motive,
            start=target.start,
            held_by=consumer.user,
            visitor=visitor,
            now=now,
            audience=consumer.audience_for(agenda, now=now),
        )
    except (booking.SlotTaken, booking.InvalidSlot) as error:
        raise Unavailable(str(error.message), status=error.status) from None
    return reload(held.pk)


# $book ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Booked:
    appointment: Appointment
    replayed: bool


def book(consumer: Consumer, request, parts: Parts, *, now: datetime) -> Booked:
    """Book, or cancel, as ``$book`` asks (ITI-117)."""
    reference_part = parts.one("appointment-reference")
    resource = _appointment_resource(parts)
    if (reference_part is None) == (resource is None):
        raise invalid(
            _("Give either appointment-reference or appointment-resource."),
            expression="appointment-reference",
        )
    comment_part = parts.one("comment")
    comment = parts.string(comment_part)[:255] if comment_part is not None else ""
    if resource is not None:
        status = resource.get("status")
        if status == "cancelled":
            return Booked(_cancel(consumer, resource, comment=comment, now=now), False)
        if status == "booked" and resource.get("id") and _names_a_booking(consumer, resource):
            return _modify(consumer, resource, now=now)
        # A proposed appointment as $find answered it, or the held one as $hold did (pending),
        # each also when marked booked, as a client naturally does: all book it.
        if status not in ("proposed", "pending", "booked"):
            raise invalid(
                _(
                    "appointment-resource: status must be proposed or pending (to book), booked "
                    "(to book, or to move a booked appointment) or cancelled."
                ),
                expression="appointment-resource.status",
            )
        target = _resource_target(resource)
    else:
        target = _target(reference_part.get("valueReference"), name="appointment-reference")
    key = _idempotency_key(request, resource)
    held = None
    if isinstance(target, SlotId):
        agenda, motive = _slot_pair(target, consumer)
        start = target.start
    else:
        held = _own_hold(consumer, target)
        agenda, motive = _slot_pair(SlotId.of(held.agenda_id, held.motive_id, held.start), consumer)
        start = held.start
        key = key or f"hold:{held.pk}"
    person = _patient(consumer, parts, resource)
    if consumer.is_partner:
        audience = consumer.audience_for(agenda, now=now)
    else:
        audience = visibility.professional_audience(consumer.user, agenda)
    if audience is None:
        booked = _book_as_patient(
            consumer, request, agenda, motive, start, person, key=key, held=held, now=now
        )
    else:
        booked = _book_for_patient(
            consumer, agenda, motive, start, person, audience, key=key, held=held, now=now
        )
    return Booked(reload(booked.pk), booked.replayed)


def _book_for_patient(consumer, agenda, motive, start, person, audience, *, key, held, now):
    """A partner (or a professional's own token) books for a patient in the openings it sees:
    the patient's profile is found by identity among those the platform knows, else made."""
    with booking.reservation():
        profile = (
            person if isinstance(person, PatientProfile) else referral_services.profile_for(person)
        )
        booked = booking.book(
            agenda=agenda,
            motive=motive,
            start=start,
            patient=profile,
            booked_by=consumer.user,
            channel=Appointment.Channel.API,
            idempotency_key=key,
            from_hold=held,
            audience=audience,
            now=now,
        )
        if not booked.replayed:
            notify.appointment_booked(appointment=booked)
    return booked


def _book_as_patient(consumer, request, agenda, motive, start, person, *, key, held, now):
    """A patient books for themself or a relative, as the REST API lets them."""
    identity = limits.identity_digest(person.first_name, person.last_name, person.birth_date)
    limits.count_booking(
        limits.Visitor(
            account_id=consumer.user.pk,
            address=limits.address_digest(limits.client_address(request)),
        ),
        identity=identity,
    )
    with booking.reservation():
        if held is not None and held.status == Status.HELD:
            # The account held the slot, not yet the person: given back and booked afresh in one
            # transaction, the person's own door decides (a slot kept for known patients is
            # theirs only if the practice knows this person, not just the account).
            booking.release_hold(hold_id=held.pk, by=consumer.user)
        return booking.book(
            agenda=agenda,
            motive=motive,
            start=start,
            patient=person,
            booked_by=consumer.user,
            channel=Appointment.Channel.API,
            idempotency_key=key,
            now=now,
            also=lambda booked: notify.appointment_booked(appointment=booked, just_booked=True),
        )


def _idempotency_key(request, resource: dict | None) -> str | None:
    """The request's Idempotency-Key, else the appointment's identifier given by the client."""
    header = request.headers.get("Idempotency-Key", "").strip()
    if header:
        if len(header) > 128 or not header.isprintable():
            raise invalid(
                _("Idempotency-Key: at most 128 printable characters."),
                expression="Idempotency-Key",
            )
        return header
    for identifier in (resource or {}).get("identifier") or []:
        value = identifier.get("value")
        if isinstance(value, str) and value:
            named = f"{identifier.get('system') or ''}|{value}"
            if len(named) > 128:
                named = "id:" + hashlib.sha256(named.encode()).hexdigest()
            return named
    return None


def _appointment_resource(parts: Parts) -> dict | None:
    part = parts.one("appointment-resource")
    if part is None:
        return None
    resource = part.get("resource")
    if not isinstance(resource, dict) or resource.get("resourceType") != "Appointment":
        raise invalid(
            _("appointment-resource must hold an Appointment."),
            expression="appointment-resource",
        )
    return resource


def _target(found, *, name: str) -> SlotId | int:
    """What a reference to an appointment names: a proposed one (its slot) or one of our rows."""
    if not isinstance(found, dict) or not isinstance(found.get("reference"), str):
        raise invalid(
            _("%(name)s: expected a Reference to an Appointment.") % {"name": name},
            expression=name,
        )
    logical = logical_id(found["reference"], "Appointment", name=name)
    slot = slot_of_proposed(logical)
    if slot is not None:
        return slot
    pk = parse_pk(logical)
    if pk is None:
        raise not_found("Appointment", logical)
    return pk


def _resource_target(resource: dict) -> SlotId | int:
    """The appointment an Appointment resource names: its id, else its slot."""
    logical = resource.get("id")
    if isinstance(logical, str) and logical:
        return _target({"reference": f"Appointment/{logical}"}, name="appointment-resource")
    for slot in resource.get("slot") or []:
        text = slot.get("reference") if isinstance(slot, dict) else None
        if isinstance(text, str):
            found = SlotId.parse(logical_id(text, "Slot", name="appointment-resource.slot"))
            if found is None:
                raise not_found("Slot", text.rsplit("/", 1)[-1])
            return found
    raise invalid(
        _("appointment-resource: give the id of a proposed Appointment, or its slot."),
        expression="appointment-resource",
    )


def _slot_pair(slot: SlotId, consumer: Consumer) -> tuple[Agenda, Motive]:
    motive = booking_reads.motive_to_book(agenda_id=slot.agenda_id, motive_id=slot.motive_id)
    if motive is None or not motive.agenda.is_active:
        raise Unavailable(_("This appointment is not one of ours."), status=404)
    if not consumer.is_partner and not (motive.online and motive.agenda.online_booking):
        raise Unavailable(_("This appointment is not one of ours."), status=404)
    return motive.agenda, motive


def _names_a_booking(consumer: Consumer, resource: dict) -> bool:
    """Does ``resource`` name an appointment already made (to move), rather than a proposed
    one or a hold of this caller still waiting to be booked?"""
    target = _resource_target(resource)
    return not isinstance(target, SlotId) and not (
        Appointment.objects.filter(pk=target, booked_by=consumer.user, status=Status.HELD).exists()
    )


def _own_hold(consumer: Consumer, pk: int) -> Appointment:
    held = Appointment.objects.filter(pk=pk, booked_by=consumer.user).first()
    if held is None:
        raise not_found("Appointment", str(pk))
    if held.status not in (Status.HELD, Status.EXPIRED, Status.BOOKED):
        raise Unavailable(str(booking.NotActive.default_message))
    return held


# The patient of a booking ----------------------------------------------------------------------


def _patient(consumer: Consumer, parts: Parts, resource: dict | None):
    """Who the appointment is for: a ``patient-resource``, or the Patient the appointment's
    participant names (contained, or one of ours the caller may read)."""
    given = [part.get("resource") for part in parts.all("patient-resource")]
    if len(given) > 1:
        raise FhirError(
            422,
            _("A group appointment is not supported: give one patient."),
            code="not-supported",
            expression="patient-resource",
        )
    if given:
        return _identity(given[0], expression="patient-resource")
    for participant in (resource or {}).get("participant") or []:
        actor = participant.get("actor") or {}
        text = actor.get("reference") or ""
        if text.startswith("#"):
            for contained in resource.get("contained") or []:
                if contained.get("resourceType") == "Patient" and contained.get("id") == text[1:]:
                    return _identity(contained, expression="appointment-resource.contained")
            raise invalid(
                _("The participant %(ref)s is not contained in the appointment.")
                % {"ref": text[:40]},
                expression="appointment-resource.participant",
            )
        if text.startswith("Patient/") or "/Patient/" in text:
            pk = parse_pk(logical_id(text, "Patient", name="participant"))
            profile = visible_patients(consumer).filter(pk=pk).first() if pk else None
            if profile is None:
                raise not_found("Patient", text.rsplit("/", 1)[-1])
            return profile
    raise invalid(
        _("Name the patient: a patient-resource parameter, or a Patient participant."),
        expression="patient-resource",
    )


def _identity(patient, *, expression: str) -> booking.PatientIdentity:
    if not isinstance(patient, dict) or patient.get("resourceType") != "Patient":
        raise invalid(_("Expected a Patient resource."), expression=expression)
    names = patient.get("name") or []
    official = next((n for n in names if n.get("use") == "official"), names[0] if names else {})
    family = (official.get("family") or "").strip()
    given = " ".join(g.strip() for g in official.get("given") or [] if g.strip())
    birth = patient.get("birthDate") or ""
    try:
        born = date.fromisoformat(birth) if len(birth) == 10 else None
    except ValueError:
        born = None
    if not family or not given or len(family) > 100 or len(given) > 100:
        raise invalid(
            _("The patient needs a family name and a given name (100 characters at most)."),
            expression=f"{expression}.name",
        )
    if born is None or not is_plausible_date(born) or born > date.today() or born.year < 1900:
        raise invalid(
            _("The patient needs a real birth date (YYYY-MM-DD)."),
            expression=f"{expression}.birthDate",
        )
    phone = email = ""
    for contact in patient.get("telecom") or []:
        value = (contact.get("value") or "").strip()
        if contact.get("system") == "phone" and not phone:
            phone = value
        elif contact.get("system") == "email" and not email:
            email = value
    digits = phone.replace(" ", "").replace(".", "").replace("-", "")
    number = digits.lstrip("+")
    if phone and not (number.isascii() and number.isdigit() and 6 <= len(digits) <= 16):
        raise invalid(_("Enter a phone number, e.g. 06 12 34 56 78."), expression="telecom")
    if email and (len(email) > 254 or "@" not in email):
        raise invalid(_("Enter a valid e-mail address."), expression="telecom")
    return booking.PatientIdentity(
        first_name=given, last_name=family, birth_date=born, phone=phone, email=email
    )


# Move -------------------------------------------------------------------------------------------


def _modify(consumer: Consumer, resource: dict, *, now: datetime) -> Booked:
    """Move a booked appointment to the ``start`` of ``resource`` (ITI-117, status booked): the
    answer is the appointment at its new time (a new id; the old one is cancelled, "moved").
    Retried, the same move answers the same new appointment."""
    target = _resource_target(resource)
    raw = resource.get("start")
    if isinstance(target, SlotId) or not isinstance(raw, str):
        raise invalid(
            _("To move an appointment, give its id and its new start."),
            expression="appointment-resource.start",
        )
    new_start = instant(raw, name="appointment-resource.start")[0]
    appointment = visible_appointments(consumer).filter(pk=target).first()
    if appointment is None:
        raise not_found("Appointment", str(target))
    moved_to = Appointment.objects.filter(rescheduled_from=appointment).first()
    if moved_to is not None and moved_to.start == new_start:
        return Booked(reload(moved_to.pk), True)
    if appointment.start == new_start and appointment.status == Status.BOOKED:
        return Booked(appointment, True)
    if not consumer.is_partner:
        moved = patient_services.move_appointment(
            user=consumer.user, appointment=appointment, new_start=new_start
        )
        return Booked(reload(moved.pk), False)
    with transaction.atomic():
        moved = booking.reschedule(
            appointment=appointment,
            new_start=new_start,
            by=consumer.user,
            audience=consumer.audience_for(appointment.agenda, now=now),
            now=now,
        )
        notify.appointment_rescheduled(old=appointment, new=moved)
        events.free_slot(agenda_id=appointment.agenda_id, start=appointment.start)
    return Booked(reload(moved.pk), False)


# Cancel -----------------------------------------------------------------------------------------


def _cancel(consumer: Consumer, resource: dict, *, comment: str, now: datetime) -> Appointment:
    """Cancel the held or booked appointment ``resource`` names (ITI-117, status cancelled)."""
    target = _resource_target(resource)
    if isinstance(target, SlotId):
        raise invalid(
            _("A proposed appointment has nothing to cancel."), expression="appointment-resource"
        )
    reason = comment
    given = (resource.get("cancelationReason") or {}).get("text")
    if isinstance(given, str) and given.strip():
        reason = given.strip()[:255]
    held = Appointment.objects.filter(pk=target, booked_by=consumer.user, status=Status.HELD)
    if held.exists():
        booking.release_hold(hold_id=target, by=consumer.user)
        return reload(target)
    appointment = visible_appointments(consumer).filter(pk=target).first()
    if appointment is None:
        raise not_found("Appointment", str(target))
    if appointment.status == Status.CANCELLED:
        return appointment
    if not consumer.is_partner:
        patient_services.cancel_appointment(
            user=consumer.user, appointment=appointment, reason=reason
        )
        return reload(target)
    practice = consumer.is_staff_of(appointment.agenda.organisation_id)
    with transaction.atomic():
        cancelled = booking.cancel(
            appointment=appointment,
            by=consumer.user,
            reason=reason or (Appointment.REASON_BY_PATIENT if not practice else ""),
            as_staff=True,
            by_practice=practice,
            now=now,
        )
        notify.appointment_cancelled(appointment=cancelled)
        events.free_slot(agenda_id=cancelled.agenda_id, start=cancelled.start)
    return reload(target)
