"""Appointments a regulator books are reported to the SAS platform (FrAppointmentSAS): created by
POST, then updated by a PUT conditional on our identifier; every payload is checked with
fhir.resources by a real local server standing in for the platform."""

from datetime import UTC, timedelta

import pytest
from django.utils import timezone
from fhir.resources.R4B.appointment import Appointment as FhirAppointment

from consulto.directory.models import Practitioner, Specialty
from consulto.fhir import refs, sas_reports
from consulto.fhir.models import SasReport
from consulto.referral import services as cases
from consulto.scheduling import booking
from consulto.scheduling.models import Appointment
from tests.conftest import at, valid_rpps
from tests.fhir.hook_receiver import Answer, Receiver
from tests.referral import conftest as referral_fixtures

pytestmark = pytest.mark.django_db

regulation, case = referral_fixtures.regulation, referral_fixtures.case
sms_outbox = referral_fixtures.sms_outbox

Status = SasReport.Status
OUTCOME = {
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "error", "code": "business-rule", "diagnostics": "Créneau inconnu"}],
}


@pytest.fixture
def platform(settings):
    """The SAS platform's appointment API: it refuses (400) what fhir.resources refuses."""
    with Receiver() as running:
        settings.CONSULTO_SAS_APPOINTMENT_URL = f"{running.url}/sas/fhir"
        running.valid = []

        def check(request):
            try:
                running.valid.append(FhirAppointment.model_validate_json(request.body))
            except ValueError as invalid:
                issue = {"severity": "error", "code": "structure", "diagnostics": str(invalid)}
                return Answer(400, {**OUTCOME, "issue": [issue]})
            answer = running.next()
            if answer.status == 0:  # what the platform answers when it takes it
                if request.method == "POST":
                    return Answer(201, headers={"Location": "/sas/fhir/Appointment/77"})
                return Answer(200, headers={"Location": "/sas/fhir/Appointment/77"})
            return answer

        running.check = check
        running.answer(0)
        yield running


def z(moment) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def book_for(case, w, hour=9):
    return cases.book_for_case(
        case=case, agenda_id=w.agenda.pk, motive_id=w.first.pk, start=at(w.monday, hour),
        by=w.regulator,
    )  # fmt: skip


def regulator_practitioner(w) -> Practitioner:
    return Practitioner.objects.create(
        first_name="Rémi",
        last_name="Gulateur",
        rpps=valid_rpps(7),
        specialty=Specialty.objects.get(code="medecin-generaliste"),
        user=w.regulator,
    )


def test_a_regulators_booking_is_created_on_the_platform(regulation, case, platform):
    w = regulation
    operator = regulator_practitioner(w)
    appointment = book_for(case, w)
    report = SasReport.objects.get()
    assert report.status == Status.PENDING  # written with the booking
    assert sas_reports.send(report_id=report.pk) == Status.DELIVERED
    (sent,) = platform.requests
    assert (sent.method, sent.path, sent.query) == ("POST", "/sas/fhir/Appointment", {})
    assert sent.headers["content-type"] == "application/fhir+json"
    body = sent.json()
    assert body["meta"]["profile"] == ["http://sas.fr/fhir/StructureDefinition/FrAppointmentSAS"]
    assert body["identifier"] == [
        {"system": refs.identifier_system("appointment"), "value": str(appointment.pk)}
    ]
    assert body["status"] == "booked"
    assert body["start"] == z(appointment.start)
    assert body["end"] == z(appointment.end)
    assert "created" in body
    (participant,) = body["participant"]
    assert participant["status"] == "accepted"
    assert participant["actor"]["identifier"]["system"] == "urn:oid:1.2.250.1.71.4.2.1"
    assert participant["actor"]["identifier"]["value"] == "8" + w.gp.rpps
    assert participant["actor"]["identifier"]["type"]["coding"][0]["code"] == "IDNPS"
    (extension,) = body["extension"]
    assert extension["url"] == (
        "http://interopsante.org/fhir/StructureDefinition/FrAppointmentOperator"
    )
    operator_id = extension["valueReference"]["identifier"]
    assert operator_id["value"] == "8" + operator.rpps
    assert operator_id["type"]["coding"] == [
        {"system": "http://interopsante.org/fhir/CodeSystem/fr-v2-0203", "code": "IDNPS"}
    ]
    # Nothing of the patient: no name, no reason of the call.
    assert b"Morel" not in sent.body and "Fièvre".encode() not in sent.body
    assert len(platform.valid) == 1
    report.refresh_from_db()
    assert (report.method, report.last_status_code) == ("POST", 201)


