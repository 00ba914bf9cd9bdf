"""How our rows are named in FHIR: logical ids, identifiers and references.

| FHIR resource     | our row                                    | logical id                    |
|-------------------|--------------------------------------------|-------------------------------|
| Practitioner      | ``directory.Practitioner``                 | its pk                        |
| PractitionerRole  | an agenda of a practitioner                | the agenda's pk               |
| Organization      | ``directory.Organisation``                 | its pk                        |
| Location          | ``directory.Site``                         | its pk                        |
| HealthcareService | ``scheduling.Motive``                      | its pk                        |
| Schedule          | ``scheduling.Agenda``                      | its pk                        |
| Slot              | computed, never stored                     | ``{agenda}-{motive}-{epoch}`` |
| Appointment       | ``scheduling.Appointment``                 | its pk                        |
| Patient           | ``scheduling.PatientProfile``              | its pk                        |

A Slot's id names what it was computed from (the agenda, the motive and the start in epoch
seconds), so ``Slot/{id}`` and ``$hold``/``$book`` read it back without any stored row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings

# Health professionals' national identifier (IDNPS) in the RPPS/ADELI directory (ANS).
RPPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
# Organisations' FINESS numbers (ANS).
FINESS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.2"
# Types of slot (SAS guide, nomenclature TRE-R314).
SLOT_TYPE_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau"
# Encounter modes for Slot.serviceType (HL7 v3 ActEncounterCode: AMB, VR, HH).
ACT_ENCOUNTER_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
# The FHIR version we speak on the wire (resources are checked with fhir.resources' R4B models,
# which R4 resources of this facade also satisfy).
FHIR_VERSION = "4.0.1"


def idnps(rpps: str) -> str:
    """The IDNPS of an RPPS number: "8" then the 11 digits (ADELI numbers take "0")."""
    return f"8{rpps}"


def rpps_of(value: str) -> str | None:
    """The RPPS number of an IDNPS ("8" + 11 digits), None when it is not one."""
    if len(value) == 12 and value.startswith("8") and value.isascii() and value.isdigit():
        return value[1:]
    return None


def identifier_system(kind: str) -> str:
    """The system of our own identifiers of ``kind`` ("appointment", "slot"...)."""
    return f"{settings.CONSULTO_FHIR_IDENTIFIER_SYSTEM}/{kind}"


def base_url() -> str:
    """The facade's base, as partners reach it: resources' fullUrl start with it."""
    return f"{settings.CONSULTO_SITE_URL}/fhir/r4"


def reference(resource_type: str, pk) -> dict:
    return {"reference": f"{resource_type}/{pk}"}


_ID = re.compile(r"^[0-9]{1,18}$")
_SLOT_ID = re.compile(r"^([0-9]{1,18})-([0-9]{1,18})-([0-9]{1,12})$")
MAX_ID = 2**63 - 1


def parse_pk(value: str) -> int | None:
    """A logical id that can be one of our rows' pk, else None (answered 404 by the caller)."""
    if not _ID.match(value or ""):
        return None
    pk = int(value)
    return pk if 0 < pk <= MAX_ID else None


@dataclass(frozen=True)
class SlotId:
    agenda_id: int
    motive_id: int
    start: datetime  # aware, UTC

    def __str__(self) -> str:
        return f"{self.agenda_id}-{self.motive_id}-{int(self.start.timestamp())}"

    @classmethod
    def of(cls, agenda_id: int, motive_id: int, start: datetime) -> SlotId:
        return cls(agenda_id, motive_id, start.astimezone(UTC))

    @classmethod
    def parse(cls, value: str) -> SlotId | None:
        """The slot named by ``value``, None when it names none (not an id of ours, or a start
        outside the years we book: 2000 to 2100)."""
        match = _SLOT_ID.match(value or "")
        if not match:
            return None
        agenda, motive, epoch = (int(g) for g in match.groups())
        if not (0 < agenda <= MAX_ID and 0 < motive <= MAX_ID and 946684800 <= epoch < 4102444800):
            return None
        return cls(agenda, motive, datetime.fromtimestamp(epoch, UTC))


def utc_instant(value: datetime) -> str:
    """An aware datetime as a FHIR instant in UTC (``2026-12-09T09:15:00Z``)."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
