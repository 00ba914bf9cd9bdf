"""``/fhir/r4/Patient/{id}``: a patient reads their own (and their relatives'); an organisation's
software the patients of the appointments it may read."""

from consulto.fhir import capabilities
from consulto.fhir.access import endpoint
from consulto.fhir.http import not_found, respond
from consulto.fhir.ihe.reads import visible_patients
from consulto.fhir.refs import parse_pk
from consulto.fhir.resources import appointments as build

capabilities.declare(
    "Patient",
    interactions=("read",),
    documentation=(
        "The patients of the appointments the caller may read (an organisation's software), or "
        "the caller's own profiles (a patient)."
    ),
)


@endpoint(scope="system/Patient.read")
def read(request, logical_id: str):
    pk = parse_pk(logical_id)
    found = visible_patients(request.consumer).filter(pk=pk).first() if pk else None
    if found is None:
        raise not_found("Patient", logical_id)
    return respond(build.patient(found))
