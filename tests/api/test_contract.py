"""The API does what its README and schema say: 401 without credentials, a JSON 403 for a session
without its CSRF token, every answer declared, strict input, and a 4xx naming the field for
hostile input (out-of-range dates, NUL bytes, integers beyond 64 bits) on both databases."""

import json

import pytest
from django.test import Client

from consulto.api.models import ApiToken
from tests.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(user):
    return ApiToken.issue(user)[1]


def body_of(world, start="", **patient):
    return {
        "agenda": world.agenda.pk,
        "motive": world.follow_up.pk,
        "start": start or at(world.monday, 9).isoformat(),
        "patient": {
            "first_name": "Alice",
            "last_name": "Durand",
            "birth_date": "1980-05-17",
            **patient,
        },
    }


def post(client, path, body, token=None, raw=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = raw if raw is not None else json.dumps(body)
    return client.post(path, data=data, content_type="application/json", headers=headers)


# Authentication ----------------------------------------------------------------------------------


def test_a_booking_without_credentials_answers_401_even_with_csrf_checks(world):
    strict = Client(enforce_csrf_checks=True)
    response = post(strict, "/api/v1/appointments", body_of(world))
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    cancel = post(strict, "/api/v1/appointments/1/cancel", {})
    assert (cancel.status_code, cancel.json()["error"]) == (401, "unauthorized")


def test_a_session_without_its_csrf_token_answers_a_json_403(world, user):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    response = post(strict, "/api/v1/appointments", body_of(world))
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"] == "csrf_failed"
    # Reading needs no token; writing with the token works.
    assert strict.get("/api/v1/appointments").status_code == 200
    strict.get("/")  # sets the csrftoken cookie
    csrf = strict.cookies["csrftoken"].value
    ok = strict.post(
        "/api/v1/appointments",
        data=json.dumps(body_of(world)),
        content_type="application/json",
        headers={"X-CSRFToken": csrf},
    )
    assert ok.status_code == 201, ok.content


def test_a_bearer_token_needs_no_csrf_token(world, token):
    strict = Client(enforce_csrf_checks=True)
    assert post(strict, "/api/v1/appointments", body_of(world), token).status_code == 201


# The schema --------------------------------------------------------------------------------------

DECLARED = {
    ("get", "/api/v1/practitioners"): {"200", "422"},
    ("get", "/api/v1/agendas/{agenda_id}/slots"): {"200", "304", "401", "404", "422"},
    ("get", "/api/v1/appointments"): {"200", "401", "422"},
    ("post", "/api/v1/appointments"): {
        *("200", "201", "400", "401", "403", "409", "413", "422", "429"),
    },
    ("post", "/api/v1/appointments/{appointment_id}/cancel"): {
        *("200", "400", "401", "403", "404", "409", "413", "422"),
    },
}


def test_the_schema_declares_every_answer_with_the_error_shape(client):
    schema = client.get("/api/v1/openapi.json").json()
    for (method, path), statuses in DECLARED.items():
        answers = schema["paths"][path][method]["responses"]
        assert set(answers) == statuses, (method, path)
        if "304" in statuses:  # Not Modified (If-None-Match): no body
            assert "content" not in answers["304"], (method, path)
        for status in statuses - {"200", "201", "304"}:
            ref = answers[status]["content"]["application/json"]["schema"]["$ref"]
            assert ref.endswith("/ErrorOut"), (method, path, status)


# Strict input ------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["false", "[1]", "null", '"x"', "1"])
def test_cancel_takes_a_json_object_or_no_body(client, world, token, raw):
    response = post(client, "/api/v1/appointments/1/cancel", None, token, raw=raw)
    assert response.status_code == 422
    assert "body" in response.json()["fields"]


@pytest.mark.parametrize(
    "start",
    [
        1796806800,  # a number is not taken for a UTC timestamp
        "1796806800",
        "2026-12-14T09:00:00",  # no offset
        "2026-12-14",
        "2026-12-14T09:00:00+99:00",
        "2026-02-30T09:00:00+01:00",
        "0001-01-01T00:00:00.0Z",
        "9999-12-31T23:59:59+00:00",
    ],
)
def test_start_must_be_an_iso_8601_string_with_a_real_offset_and_year(client, world, token, start):
    body = body_of(world)
    body["start"] = start
    response = post(client, "/api/v1/appointments", body, token)
    assert response.status_code == 422, response.content
    assert "start" in response.json()["fields"]


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b: b.update(agenda="1"), "agenda"),  # a string is not an id
        (lambda b: b.update(agenda=True), "agenda"),
        (lambda b: b.update(motive=1.0), "motive"),
        (lambda b: b.update(agenda=2**64), "agenda"),
        (lambda b: b.update(motive=-(2**70)), "motive"),
        (lambda b: b.update(extra="x"), "extra"),
        (lambda b: b["patient"].update(birth_date=0), "patient.birth_date"),
        (lambda b: b["patient"].update(first_name="a\u0000b"), "patient.first_name"),
        (lambda b: b["patient"].update(email="a\u0000@b.fr"), "patient.email"),
        (lambda b: b["patient"].update(last_name=12), "patient.last_name"),
    ],
)
def test_a_booking_with_hostile_fields_gets_422_naming_the_field(
    client, world, token, mutate, field
):
    body = body_of(world)
    mutate(body)
    response = post(client, "/api/v1/appointments", body, token)
    assert response.status_code == 422, response.content
    assert field in response.json()["fields"], response.json()


def test_a_nul_in_the_idempotency_key_gets_422(client, world, token):
    response = client.post(
        "/api/v1/appointments",
        data=json.dumps(body_of(world)),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "a\x00b"},
    )
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["fields"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": "a\x00b"}, "q"),
        ({"specialty": "\x00"}, "specialty"),
        ({"near": "48.8\x00,2.3"}, "near"),
        ({"limit": str(2**64)}, "limit"),
        ({"offset": "99999999999999999999"}, "offset"),
    ],
)
def test_search_refuses_nul_bytes_and_huge_integers(client, world, params, field):
    response = client.get("/api/v1/practitioners", params)
    assert response.status_code == 422
    assert field in response.json()["fields"]


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/agendas/{agenda}/slots", {"start": "0001-01-01"}, "start"),
        ("/api/v1/agendas/{agenda}/slots", {"start": "9999-12-31"}, "start"),
        ("/api/v1/agendas/{agenda}/slots", {"motive": str(2**64)}, "motive"),
        ("/api/v1/agendas/99999999999999999999/slots", {}, "agenda_id"),
    ],
)
def test_slots_refuse_extreme_dates_and_huge_ids(client, world, path, params, field):
    query = {"motive": world.follow_up.pk, **params}
    response = client.get(path.format(agenda=world.agenda.pk), query)
    assert response.status_code == 422, response.content
    assert field in response.json()["fields"]


def test_a_huge_appointment_id_gets_422(client, token):
    response = post(client, f"/api/v1/appointments/{2**64}/cancel", {}, token)
    assert response.status_code == 422
    assert "appointment_id" in response.json()["fields"]
