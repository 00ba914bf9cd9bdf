"""Appointments booked by a regulator, reported to the SAS platform (FrAppointmentSAS).

The SAS guide (``ansforge/IG-fhir-service-acces-aux-soins``, "Gestion de rendez-vous"): the
editor creates the appointment on the platform (``POST [base]/Appointment``, 201) and then
updates it (``PUT [base]/Appointment?identifier=system|value``, 200) when it is moved, cancelled,
honoured or missed. A report (``SasReport``) is written in the transaction of the change and
sent by the task worker; it sends the appointment *as it stands then*, so reports may be late or
retried without ever telling an older state over a newer one. The identifier is the first
appointment of the chain a move makes (a move is an update of the same appointment for the
platform). 400 and 422 are refusals: given up at once, their OperationOutcome kept; a 5xx, a
timeout or a connection error is retried with backoff. Nothing is written when
``CONSULTO_SAS_APPOINTMENT_URL`` is empty.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime

import httpx
from django.conf import settings
from django.utils import timezone

from consulto.core import queue
from consulto.directory.models import Practitioner
from consulto.scheduling.models import Appointment

from . import refs
from .models import SasReport
from .webhooks import TIMEOUT, USER_AGENT, claim, retry_delay, sweep

logger = logging.getLogger(__name__)

Status = SasReport.Status

# The task this module enqueues, by name (``core/queue.py``): tasks.py calls this module.
SEND = "consulto.fhir.tasks.send_sas_report"

MAX_ATTEMPTS = 8
PROFILE = "http://sas.fr/fhir/StructureDefinition/FrAppointmentSAS"
OPERATOR_EXTENSION = "http://interopsante.org/fhir/StructureDefinition/FrAppointmentOperator"
V2_0203 = "http://interopsante.org/fhir/CodeSystem/fr-v2-0203"
# Regulators' technical ids given by the SAS platform (INT_R02): we keep none yet, so a
# regulator without an RPPS number is named by our own identifier of their account.
REGULATOR_SYSTEM_KIND = "regulator"
# The changes of ``scheduling.events.appointment_changed`` the platform hears; "arrived" and
# "in_progress" change nothing it keeps.
REPORTED = ("booked", "moved", "cancelled", "seen", "no_show")
# Our status -> the AppointmentStatus the platform reads (booked, fulfilled, noshow, cancelled).
FHIR_STATUS = {
    Appointment.Status.BOOKED: "booked",
    Appointment.Status.ARRIVED: "booked",
    Appointment.Status.IN_PROGRESS: "booked",
    Appointment.Status.SEEN: "fulfilled",
    Appointment.Status.NO_SHOW: "noshow",
    Appointment.Status.CANCELLED: "cancelled",
}
JSON = "application/fhir+json"
# Answers that sending the same again cannot change: a malformed request (400), a business rule
# refused (422), a wrong address or method. Anything else (5xx, 401/403 while credentials are
# mended, 429...) is tried again.
REFUSED = frozenset({400, 404, 405, 410, 412, 413, 415, 422})


def enabled() -> bool:
    return bool(settings.CONSULTO_SAS_APPOINTMENT_URL)


def on_change(*, appointment: Appointment, change: str, previous=None) -> SasReport | None:
    """Write the report of a change of an appointment a regulator booked (call in the
    transaction of the change)."""
    if not enabled() or change not in REPORTED:
        return None
    if appointment.channel != Appointment.Channel.REGULATOR:
        return None
    chain_id = chain_of(previous if previous is not None else appointment)
    if change != "booked" and not SasReport.objects.filter(chain_id=chain_id).exists():
        return None  # booked before reports were on, or a hold: the platform knows nothing of it
    now = timezone.now()
    report = SasReport.objects.create(
        chain_id=chain_id,
        appointment=appointment,
        change=change,
        event_id=uuid.uuid4(),
        next_attempt_at=now,
    )
    queue.enqueue_with_commit([(SEND, [report.pk], None)])
    return report


def chain_of(appointment: Appointment) -> int:
    """The first appointment of the chain ``appointment`` ends (it is its own when never
    moved)."""
    pk, before = appointment.pk, appointment.rescheduled_from_id
    while before is not None:
        pk = before
        before = (
            Appointment.objects.filter(pk=pk).values_list("rescheduled_from_id", flat=True).first()
        )
    return pk


def identifier(chain_id: int) -> dict:
    return {"system": refs.identifier_system("appointment"), "value": str(chain_id)}


def operator_identifier(user) -> dict:
    """The regulator who booked: their IDNPS, else our identifier of their account."""
    rpps = (
        Practitioner.objects.filter(user=user).values_list("rpps", flat=True).first()
        if user is not None
        else None
    )
    if rpps:
        return {
            "type": {"coding": [{"system": V2_0203, "code": "IDNPS"}]},
            "system": refs.RPPS_SYSTEM,
            "value": refs.idnps(rpps),
        }
    return {
        "type": {"coding": [{"system": V2_0203, "code": "INTRN"}]},
        "system": refs.identifier_system(REGULATOR_SYSTEM_KIND),
        "value": str(user.pk if user is not None else 0),
    }


def appointment_resource(*, chain: Appointment, current: Appointment) -> dict:
    """The FrAppointmentSAS of ``current``, named by the chain's first appointment."""
    practitioner = current.agenda.practitioner
    participant = {"status": "accepted"}
    if practitioner is not None and practitioner.rpps:
        participant["actor"] = {
            "identifier": {
                "type": {"coding": [{"system": V2_0203, "code": "IDNPS"}]},
                "system": refs.RPPS_SYSTEM,
                "value": refs.idnps(practitioner.rpps),
            }
        }
    else:
        participant["actor"] = {"display": current.agenda.name}
    return {
        "resourceType": "Appointment",
        "meta": {"profile": [PROFILE]},
        "extension": [
            {
                "url": OPERATOR_EXTENSION,
                "valueReference": {"identifier": operator_identifier(chain.booked_by)},
            }
        ],
        "identifier": [identifier(chain.pk)],
        "status": FHIR_STATUS.get(current.status, "booked"),
        "start": refs.utc_instant(current.start),
        "end": refs.utc_instant(current.end),
        "created": refs.utc_instant(chain.created_at),
        "participant": [participant],
    }


