"""IHE ITI Scheduling at ``/fhir/r4/Appointment``: ``$find`` (ITI-115), ``$hold`` (ITI-116),
``$book`` (ITI-117, booking and cancelling), read and search (ITI-118). The rules are in
``fhir/appointments.py`` and, below it, ``scheduling.booking``."""

from django.utils import timezone
from django.utils.translation import gettext as _
from fhir.resources.R4B.bundle import Bundle, BundleEntry
from fhir.resources.R4B.operationoutcome import OperationOutcome

from consulto.fhir import capabilities
from consulto.fhir import directory_resources as directory
from consulto.fhir.access import endpoint
from consulto.fhir.http import FhirError, invalid, not_found, respond, searchset
from consulto.fhir.ihe import find as finding
from consulto.fhir.ihe import operations, reads
from consulto.fhir.ihe.parameters import Parts
from consulto.fhir.refs import base_url, parse_pk
from consulto.fhir.resources import appointments as build

SEARCH_COUNT, SEARCH_MAX_COUNT = 50, 200
# What a search may _include (ITI-118): the resources the appointments' participants name.
INCLUDES = {
    "Appointment:patient": ("Patient",),
    "Appointment:practitioner": ("Practitioner",),
    "Appointment:location": ("Location",),
    "Appointment:actor": ("Patient", "Practitioner", "Location"),
    **{f"Appointment:actor:{kind}": (kind,) for kind in ("Patient", "Practitioner", "Location")},
}

capabilities.declare(
    "Appointment",
    interactions=("read", "search-type"),
    search_params=[
        ("date", "date", "The appointment's start (prefixes eq, ne, ge, gt, le, lt, sa, eb)."),
        ("status", "token", "booked, pending, cancelled, arrived, checked-in, fulfilled, noshow"),
        ("patient", "reference", "Patient/id"),
        ("practitioner", "reference", "Practitioner/id"),
        ("location", "reference", "Location/id"),
        (
            "actor",
            "reference",
            "Patient, Practitioner, Location, PractitionerRole, Schedule or HealthcareService/id",
        ),
        ("identifier", "token", "Our appointment identifier (system|value)"),
        ("_id", "token", "Logical ids"),
        ("_count", "number", "At most 200 results"),
    ],
    search_include=list(INCLUDES),
    operations=[(name, url) for name, url in build.IHE_OPERATIONS.items()],
    profiles=[build.IHE_APPOINTMENT],
    documentation=(
        "IHE ITI Scheduling: $find (GET or POST, proposed appointments over at most "
        f"{finding.MAX_FIND_DAYS} days), $hold, $book (book a proposed or held appointment; cancel "
        "with an appointment-resource of status cancelled). An organisation's software reads and "
        "books its organisation's appointments (and reads those it booked elsewhere); a patient "
        "with their API token their own. A retried $book with the same Idempotency-Key header "
        "(or Appointment.identifier) returns the first booking."
    ),
)
if build.IHE_SERVER not in capabilities.INSTANTIATES:
    capabilities.INSTANTIATES.append(build.IHE_SERVER)


def _unavailable(error: operations.Unavailable):
    issue = {"severity": "fatal", "code": error.code, "diagnostics": error.diagnostics}
    return respond(OperationOutcome(issue=[issue]), status=error.status)


def _bundle(request, resources: list[dict], *, total: int, notes=(), included=()) -> Bundle:
    """A searchset of ``resources`` (then ``included``); ``notes`` (what the server did besides,
    e.g. a shortened period) follow as an informational OperationOutcome entry (search mode
    "outcome")."""
    bundle = searchset(
        request, resources, total=total, included=included, resource_type="Appointment"
    )
    if notes:
        issues = [{"severity": "information", "code": "informational", "diagnostics": note}
                  for note in notes]  # fmt: skip
        outcome = BundleEntry(resource=OperationOutcome(issue=issues), search={"mode": "outcome"})
        bundle.entry = [*(bundle.entry or []), outcome]
    return bundle


