"""IHE ITI Scheduling on top of the booking services: ``$find`` (ITI-115), ``$hold`` (ITI-116),
``$book`` (ITI-117, which also cancels), and who sees which appointments and patients.

Nothing here decides whether a slot may be taken: ``$find`` reads the availability the patient
and regulation pages read (``scheduling.cache``, in the openings the caller's audience sees,
``Consumer.audience_for``), and ``$hold``/``$book``/cancel go through ``scheduling.booking``, whose
transactions and database constraints refuse a double booking whatever the door.

Who may do what:

- an organisation's software (a partner with ``system/Appointment.write``) holds and books in the
  slots it is shown: every opening of its own organisation's agendas, the professionals' ones of
  other organisations; the patient is named in the request (a Patient resource). It reads and
  cancels its organisation's appointments and those it booked itself (as a regulator sees what
  they booked);
- a person with their own API token holds and books for themself and their relatives, as the
  REST API lets them (its limits apply), and reads and cancels their own appointments; with a
  browser session they only read;
- the SAS platform has ``system/Slot.read`` only: it may ``$find``, not hold nor book.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from consulto.core.time import is_plausible_date
from consulto.notifications import services as notify
from consulto.patients import services as patient_services
from consulto.referral import services as referral_services
from consulto.scheduling import booking, booking_reads, events, limits, visibility
from consulto.scheduling.cache import slots_for_many
from consulto.scheduling.models import Agenda, Appointment, Motive, PatientProfile
from consulto.scheduling.selectors import appointments_of

from .access import Consumer
from .http import FhirError, date_param, invalid, not_found, read_json, token_param
from .refs import (
    ACT_ENCOUNTER_SYSTEM,
    RPPS_SYSTEM,
    SlotId,
    identifier_system,
    parse_pk,
    rpps_of,
)
from .resources.appointments import ENCOUNTER_MODE, slot_of_proposed

Status = Appointment.Status

# Local business rules of ``$find`` (the operation lets the server bound what it searches).
MAX_FIND_DAYS = 31
MAX_FIND_AGENDAS = 50
FIND_COUNT, FIND_MAX_COUNT = 50, 500
MAX_VALUES = 25  # values of one repeated parameter


# Parameters --------------------------------------------------------------------------------------


class Parts:
    """The parameters of an operation, by name: from a Parameters body (POST) or the query
    string (GET, where every value is a string)."""

    def __init__(self, by_name: dict[str, list[dict]]):
        self.by_name = by_name

    @classmethod
    def of_body(cls, request) -> Parts:
        try:
            body = read_json(request)
        except ValueError:  # an integer too long for Python to read
            raise invalid(_("The body is not valid JSON.")) from None
        if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
            raise invalid(_("Send a Parameters resource."))
        if _holds_nul(body):
            raise invalid(_("The body holds a NUL character, which is not allowed."))
        from fhir.resources.R4B.parameters import Parameters

        try:
            Parameters.model_validate(body)
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as error:
            raise invalid(
                _("The Parameters resource is not valid FHIR R4: %(error)s")
                % {"error": _short(error)}
            ) from None
        by_name: dict[str, list[dict]] = defaultdict(list)
        for part in body.get("parameter") or []:
            by_name[part["name"]].append(part)
        return cls(dict(by_name))

    @classmethod
    def of_query(cls, request) -> Parts:
        by_name: dict[str, list[dict]] = {}
        for name, values in request.GET.lists():
            by_name[name] = [{"name": name, "valueString": value} for value in values]
        return cls(by_name)

    def all(self, name: str) -> list[dict]:
        found = self.by_name.get(name, [])
        if len(found) > MAX_VALUES:
            raise invalid(
                _("%(name)s: at most %(max)d values.") % {"name": name, "max": MAX_VALUES},
                expression=name,
            )
        return found

    def one(self, name: str) -> dict | None:
        found = self.all(name)
        if len(found) > 1:
            raise invalid(_("%(name)s may be given once.") % {"name": name}, expression=name)
        return found[0] if found else None

    def string(self, part: dict, *kinds: str) -> str:
        """The value of ``part`` among ``value<Kind>`` (or the query string's), as a string."""
        for kind in (*kinds, "String"):
            value = part.get(f"value{kind}")
            if value is not None:
                if not isinstance(value, str):
                    break
                return value
        raise invalid(
            _("%(name)s: expected a value of type %(type)s.")
            % {"name": part["name"], "type": kinds[0] if kinds else "string"},
            expression=part["name"],
        )


def _holds_nul(value, depth: int = 0) -> bool:
    """Does a JSON value hold a NUL character (escaped as \\u0000 in the body), anywhere?"""
    if isinstance(value, str):
        return "\x00" in value
    if depth > 64:
        raise invalid(_("The body nests too deeply."))
    if isinstance(value, dict):
        return any(_holds_nul(k, depth) or _holds_nul(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v, depth + 1) for v in value)
    return False


def _short(error: Exception) -> str:
    text = " ".join(str(error).split())
    return text[:300]


def _instant_part(parts: Parts, name: str) -> tuple[datetime, bool] | None:
    """A dateTime (or date) parameter: (its first instant, whether it names a whole day or more),
    in Paris when it carries no offset."""
    part = parts.one(name)
    if part is None:
        return None
    raw = parts.string(part, "DateTime", "Date", "Instant")
    if not raw[:1].isdigit():
        raise invalid(
            _("%(name)s: “%(value)s” is not a FHIR dateTime (e.g. %(example)s).")
            % {"name": name, "value": raw[:40], "example": "2026-12-14T08:00:00+01:00"},
            expression=name,
        )
    value = date_param(raw, name=name)
    return (value.low, value.high) if "T" not in raw else (value.low, value.low)


@dataclass(frozen=True)
class Ref:
    """A reference parameter: a logical id of ours, or an identifier (system, value)."""

    pk: int | None = None
    system: str | None = None
    value: str | None = None


def _references(parts: Parts, name: str, resource_type: str) -> list[Ref]:
    refs = []
    for part in parts.all(name):
        found = part.get("valueReference")
        if found is None:
            raw = parts.string(part, "Reference")
            found = (
                {"identifier": dict(zip(("system", "value"), raw.split("|", 1), strict=True))}
                if "|" in raw
                else {"reference": raw}
            )
        refs.append(_reference(found, name=name, resource_type=resource_type))
    return refs


def _reference(found: dict, *, name: str, resource_type: str) -> Ref:
    if not isinstance(found, dict):
        raise invalid(_("%(name)s: expected a Reference.") % {"name": name}, expression=name)
    text = found.get("reference")
    if isinstance(text, str) and text:
        logical = _logical_id(text, resource_type, name=name)
        return Ref(pk=parse_pk(logical) or 0)  # 0: names nothing of ours
    identifier = found.get("identifier")
    if isinstance(identifier, dict) and isinstance(identifier.get("value"), str):
        system = identifier.get("system")
        return Ref(system=system if isinstance(system, str) else None, value=identifier["value"])
    raise invalid(
        _("%(name)s: give a reference (%(type)s/id) or an identifier.")
        % {"name": name, "type": resource_type},
        expression=name,
    )


def _logical_id(text: str, resource_type: str, *, name: str) -> str:
    """The id in ``Type/id``, an absolute URL ending with it, or a bare id."""
    text = text.split("/_history/", 1)[0].rstrip("/")
    pieces = text.split("/")
    if len(pieces) == 1:
        return pieces[0]
    if pieces[-2] != resource_type:
        raise invalid(
            _("%(name)s: expected a reference to the resource type %(type)s.")
            % {"name": name, "type": resource_type},
            expression=name,
        )
    return pieces[-1]


def _tokens(parts: Parts, name: str) -> list[tuple[str | None, str]]:
    tokens = []
    for part in parts.all(name):
        raw = parts.string(part, "Code", "Token")
        for value in raw.split(","):
            if value:
                tokens.append(token_param(value, name=name))
    return tokens


def _count(parts: Parts) -> int:
    part = parts.one("_count")
    if part is None:
        return FIND_COUNT
    value = part.get("valueInteger", part.get("valuePositiveInt", part.get("valueString")))
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.isdigit() or len(value) > 9:
        raise invalid(
            _("_count must be a whole number from 0 to %(max)d.") % {"max": FIND_MAX_COUNT},
            expression="_count",
        )
    return min(int(value), FIND_MAX_COUNT)


# $find ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Potential:
    agenda: Agenda
    motive: Motive
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Found:
    potentials: list[Potential]
    total: int
    requested: tuple[datetime, datetime]
    notes: list[str]


def find(consumer: Consumer, parts: Parts, *, now: datetime) -> Found:
    """The potential appointments matching ``parts`` (ITI-115), earliest first."""
    begin, end, notes = _period(parts)
    count = _count(parts)
    agendas = _candidate_agendas(consumer, parts)
    motives = _candidate_motives(consumer, parts, agendas)
    if not motives:
        return Found([], 0, (begin, end), notes)
    by_agenda = {agenda.pk: agenda for agenda in agendas}
    # slots_for_many takes one motive per agenda and one audience and span per call: batch so.
    batches: dict[tuple, list[list[tuple[Agenda, Motive]]]] = defaultdict(list)
    for agenda_id, own in motives.items():
        agenda = by_agenda[agenda_id]
        audience = consumer.audience_for(agenda, now=now)
        first_day = begin.astimezone(agenda.zone).date()
        last_day = (end - timedelta(microseconds=1)).astimezone(agenda.zone).date()
        rounds = batches[(audience, first_day, (last_day - first_day).days + 1)]
        for i, motive in enumerate(own):
            if len(rounds) <= i:
                rounds.append([])
            rounds[i].append((agenda, motive))
    potentials = []
    for (audience, first_day, days), rounds in batches.items():
        for pairs in rounds:
            slots = slots_for_many(pairs, start=first_day, days=days, now=now, audience=audience)
            for agenda, motive in pairs:
                potentials.extend(
                    Potential(agenda, motive, slot.start, slot.end)
                    for slot in slots[agenda.pk]
                    if begin <= slot.start and slot.end <= end
                )
    potentials.sort(key=lambda p: (p.start, p.agenda.pk, p.motive.pk))
    return Found(potentials[:count], len(potentials), (begin, end), notes)


def _period(parts: Parts) -> tuple[datetime, datetime, list[str]]:
    start, end = _instant_part(parts, "start"), _instant_part(parts, "end")
    if start is None or end is None:
        raise invalid(
            _("start and end are required: the period to look for appointments in."),
            expression="start" if start is None else "end",
        )
    begin, finish = start[0], end[1]
    if finish <= begin:
        raise invalid(_("end must come after start."), expression="end")
    notes = []
    if finish - begin > timedelta(days=MAX_FIND_DAYS):
        finish = begin + timedelta(days=MAX_FIND_DAYS)
        notes.append(
            _("Only the first %(days)d days of the period were searched (until %(end)s).")
            % {"days": MAX_FIND_DAYS, "end": finish.isoformat()}
        )
    return begin, finish, notes


def _candidate_agendas(consumer: Consumer, parts: Parts) -> list[Agenda]:
    agendas = Agenda.objects.filter(is_active=True).select_related(
        "site", "practitioner__specialty"
    )
    narrowed = False
    practitioners = _references(parts, "practitioner", "Practitioner")
    if practitioners:
        narrowed = True
        agendas = agendas.filter(_any(practitioners, "practitioner_id", _rpps_q))
    organisations = _references(parts, "organization", "Organization")
    if organisations:
        narrowed = True
        agendas = agendas.filter(_any(organisations, "organisation_id", None))
    locations = _references(parts, "location-reference", "Location")
    if locations:
        narrowed = True
        agendas = agendas.filter(_any(locations, "site_id", None))
    places = [parts.string(part) for part in parts.all("location-string")]
    if places:
        narrowed = True
        where = Q(pk__in=[])
        for place in places:
            place = place.strip()[:100]
            if place:
                where |= (
                    Q(site__postcode__istartswith=place)
                    | Q(site__city__icontains=place)
                    | Q(site__address__icontains=place)
                )
        agendas = agendas.filter(where)
    specialties = _tokens(parts, "specialty")
    if specialties:
        narrowed = True
        ours = identifier_system("specialty")
        codes = [code[:64] for system, code in specialties if system in (None, "", ours)]
        agendas = agendas.filter(practitioner__specialty__code__in=codes)
    if not narrowed:
        if consumer.organisation_id is None:
            raise invalid(
                _("Name a practitioner, an organization, a location or a specialty to search."),
                expression="practitioner",
            )
        agendas = agendas.filter(organisation_id=consumer.organisation_id)
    if not consumer.is_partner:
        agendas = agendas.filter(online_booking=True)
    return list(agendas.order_by("pk")[:MAX_FIND_AGENDAS])


def _rpps_q(ref: Ref) -> Q | None:
    if ref.system == RPPS_SYSTEM and ref.value and rpps_of(ref.value):
        return Q(practitioner__rpps=rpps_of(ref.value))
    return None


def _any(refs: list[Ref], field: str, by_identifier) -> Q:
    """Agendas matching any of ``refs``: by our id, or by an identifier ``by_identifier`` knows
    (an identifier of another system names nothing here)."""
    where = Q(pk__in=[])
    for ref in refs:
        if ref.pk:
            where |= Q(**{field: ref.pk})
        elif by_identifier is not None:
            found = by_identifier(ref)
            if found is not None:
                where |= found
    return where


def _candidate_motives(
    consumer: Consumer, parts: Parts, agendas: list[Agenda]
) -> dict[int, list[Motive]]:
    motives = Motive.objects.filter(agenda__in=agendas, is_active=True).order_by(
        "agenda_id", "position", "pk"
    )
    if not consumer.is_partner:
        motives = motives.filter(online=True)
    kinds = _tokens(parts, "visit-type") + _tokens(parts, "service-type")
    if kinds:
        by_code = {code: mode for mode, (code, _d) in ENCOUNTER_MODE.items()}
        ours = identifier_system("motive")
        wanted_modes, wanted_ids = set(), set()
        for system, code in kinds:
            if system in (None, "", ACT_ENCOUNTER_SYSTEM) and code in by_code:
                wanted_modes.add(by_code[code])
            if system in (None, "", ours) and parse_pk(code):
                wanted_ids.add(parse_pk(code))
        motives = motives.filter(Q(mode__in=wanted_modes) | Q(pk__in=wanted_ids))
    grouped: dict[int, list[Motive]] = defaultdict(list)
    for motive in motives:
        grouped[motive.agenda_id].append(motive)
    return grouped


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
    return _reload(held.pk)


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
        if status == "booked":
            raise FhirError(
                422,
                _("Changing a booked appointment is not supported: cancel it and book anew."),
                code="not-supported",
                expression="appointment-resource.status",
            )
        if status != "pending":
            raise invalid(
                _("appointment-resource: status must be pending (to book) or cancelled."),
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
    return Booked(_reload(booked.pk), booked.replayed)


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
    return booking.book(
        agenda=agenda,
        motive=motive,
        start=start,
        patient=person,
        booked_by=consumer.user,
        channel=Appointment.Channel.API,
        idempotency_key=key,
        from_hold=held,
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
    logical = _logical_id(found["reference"], "Appointment", name=name)
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
            found = SlotId.parse(_logical_id(text, "Slot", name="appointment-resource.slot"))
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
            pk = parse_pk(_logical_id(text, "Patient", name="participant"))
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
    if phone and not (digits.lstrip("+").isdigit() and 6 <= len(digits) <= 16):
        raise invalid(_("Enter a phone number, e.g. 06 12 34 56 78."), expression="telecom")
    if email and (len(email) > 254 or "@" not in email):
        raise invalid(_("Enter a valid e-mail address."), expression="telecom")
    return booking.PatientIdentity(
        first_name=given, last_name=family, birth_date=born, phone=phone, email=email
    )


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
        return _reload(target)
    appointment = visible_appointments(consumer).filter(pk=target).first()
    if appointment is None:
        raise not_found("Appointment", str(target))
    if appointment.status == Status.CANCELLED:
        return appointment
    if not consumer.is_partner:
        patient_services.cancel_appointment(
            user=consumer.user, appointment=appointment, reason=reason
        )
        return _reload(target)
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
    return _reload(target)


# Reads ------------------------------------------------------------------------------------------


def _with_relations(qs):
    return qs.select_related("agenda__site", "agenda__practitioner__specialty", "motive", "patient")


def _reload(pk: int) -> Appointment:
    return _with_relations(Appointment.objects.filter(pk=pk)).get()


def visible_appointments(consumer: Consumer):
    """The appointments ``consumer`` may read: a partner its organisation's and those it booked
    (its live holds too), a person their own and their relatives'."""
    if consumer.is_partner:
        mine = Q(booked_by=consumer.user)
        where = mine
        if consumer.organisation_id is not None:
            where |= Q(agenda__organisation_id=consumer.organisation_id)
        qs = Appointment.objects.filter(where).exclude(status=Status.EXPIRED)
        qs = qs.exclude(Q(status=Status.HELD) & ~mine)
        return _with_relations(qs)
    return _with_relations(appointments_of(consumer.user))


def visible_patients(consumer: Consumer):
    """The patients ``consumer`` may read: a person their own profiles, a partner the patients
    of the appointments it may read."""
    if consumer.is_partner:
        seen = visible_appointments(consumer).filter(patient__isnull=False)
        return PatientProfile.objects.filter(pk__in=seen.values("patient_id"))
    return PatientProfile.objects.filter(owner=consumer.user)


def search(consumer: Consumer, params, *, default_count: int, max_count: int):
    """Appointments matching the search parameters ``params`` (a QueryDict), with the total."""
    from .http import count_param

    qs = visible_appointments(consumer)
    for raw in params.getlist("date"):
        qs = _on_dates(qs, raw)
    statuses = [code for raw in params.getlist("status") for code in raw.split(",") if code]
    if statuses:
        from .resources.appointments import OUR_STATUSES

        qs = qs.filter(status__in=[s for code in statuses for s in OUR_STATUSES.get(code, [])])
    for name, resource_type, field in (
        ("patient", "Patient", "patient_id"),
        ("practitioner", "Practitioner", "agenda__practitioner_id"),
        ("location", "Location", "agenda__site_id"),
    ):
        for raw in params.getlist(name):
            qs = qs.filter(**{f"{field}__in": _ids(raw, resource_type, name=name)})
    for raw in params.getlist("actor"):
        where = Q(pk__in=[])
        for value in raw.split(","):
            kind, _slash, logical = value.rpartition("/")
            kind = kind.rsplit("/", 1)[-1]
            fields = {
                "Patient": "patient_id",
                "Practitioner": "agenda__practitioner_id",
                "Location": "agenda__site_id",
                "PractitionerRole": "agenda_id",
                "Schedule": "agenda_id",
                "HealthcareService": "motive_id",
            }
            if kind not in fields:
                raise invalid(
                    _("actor: give references such as Practitioner/12 or Patient/34."),
                    expression="actor",
                )
            pk = parse_pk(logical)
            if pk:
                where |= Q(**{fields[kind]: pk})
        qs = qs.filter(where)
    for raw in params.getlist("identifier"):
        system, value = token_param(raw, name="identifier")
        pk = parse_pk(value)
        if system not in (None, identifier_system("appointment")) or pk is None:
            qs = qs.none()
        else:
            qs = qs.filter(pk=pk)
    for raw in params.getlist("_id"):
        qs = qs.filter(pk__in=[parse_pk(v) or 0 for v in raw.split(",")][:MAX_VALUES])
    count = count_param(params.get("_count"), default=default_count, maximum=max_count)
    qs = qs.order_by("start", "pk")
    return list(qs[:count]), qs.count()


def _ids(raw: str, resource_type: str, *, name: str) -> list[int]:
    ids = []
    for value in raw.split(",")[:MAX_VALUES]:
        logical = _logical_id(value, resource_type, name=name)
        ids.append(parse_pk(logical) or 0)
    return ids


def _on_dates(qs, raw: str):
    value = date_param(raw, name="date")
    low, high = value.low, value.high
    match value.prefix:
        case "eq":
            return qs.filter(start__gte=low, start__lt=high)
        case "ne":
            return qs.exclude(start__gte=low, start__lt=high)
        case "ge":
            return qs.filter(start__gte=low)
        case "gt" | "sa":
            return qs.filter(start__gte=high)
        case "le":
            return qs.filter(start__lt=high)
        case "lt" | "eb":
            return qs.filter(start__lt=low)
    raise invalid(
        _("date: the prefix %(prefix)s is not supported.") % {"prefix": value.prefix},
        expression="date",
    )
