"""Whatever a client sends, the API answers with JSON and never with a 500."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consulto.api.models import ApiToken

pytestmark = pytest.mark.django_db

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
fieldish = st.sampled_from(["agenda", "motive", "start", "patient", "first_name", "birth_date"])
booking_like = st.fixed_dictionaries(
    {},
    optional={
        "agenda": json_values | st.integers(-(10**20), 10**20),
        "motive": json_values | st.integers(-(10**20), 10**20),
        "start": json_values
        | st.sampled_from(["2026-13-45T99:00:00+01:00", "2030-01-07T09:00:00Z", "", "now"]),
        "patient": json_values
        | st.fixed_dictionaries(
            {},
            optional={
                "first_name": json_values,
                "last_name": json_values,
                "birth_date": json_values | st.sampled_from(["1980-02-30", "1850-01-01"]),
                "phone": json_values,
                "email": json_values,
            },
        ),
    },
)
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def token(user):
    return ApiToken.issue(user)[1]


def assert_json_4xx_or_ok(response):
    assert response.status_code < 500, response.content
    assert response["Content-Type"].startswith("application/json")
    if response.status_code >= 400:
        assert "error" in response.json()


@SETTINGS
@given(body=booking_like | json_values, key=st.none() | st.text(max_size=200))
def test_booking_never_answers_500(client, world, token, body, key):
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None and key.isprintable() and "\n" not in key:
        headers["Idempotency-Key"] = key
    response = client.post(
        "/api/v1/appointments",
        data=json.dumps(body),
        content_type="application/json",
        headers=headers,
    )
    assert_json_4xx_or_ok(response)


@SETTINGS
@given(
    params=st.dictionaries(
        st.sampled_from(
            ["specialty", "q", "near", "radius_km", "mode", "sort", "limit", "offset", "slots"]
        ),
        st.text(max_size=20) | st.integers(-(10**20), 10**20).map(str),
        max_size=5,
    )
)
def test_search_never_answers_500(client, world, params):
    assert_json_4xx_or_ok(client.get("/api/v1/practitioners", params))


@SETTINGS
@given(
    agenda=st.integers(-(10**20), 10**20) | st.text(max_size=10),
    params=st.dictionaries(
        st.sampled_from(["motive", "start", "days"]),
        st.text(max_size=12) | st.integers(-(10**20), 10**20).map(str),
        max_size=3,
    ),
    _field=fieldish,
)
def test_slots_never_answer_500(client, world, agenda, params, _field):
    from urllib.parse import quote

    response = client.get(f"/api/v1/agendas/{quote(str(agenda), safe='')}/slots", params)
    if response.status_code == 404 and not response["Content-Type"].startswith("application/json"):
        # A path that is not an integer never reaches the API: Django's own 404 page answers.
        assert not str(agenda).lstrip("-").isdigit()
        return
    assert_json_4xx_or_ok(response)
