"""core.inputs and what uses it: ids the database can hold, NUL bytes refused, a WebSocket to
nowhere closed with a code, and the 400 page."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from channels.testing.websocket import WebsocketCommunicator
from django.urls import reverse

from consulto.core.inputs import MAX_ID, parse_id, parse_ids
from consulto.scheduling.models import PatientProfile
from tests.practice.conftest import practice  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "value",
    [
        "99999999999999999999",
        str(MAX_ID + 1),
        "²",
        "١",
        "-1",
        "0",
        "1e3",
        " ",
        "",
        None,
        True,
        "1\x00",
    ],
)
def test_an_id_the_database_cannot_hold_is_no_id(value):
    assert parse_id(value) is None


def test_ids_are_read_from_lists_and_commas():
    assert parse_id(" 42 ") == 42 and parse_id(str(MAX_ID)) == MAX_ID
    assert parse_ids(["3,1,x", "2", "99999999999999999999", "3"], limit=3) == [3, 1, 2]


def test_an_id_past_64_bits_in_a_path_is_not_found(client, world):
    assert client.get(f"/praticien/{world.gp.pk}/").status_code in (200, 404)
    assert client.get("/praticien/99999999999999999999/").status_code == 404
    assert client.get(f"/praticien/{MAX_ID + 1}/").status_code == 404
    assert reverse("practitioner", args=[MAX_ID]) == f"/praticien/{MAX_ID}/"


def test_the_audit_trail_filters_take_bounded_ids_and_dates(client, practice):  # noqa: F811
    client.force_login(practice.admin)
    assert client.get("/pro/journal/?actor=99999999999999999999").status_code == 200
    for bad in ("0001-01-01", "9999-12-31"):
        response = client.get(f"/pro/journal/?date_from={bad}&date_to={bad}")
        assert response.status_code == 200
        assert response.content.decode().count("Choisissez une date entre 1900 et 2100.") == 2


def test_a_huge_agenda_id_when_choosing_a_slot_is_not_found(client, world):
    response = client.post(
        "/reserver/",
        {"agenda": "99999999999999999999", "motive": world.first.pk, "start": "2026-12-14T09:00"},
    )
    assert response.status_code == 404


@pytest.mark.parametrize("query", ["?q=a%00b", "?what=%00", "?specialty=%00", "?x%00=1"])
def test_a_nul_byte_in_a_query_string_is_a_bad_request(client, world, query):
    response = client.get("/" + query)
    assert response.status_code == 400
    assert "Demande non valide" in response.content.decode()


def test_a_nul_byte_in_a_path_is_a_bad_request(client):
    assert client.get("/calendrier/a%00b.ics").status_code == 400


def test_a_nul_byte_in_a_form_field_is_a_french_form_error(client, world, user):
    client.force_login(user)
    response = client.post(
        "/proches/",
        {
            "relationship": "child",
            "first_name": "a\x00b",
            "last_name": "Durand",
            "birth_date": "2015-02-03",
        },
    )
    assert response.status_code == 200
    assert "Le caractère nul n’est pas autorisé." in response.content.decode()
    assert not PatientProfile.objects.filter(owner=user).exists()


def test_a_websocket_to_an_unknown_path_is_closed_with_a_code():
    from consulto.asgi import application

    async def connect(path):
        communicator = WebsocketCommunicator(
            application, path, headers=[(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
        )
        connected, code = await communicator.connect(timeout=3)
        await communicator.disconnect()
        return connected, code

    with ThreadPoolExecutor(max_workers=1) as pool:
        for path in ("/ws/nope/", "/ws/visio/99999999999999999999/", "/ws/visio/abc/"):
            assert pool.submit(asyncio.run, connect(path)).result() == (False, 4404)


def test_a_nul_byte_sent_to_the_api_gets_its_json_error(client, world):
    # The API reads its own query strings: the answer names the fields, as its schema declares.
    response = client.get("/api/v1/practitioners?specialty=%00&q=a%00b")
    assert response.status_code == 422
    assert response.json()["error"] == "invalid"
    assert set(response.json()["fields"]) == {"specialty", "q"}
