"""The directory, read-only: each resource read and searched, valid R4 every time, only what is
public on the platform, and what a hostile caller gets."""

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.healthcareservice import HealthcareService
from fhir.resources.R4B.location import Location
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.practitioner import Practitioner as FhirPractitioner
from fhir.resources.R4B.practitionerrole import PractitionerRole
from fhir.resources.R4B.schedule import Schedule

from consulto.directory.models import Organisation, Practitioner, Specialty
from consulto.fhir.refs import FINESS_SYSTEM, RPPS_SYSTEM
from consulto.scheduling.models import Agenda, Motive
from tests.conftest import valid_rpps

from .conftest import FhirClient, token_for

pytestmark = pytest.mark.django_db

MODELS = {
    "Practitioner": FhirPractitioner,
    "PractitionerRole": PractitionerRole,
    "Organization": Organization,
    "Location": Location,
    "HealthcareService": HealthcareService,
    "Schedule": Schedule,
}


@pytest.fixture
def sas(partners):
    return FhirClient(token_for(partners.sas))


def search(client, resource_type, params=None):
    answer = client.get(f"/fhir/r4/{resource_type}", params or {})
    assert answer.status_code == 200, answer.content
    bundle = answer.json()
    Bundle.model_validate(bundle)
    for entry in bundle.get("entry", []):
        MODELS[resource_type].model_validate(entry["resource"])
    return bundle


def ids(bundle) -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", [])]


def read(client, resource_type, logical_id):
    answer = client.get(f"/fhir/r4/{resource_type}/{logical_id}")
    assert answer.status_code == 200, answer.content
    MODELS[resource_type].model_validate(answer.json())
    return answer.json()


def test_a_practitioner_is_found_by_idnps_and_by_name(world, sas):
    found = search(sas, "Practitioner", {"identifier": f"{RPPS_SYSTEM}|8{world.gp.rpps}"})
    assert found["total"] == 1 and ids(found) == [str(world.gp.pk)]
    practitioner = found["entry"][0]["resource"]
    assert practitioner["identifier"][0]["value"] == "8" + world.gp.rpps
    assert practitioner["identifier"][0]["system"] == RPPS_SYSTEM
    assert practitioner["name"][0]["family"] == "Martin"
    assert practitioner["name"][0]["prefix"] == ["Dr"]
    assert ids(search(sas, "Practitioner", {"name": "claire"})) == [str(world.gp.pk)]
    assert ids(search(sas, "Practitioner", {"name": "CLAIRE MARTIN"})) == [str(world.gp.pk)]
    assert ids(search(sas, "Practitioner", {"family": "mart"})) == [str(world.gp.pk)]
    assert search(sas, "Practitioner", {"name": "Durand"})["total"] == 0
    # An RPPS without its "8", or under another system, names nobody.
    assert search(sas, "Practitioner", {"identifier": world.gp.rpps})["total"] == 0
    assert (
        search(sas, "Practitioner", {"identifier": f"{FINESS_SYSTEM}|8{world.gp.rpps}"})["total"]
        == 0
    )
    assert read(sas, "Practitioner", world.gp.pk)["id"] == str(world.gp.pk)


def test_an_unpublished_practitioner_or_one_without_an_active_agenda_is_not_public(world, sas):
    Practitioner.objects.filter(pk=world.gp.pk).update(is_published=False)
    assert search(sas, "Practitioner")["total"] == 0
    assert sas.get(f"/fhir/r4/Practitioner/{world.gp.pk}").status_code == 404
    assert sas.get(f"/fhir/r4/PractitionerRole/{world.agenda.pk}").status_code == 404
    assert sas.get(f"/fhir/r4/Schedule/{world.agenda.pk}").status_code == 404
    Practitioner.objects.filter(pk=world.gp.pk).update(is_published=True)
    Agenda.objects.filter(pk=world.agenda.pk).update(is_active=False)
    assert search(sas, "Practitioner")["total"] == 0
    # The organisation has no other active agenda: out of the directory too, with its site.
    assert sas.get(f"/fhir/r4/Organization/{world.organisation.pk}").status_code == 404
    assert sas.get(f"/fhir/r4/Location/{world.site.pk}").status_code == 404
    assert sas.get(f"/fhir/r4/HealthcareService/{world.first.pk}").status_code == 404