def test_a_move_then_a_cancellation_update_the_same_appointment(regulation, case, platform):
    w = regulation
    first = book_for(case, w)
    sas_reports.send_due()
    case.refresh_from_db()
    moved = regulation_move(case, w, at(w.monday, 10))
    sas_reports.send_due()
    case.refresh_from_db()
    cancelled_case = regulation_cancel(case, w)
    assert cancelled_case.outcome == "open"
    sas_reports.send_due()
    methods = [(r.method, r.query) for r in platform.requests]
    token = f"{refs.identifier_system('appointment')}|{first.pk}"
    assert methods == [
        ("POST", {}),
        ("PUT", {"identifier": [token]}),
        ("PUT", {"identifier": [token]}),
    ]
    created, move, cancel = (r.json() for r in platform.requests)
    assert move["identifier"][0]["value"] == str(first.pk)  # the platform's appointment, moved
    assert move["start"] == z(moved.start)
    assert move["status"] == "booked"
    assert cancel["status"] == "cancelled" and cancel["start"] == move["start"]
    assert created["created"] == move["created"] == cancel["created"]
    assert len(platform.valid) == 3
    assert set(SasReport.objects.values_list("status", flat=True)) == {Status.DELIVERED}


def regulation_move(case, w, start):
    return cases.move_booking(case=case, new_start=start, by=w.regulator)


def regulation_cancel(case, w):
    return cases.cancel_booking(case=case, reason="Patient rappelé", by=w.regulator)


def test_reports_sent_late_or_out_of_order_tell_the_latest_state(regulation, case, platform):
    w = regulation
    book_for(case, w)
    case.refresh_from_db()
    regulation_cancel(case, w)
    booked, cancelled = SasReport.objects.order_by("id")
    assert sas_reports.send(report_id=cancelled.pk) == Status.DELIVERED
    assert sas_reports.send(report_id=booked.pk) == Status.DELIVERED
    first, second = platform.requests
    assert (first.method, second.method) == ("POST", "PUT")
    assert first.json()["status"] == second.json()["status"] == "cancelled"


def test_a_refusal_is_given_up_with_its_operation_outcome(regulation, case, platform):
    platform.answer(Answer(422, OUTCOME))
    book_for(case, regulation)
    report = SasReport.objects.get()
    assert sas_reports.send(report_id=report.pk) == Status.GAVE_UP
    report.refresh_from_db()
    assert (report.last_status_code, report.outcome) == (422, OUTCOME)
    assert sas_reports.send_due() == 0


def test_a_server_error_is_retried_with_backoff(regulation, case, platform, clock):
    platform.answer(500, 503, 0)
    book_for(case, regulation)
    report = SasReport.objects.get()
    assert sas_reports.send(report_id=report.pk) == Status.FAILED
    report.refresh_from_db()
    wait = report.next_attempt_at - timezone.now()
    assert timedelta(seconds=20) < wait <= timedelta(seconds=36)
    assert sas_reports.send(report_id=report.pk) == Status.FAILED  # not due: nothing sent
    assert len(platform.requests) == 1
    clock.move_to(report.next_attempt_at + timedelta(seconds=1))
    assert sas_reports.send_due() == 1
    report.refresh_from_db()
    assert (report.status, report.attempts) == (Status.FAILED, 2)
    clock.move_to(report.next_attempt_at + timedelta(seconds=1))
    assert sas_reports.send(report_id=report.pk) == Status.DELIVERED
    report.refresh_from_db()
    assert report.attempts == 3 and report.method == "POST"


def test_a_platform_that_does_not_answer_in_time_is_retried(
    regulation, case, platform, monkeypatch
):
    monkeypatch.setattr(sas_reports, "TIMEOUT", 0.3)
    platform.answer(Answer(201, delay=1.5))
    book_for(case, regulation)
    report = SasReport.objects.get()
    assert sas_reports.send(report_id=report.pk) == Status.FAILED
    report.refresh_from_db()
    assert "Timeout" in report.last_error


def test_a_regulator_without_an_rpps_is_named_by_our_identifier(regulation, case, platform):
    book_for(case, regulation)
    sas_reports.send_due()
    operator = platform.requests[0].json()["extension"][0]["valueReference"]["identifier"]
    assert operator["type"]["coding"][0]["code"] == "INTRN"
    assert operator["system"] == refs.identifier_system("regulator")
    assert operator["value"] == str(regulation.regulator.pk)


def test_the_practices_day_is_reported_as_the_platform_reads_it(regulation, case, platform, clock):
    w = regulation
    appointment = book_for(case, w)
    booking.set_status(appointment=appointment, status=Appointment.Status.ARRIVED, by=w.regulator)
    assert SasReport.objects.count() == 1  # "arrived" is nothing the platform keeps
    booking.set_status(appointment=appointment, status=Appointment.Status.SEEN, by=w.regulator)
    sas_reports.send_due()
    assert [r.json()["status"] for r in platform.requests] == ["fulfilled", "fulfilled"]


def test_nothing_is_written_without_the_platforms_address(regulation, case, settings):
    settings.CONSULTO_SAS_APPOINTMENT_URL = ""
    book_for(case, regulation)
    assert not SasReport.objects.exists()


def test_a_booking_not_made_by_a_regulator_is_not_reported(world, patient, user, platform):
    appointment = booking.book(
        agenda=world.agenda,
        motive=world.follow_up,
        start=at(world.monday, 9),
        patient=patient,
        booked_by=user,
    )
    booking.cancel(appointment=appointment, by=user)
    assert not SasReport.objects.exists()
