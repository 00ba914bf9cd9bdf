"""The webhook pages under /pro/integrations/webhooks/: an organisation admin's alone."""

import pytest

from consulto.fhir import webhooks
from consulto.fhir.models import WebhookDelivery, WebhookEndpoint
from tests.fhir.hook_receiver import Receiver
from tests.practice import conftest as practice_fixtures

pytestmark = pytest.mark.django_db

practice, as_user = practice_fixtures.practice, practice_fixtures.as_user
Event, Status = WebhookEndpoint.Event, WebhookDelivery.Status
BASE = "/pro/integrations/webhooks/"


@pytest.fixture(autouse=True)
def _loopback(settings):
    settings.CONSULTO_WEBHOOKS_ALLOW_LOOPBACK = True


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture
def endpoint(practice):
    made, _secret = webhooks.create_endpoint(
        organisation_id=practice.organisation.pk,
        url="https://hooks.example.org/consulto",
        events=[Event.APPOINTMENT_BOOKED],
        by=practice.admin,
    )
    return made


def test_an_admin_adds_a_webhook_and_sees_its_secret_once(practice, as_user):
    client = as_user(practice.admin)
    assert client.get(BASE).status_code == 200
    form = client.get(BASE + "nouveau/")
    assert form.status_code == 200
    assert b'type="checkbox"' in form.content and b"<legend>" in form.content
    answer = client.post(
        BASE + "nouveau/",
        {
            "org": practice.organisation.pk,
            "url": "https://hooks.example.org/in",
            "events": [Event.APPOINTMENT_BOOKED, Event.APPOINTMENT_CANCELLED],
        },
    )
    assert answer.status_code == 200
    assert "no-store" in answer["Cache-Control"]
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.organisation == practice.organisation
    assert endpoint.created_by == practice.admin
    assert endpoint.event_set == {"appointment.booked", "appointment.cancelled"}
    secret = webhooks.secret_of(endpoint)
    assert secret in answer.content.decode()
    listing = client.get(BASE)
    assert b"https://hooks.example.org/in" in listing.content
    assert secret not in listing.content.decode()
    assert secret not in client.get(BASE + f"{endpoint.pk}/").content.decode()


@pytest.mark.parametrize(
    ("url", "events"),
    [
        ("https://hooks.example.org/\x00in", [Event.APPOINTMENT_BOOKED]),
        ("https://hooks.example.org/" + "a" * 600, [Event.APPOINTMENT_BOOKED]),
        ("http://hooks.example.org/in", [Event.APPOINTMENT_BOOKED]),
        ("https://192.168.1.10/in", [Event.APPOINTMENT_BOOKED]),
        ("javascript:alert(1)", [Event.APPOINTMENT_BOOKED]),
        ("https://hooks.example.org/in", []),
        ("https://hooks.example.org/in", ["appointment.deleted"]),
        ("https://hooks.example.org/in", ["\x00"]),
    ],
)
def test_a_wrong_address_or_event_is_a_form_error(practice, as_user, url, events):
    answer = as_user(practice.admin).post(BASE + "nouveau/", {"url": url, "events": events})
    assert answer.status_code == 400
    assert b'class="error"' in answer.content
    assert not WebhookEndpoint.objects.exists()


def test_an_admin_changes_turns_off_on_and_deletes(practice, as_user, endpoint):
    client = as_user(practice.admin)
    changed = client.post(
        BASE + f"{endpoint.pk}/",
        {"url": "https://hooks.example.org/v2", "events": [Event.PATIENT_FILE_OPENED]},
    )
    assert changed.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.url == "https://hooks.example.org/v2"
    assert endpoint.events == "patient_file.opened"
    client.post(BASE + f"{endpoint.pk}/activation/", {"active": "0"})
    endpoint.refresh_from_db()
    assert not endpoint.active and endpoint.disabled_reason
    assert endpoint.disabled_reason in client.get(BASE).content.decode()
    client.post(BASE + f"{endpoint.pk}/activation/", {"active": "1"})
    endpoint.refresh_from_db()
    assert endpoint.active and not endpoint.disabled_reason
    assert client.get(BASE + f"{endpoint.pk}/suppression/").status_code == 200
    assert client.post(BASE + f"{endpoint.pk}/suppression/").status_code == 302
    assert not WebhookEndpoint.objects.exists()