def test_a_practitioner_role_contains_its_location(world, sas):
    role = read(sas, "PractitionerRole", world.agenda.pk)
    assert role["practitioner"] == {"reference": f"Practitioner/{world.gp.pk}"}
    assert role["organization"] == {"reference": f"Organization/{world.organisation.pk}"}
    assert role["location"] == [{"reference": "#location"}]
    location = role["contained"][0]
    assert location["resourceType"] == "Location"
    assert location["address"]["city"] == "Paris"
    assert role["specialty"][0]["coding"][0]["code"] == "SM54"
    found = search(sas, "PractitionerRole", {"practitioner": f"Practitioner/{world.gp.pk}"})
    assert ids(found) == [str(world.agenda.pk)]
    # The vaccination line is a resource's agenda, not a practitioner's role.
    assert search(sas, "PractitionerRole")["total"] == 1


def test_an_organisation_carries_its_finess_when_known(world, sas):
    Organisation.objects.filter(pk=world.line.organisation_id).update(finess="690000001")
    found = search(sas, "Organization", {"identifier": f"{FINESS_SYSTEM}|690000001"})
    assert ids(found) == [str(world.line.organisation_id)]
    centre = found["entry"][0]["resource"]
    assert centre["identifier"] == [{"system": FINESS_SYSTEM, "value": "690000001"}]
    practice = read(sas, "Organization", world.organisation.pk)
    assert "identifier" not in practice
    assert ids(search(sas, "Organization", {"name": "lilas"})) == [str(world.organisation.pk)]


def test_a_location_has_its_address_position_and_time_zone(world, sas):
    location = read(sas, "Location", world.site.pk)
    assert location["address"] == {
        "use": "work",
        "type": "physical",
        "line": ["12 rue des Lilas"],
        "city": "Paris",
        "postalCode": "75019",
        "country": "FR",
    }
    assert location["position"] == {"longitude": 2.3925, "latitude": 48.8777}
    assert location["extension"][0]["valueCode"] == "Europe/Paris"
    assert ids(search(sas, "Location", {"address-postalcode": "69"})) == [str(world.line.site_id)]
    assert ids(search(sas, "Location", {"address-city": "paris"})) == [str(world.site.pk)]


def test_a_healthcare_service_is_a_motive_with_its_duration_and_consultation_type(world, sas):
    service = read(sas, "HealthcareService", world.video.pk)
    assert service["name"] == "Téléconsultation"
    assert service["type"][0]["coding"][0]["code"] == "VR"
    assert service["extension"][0]["valueDuration"]["value"] == 15
    assert service["providedBy"] == {"reference": f"Organization/{world.organisation.pk}"}
    found = search(sas, "HealthcareService", {"service-type": "AMB"})
    assert set(ids(found)) == {str(world.first.pk), str(world.follow_up.pk), str(world.flu.pk)}
    Motive.objects.filter(pk=world.first.pk).update(is_active=False)
    assert sas.get(f"/fhir/r4/HealthcareService/{world.first.pk}").status_code == 404


def test_a_staff_only_motive_is_shown_to_partners_not_to_patients(world, sas, user):
    Motive.objects.filter(pk=world.follow_up.pk).update(online=False)
    assert sas.get(f"/fhir/r4/HealthcareService/{world.follow_up.pk}").status_code == 200
    session = FhirClient()
    session.client.force_login(user)
    assert session.get(f"/fhir/r4/HealthcareService/{world.follow_up.pk}").status_code == 404


def test_a_schedule_names_its_actors_and_consultation_types(world, sas):
    schedule = read(sas, "Schedule", world.agenda.pk)
    assert {a["reference"] for a in schedule["actor"]} == {
        f"Practitioner/{world.gp.pk}",
        f"PractitionerRole/{world.agenda.pk}",
    }
    assert {c["coding"][0]["code"] for c in schedule["serviceType"]} == {"AMB", "VR"}
    line = read(sas, "Schedule", world.line.pk)
    assert line["actor"] == [{"reference": f"Location/{world.line.site_id}"}]
    found = search(sas, "Schedule", {"actor": f"Practitioner/{world.gp.pk}"})
    assert ids(found) == [str(world.agenda.pk)]
    assert search(sas, "Schedule", {"actor": f"Location/{world.line.site_id}"})["total"] == 1
    assert search(sas, "Schedule", {"actor": "Patient/1"})["total"] == 0


