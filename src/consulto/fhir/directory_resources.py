"""The directory as FHIR resources: Practitioner, PractitionerRole, Organization, Location,
HealthcareService and Schedule, built as plain dicts from our rows (``refs.py`` says which row
each one is) and checked against fhir.resources' R4B models when answered (``http.respond``,
``http.searchset``).

What is public (``public_*``): published practitioners with an active agenda, those agendas,
their organisations, sites and active motives. An unpublished practitioner, an inactive agenda
and what only they reach stay out of every answer, read or search.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet

from consulto.directory.models import Organisation, Practitioner, Site
from consulto.scheduling.models import Agenda, Motive

from .refs import ACT_ENCOUNTER_SYSTEM, FINESS_SYSTEM, RPPS_SYSTEM, idnps, reference

# Specialties of the Ordre (ANS nomenclature TRE-R38), for those of ours that have one for sure.
SPECIALTY_SYSTEM = (
    "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale"
)
TRE_R38 = {"medecin-generaliste": ("SM54", "Médecine générale")}
IDNPS_TYPE = {
    "coding": [{"system": "http://interopsante.org/fhir/CodeSystem/fr-v2-0203", "code": "IDNPS"}]
}
TIMEZONE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/timezone"
# Slot.serviceType as a reference to the HealthcareService (R5's CodeableReference, carried in
# R4 by the cross-version extension, as the SAS guide's CPTS flow needs it).
SERVICE_TYPE_REFERENCE = "http://hl7.org/fhir/5.0/StructureDefinition/extension-Slot.serviceType"
ENCOUNTER = {
    Motive.Mode.IN_PERSON: ("AMB", "ambulatory"),
    Motive.Mode.VIDEO: ("VR", "virtual"),
    Motive.Mode.HOME: ("HH", "home health"),
}
CONTAINED_LOCATION = "location"


def duration_extension_url() -> str:
    return f"{settings.CONSULTO_FHIR_IDENTIFIER_SYSTEM}/StructureDefinition/motive-duration"


# What is public ---------------------------------------------------------------------------------


def public_agendas() -> QuerySet[Agenda]:
    """Active agendas of published practitioners (and of resources: a vaccination line)."""
    return Agenda.objects.filter(is_active=True).filter(
        Q(practitioner__isnull=True) | Q(practitioner__is_published=True)
    )


def public_practitioners() -> QuerySet[Practitioner]:
    agendas = Agenda.objects.filter(practitioner_id=OuterRef("pk"), is_active=True)
    return Practitioner.objects.filter(is_published=True).filter(Exists(agendas))


def public_organisations() -> QuerySet[Organisation]:
    return Organisation.objects.filter(
        Exists(public_agendas().filter(organisation_id=OuterRef("pk")))
    )


def public_sites() -> QuerySet[Site]:
    return Site.objects.filter(Exists(public_agendas().filter(site_id=OuterRef("pk"))))


def public_motives(consumer) -> QuerySet[Motive]:
    """Active motives of public agendas; a person (a patient) sees those bookable online only,
    a partner's software those kept for staff too (professionals book them)."""
    motives = Motive.objects.filter(
        is_active=True, agenda__in=public_agendas().values("pk")
    ).select_related("agenda__site", "agenda__organisation")
    if consumer is None or not consumer.is_partner:
        motives = motives.filter(online=True)
    return motives


def motives_of(agendas: list[Agenda], consumer) -> list[Motive]:
    """The public motives (``public_motives``) of these public agendas, each with its agenda
    set from ``agendas``: one query without joins."""
    by_pk = {agenda.pk: agenda for agenda in agendas}
    motives = Motive.objects.filter(agenda_id__in=list(by_pk), is_active=True)
    if consumer is None or not consumer.is_partner:
        motives = motives.filter(online=True)
    found = list(motives.order_by("agenda_id", "position", "pk"))
    for motive in found:
        motive.agenda = by_pk[motive.agenda_id]
    return found


# Builders ---------------------------------------------------------------------------------------


def practitioner(row: Practitioner) -> dict:
    name: dict = {"family": row.last_name}
    if row.first_name:
        name["given"] = [row.first_name]
    if row.title:
        name["prefix"] = [row.title]
    return _clean(
        {
            "resourceType": "Practitioner",
            "id": str(row.pk),
            "identifier": [{"type": IDNPS_TYPE, "system": RPPS_SYSTEM, "value": idnps(row.rpps)}],
            "active": True,
            "name": [{**name, "text": row.display_name}],
            "communication": [
                {"coding": [{"system": "urn:ietf:bcp:47", "code": code.strip()}]}
                for code in row.languages.split(",")
                if code.strip()
            ]
            or None,
        }
    )


