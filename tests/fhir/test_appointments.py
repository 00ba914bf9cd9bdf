"""Appointments through the FHIR facade (IHE ITI Scheduling): $find, $hold, $book and cancel by
an organisation's software and by a patient, reads and searches scoped to the caller, and every
hostile input answered with a 4xx OperationOutcome."""

from datetime import date, time, timedelta

import pytest
from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient as FhirPatient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consulto.api.models import ApiToken
from consulto.fhir.models import ApiCall
from consulto.fhir.partners import create_partner
from consulto.fhir.refs import SlotId
from consulto.scheduling import booking
from consulto.scheduling.models import Appointment, Opening, PatientProfile
from tests.conftest import PARIS, at

from .conftest import FhirClient, token_for

pytestmark = pytest.mark.django_db

OPERATION = "/fhir/r4/Appointment/${}"
FIND, HOLD, BOOK = (OPERATION.format(name) for name in ("find", "hold", "book"))

ALICE = {
    "resourceType": "Patient",
    "name": [{"family": "Durand", "given": ["Alice"]}],
    "birthDate": "1980-05-17",
    "telecom": [{"system": "phone", "value": "06 12 34 56 78"}],
}


def parameters(*parts) -> dict:
    return {"resourceType": "Parameters", "parameter": list(parts)}


def period(day: date, first: int = 8, last: int = 13) -> list[dict]:
    return [
        {"name": "start", "valueDateTime": at(day, first).isoformat()},
        {"name": "end", "valueDateTime": at(day, last).isoformat()},
    ]


def practitioner(world) -> dict:
    return {"name": "practitioner", "valueReference": {"reference": f"Practitioner/{world.gp.pk}"}}


def reference(logical_id: str) -> dict:
    return {
        "name": "appointment-reference",
        "valueReference": {"reference": f"Appointment/{logical_id}"},
    }


def patient_part(patient: dict = ALICE) -> dict:
    return {"name": "patient-resource", "resource": patient}


def entries(answer) -> list[dict]:
    bundle = Bundle.model_validate(answer.json())
    assert bundle.type == "searchset"
    return [
        e.resource.model_dump(mode="json", exclude_none=True)
        for e in bundle.entry or []
        if e.search.mode == "match"
    ]


def assert_outcome(answer, status: int) -> dict:
    assert answer.status_code == status, answer.content
    OperationOutcome.model_validate(answer.json())
    return answer.json()


@pytest.fixture
def own(partners):
    return FhirClient(token_for(partners.own))


@pytest.fixture
def other(partners):
    return FhirClient(token_for(partners.other))


def proposed_at(client, world, hour: int, *, motive=None) -> str:
    """The id of the proposed appointment at ``hour`` on Monday (the motive's, first if None)."""
    answer = client.post(
        FIND, parameters(*period(world.monday, hour, hour + 1), practitioner(world))
    )
    assert answer.status_code == 200, answer.content
    wanted = at(world.monday, hour)
    motive = motive or world.first
    for resource in entries(answer):
        slot = SlotId.parse(resource["id"].removeprefix("proposed-"))
        if slot.start == wanted and slot.motive_id == motive.pk:
            return resource["id"]
    raise AssertionError(f"no proposed appointment at {wanted}")


# $find ------------------------------------------------------------------------------------------


def test_find_answers_proposed_appointments_of_the_practitioner_in_the_period(world, own):
    answer = own.post(FIND, parameters(*period(world.monday, 9, 10), practitioner(world)))
    assert answer.status_code == 200
    found = entries(answer)
    assert found and all(FhirAppointment.model_validate(r).status == "proposed" for r in found)
    starts = {r["start"] for r in found}
    assert at(world.monday, 9).isoformat() in starts
    assert all(
        at(world.monday, 9).isoformat() <= r["start"] < at(world.monday, 10).isoformat()
        for r in found
    )
    assert answer.json()["total"] == len(found)
    assert found[0]["requestedPeriod"][0]["start"] == at(world.monday, 9).isoformat()
    assert {p["actor"]["reference"] for p in found[0]["participant"]} == {
        f"Practitioner/{world.gp.pk}",
        f"Location/{world.site.pk}",
    }


