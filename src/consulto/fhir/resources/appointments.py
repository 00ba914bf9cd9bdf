"""Appointments and patients as FHIR resources, on the IHE ITI Scheduling Appointment profile.

A proposed appointment (``$find``) is computed, never stored: its id names the slot it stands for
(``proposed-`` then ``refs.SlotId``), so ``$hold`` and ``$book`` read it back. A held or booked
one is our ``scheduling.Appointment`` row, named by its pk.
"""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _

from consulto.scheduling.models import Agenda, Appointment, Motive, PatientProfile

from ..refs import ACT_ENCOUNTER_SYSTEM, RPPS_SYSTEM, SlotId, identifier_system, idnps, reference

IHE_APPOINTMENT = "https://profiles.ihe.net/ITI/Scheduling/StructureDefinition/ihe-sched-appt"
IHE_SERVER = "https://profiles.ihe.net/ITI/Scheduling/CapabilityStatement/IHE.Scheduling.server"
IHE_OPERATIONS = {
    name: f"https://profiles.ihe.net/ITI/Scheduling/OperationDefinition/appointment-{name}"
    for name in ("find", "hold", "book")
}
PROPOSED_PREFIX = "proposed-"

Status = Appointment.Status
# Our statuses in FHIR's AppointmentStatus (a lapsed hold was never more than a proposal given up).
FHIR_STATUS = {
    Status.HELD: "pending",
    Status.BOOKED: "booked",
    Status.ARRIVED: "arrived",
    Status.IN_PROGRESS: "checked-in",
    Status.SEEN: "fulfilled",
    Status.NO_SHOW: "noshow",
    Status.CANCELLED: "cancelled",
    Status.EXPIRED: "cancelled",
}
OUR_STATUSES: dict[str, list[str]] = {}
for _ours, _theirs in FHIR_STATUS.items():
    OUR_STATUSES.setdefault(_theirs, []).append(_ours)

ENCOUNTER_MODE = {
    Motive.Mode.IN_PERSON: ("AMB", "ambulatory"),
    Motive.Mode.VIDEO: ("VR", "virtual"),
    Motive.Mode.HOME: ("HH", "home health"),
}


def proposed_id(slot: SlotId) -> str:
    return f"{PROPOSED_PREFIX}{slot}"


def slot_of_proposed(logical_id: str) -> SlotId | None:
    """The slot a proposed appointment's id names, None when it names none."""
    if not logical_id.startswith(PROPOSED_PREFIX):
        return None
    return SlotId.parse(logical_id[len(PROPOSED_PREFIX) :])


def _instant(moment: datetime, agenda: Agenda) -> str:
    """An instant on the wire, in the agenda's zone with its offset (what the patient sees)."""
    return moment.astimezone(agenda.site.zone).isoformat()


def _service(motive: Motive) -> dict:
    code, display = ENCOUNTER_MODE.get(motive.mode, ENCOUNTER_MODE[Motive.Mode.IN_PERSON])
    return {
        "coding": [
            {
                "system": identifier_system("motive"),
                "code": str(motive.pk),
                "display": motive.label,
            },
            {"system": ACT_ENCOUNTER_SYSTEM, "code": code, "display": display},
        ],
        "text": motive.label,
    }


def _participants(agenda: Agenda, motive: Motive, patient: PatientProfile | None, status: str):
    participants = []
    if patient is not None:
        participants.append(
            {
                "actor": {**reference("Patient", patient.pk), "display": str(patient)},
                "required": "required",
                "status": status,
            }
        )
    practitioner = agenda.practitioner
    if practitioner is not None:
        name = " ".join(p for p in (practitioner.title, practitioner.first_name,
                                    practitioner.last_name) if p)  # fmt: skip
        participants.append(
            {
                "actor": {
                    **reference("Practitioner", practitioner.pk),
                    "identifier": {"system": RPPS_SYSTEM, "value": idnps(practitioner.rpps)},
                    "display": name,
                },
                "required": "required",
                "status": status,
            }
        )
    else:
        participants.append(
            {
                "actor": {**reference("HealthcareService", motive.pk), "display": agenda.name},
                "required": "required",
                "status": status,
            }
        )
    participants.append(
        {
            "actor": {**reference("Location", agenda.site_id), "display": agenda.site.name},
            "required": "required",
            "status": status,
        }
    )
    return participants


