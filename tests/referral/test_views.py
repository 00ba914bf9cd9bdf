"""The console's pages: the gate, a centre's own cases only, bad input as form errors."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from consulto.referral.models import RegulationCase
from consulto.scheduling.models import Appointment
from tests.conftest import at

Outcome = RegulationCase.Outcome
NEW = "/regulation/"

CALL = {
    "caller": "relative",
    "caller_name": "Marc Morel",
    "last_name": "Morel",
    "first_name": "Louise",
    "birth_date": "02/04/1988",
    "phone": "06 11 22 33 44",
    "email": "",
    "postcode": "75019",
    "address": "",
    "need": "gp_48h",
    "specialty": "",
    "reason": "Fièvre depuis deux jours.",
}


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    response = client.get(NEW)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_practitioner_gets_a_clear_403(regulation, client, django_user_model):
    from consulto.directory.models import Membership

    doctor = django_user_model.objects.create_user(email="doc@lilas.test", password="x" * 12)
    Membership.objects.create(user=doctor, organisation=regulation.organisation, role="admin")
    client.force_login(doctor)
    response = client.get(NEW)
    assert response.status_code == 403
    assert "régulation" in response.content.decode()


def test_a_regulator_without_second_factor_is_sent_to_set_one_up(regulation, client):
    from allauth.mfa.models import Authenticator

    Authenticator.objects.filter(user=regulation.regulator).delete()
    client.force_login(regulation.regulator)
    response = client.get(NEW)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


def test_a_call_opens_a_case_and_shows_slots_near_the_patient(regulation, as_user):
    client = as_user(regulation.regulator)
    response = client.post(NEW, CALL)
    assert response.status_code == 302
    case = RegulationCase.objects.get()
    assert (case.phone, case.caller, case.centre) == ("+33611223344", "relative", regulation.samu)
    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert "Dr Claire Martin" in html and "Réserver" in html
    assert "Fièvre depuis deux jours." in html  # decrypted for the regulator (and audited)


@pytest.mark.parametrize(
    "field, value",
    [
        ("last_name", "Mo\x00rel"),
        ("birth_date", "01/01/0001"),
        ("birth_date", "31/02/2000"),
        ("phone", "12"),
        ("postcode", "99999"),
        ("postcode", "7501"),
        ("need", "teleport"),
    ],
)
def test_bad_input_is_a_form_error_not_a_crash(regulation, as_user, field, value):
    client = as_user(regulation.regulator)
    response = client.post(NEW, {**CALL, field: value})
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.content.decode()
    assert not RegulationCase.objects.exists()


def test_a_specialist_need_asks_for_the_specialty(regulation, as_user):
    response = as_user(regulation.regulator).post(NEW, {**CALL, "need": "specialist"})
    assert response.status_code == 400
    assert "spécialité" in response.content.decode()


def test_another_centres_case_is_not_found(case, regulation, as_user):
    client = as_user(regulation.regulator13)
    assert client.get(f"/regulation/dossiers/{case.pk}/").status_code == 404
    response = client.post(f"/regulation/dossiers/{case.pk}/cloturer/", {"outcome": Outcome.ADVICE})
    assert response.status_code == 404
    case.refresh_from_db()
    assert case.outcome == Outcome.OPEN


@pytest.mark.parametrize("pk", ["99999999999999999999999", "0", "-1", "abc", "1e3"])
def test_huge_or_odd_ids_are_not_found(regulation, as_user, pk):
    assert as_user(regulation.regulator).get(f"/regulation/dossiers/{pk}/").status_code == 404


def test_booking_from_the_case_page_and_a_taken_slot_answers_409(case, regulation, as_user):
    w = regulation
    client = as_user(w.regulator)
    slot = {"agenda": w.agenda.pk, "motive": w.first.pk, "start": at(w.monday, 9).isoformat()}
    other = RegulationCase.objects.create(
        centre=w.samu, opened_by=w.regulator, opened_at=timezone.now(), first_name="Paul",
        last_name="Roux", birth_date="1970-01-01", phone="+33600000001", postcode="75019",
        need="gp_48h",
    )  # fmt: skip
    response = client.post(f"/regulation/dossiers/{case.pk}/reserver/", slot)
    assert response.status_code == 302
    assert Appointment.objects.get().patient.first_name == "Louise"
    response = client.post(f"/regulation/dossiers/{other.pk}/reserver/", slot)
    assert response.status_code == 409
    html = response.content.decode()
    assert "plus proposé" in html
    assert "Réserver" in html  # the offers, refreshed
    other.refresh_from_db()
    assert other.outcome == Outcome.OPEN


@pytest.mark.parametrize(
    "slot",
    [
        {"agenda": "99999999999999999999", "motive": "1", "start": "2026-12-14T09:00:00+01:00"},
        {"agenda": "1", "motive": "1", "start": "0001-01-01T00:00:00+00:00"},
        {"agenda": "1", "motive": "1", "start": "2026-12-14T09:00:00"},
        {"agenda": "1", "motive": "1", "start": "demain\x00"},
    ],
)
def test_odd_booking_requests_are_refused_on_the_page(case, regulation, as_user, slot):
    response = as_user(regulation.regulator).post(f"/regulation/dossiers/{case.pk}/reserver/", slot)
    assert response.status_code == 400
    assert not Appointment.objects.exists()


def test_closing_without_an_appointment(case, regulation, as_user):
    client = as_user(regulation.operator)
    response = client.post(f"/regulation/dossiers/{case.pk}/cloturer/", {"outcome": "emergency"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.outcome == Outcome.EMERGENCY and case.closed_by == regulation.operator


def test_the_case_list_shows_the_centres_cases_newest_first_filtered(case, regulation, as_user):
    w = regulation
    RegulationCase.objects.create(
        centre=w.samu13, opened_by=w.regulator13, opened_at=timezone.now(), first_name="Autre",
        last_name="Centre", birth_date="1970-01-01", phone="+33600000001", postcode="13001",
        need="gp_48h",
    )  # fmt: skip
    later = RegulationCase.objects.create(
        centre=w.samu, opened_by=w.regulator, opened_at=timezone.now() + timedelta(minutes=5),
        first_name="Paul", last_name="Roux", birth_date="1970-01-01", phone="+33600000001",
        postcode="75019", need="gp_48h", outcome=Outcome.ADVICE,
    )  # fmt: skip
    client = as_user(w.regulator)
    html = client.get("/regulation/dossiers/").content.decode()
    assert "CENTRE" not in html
    assert html.index("ROUX") < html.index("MOREL")
    html = client.get("/regulation/dossiers/?outcome=advice&days=1").content.decode()
    assert "ROUX" in html and "MOREL" not in html
    assert client.get("/regulation/dossiers/?outcome=x&days=99").status_code == 200
    del later


def test_the_figures_are_for_the_centre_admin(case, regulation, as_user):
    w = regulation
    assert as_user(w.regulator).get("/regulation/chiffres/").status_code == 403
    response = as_user(w.centre_admin).get("/regulation/chiffres/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Cas par jour" in html or "Cases per day" in html
    assert "<svg" in html