def test_find_by_get_with_count_and_visit_type(world, own):
    answer = own.get(
        FIND,
        {
            "start": at(world.monday, 9).isoformat(),
            "end": at(world.monday, 12).isoformat(),
            "practitioner": f"Practitioner/{world.gp.pk}",
            "visit-type": "http://terminology.hl7.org/CodeSystem/v3-ActCode|VR",
            "_count": "3",
        },
    )
    assert answer.status_code == 200
    found = entries(answer)
    assert len(found) == 3 and answer.json()["total"] == 12  # 9:00-12:00, 15 minutes each
    assert all(r["description"] == "Téléconsultation" for r in found)


def test_find_by_the_practitioners_rpps_identifier(world, own):
    rpps = {"system": "urn:oid:1.2.250.1.71.4.2.1", "value": f"8{world.gp.rpps}"}
    by_identifier = parameters(
        *period(world.monday, 9, 10),
        {"name": "practitioner", "valueReference": {"identifier": rpps}},
    )
    found = entries(own.post(FIND, by_identifier))
    assert found and all(
        p["actor"].get("identifier") == rpps
        for r in found
        for p in r["participant"]
        if p["actor"]["reference"].startswith("Practitioner/")
    )
    unknown = {**rpps, "value": "8" + "1" * 11}
    by_unknown = parameters(
        *period(world.monday, 9, 10),
        {"name": "practitioner", "valueReference": {"identifier": unknown}},
    )
    assert own.post(FIND, by_unknown).json()["total"] == 0


def test_find_leaves_out_booked_and_held_slots(world, own, patient, user):
    booking.book(
        agenda=world.agenda,
        motive=world.first,
        start=at(world.monday, 9),
        patient=patient,
        booked_by=user,
    )
    booking.hold(agenda=world.agenda, motive=world.first, start=at(world.monday, 10), held_by=None)
    starts = {
        r["start"]
        for r in entries(own.post(FIND, parameters(*period(world.monday), practitioner(world))))
    }
    assert at(world.monday, 9).isoformat() not in starts
    assert at(world.monday, 10).isoformat() not in starts
    assert at(world.monday, 11).isoformat() in starts


def test_find_over_a_long_period_searches_its_first_month_and_says_so(world, own):
    answer = own.post(
        FIND,
        parameters(
            {"name": "start", "valueDateTime": at(world.monday, 8).isoformat()},
            {"name": "end", "valueDateTime": at(world.monday + timedelta(days=200), 8).isoformat()},
            practitioner(world),
            {"name": "_count", "valueInteger": 1},
        ),
    )
    bundle = answer.json()
    assert answer.status_code == 200
    outcomes = [e for e in bundle["entry"] if e["search"]["mode"] == "outcome"]
    assert outcomes and "31" in outcomes[0]["resource"]["issue"][0]["diagnostics"]


def test_a_partner_without_a_named_place_finds_in_its_own_organisation(world, own):
    found = entries(own.post(FIND, parameters(*period(world.monday))))
    assert found and {r["serviceType"][0]["text"] for r in found} >= {"Première consultation"}


def test_the_sas_finds_but_may_not_hold_nor_book(world, partners):
    sas = FhirClient(token_for(partners.sas))
    answer = sas.post(FIND, parameters(*period(world.monday), practitioner(world)))
    assert answer.status_code == 200 and entries(answer)
    assert_outcome(sas.post(HOLD, parameters(reference("x"))), 403)
    assert_outcome(sas.post(BOOK, parameters(reference("x"))), 403)
    # Without a practitioner, place or specialty, the SAS (no organisation) is asked for one.
    assert_outcome(sas.post(FIND, parameters(*period(world.monday))), 400)


# $hold and $book --------------------------------------------------------------------------------


