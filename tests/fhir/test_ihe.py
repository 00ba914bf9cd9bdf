"""IHE ITI Scheduling driven by a real FHIR client (fhirpy) over HTTP: find, hold, book, read,
search and cancel; partners racing for one slot get one booking and a 409."""

import threading

import pytest
from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import OperationOutcome as OutcomeError
from fhirpy.base.exceptions import ResourceNotFound

from consulto.scheduling.models import Appointment
from tests.conftest import at

from .conftest import FhirClient, token_for

pytestmark = pytest.mark.django_db(transaction=True)

ALICE = {
    "resourceType": "Patient",
    "name": [{"family": "Durand", "given": ["Alice"]}],
    "birthDate": "1980-05-17",
    "telecom": [{"system": "email", "value": "alice@example.org"}],
}


def fhir_client(live_server, partner) -> SyncFHIRClient:
    return SyncFHIRClient(
        f"{live_server.url}/fhir/r4", authorization=f"Bearer {token_for(partner)}"
    )


def find_parameters(world, first: int, last: int) -> dict:
    return {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "start", "valueDateTime": at(world.monday, first).isoformat()},
            {"name": "end", "valueDateTime": at(world.monday, last).isoformat()},
            {
                "name": "practitioner",
                "valueReference": {"reference": f"Practitioner/{world.gp.pk}"},
            },
            {"name": "visit-type", "valueString": f"{world.first.pk}"},
        ],
    }


def book_parameters(logical_id: str) -> dict:
    return {
        "resourceType": "Parameters",
        "parameter": [
            {
                "name": "appointment-reference",
                "valueReference": {"reference": f"Appointment/{logical_id}"},
            },
            {"name": "patient-resource", "resource": ALICE},
        ],
    }


def resource_parameters(appointment: dict) -> dict:
    """$hold or $book with the appointment itself (as $find or $hold answered it) and Alice."""
    return {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "appointment-resource", "resource": appointment},
            {"name": "patient-resource", "resource": ALICE},
        ],
    }


def only_appointment(bundle) -> dict:
    checked = Bundle.model_validate(bundle)
    assert checked.total == 1
    (entry,) = checked.entry
    FhirAppointment.model_validate(entry.resource.model_dump(mode="json"))
    return bundle["entry"][0]["resource"]


def test_find_hold_book_read_search_and_cancel_with_fhirpy(world, partners, live_server):
    client = fhir_client(live_server, partners.own)
    found = client.execute("Appointment/$find", data=find_parameters(world, 9, 12))
    Bundle.model_validate(found)
    assert found["total"] == 6  # 9:00 to 12:00, 30 minutes each
    proposed = found["entry"][0]["resource"]
    assert proposed["status"] == "proposed"
    assert proposed["start"] == at(world.monday, 9).isoformat()

    hold = {
        "resourceType": "Parameters",
        "parameter": [
            {
                "name": "appointment-reference",
                "valueReference": {"reference": f"Appointment/{proposed['id']}"},
            }
        ],
    }
    held = only_appointment(client.execute("Appointment/$hold", data=hold))
    assert held["status"] == "pending"

    booked = only_appointment(client.execute("Appointment/$book", data=book_parameters(held["id"])))
    assert (booked["id"], booked["status"]) == (held["id"], "booked")

    read = client.reference("Appointment", booked["id"]).to_resource()
    assert read["status"] == "booked" and read["start"] == at(world.monday, 9).isoformat()
    patient = client.reference(reference=read["participant"][0]["actor"]["reference"]).to_resource()
    assert patient["name"][0]["family"] == "Durand"
    mine = client.resources("Appointment").search(date=world.monday.isoformat()).fetch()
    assert [a["id"] for a in mine] == [booked["id"]]

    cancel = {
        "resourceType": "Parameters",
        "parameter": [
            {
                "name": "appointment-resource",
                "resource": {**dict(read), "status": "cancelled"},
            },
            {"name": "comment", "valueString": "Le patient a appelé"},
        ],
    }
    cancelled = only_appointment(client.execute("Appointment/$book", data=cancel))
    assert cancelled["status"] == "cancelled"
    assert client.resources("Appointment").search(status="booked").fetch() == []
    again = client.execute("Appointment/$find", data=find_parameters(world, 9, 12))
    assert again["total"] == 6  # the slot is offered again