def specialty(row: Practitioner | None) -> list[dict] | None:
    if row is None:
        return None
    label = row.specialty.label_fr
    known = TRE_R38.get(row.specialty.code)
    if known:
        return [{"coding": [{"system": SPECIALTY_SYSTEM, "code": known[0], "display": known[1]}],
                 "text": label}]  # fmt: skip
    return [{"text": label}]


def practitioner_role(agenda: Agenda) -> dict:
    """An agenda of a practitioner: who, for which organisation, where (its site, contained)."""
    location = {**location_of(agenda.site), "id": CONTAINED_LOCATION}
    location.pop("managingOrganization", None)
    return _clean(
        {
            "resourceType": "PractitionerRole",
            "id": str(agenda.pk),
            "contained": [location],
            "active": agenda.is_active,
            "practitioner": reference("Practitioner", agenda.practitioner_id)
            if agenda.practitioner_id
            else None,
            "organization": reference("Organization", agenda.organisation_id),
            "location": [{"reference": f"#{CONTAINED_LOCATION}"}],
            "specialty": specialty(agenda.practitioner),
            "telecom": [{"system": "phone", "value": agenda.site.phone}]
            if agenda.site.phone
            else None,
        }
    )


def organization(row: Organisation) -> dict:
    return _clean(
        {
            "resourceType": "Organization",
            "id": str(row.pk),
            "identifier": [{"system": FINESS_SYSTEM, "value": row.finess}] if row.finess else None,
            "active": True,
            "type": [{"text": str(row.get_kind_display())}],
            "name": row.name,
            "telecom": [{"system": "phone", "value": row.phone}] if row.phone else None,
        }
    )


def location_of(site: Site) -> dict:
    return _clean(
        {
            "resourceType": "Location",
            "id": str(site.pk),
            "extension": [{"url": TIMEZONE_EXTENSION, "valueCode": site.timezone}],
            "status": "active",
            "name": site.name,
            "mode": "instance",
            "telecom": [{"system": "phone", "value": site.phone}] if site.phone else None,
            "address": {
                "use": "work",
                "type": "physical",
                "line": [site.address] if site.address else None,
                "city": site.city,
                "postalCode": site.postcode,
                "country": "FR",
            },
            "position": {"longitude": site.longitude, "latitude": site.latitude},
            "managingOrganization": reference("Organization", site.organisation_id),
        }
    )


def encounter_code(motive: Motive) -> dict:
    code, display = ENCOUNTER.get(motive.mode, ENCOUNTER[Motive.Mode.IN_PERSON])
    return {"coding": [{"system": ACT_ENCOUNTER_SYSTEM, "code": code, "display": display}]}


def healthcare_service(motive: Motive) -> dict:
    agenda = motive.agenda
    return _clean(
        {
            "resourceType": "HealthcareService",
            "id": str(motive.pk),
            "extension": [
                {
                    "url": duration_extension_url(),
                    "valueDuration": {
                        "value": motive.duration_minutes,
                        "unit": "min",
                        "system": "http://unitsofmeasure.org",
                        "code": "min",
                    },
                }
            ],
            "active": motive.is_active,
            "providedBy": reference("Organization", agenda.organisation_id),
            "type": [encounter_code(motive)],
            "location": [reference("Location", agenda.site_id)],
            "name": motive.label,
            "appointmentRequired": True,
        }
    )


def schedule(agenda: Agenda, modes=()) -> dict:
    """An agenda: its actors (the practitioner and their role, or the place for a resource's)
    and the consultation types of its motives (``modes``)."""
    actors = []
    if agenda.practitioner_id:
        actors.append(reference("Practitioner", agenda.practitioner_id))
        actors.append(reference("PractitionerRole", agenda.pk))
    else:
        actors.append(reference("Location", agenda.site_id))
    codes = [encounter_code(Motive(mode=mode)) for mode in sorted(set(modes))]
    return _clean(
        {
            "resourceType": "Schedule",
            "id": str(agenda.pk),
            "active": agenda.is_active,
            "serviceType": codes or None,
            "specialty": specialty(agenda.practitioner),
            "actor": actors,
            "comment": agenda.name,
        }
    )


def _clean(resource: dict) -> dict:
    """Without the members left empty (None, "", [] or {}): FHIR has no nulls nor empty
    values, and a row with a blank column must not make an invalid resource."""
    cleaned = {}
    for key, value in resource.items():
        value = _cleaned(value)
        if value is not None:
            cleaned[key] = value
    return cleaned


def _cleaned(value):
    if isinstance(value, dict):
        value = _clean(value)
    elif isinstance(value, list):
        value = [item for item in map(_cleaned, value) if item is not None]
    elif isinstance(value, str):
        value = value.strip()
    if value in (None, "", [], {}):
        return None
    return value