def _specialty(agenda: Agenda) -> list[dict] | None:
    practitioner = agenda.practitioner
    specialty = getattr(practitioner, "specialty", None) if practitioner is not None else None
    if specialty is None:
        return None
    return [
        {
            "coding": [
                {
                    "system": identifier_system("specialty"),
                    "code": specialty.code,
                    "display": specialty.label_fr,
                }
            ]
        }
    ]


def proposed(
    *,
    agenda: Agenda,
    motive: Motive,
    start: datetime,
    end: datetime,
    requested: tuple[datetime, datetime],
) -> dict:
    """A potential appointment of ``$find`` (status ``proposed``): the slot ``start``-``end``."""
    slot = SlotId.of(agenda.pk, motive.pk, start)
    return {
        "resourceType": "Appointment",
        "id": proposed_id(slot),
        "meta": {"profile": [IHE_APPOINTMENT]},
        "status": "proposed",
        "serviceType": [_service(motive)],
        "specialty": _specialty(agenda),
        "description": motive.label,
        "slot": [reference("Slot", slot)],
        "start": _instant(start, agenda),
        "end": _instant(end, agenda),
        "minutesDuration": motive.duration_minutes,
        "participant": _participants(agenda, motive, None, "needs-action"),
        "requestedPeriod": [
            {"start": _instant(requested[0], agenda), "end": _instant(requested[1], agenda)}
        ],
    }


def appointment(row: Appointment) -> dict:
    """A held or booked appointment (``row`` with its agenda's site and practitioner, its motive
    and patient selected)."""
    agenda, motive = row.agenda, row.motive
    status = FHIR_STATUS.get(row.status, "booked")
    participant_status = {"cancelled": "declined", "pending": "tentative"}.get(status, "accepted")
    resource = {
        "resourceType": "Appointment",
        "id": str(row.pk),
        "meta": {
            "profile": [IHE_APPOINTMENT],
            "lastUpdated": row.updated_at.isoformat() if row.updated_at else None,
        },
        "identifier": [{"system": identifier_system("appointment"), "value": str(row.pk)}],
        "status": status,
        "serviceType": [_service(motive)],
        "specialty": _specialty(agenda),
        "description": motive.label,
        "slot": [reference("Slot", SlotId.of(agenda.pk, motive.pk, row.start))],
        "start": _instant(row.start, agenda),
        "end": _instant(row.end, agenda),
        "minutesDuration": max(1, int((row.end - row.start).total_seconds() // 60)),
        "created": row.created_at.isoformat() if row.created_at else None,
        "participant": _participants(agenda, motive, row.patient, participant_status),
        "requestedPeriod": [
            {"start": _instant(row.start, agenda), "end": _instant(row.end, agenda)}
        ],
    }
    if row.status == Status.HELD and row.hold_expires_at is not None:
        resource["comment"] = _("Held until %(instant)s, then given back unless booked.") % {
            "instant": _instant(row.hold_expires_at, agenda)
        }
    if status == "cancelled" and row.status == Status.CANCELLED:
        reason = row.reason_in_words
        resource["cancelationReason"] = {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason",
                    "code": "prov" if row.cancelled_by_practice else "pat",
                }
            ],
            "text": reason or None,
        }
    return resource


def patient(profile: PatientProfile) -> dict:
    telecom = []
    if profile.phone:
        telecom.append({"system": "phone", "value": profile.phone})
    if profile.email:
        telecom.append({"system": "email", "value": profile.email})
    return {
        "resourceType": "Patient",
        "id": str(profile.pk),
        "identifier": [{"system": identifier_system("patient"), "value": str(profile.pk)}],
        "name": [{"family": profile.last_name, "given": [profile.first_name]}],
        "birthDate": profile.birth_date.isoformat(),
        "telecom": telecom or None,
    }