def test_fhirpy_sees_errors_as_operation_outcomes(world, partners, live_server):
    own, other = fhir_client(live_server, partners.own), fhir_client(live_server, partners.other)
    with pytest.raises(ResourceNotFound):
        own.reference("Appointment", "999999").to_resource()
    found = own.execute("Appointment/$find", data=find_parameters(world, 9, 10))
    logical = found["entry"][0]["resource"]["id"]
    own.execute("Appointment/$book", data=book_parameters(logical))
    with pytest.raises(OutcomeError) as refused:
        other.execute("Appointment/$book", data=book_parameters(logical))
    outcome = OperationOutcome.model_validate(refused.value.resource)
    assert outcome.issue[0].code == "conflict"


def race(n: int, attempt) -> list:
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = attempt(i)
        except Exception as error:  # collected and asserted on below
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.mark.concurrency
def test_two_partners_booking_one_slot_at_once_get_one_booking_and_409s(
    world, partners, live_server
):
    clients = [fhir_client(live_server, partners.own), fhir_client(live_server, partners.other)]
    found = clients[0].execute("Appointment/$find", data=find_parameters(world, 14, 15))
    logical = found["entry"][0]["resource"]["id"]
    attempts = 6

    def attempt(i):
        client = clients[i % 2]
        return client._do_request(
            "post",
            "Appointment/$book",
            data=book_parameters(logical),
            extra_headers={"Idempotency-Key": f"race-{i}"},
            returning_status=True,
        )

    results = race(attempts, attempt)
    won = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, OutcomeError)]
    assert len(won) == 1 and won[0][1] == 200, results
    assert len(refused) == attempts - 1, results
    for error in refused:
        assert OperationOutcome.model_validate(error.resource).issue[0].code == "conflict"
    assert Appointment.objects.active().filter(agenda=world.agenda).count() == 1


@pytest.mark.concurrency
def test_one_request_retried_at_once_books_once(world, partners, live_server):
    client = fhir_client(live_server, partners.own)
    found = client.execute("Appointment/$find", data=find_parameters(world, 15, 16))
    logical = found["entry"][0]["resource"]["id"]

    def attempt(i):
        return client._do_request(
            "post",
            "Appointment/$book",
            data=book_parameters(logical),
            extra_headers={"Idempotency-Key": "one-request"},
        )

    results = race(4, attempt)
    ids = {r["entry"][0]["resource"]["id"] for r in results if isinstance(r, dict)}
    assert len(ids) == 1, results
    assert all(isinstance(r, dict) for r in results), results
    assert Appointment.objects.active().filter(agenda=world.agenda).count() == 1


@pytest.mark.parametrize("sent_as", ["pending", "booked"])
def test_the_held_appointment_sent_back_books_the_hold(world, partners, sent_as):
    """An integrator sends back what $hold answered, as is (pending) or marked booked: both
    book the hold, the same appointment, never a 'move' of an appointment not yet booked."""
    client = FhirClient(token_for(partners.own))
    found = client.post("/fhir/r4/Appointment/$find", find_parameters(world, 9, 10)).json()
    proposed = found["entry"][0]["resource"]
    held = only_appointment(
        client.post("/fhir/r4/Appointment/$hold", resource_parameters(proposed)).json()
    )
    assert held["status"] == "pending"
    body = resource_parameters({**held, "status": sent_as})
    answer = client.post("/fhir/r4/Appointment/$book", body)
    assert answer.status_code == 200, answer.content
    booked = only_appointment(answer.json())
    assert (booked["id"], booked["status"]) == (held["id"], "booked")
    assert booked["start"] == at(world.monday, 9).isoformat()


@pytest.mark.parametrize("sent_as", ["proposed", "booked"])
def test_the_proposed_appointment_sent_to_book_books_it(world, partners, sent_as):
    """$book straight from $find, without a hold: the proposed appointment as $find answered it,
    or marked booked."""
    client = FhirClient(token_for(partners.own))
    found = client.post("/fhir/r4/Appointment/$find", find_parameters(world, 9, 10)).json()
    proposed = found["entry"][0]["resource"]
    body = resource_parameters({**proposed, "status": sent_as})
    answer = client.post("/fhir/r4/Appointment/$book", body)
    assert answer.status_code == 200, answer.content
    booked = only_appointment(answer.json())
    assert booked["status"] == "booked" and booked["start"] == at(world.monday, 9).isoformat()
    again = client.post("/fhir/r4/Appointment/$find", find_parameters(world, 9, 10)).json()
    assert again["total"] == found["total"] - 1  # the slot is no longer offered