def test_the_delivery_log_pages_and_sends_again(practice, as_user, receiver):
    endpoint, _secret = webhooks.create_endpoint(
        organisation_id=practice.organisation.pk,
        url=f"{receiver.url}/in",
        events=[Event.APPOINTMENT_BOOKED],
        by=practice.admin,
    )
    client = as_user(practice.admin)
    assert client.post(BASE + f"{endpoint.pk}/test/").status_code == 302
    webhooks.deliver_due()
    for _ in range(30):
        webhooks.send_test_event(endpoint=endpoint)
    log = client.get(BASE + f"{endpoint.pk}/envois/")
    assert log.status_code == 200
    assert b"<caption" in log.content and b'scope="col"' in log.content
    assert b'rel="next"' in log.content
    assert client.get(BASE + f"{endpoint.pk}/envois/?page=2").status_code == 200
    assert client.get(BASE + f"{endpoint.pk}/envois/?page=99999999999999999999").status_code == 200
    first = endpoint.deliveries.order_by("id").first()
    assert first.status == Status.DELIVERED
    replayed = client.post(BASE + f"{endpoint.pk}/envois/{first.pk}/renvoi/")
    assert replayed.status_code == 302
    first.refresh_from_db()
    assert first.status == Status.PENDING
    assert webhooks.deliver(delivery_id=first.pk) == Status.DELIVERED
    ids = [r.headers["consulto-event-id"] for r in receiver.requests]
    assert ids == [str(first.event_id)] * 2


def test_another_organisations_admin_finds_nothing(practice, as_user, endpoint):
    client = as_user(practice.outsider)
    delivery = webhooks.send_test_event(endpoint=endpoint)
    assert client.get(BASE + f"{endpoint.pk}/").status_code == 404
    assert client.get(BASE + f"{endpoint.pk}/envois/").status_code == 404
    assert client.post(BASE + f"{endpoint.pk}/activation/", {"active": "0"}).status_code == 404
    assert client.post(BASE + f"{endpoint.pk}/suppression/").status_code == 404
    assert client.post(BASE + f"{endpoint.pk}/test/").status_code == 404
    assert client.post(BASE + f"{endpoint.pk}/envois/{delivery.pk}/renvoi/").status_code == 404
    # Their own list shows their organisation only, even when asked for another one.
    listing = client.get(BASE + f"?org={practice.organisation.pk}")
    assert listing.status_code == 200 and b"hooks.example.org" not in listing.content
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.deliveries.count() == 1


def test_a_secretary_or_practitioner_may_not(practice, as_user, endpoint):
    for user in (practice.secretary, practice.gp_user):
        client = as_user(user)
        assert client.get(BASE).status_code == 403
        assert client.get(BASE + "nouveau/").status_code == 403
        assert client.get(BASE + f"{endpoint.pk}/").status_code == 403
        assert client.post(BASE + f"{endpoint.pk}/suppression/").status_code == 403
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_a_delivery_of_another_webhook_is_not_found(practice, as_user, endpoint):
    other, _ = webhooks.create_endpoint(
        organisation_id=practice.other_org.pk,
        url="https://elsewhere.example.org/in",
        events=[Event.APPOINTMENT_BOOKED],
        by=None,
    )
    delivery = webhooks.send_test_event(endpoint=other)
    answer = as_user(practice.admin).post(BASE + f"{endpoint.pk}/envois/{delivery.pk}/renvoi/")
    assert answer.status_code == 404


def test_a_visitor_is_sent_to_log_in(client):
    answer = client.get(BASE)
    assert answer.status_code == 302 and "login" in answer["Location"]