def test_hold_then_book_by_the_organisations_software(world, own, partners):
    proposed = proposed_at(own, world, 10)
    held = entries(own.post(HOLD, parameters(reference(proposed))))
    assert len(held) == 1 and held[0]["status"] == "pending"
    until = Appointment.objects.get(pk=held[0]["id"]).hold_expires_at.astimezone(PARIS)
    assert until.isoformat() in held[0]["comment"]  # the client is told until when
    assert held[0]["start"] == at(world.monday, 10).isoformat()
    # The held time is not offered any more.
    again = own.post(FIND, parameters(*period(world.monday), practitioner(world)))
    assert at(world.monday, 10).isoformat() not in {r["start"] for r in entries(again)}

    answer = own.post(BOOK, parameters(reference(held[0]["id"]), patient_part()))
    assert answer.status_code == 200, answer.content
    (booked,) = entries(answer)
    FhirAppointment.model_validate(booked)
    assert booked["status"] == "booked" and booked["id"] == held[0]["id"]
    row = Appointment.objects.get(pk=booked["id"])
    assert row.status == Appointment.Status.BOOKED
    assert row.channel == Appointment.Channel.API
    assert row.booked_by == partners.own[0].application.user  # the partner's service account
    assert (row.patient.first_name, row.patient.last_name) == ("Alice", "Durand")
    assert row.patient.owner is None
    assert f"Patient/{row.patient_id}" in {p["actor"]["reference"] for p in booked["participant"]}
    # Retried (the hold's reference), the same appointment comes back.
    retried = own.post(BOOK, parameters(reference(held[0]["id"]), patient_part()))
    assert retried.status_code == 200 and entries(retried)[0]["id"] == booked["id"]
    assert Appointment.objects.filter(status="booked").count() == 1
    assert ApiCall.objects.filter(partner=partners.own[0], path=BOOK, status=200).count() == 2


def test_book_a_proposed_appointment_directly_with_a_contained_patient(world, own):
    proposed = proposed_at(own, world, 11)
    resource = {
        "resourceType": "Appointment",
        "id": proposed,
        "status": "pending",
        "contained": [{**ALICE, "id": "p1"}],
        "participant": [{"actor": {"reference": "#p1"}, "status": "accepted"}],
        "identifier": [{"system": "urn:example:his", "value": "RDV-42"}],
    }
    first = own.post(BOOK, parameters({"name": "appointment-resource", "resource": resource}))
    assert first.status_code == 200, first.content
    (booked,) = entries(first)
    assert booked["status"] == "booked" and booked["start"] == at(world.monday, 11).isoformat()
    # The identifier makes a retry idempotent.
    second = own.post(BOOK, parameters({"name": "appointment-resource", "resource": resource}))
    assert second.status_code == 200 and entries(second)[0]["id"] == booked["id"]