def send(*, report_id: int, now: datetime | None = None) -> str | None:
    """Attempt one report if it is due; return its status afterwards."""
    now = now or timezone.now()
    found = SasReport.objects.filter(pk=report_id)
    if not enabled() or not claim(SasReport, report_id, now, MAX_ATTEMPTS):
        return found.values_list("status", flat=True).first()
    report = found.select_related("chain__booked_by").get()
    current = _latest(report.chain_id)
    resource = appointment_resource(chain=report.chain, current=current)
    body = json.dumps(resource, separators=(",", ":")).encode()
    base = settings.CONSULTO_SAS_APPOINTMENT_URL
    created = (
        SasReport.objects.filter(chain_id=report.chain_id, status=Status.DELIVERED)
        .exclude(pk=report.pk)
        .exists()
    )
    token = identifier(report.chain_id)
    method = "PUT" if created else "POST"
    code, error, outcome = None, "", None
    try:
        with httpx.Client(timeout=TIMEOUT, follow_redirects=False, trust_env=False) as client:
            answer = client.request(
                method,
                f"{base}/Appointment",
                params={"identifier": f"{token['system']}|{token['value']}"} if created else None,
                content=body,
                headers={
                    "Content-Type": JSON,
                    "Accept": JSON,
                    "User-Agent": USER_AGENT,
                    "X-Request-Id": str(report.event_id),
                },
            )
        code = answer.status_code
        if code not in (200, 201):
            error = f"HTTP {code}"
            outcome = _outcome(answer)
    except (httpx.HTTPError, OSError, ValueError) as failure:
        error = f"{type(failure).__name__}: {failure}"
    fields = {"method": method, "last_status_code": code, "last_error": error[:500]}
    if not error:
        fields |= {"status": Status.DELIVERED, "delivered_at": now, "outcome": None}
    elif code in REFUSED or report.attempts >= MAX_ATTEMPTS:
        fields |= {"status": Status.GAVE_UP, "outcome": outcome}
    else:
        retry_at = now + retry_delay(report.attempts)
        fields |= {"status": Status.FAILED, "next_attempt_at": retry_at, "outcome": outcome}
        queue.on_commit(SEND, report.pk, run_after=retry_at)
    if error:
        logger.warning("SAS report %s: attempt %s: %s", report.pk, report.attempts, error)
    SasReport.objects.filter(pk=report.pk).update(**fields)
    return fields["status"]


def _latest(chain_id: int) -> Appointment:
    """The last appointment of the chain (what the first one was moved to, and so on)."""
    current = Appointment.objects.select_related("agenda__practitioner").get(pk=chain_id)
    seen = {current.pk}
    while True:
        following = (
            Appointment.objects.select_related("agenda__practitioner")
            .filter(rescheduled_from_id=current.pk)
            .first()
        )
        if following is None or following.pk in seen:
            return current
        seen.add(following.pk)
        current = following


def _outcome(answer: httpx.Response) -> dict | None:
    """The OperationOutcome of a refusal, when the answer is one (kept at most 20 kB)."""
    if len(answer.content) > 20_000:
        return None
    try:
        found = answer.json()
    except ValueError:
        return None
    if isinstance(found, dict) and found.get("resourceType") == "OperationOutcome":
        return found
    return None


def send_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Attempt the reports that are due (``webhooks.sweep``, the same outbox mechanics)."""
    return sweep(
        SasReport, lambda pk, now: send(report_id=pk, now=now), now=now or timezone.now(),
        limit=limit, max_attempts=MAX_ATTEMPTS,
    )  # fmt: skip