@endpoint(methods=("GET", "POST"), scope="system/Slot.read")
def find(request):
    parts = Parts.of_body(request) if request.method == "POST" else Parts.of_query(request)
    found = finding.find(request.consumer, parts, now=timezone.now())
    resources = [
        build.proposed(
            agenda=p.agenda, motive=p.motive, start=p.start, end=p.end, requested=found.requested
        )
        for p in found.potentials
    ]
    return respond(_bundle(request, resources, total=found.total, notes=found.notes))


@endpoint(methods=("POST",), scope="system/Appointment.write")
def hold(request):
    parts = Parts.of_body(request)
    try:
        held = operations.hold(request.consumer, request, parts, now=timezone.now())
    except operations.Unavailable as error:
        return _unavailable(error)
    return respond(_bundle(request, [build.appointment(held)], total=1))


@endpoint(methods=("POST",), scope="system/Appointment.write")
def book(request):
    parts = Parts.of_body(request)
    try:
        booked = operations.book(request.consumer, request, parts, now=timezone.now())
    except operations.Unavailable as error:
        return _unavailable(error)
    resource = build.appointment(booked.appointment)
    headers = {"Content-Location": f"{base_url()}/Appointment/{booked.appointment.pk}"}
    return respond(_bundle(request, [resource], total=1), headers=headers)


@endpoint(scope="system/Appointment.read")
def read(request, logical_id: str):
    pk = parse_pk(logical_id)
    found = reads.visible_appointments(request.consumer).filter(pk=pk).first() if pk else None
    if found is None:
        raise not_found("Appointment", logical_id)
    return respond(build.appointment(found))


@endpoint(methods=("GET", "POST"), scope="system/Appointment.read")
def search(request):
    params = request.GET
    if request.method == "POST":
        if request.content_type != "application/x-www-form-urlencoded":
            raise FhirError(415, _("Send the search as application/x-www-form-urlencoded."))
        params = request.POST
    kinds = _included_kinds(request.consumer, params.getlist("_include"))
    rows, total = reads.search(
        request.consumer, params, default_count=SEARCH_COUNT, max_count=SEARCH_MAX_COUNT
    )
    matches = [build.appointment(row) for row in rows]
    return respond(_bundle(request, matches, total=total, included=_included(rows, kinds)))


def _included_kinds(consumer, values: list[str]) -> set[str]:
    """The resource types ``_include`` asks for; a value we do not serve is a 400 (rather than
    an answer silently without what was asked). Patients only for a caller that reads them."""
    kinds: set[str] = set()
    for value in values:
        for one in value.split(","):
            if one not in INCLUDES:
                raise invalid(
                    _("_include: “%(value)s” is not served; choose among %(choices)s.")
                    % {"value": one[:80], "choices": ", ".join(INCLUDES)},
                    expression="_include",
                )
            kinds.update(INCLUDES[one])
    if "Patient" in kinds and not consumer.allows("system/Patient.read"):
        raise FhirError(
            403,
            _("This token does not carry the scope %(scope)s.") % {"scope": "system/Patient.read"},
            code="forbidden",
            expression="_include",
        )
    return kinds


def _included(rows, kinds: set[str]) -> list[dict]:
    """Each practitioner, place and patient the matching appointments name, once."""
    found: dict[tuple[str, int], dict] = {}
    for row in rows:
        agenda = row.agenda
        if "Practitioner" in kinds and agenda.practitioner is not None:
            key = ("Practitioner", agenda.practitioner_id)
            if key not in found:
                found[key] = directory.practitioner(agenda.practitioner)
        if "Location" in kinds and ("Location", agenda.site_id) not in found:
            found[("Location", agenda.site_id)] = directory.location_of(agenda.site)
        patient_key = ("Patient", row.patient_id)
        if "Patient" in kinds and row.patient is not None and patient_key not in found:
            found[patient_key] = build.patient(row.patient)
    return list(found.values())