def test_idempotency_key_header_replays_and_a_taken_slot_is_409(world, own, other):
    proposed = proposed_at(own, world, 9)
    body = parameters(reference(proposed), patient_part())
    first = own.post(BOOK, body, HTTP_IDEMPOTENCY_KEY="k-1")
    again = own.post(BOOK, body, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 200
    assert entries(first)[0]["id"] == entries(again)[0]["id"]
    taken = other.post(BOOK, body, HTTP_IDEMPOTENCY_KEY="k-1")
    issue = assert_outcome(taken, 409)["issue"][0]
    assert issue["code"] == "conflict" and "pris" in issue["diagnostics"]
    # The same key for another slot is refused.
    reused = own.post(
        BOOK,
        parameters(reference(proposed_at(own, world, 10)), patient_part()),
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert_outcome(reused, 422)


def test_holding_a_taken_slot_is_a_fatal_not_found(world, own, other):
    proposed = proposed_at(own, world, 9)
    assert own.post(HOLD, parameters(reference(proposed))).status_code == 200
    issue = assert_outcome(other.post(HOLD, parameters(reference(proposed))), 409)["issue"][0]
    assert (issue["severity"], issue["code"]) == ("fatal", "not-found")


def test_another_organisations_software_books_only_what_professionals_see(world, other):
    proposed = proposed_at(other, world, 14)
    answer = other.post(BOOK, parameters(reference(proposed), patient_part()))
    assert answer.status_code == 200
    # It reads what it booked; the organisation's own software too.
    pk = entries(answer)[0]["id"]
    assert other.get(f"/fhir/r4/Appointment/{pk}").status_code == 200


def test_cancel_by_book_with_status_cancelled(world, own, partners):
    proposed = proposed_at(own, world, 15)
    booked = entries(own.post(BOOK, parameters(reference(proposed), patient_part())))[0]
    cancel = parameters(
        {
            "name": "appointment-resource",
            "resource": {
                **{k: booked[k] for k in ("resourceType", "id", "start", "end", "participant")},
                "status": "cancelled",
                "cancelationReason": {"text": "Médecin absent"},
            },
        }
    )
    answer = own.post(BOOK, cancel)
    assert answer.status_code == 200, answer.content
    (cancelled,) = entries(answer)
    assert cancelled["status"] == "cancelled"
    row = Appointment.objects.get(pk=booked["id"])
    assert row.status == "cancelled" and row.cancelled_by_practice
    assert row.cancel_reason == "Médecin absent"
    # The slot is free again at once.
    assert proposed_at(own, world, 15) == proposed
    # Cancelling again answers the cancelled appointment.
    assert entries(own.post(BOOK, cancel))[0]["status"] == "cancelled"


def test_move_by_book_with_status_booked_and_a_new_start(world, own):
    proposed = proposed_at(own, world, 9)
    booked = entries(own.post(BOOK, parameters(reference(proposed), patient_part())))[0]
    move = {**booked, "status": "booked", "start": at(world.monday, 11).isoformat()}
    del move["end"]  # the motive's duration decides
    body = parameters({"name": "appointment-resource", "resource": move})
    answer = own.post(BOOK, body)
    assert answer.status_code == 200, answer.content
    (moved,) = entries(answer)
    assert moved["status"] == "booked" and moved["id"] != booked["id"]
    assert (moved["start"], moved["end"]) == (
        at(world.monday, 11).isoformat(),
        at(world.monday, 11, 30).isoformat(),
    )
    old = Appointment.objects.get(pk=booked["id"])
    assert old.status == "cancelled" and old.rescheduled_to.pk == int(moved["id"])
    assert proposed_at(own, world, 9) == proposed  # the old time is free again
    # Retried, the same move answers the same appointment.
    assert entries(own.post(BOOK, body))[0]["id"] == moved["id"]
    # A time that is not a slot is refused, and nothing moves.
    odd = {**move, "id": moved["id"], "start": at(world.monday, 12, 45).isoformat()}
    refused = own.post(BOOK, parameters({"name": "appointment-resource", "resource": odd}))
    assert_outcome(refused, 422)
    assert Appointment.objects.get(pk=moved["id"]).status == "booked"


def test_a_hold_can_be_given_back_by_cancelling_it(world, own):
    proposed = proposed_at(own, world, 16)
    held = entries(own.post(HOLD, parameters(reference(proposed))))[0]
    resource = {
        "resourceType": "Appointment",
        "id": held["id"],
        "status": "cancelled",
        "participant": held["participant"],
    }
    answer = own.post(BOOK, parameters({"name": "appointment-resource", "resource": resource}))
    assert entries(answer)[0]["status"] == "cancelled"
    assert proposed_at(own, world, 16) == proposed


# A patient with their own API token --------------------------------------------------------------


@pytest.fixture
def alice(user, patient):
    _token, raw = ApiToken.issue(user)
    return FhirClient(raw)


def test_a_patient_books_moves_and_cancels_for_themself(world, alice, user, patient):
    proposed = proposed_at(alice, world, 9)
    held = entries(alice.post(HOLD, parameters(reference(proposed))))[0]
    answer = alice.post(BOOK, parameters(reference(held["id"]), patient_part()))
    assert answer.status_code == 200, answer.content
    row = Appointment.objects.get(pk=entries(answer)[0]["id"])
    assert row.patient == patient and row.booked_by == user
    mine = entries(alice.get("/fhir/r4/Appointment", {"patient": f"Patient/{patient.pk}"}))
    assert [r["id"] for r in mine] == [str(row.pk)]
    read = alice.get(f"/fhir/r4/Patient/{patient.pk}")
    assert read.status_code == 200
    assert FhirPatient.model_validate(read.json()).birthDate == date(1980, 5, 17)
    move = {
        "resourceType": "Appointment",
        "id": str(row.pk),
        "status": "booked",
        "start": at(world.monday, 10).isoformat(),
        "participant": held["participant"],
    }
    moved = entries(
        alice.post(BOOK, parameters({"name": "appointment-resource", "resource": move}))
    )
    assert moved[0]["start"] == at(world.monday, 10).isoformat()
    cancel = {
        "resourceType": "Appointment",
        "id": moved[0]["id"],
        "status": "cancelled",
        "participant": held["participant"],
    }
    answer = alice.post(BOOK, parameters({"name": "appointment-resource", "resource": cancel}))
    assert entries(answer)[0]["status"] == "cancelled"


def test_a_slot_kept_for_known_patients_is_booked_only_for_a_person_the_practice_knows(
    world, alice, patient
):
    opening = Opening.objects.create(
        agenda=world.agenda, site=world.site, weekday=5, start_time=time(9), end_time=time(12),
        valid_from=world.monday, visibility=Opening.Visibility.KNOWN_PATIENTS,
    )  # fmt: skip
    opening.motives.set([world.first])
    saturday = world.monday + timedelta(days=5)
    last_month = world.monday - timedelta(days=28)
    Appointment.objects.create(
        agenda=world.agenda, motive=world.first, patient=patient, start=at(last_month, 9),
        end=at(last_month, 9, 30), status=Appointment.Status.SEEN,
    )  # fmt: skip
    found = alice.post(FIND, parameters(*period(saturday, 9, 10), practitioner(world)))
    proposed = entries(found)[0]
    assert proposed["start"] == at(saturday, 9).isoformat()
    held = entries(alice.post(HOLD, parameters(reference(proposed["id"]))))[0]
    paul = {**ALICE, "name": [{"family": "Durand", "given": ["Paul"]}], "birthDate": "2010-01-01"}
    refused = alice.post(BOOK, parameters(reference(held["id"]), patient_part(paul)))
    assert_outcome(refused, 422)
    answer = alice.post(BOOK, parameters(reference(held["id"]), patient_part()))
    assert answer.status_code == 200, answer.content
    assert Appointment.objects.get(pk=entries(answer)[0]["id"]).patient == patient


def test_a_browser_session_reads_but_does_not_book(world, client, user, patient):
    client.force_login(user)
    answer = client.post(FIND, {"x": 1}, content_type="application/fhir+json")
    assert_outcome(answer, 401)
    assert client.get("/fhir/r4/Appointment").status_code == 200


# Reads and searches -----------------------------------------------------------------------------


@pytest.fixture
def booked(world, patient, user):
    return booking.book(
        agenda=world.agenda,
        motive=world.first,
        start=at(world.monday, 9),
        patient=patient,
        booked_by=user,
    )


def test_reads_are_scoped_to_the_caller(world, own, other, booked, alice, django_user_model):
    path = f"/fhir/r4/Appointment/{booked.pk}"
    answer = own.get(path)
    assert answer.status_code == 200
    FhirAppointment.model_validate(answer.json())
    assert_outcome(other.get(path), 404)
    assert alice.get(path).status_code == 200
    stranger = django_user_model.objects.create_user(email="eve@example.org", password="x" * 12)
    assert_outcome(FhirClient(ApiToken.issue(stranger)[1]).get(path), 404)
    assert_outcome(FhirClient().get(path), 401)
    for operation in (FIND, HOLD, BOOK):
        assert_outcome(FhirClient().post(operation, parameters()), 401)
    assert_outcome(FhirClient().get("/fhir/r4/Appointment"), 401)
    patient_path = f"/fhir/r4/Patient/{booked.patient_id}"
    assert own.get(patient_path).status_code == 200
    assert_outcome(other.get(patient_path), 404)
    reader = create_partner(
        name="Lecteur",
        kind="organisation",
        organisation=world.organisation,
        scopes=["system/Slot.read"],
    )
    assert_outcome(FhirClient(token_for(reader)).get(path), 403)
    assert_outcome(FhirClient(token_for(reader)).get(patient_path), 403)
    assert_outcome(FhirClient(token_for(reader)).post(BOOK, parameters()), 403)


def test_search_by_date_status_and_actor(world, own, booked, patient):
    cases = {
        (("date", world.monday.isoformat()),): 1,
        (("date", f"gt{world.monday.isoformat()}"),): 0,
        (("date", f"ge{at(world.monday, 9).isoformat()}"), ("date", "lt2100-01-01")): 1,
        (("status", "booked"),): 1,
        (("status", "cancelled,noshow"),): 0,
        (("actor", f"Practitioner/{world.gp.pk}"),): 1,
        (("actor", f"Patient/{patient.pk}"),): 1,
        (("patient", f"Patient/{patient.pk + 1}"),): 0,
        (("location", str(world.site.pk)),): 1,
        (("_count", "0"),): 1,
    }
    for params, total in cases.items():
        answer = own.get("/fhir/r4/Appointment", dict(params))
        assert answer.status_code == 200, (params, answer.content)
        assert answer.json()["total"] == total, params
    assert len(entries(own.get("/fhir/r4/Appointment", {"_count": "0"}))) == 0
    form = "application/x-www-form-urlencoded"
    posted = own.client.post(
        "/fhir/r4/Appointment/_search", "status=booked", content_type=form, **own.headers
    )
    assert posted.status_code == 200 and posted.json()["total"] == 1


# Hostile inputs ---------------------------------------------------------------------------------


def span(start, end) -> list[dict]:
    return [{"name": "start", "valueDateTime": start}, {"name": "end", "valueDateTime": end}]


HOSTILE_FINDS = [
    [],  # no start nor end
    span("99999-01-01T00:00:00Z", "2027-01-01"),
    span(20270101, "2027-01-01"),
    span("2027-01-02", "2027-01-01"),
    [
        {"name": "start", "valueString": "ge2027-01-01"},
        {"name": "end", "valueString": "2027-01-02"},
    ],
    [
        *span("2027-01-01", "2027-01-02"),
        {"name": "practitioner", "valueReference": {"reference": "Location/1"}},
    ],
    [*span("2027-01-01", "2027-01-02"), {"name": "_count", "valueString": "-1"}],
    [*span("2027-01-01", "2027-01-02"), {"name": "start", "valueDateTime": "2027-01-01"}],
]


@pytest.mark.parametrize("parts", HOSTILE_FINDS)
def test_hostile_find_parameters_are_400(world, own, parts):
    assert_outcome(own.post(FIND, parameters(*parts)), 400)


def test_hostile_bodies_and_ids_are_4xx(world, own):
    big = "9" * 30
    for body, status in [
        ({"resourceType": "Patient"}, 400),
        ([1, 2], 400),
        ({"resourceType": "Parameters", "parameter": "nope"}, 400),
        ({"resourceType": "Parameters", "parameter": [{"name": 5}]}, 400),
        (parameters(), 400),
        (parameters(reference(f"proposed-{big}-{big}-{big}")), 404),
        (parameters(reference(f"proposed-1-1-{10**11}")), 404),
        (parameters(reference(big)), 404),
        (parameters(reference("Appointment")), 404),
        (parameters({"name": "appointment-reference", "valueString": "x"}), 400),
        (
            parameters({"name": "appointment-resource", "resource": {"resourceType": "Patient"}}),
            400,
        ),
        (
            parameters(
                {
                    "name": "appointment-resource",
                    "resource": {
                        "resourceType": "Appointment",
                        "status": "booked",
                        "participant": [
                            {"actor": {"reference": "Patient/1"}, "status": "accepted"}
                        ],
                    },
                }
            ),
            400,
        ),
        (
            parameters(
                {
                    "name": "appointment-resource",
                    "resource": {
                        "resourceType": "Appointment",
                        "status": "proposed",
                        "participant": [
                            {"actor": {"reference": "Patient/1"}, "status": "accepted"}
                        ],
                    },
                }
            ),
            400,
        ),
    ]:
        answer = own.post(BOOK, body)
        assert_outcome(answer, status)
    raw = own.client.post(
        BOOK,
        '{"resourceType": "Parameters", "x": ' + "1" * 5000 + "}",
        content_type="application/fhir+json",
        **own.headers,
    )
    assert_outcome(raw, 400)
    named = {**ALICE, "name": [{"family": "Du\x00rand", "given": ["Alice"]}]}
    proposed = proposed_at(own, world, 9)
    assert_outcome(own.post(BOOK, parameters(reference(proposed), patient_part(named))), 400)
    deep = {"resourceType": "Parameters", "parameter": [{"name": "x", "part": []}]}
    for _level in range(100):
        deep = {"resourceType": "Parameters", "parameter": [{"name": "x", "resource": deep}]}
    assert_outcome(own.post(BOOK, deep), 400)
    nul = own.client.post(
        BOOK,
        '{"resourceType": "Parameters\\u0000"}',
        content_type="application/fhir+json",
        **own.headers,
    )
    assert_outcome(nul, 400)
    for logical in (big, "0", "-1", "abc", "1" * 100, f"proposed-1-1-{10**9}"):
        assert_outcome(own.get(f"/fhir/r4/Appointment/{logical}"), 404)
        assert_outcome(own.get(f"/fhir/r4/Patient/{logical}"), 404)
    for logical in ("%00", "1%00"):
        assert own.get(f"/fhir/r4/Appointment/{logical}").status_code == 400
    for params in (
        {"date": "99999-01-01"},
        {"date": "ap2027-01-01"},
        {"_count": "x"},
        {"actor": "Foo/1"},
        {"date": "2027-02-30"},
    ):
        assert_outcome(own.get("/fhir/r4/Appointment", params), 400)


def test_bad_patients_are_400(world, own):
    proposed = proposed_at(own, world, 9)
    for patient in (
        {"resourceType": "Patient"},
        {**ALICE, "birthDate": "2999-01-01"},
        {**ALICE, "birthDate": "1980-02-30"},
        {**ALICE, "name": [{"family": "Durand"}]},
        {**ALICE, "telecom": [{"system": "phone", "value": "call me"}]},
    ):
        answer = own.post(BOOK, parameters(reference(proposed), patient_part(patient)))
        assert answer.status_code == 400, (patient, answer.content)
        OperationOutcome.model_validate(answer.json())
    two = own.post(BOOK, parameters(reference(proposed), patient_part(), patient_part()))
    assert_outcome(two, 422)
    assert not PatientProfile.objects.filter(owner=None).exists()


def test_a_time_in_the_spring_forward_gap_is_read_past_the_gap(world, own):
    # 2027-03-28 02:30 does not exist in Paris: read as 03:30, the search still answers.
    answer = own.get(
        FIND,
        {
            "start": "2027-03-28T02:30:00",
            "end": "2027-03-29T12:00:00",
            "practitioner": f"Practitioner/{world.gp.pk}",
        },
    )
    assert answer.status_code == 200
    Bundle.model_validate(answer.json())


def test_the_capability_statement_declares_the_ihe_operations(world):
    statement = FhirClient().get("/fhir/r4/metadata").json()
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert {o["name"] for o in resources["Appointment"]["operation"]} == {"find", "hold", "book"}
    assert "Patient" in resources
    assert any("IHE.Scheduling.server" in url for url in statement["instantiates"])


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.sampled_from(["2027-03-28T02:30:00", "99999-01-01", "Appointment/proposed-1-1-1", "#p"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
part_names = st.sampled_from(
    ["start", "end", "practitioner", "appointment-reference", "appointment-resource",
     "patient-resource", "comment", "_count", "visit-type", "specialty", "organization"]
)  # fmt: skip
value_keys = st.sampled_from(
    ["valueDateTime", "valueString", "valueReference", "valueInteger", "resource", "valueCode"]
)
parts_strategy = st.lists(
    st.fixed_dictionaries({"name": part_names}).flatmap(
        lambda part: st.dictionaries(value_keys, json_values, max_size=2).map(
            lambda values: {**part, **values}
        )
    ),
    max_size=4,
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=parts_strategy)
def test_no_parameters_body_is_answered_with_a_500(world, own, parts):
    for path in (FIND, HOLD, BOOK):
        answer = own.post(path, parameters(*parts))
        assert answer.status_code < 500, (path, parts, answer.content)
        assert answer.json()["resourceType"] in ("Bundle", "OperationOutcome")


query_values = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=40
) | st.sampled_from(["ge2027-01-01", "2027-13-01", "sa2099-12-31T23:59:59+14:00", "Patient/1"])
query_names = st.sampled_from(
    ["date", "status", "patient", "practitioner", "location", "actor", "identifier", "_id",
     "_count", "start", "end", "specialty", "visit-type", "location-string", "organization"]
)  # fmt: skip


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.dictionaries(query_names, query_values, max_size=4))
def test_no_query_string_is_answered_with_a_500(world, own, query):
    for path in (FIND, "/fhir/r4/Appointment"):
        answer = own.get(path, query)
        assert answer.status_code < 500, (path, query, answer.content)
        assert answer.json()["resourceType"] in ("Bundle", "OperationOutcome")


def test_search_includes_the_practitioner_place_and_patient_once(world, own, booked, patient):
    second = booking.book(
        agenda=world.agenda, motive=world.first, start=at(world.monday, 10), patient=patient,
        booked_by=booked.booked_by,
    )  # fmt: skip
    answer = own.get(
        "/fhir/r4/Appointment",
        {"date": world.monday.isoformat(), "_include": ["Appointment:actor"]},
    )
    assert answer.status_code == 200, answer.content
    bundle = answer.json()
    Bundle.model_validate(bundle)
    modes = [(e["resource"]["resourceType"], e["search"]["mode"]) for e in bundle["entry"]]
    assert modes.count(("Appointment", "match")) == 2 and bundle["total"] == 2
    included = {(e["resource"]["resourceType"], e["resource"]["id"]) for e in bundle["entry"]
                if e["search"]["mode"] == "include"}  # fmt: skip
    assert included == {
        ("Practitioner", str(world.gp.pk)),
        ("Location", str(world.agenda.site_id)),
        ("Patient", str(patient.pk)),
    }
    assert len([e for e in bundle["entry"] if e["search"]["mode"] == "include"]) == 3
    patient_entry = next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    FhirPatient.model_validate(patient_entry["resource"])
    references = {
        p["actor"]["reference"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Appointment"
        for p in e["resource"]["participant"]
        if "reference" in p.get("actor", {})
    }
    assert {f"{kind}/{pk}" for kind, pk in included} <= references
    assert second.pk


def test_an_include_not_served_or_of_patients_without_the_scope_is_refused(world, partners, booked):
    own = FhirClient(token_for(partners.own))
    answer = own.get("/fhir/r4/Appointment", {"_include": "Appointment:supporting-info"})
    assert answer.status_code == 400
    assert answer.json()["issue"][0]["expression"] == ["_include"]
    slots_only = FhirClient(token_for(partners.own, scope="system/Appointment.read"))
    refused = slots_only.get("/fhir/r4/Appointment", {"_include": "Appointment:patient"})
    assert refused.status_code == 403
    places = slots_only.get("/fhir/r4/Appointment", {"_include": "Appointment:location"})
    assert places.status_code == 200
    assert {e["resource"]["resourceType"] for e in places.json()["entry"]} == {
        "Appointment",
        "Location",
    }
