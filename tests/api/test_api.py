import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from consulto.api.models import ApiToken
from consulto.directory.models import Practitioner, Specialty
from consulto.scheduling.models import Agenda, Appointment, Motive, Opening
from tests.conftest import at, valid_rpps

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(user):
    _token, secret = ApiToken.issue(user)
    return secret


def post(client, path, body, token=None, key=None, raw=None):
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if key:
        headers["Idempotency-Key"] = key
    data = raw if raw is not None else json.dumps(body)
    return client.post(path, data=data, content_type="application/json", headers=headers)


def booking_body(world, start, **patient):
    return {
        "agenda": world.agenda.pk,
        "motive": world.follow_up.pk,
        "start": start.isoformat(),
        "patient": {
            "first_name": "Alice",
            "last_name": "Durand",
            "birth_date": "1980-05-17",
            "phone": "06 12 34 56 78",
            "email": "alice@example.org",
            **patient,
        },
    }


def test_slots_lists_the_week_in_the_sites_zone(client, world):
    response = client.get(
        f"/api/v1/agendas/{world.agenda.pk}/slots",
        {"motive": world.follow_up.pk, "start": world.monday.isoformat(), "days": 7},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["timezone"] == "Europe/Paris"
    starts = [s["start"] for s in body["slots"]]
    assert starts[0] == at(world.monday, 9).isoformat()
    assert len(starts) == 5 * (12 + 16)  # 3 h + 4 h of 15-minute slots, Monday to Friday
    assert at(world.monday, 12).isoformat() not in starts


def test_booking_requires_authentication(client, world):
    response = post(client, "/api/v1/appointments", booking_body(world, at(world.monday, 9)))
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


def test_booking_with_a_token_returns_201_then_the_slot_disappears(client, world, token):
    start = at(world.monday, 9)
    response = post(client, "/api/v1/appointments", booking_body(world, start), token, key="k1")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "booked"
    assert body["practitioner"] == "Dr Claire Martin"
    slots = client.get(
        f"/api/v1/agendas/{world.agenda.pk}/slots",
        {"motive": world.follow_up.pk, "start": world.monday.isoformat(), "days": 1},
    ).json()["slots"]
    assert start.isoformat() not in [s["start"] for s in slots]


def test_a_retry_with_the_same_key_returns_the_first_appointment(client, world, token):
    body = booking_body(world, at(world.monday, 9))
    first = post(client, "/api/v1/appointments", body, token, key="retry-1")
    again = post(client, "/api/v1/appointments", body, token, key="retry-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Appointment.objects.count() == 1


def test_a_taken_slot_answers_409(client, world, token, other_user):
    _t, other = ApiToken.issue(other_user)
    post(client, "/api/v1/appointments", booking_body(world, at(world.monday, 9)), token)
    response = post(client, "/api/v1/appointments", booking_body(world, at(world.monday, 9)), other)
    assert response.status_code == 409
    assert response.json()["error"] == "slot_taken"


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b: b.update(agenda="abc"), "agenda"),
        (lambda b: b.update(agenda=999999), "agenda"),
        (lambda b: b.update(motive=999999), "motive"),
        (lambda b: b.update(start="tomorrow"), "start"),
        (lambda b: b.update(start="2030-01-07T09:00:00"), "start"),
        (lambda b: b["patient"].update(birth_date="2999-01-01"), "patient.birth_date"),
        (lambda b: b["patient"].update(first_name="   "), "patient.first_name"),
        (lambda b: b["patient"].update(email="not-an-email"), "patient.email"),
        (lambda b: b["patient"].update(phone="call me"), "patient.phone"),
        (lambda b: b.pop("patient"), "patient"),
    ],
)
def test_bad_input_gets_422_naming_the_field(client, world, token, mutate, field):
    body = booking_body(world, at(world.monday, 9))
    mutate(body)
    response = post(client, "/api/v1/appointments", body, token)
    assert response.status_code == 422, response.content
    assert field in response.json()["fields"], response.json()


def test_a_start_that_is_not_a_slot_or_is_past_gets_422(client, world, token):
    response = post(
        client, "/api/v1/appointments", booking_body(world, at(world.monday, 9, 7)), token
    )
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_slot"
    past = at(world.monday - timedelta(days=21), 9)
    response = post(client, "/api/v1/appointments", booking_body(world, past), token)
    assert response.status_code == 422
    assert response.json()["error"] == "outside_booking_window"
    assert response.json()["fields"] == {"start": "Cet horaire est passé."}