def test_search_pages_with_count_and_offset(world, sas):
    specialty = Specialty.objects.get(code="medecin-generaliste")
    for n in range(7):
        doctor = Practitioner.objects.create(
            first_name="Jean", last_name=f"Dupont{n}", rpps=valid_rpps(50 + n), specialty=specialty
        )
        Agenda.objects.create(
            organisation=world.organisation, practitioner=doctor, site=world.site, name=f"D{n}"
        )
    first = search(sas, "Practitioner", {"_count": "3"})
    assert first["total"] == 8 and len(first["entry"]) == 3
    links = {link["relation"]: link["url"] for link in first["link"]}
    assert "_offset=3" in links["next"] and "_count=3" in links["next"]
    path = links["next"].split("/fhir/r4", 1)[1]
    second = sas.get(f"/fhir/r4{path}").json()
    assert len(second["entry"]) == 3
    assert not set(ids(first)) & set(ids(second))
    last = search(sas, "Practitioner", {"_count": "3", "_offset": "6"})
    assert len(last["entry"]) == 2
    assert {link["relation"] for link in last["link"]} == {"self", "previous"}
    assert "entry" not in search(sas, "Practitioner", {"_count": "0"})
    assert search(sas, "Practitioner", {"_id": f"{world.gp.pk},999999"})["total"] == 1


@pytest.mark.parametrize("resource_type", list(MODELS))
def test_every_resource_is_declared_read_and_searched(world, sas, resource_type):
    statement = CapabilityStatement.model_validate(sas.get("/fhir/r4/metadata").json())
    declared = {r.type: r for r in statement.rest[0].resource}
    assert {i.code for i in declared[resource_type].interaction} == {"read", "search-type"}
    found = search(sas, resource_type)
    assert found["total"] >= 1
    first = found["entry"][0]
    assert first["fullUrl"].endswith(f"/fhir/r4/{resource_type}/{first['resource']['id']}")
    read(sas, resource_type, first["resource"]["id"])


@pytest.mark.parametrize("resource_type", [*MODELS, "Slot"])
def test_who_may_read_the_directory(world, partners, user, resource_type):
    path = f"/fhir/r4/{resource_type}"
    anonymous = FhirClient().get(path)
    assert anonymous.status_code == 401
    OperationOutcome.model_validate(anonymous.json())
    narrow = FhirClient(token_for(partners.own, "system/Appointment.read")).get(path)
    assert narrow.status_code == 403
    OperationOutcome.model_validate(narrow.json())
    if resource_type != "Slot":
        assert FhirClient(token_for(partners.other)).get(path).status_code == 200
        session = FhirClient()
        session.client.force_login(user)
        assert session.get(path).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/fhir/r4/Practitioner/abc",
        "/fhir/r4/Practitioner/0",
        "/fhir/r4/Practitioner/-1",
        "/fhir/r4/Practitioner/99999999999999999999999",
        "/fhir/r4/Location/1.5",
        "/fhir/r4/Schedule/%20",
        "/fhir/r4/HealthcareService/" + "9" * 300,
    ],
)
def test_ids_that_name_nothing_are_404(world, sas, path):
    answer = sas.get(path)
    assert answer.status_code == 404
    OperationOutcome.model_validate(answer.json())


@pytest.mark.parametrize(
    "params",
    [
        {"colour": "blue"},
        {"_count": "-1"},
        {"_count": "x"},
        {"_count": "9" * 40},
        {"_offset": "-3"},
        {"_offset": "9" * 12},
        {"name": ""},
        {"name": "a" * 500},
        {"_id": ",".join(["1"] * 101)},
        {"name": "Mar\x00tin"},
        {"_format": "xml"},
    ],
)
def test_hostile_search_parameters_are_4xx(world, sas, params):
    answer = sas.get("/fhir/r4/Practitioner", params)
    assert 400 <= answer.status_code < 500, answer.content
    OperationOutcome.model_validate(answer.json())


def test_a_huge_count_is_cut_to_the_maximum(world, sas):
    assert search(sas, "Organization", {"_count": "999999"})["total"] == 2


def test_writes_are_not_allowed(world, partners):
    own = FhirClient(token_for(partners.own))
    answer = own.post("/fhir/r4/Practitioner", {"resourceType": "Practitioner"})
    assert answer.status_code == 405
    OperationOutcome.model_validate(answer.json())


def test_blank_columns_never_make_an_invalid_resource(world, sas):
    from consulto.directory.models import Site

    Organisation.objects.filter(pk=world.organisation.pk).update(name="  ", phone="")
    Site.objects.filter(pk=world.site.pk).update(name="", address="", postcode="", city=" ")
    Practitioner.objects.filter(pk=world.gp.pk).update(title="", first_name="", languages=",")
    Motive.objects.filter(pk=world.first.pk).update(label=" ")
    organisation = read(sas, "Organization", world.organisation.pk)
    assert "name" not in organisation
    location = read(sas, "Location", world.site.pk)
    assert "address" not in location or location["address"] == {
        "use": "work",
        "type": "physical",
        "country": "FR",
    }
    read(sas, "Practitioner", world.gp.pk)
    read(sas, "PractitionerRole", world.agenda.pk)
    read(sas, "HealthcareService", world.first.pk)
