"""A booking through the API is lean (issue 14): a fixed, small number of queries, and an answer
made from the appointment it wrote, identical to what reading it back gives."""

from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from consulto.notifications.models import Message
from consulto.practice.models import PatientFile
from consulto.scheduling.models import PatientProfile
from tests.api.test_api import booking_body, post
from tests.conftest import at

pytestmark = pytest.mark.django_db

# Token, motive with its agenda, the door, what overlaps the slot (before the lock); the agenda's
# lock, the idempotency key, the account's profiles, the openings, what overlaps the slot; the
# profile, the appointment, whether any organisation has webhooks (cached: read here because each
# test starts with an empty cache), the patient file, the reminder settings, the messages, their
# tasks.
# (Before issue 14: 57 on SQLite.)
MOST_QUERIES = 18


@pytest.fixture
def token(user):
    from consulto.api.models import ApiToken

    return ApiToken.issue(user)[1]


def statements(queries) -> list[str]:
    """The statements that do something (not the test transaction's savepoints)."""
    return [q["sql"] for q in queries if not q["sql"].upper().startswith(("SAVEPOINT", "RELEASE"))]


def test_a_booking_takes_a_fixed_small_number_of_queries(client, world, token):
    with CaptureQueriesContext(connection) as queries:
        response = post(
            client, "/api/v1/appointments", booking_body(world, at(world.monday, 9)), token, key="a"
        )
    assert response.status_code == 201, response.content
    assert len(statements(queries)) <= MOST_QUERIES, "\n".join(statements(queries))
    # Everything a booking writes is there, each written once.
    assert PatientProfile.objects.count() == 1
    assert PatientFile.objects.count() == 1
    assert Message.objects.count() == 5  # confirmation e-mail and SMS, three reminders
    # their five deliveries, and the refresh of the agenda's next availability
    assert DBTaskResult.objects.exclude(task_path__endswith="refresh_availability").count() == 5
    assert DBTaskResult.objects.filter(task_path__endswith="refresh_availability").count() == 1


def test_the_answer_is_what_reading_the_appointment_back_gives(client, world, token):
    # A start written in another offset than the site's: the answer gives it as stored (UTC).
    start = at(world.monday, 9).astimezone(ZoneInfo("America/Cayenne"))
    response = post(client, "/api/v1/appointments", booking_body(world, start), token, key="b")
    assert response.status_code == 201, response.content
    made = response.json()
    listed = client.get("/api/v1/appointments", headers={"Authorization": f"Bearer {token}"}).json()
    assert [a for a in listed if a["id"] == made["id"]] == [made]
    assert made["start"] == start.astimezone(UTC).isoformat().replace("+00:00", "Z")
    replayed = post(client, "/api/v1/appointments", booking_body(world, start), token, key="b")
    assert replayed.status_code == 200
    assert replayed.json() == made


def test_a_second_booking_for_the_same_person_reuses_their_profile_and_file(client, world, token):
    first = post(
        client, "/api/v1/appointments", booking_body(world, at(world.monday, 9)), token, key="c"
    )
    second = post(
        client,
        "/api/v1/appointments",
        booking_body(world, at(world.monday + timedelta(days=1), 9), first_name="ALICE"),
        token,
        key="d",
    )
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["patient"]["id"] == second.json()["patient"]["id"]
    assert PatientProfile.objects.count() == 1
    assert PatientFile.objects.count() == 1