def test_garbage_and_huge_bodies_get_a_json_4xx(client, world, token):
    for raw in ("{not json", "[]", '"x"', "null"):
        response = post(client, "/api/v1/appointments", None, token, raw=raw)
        assert 400 <= response.status_code < 500
        assert "error" in response.json()
    huge = json.dumps(booking_body(world, at(world.monday, 9), last_name="x" * 400_000))
    response = post(client, "/api/v1/appointments", None, token, raw=huge)
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"


def test_cancel_frees_the_slot_and_another_users_appointment_is_404(
    client, world, token, other_user
):
    created = post(client, "/api/v1/appointments", booking_body(world, at(world.monday, 9)), token)
    appointment_id = created.json()["id"]
    _t, other = ApiToken.issue(other_user)
    stranger = post(client, f"/api/v1/appointments/{appointment_id}/cancel", {}, other)
    assert stranger.status_code == 404
    mine = post(client, f"/api/v1/appointments/{appointment_id}/cancel", {"reason": "x"}, token)
    assert mine.status_code == 200
    assert mine.json()["status"] == "cancelled"
    assert post(client, "/api/v1/appointments/999999/cancel", {}, token).status_code == 404


def test_session_login_works_for_the_api(client, world, user):
    client.force_login(user)
    response = client.get("/api/v1/appointments")
    assert response.status_code == 200


def test_search_returns_practitioners_with_their_next_slots(client, world):
    response = client.get(
        "/api/v1/practitioners", {"specialty": "medecin-generaliste", "near": "48.86,2.35"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    hit = body["results"][0]
    assert hit["name"] == "Dr Claire Martin"
    assert hit["motive"]["label"] == "Première consultation"
    assert hit["next_slots"] and hit["first_available"] == hit["next_slots"][0]["start"]
    assert hit["distance_km"] < 5


def test_search_filters_by_radius_name_and_video(client, world):
    far = client.get("/api/v1/practitioners", {"near": "43.6,1.44", "radius_km": 20}).json()
    assert far["count"] == 0
    assert client.get("/api/v1/practitioners", {"q": "martin"}).json()["count"] == 1
    assert client.get("/api/v1/practitioners", {"q": "dupont"}).json()["count"] == 0
    video = client.get("/api/v1/practitioners", {"mode": "video"}).json()
    assert video["results"][0]["motive"]["mode"] == "video"


def test_search_rejects_bad_parameters_with_json(client, world):
    for params in ({"near": "north"}, {"limit": 0}, {"limit": "x"}, {"sort": "random"}):
        response = client.get("/api/v1/practitioners", params)
        assert response.status_code == 422, params
        assert response.json()["error"] == "invalid"


def add_practitioners(world, n):
    gp = Specialty.objects.get(code="medecin-generaliste")
    first = Practitioner.objects.count()
    for i in range(first, first + n):
        p = Practitioner.objects.create(
            first_name=f"P{i}", last_name="Test", rpps=valid_rpps(100 + i), specialty=gp
        )
        agenda = Agenda.objects.create(
            organisation=world.organisation, practitioner=p, site=world.site, name=str(p)
        )
        motive = Motive.objects.create(agenda=agenda, label="Consultation", duration_minutes=20)
        for source in world.agenda.openings.all():
            opening = Opening.objects.create(
                agenda=agenda,
                site=world.site,
                weekday=source.weekday,
                start_time=source.start_time,
                end_time=source.end_time,
                valid_from=source.valid_from,
            )
            opening.motives.set([motive])


def test_search_query_count_does_not_grow_with_results(client, world):
    add_practitioners(world, 3)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/api/v1/practitioners").json()["count"] == 4
    add_practitioners(world, 12)
    with CaptureQueriesContext(connection) as many:
        assert client.get("/api/v1/practitioners").json()["count"] == 16
    assert len(many) == len(few)


def test_openapi_schema_and_docs_are_served(client):
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert client.get("/api/v1/docs").status_code == 200


def test_the_api_docs_page_loads_nothing_from_another_site(client):
    page = client.get("/api/v1/docs").content.decode()
    assert "swagger-ui-bundle.js" in page
    assert "https://" not in page and "http://" not in page


def test_an_api_booking_writes_its_confirmation_to_the_outbox(client, world, token):
    from consulto.notifications.models import Message

    body = booking_body(world, at(world.monday, 10))
    response = post(client, "/api/v1/appointments", body, token, key="outbox-1")
    assert response.status_code == 201
    assert Message.objects.filter(
        appointment_id=response.json()["id"], purpose="confirmation"
    ).exists()
