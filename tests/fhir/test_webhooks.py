"""Webhooks: what an organisation's software receives, signed, from the outbox; retries with
backoff on a moved clock; 410 turns the endpoint off; replays keep the event id."""

import hashlib
import hmac
from datetime import UTC, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from consulto.core.errors import InvalidInput
from consulto.fhir import refs, webhooks
from consulto.fhir.models import WebhookDelivery, WebhookEndpoint
from consulto.practice import files
from consulto.scheduling import booking
from consulto.scheduling.models import Appointment, PatientProfile
from tests.conftest import at
from tests.fhir.hook_receiver import Answer, Receiver
from tests.practice import conftest as practice_fixtures

pytestmark = pytest.mark.django_db

practice, as_user = practice_fixtures.practice, practice_fixtures.as_user

Event, Status = WebhookEndpoint.Event, WebhookDelivery.Status


@pytest.fixture(autouse=True)
def _loopback(settings):
    settings.CONSULTO_WEBHOOKS_ALLOW_LOOPBACK = True


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def endpoint_for(organisation, url, events=tuple(Event.values), by=None):
    return webhooks.create_endpoint(
        organisation_id=organisation.pk, url=f"{url}/hooks", events=events, by=by
    )


def book(world, start, patient, user, **kwargs):
    return booking.book(
        agenda=world.agenda,
        motive=world.follow_up,
        start=start,
        patient=patient,
        booked_by=user,
        **kwargs,
    )


def verify(request, secret: str) -> bool:
    parts = dict(item.split("=", 1) for item in request.headers["consulto-signature"].split(","))
    expected = hmac.new(
        secret.encode(), parts["t"].encode() + b"." + request.body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


def test_a_booking_is_posted_signed_with_the_least_it_needs(world, patient, user, receiver):
    _endpoint, secret = endpoint_for(world.organisation, receiver.url)
    appointment = book(world, at(world.monday, 9), patient, user)
    delivery = WebhookDelivery.objects.get(event_type=Event.APPOINTMENT_BOOKED)
    assert delivery.status == Status.PENDING  # written with the booking, sent by the worker
    assert webhooks.deliver_due() >= 1
    (sent,) = [r for r in receiver.requests if r.headers["consulto-event"] == "appointment.booked"]
    assert sent.method == "POST" and sent.path == "/hooks"
    assert sent.headers["content-type"] == "application/json"
    assert sent.headers["consulto-event-id"] == str(delivery.event_id)
    assert verify(sent, secret)
    assert not verify(sent, secret + "x")
    timestamp = int(sent.headers["consulto-signature"].split(",")[0][2:])
    assert abs(timestamp - timezone.now().timestamp()) < 60
    body = sent.json()
    assert body["id"] == str(delivery.event_id) and body["type"] == "appointment.booked"
    assert body["data"]["appointment"] == {
        "id": str(appointment.pk),
        "identifier": {
            "system": refs.identifier_system("appointment"),
            "value": str(appointment.pk),
        },
        "schedule": f"Schedule/{world.agenda.pk}",
        "healthcareService": f"HealthcareService/{world.follow_up.pk}",
        "patient": f"Patient/{patient.pk}",
        "start": appointment.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end": appointment.end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "status": "booked",
    }
    # Nothing about the patient's health or identity: no motive label, no name.
    assert world.follow_up.label.encode() not in sent.body
    assert b"Durand" not in sent.body and b"Alice" not in sent.body
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        Status.DELIVERED,
        1,
        200,
    )
    assert delivery.delivered_at is not None


def test_only_the_organisations_active_endpoints_that_want_the_event(
    world, patient, user, receiver
):
    wants_cancel, _ = endpoint_for(world.organisation, receiver.url, [Event.APPOINTMENT_CANCELLED])
    other, _ = endpoint_for(world.line.organisation, receiver.url)  # the vaccination centre
    off, _ = endpoint_for(world.organisation, receiver.url)
    webhooks.set_active(endpoint=off, active=False, reason="test")
    appointment = book(world, at(world.monday, 9), patient, user)
    assert not WebhookDelivery.objects.exists()
    booking.cancel(appointment=appointment, by=user)
    (delivery,) = WebhookDelivery.objects.all()
    assert (delivery.endpoint, delivery.event_type) == (wants_cancel, "appointment.cancelled")
    assert delivery.payload["data"]["appointment"]["status"] == "cancelled"
    assert not other.deliveries.exists()


def test_a_booking_without_webhooks_writes_nothing(world, patient, user):
    book(world, at(world.monday, 9), patient, user)
    assert not WebhookDelivery.objects.exists()


def test_moves_and_the_practices_day_are_told(world, patient, user, receiver, clock):
    endpoint, _ = endpoint_for(world.organisation, receiver.url)
    first = book(world, at(world.monday, 9), patient, user)
    moved = booking.reschedule(appointment=first, new_start=at(world.monday, 10), by=user)
    booking.set_status(appointment=moved, status=Appointment.Status.ARRIVED, by=user)
    booking.set_status(appointment=moved, status=Appointment.Status.BOOKED, by=user)  # undone
    clock.move_to(at(world.monday, 11))
    booking.set_status(appointment=moved, status=Appointment.Status.NO_SHOW, by=user)
    told = list(endpoint.deliveries.order_by("id").values_list("event_type", flat=True))
    assert told == [
        "patient_file.opened",  # the practice opens the file in the booking's transaction
        "appointment.booked",
        "appointment.moved",
        "appointment.arrived",
        "appointment.no_show",
    ]
    move = endpoint.deliveries.get(event_type="appointment.moved").payload["data"]
    assert move["appointment"]["id"] == str(moved.pk)
    assert move["previous"]["id"] == str(first.pk)
    assert move["previous"]["status"] == "cancelled"


def test_a_patient_file_opened_is_told_once(world, patient, user, receiver):
    endpoint, _ = endpoint_for(world.organisation, receiver.url, [Event.PATIENT_FILE_OPENED])
    book(world, at(world.monday, 9), patient, user)
    book(world, at(world.monday, 10), patient, user)  # the same patient: the file exists
    (delivery,) = endpoint.deliveries.all()
    assert delivery.payload["data"] == {"patient": f"Patient/{patient.pk}"}
    webhooks.deliver_due()
    assert [r.headers["consulto-event"] for r in receiver.requests] == ["patient_file.opened"]


def test_a_file_opened_by_staff_is_told(practice, receiver):
    w = practice
    endpoint, _ = endpoint_for(w.organisation, receiver.url, [Event.PATIENT_FILE_OPENED])
    file = files.create_file(
        user=w.secretary,
        organisation_id=w.organisation.pk,
        identity={"first_name": "Lou", "last_name": "Ferrand", "birth_date": "1990-01-01"},
    )
    (delivery,) = endpoint.deliveries.all()
    assert delivery.payload["data"] == {"patient": f"Patient/{file.profile_id}"}


def test_a_failing_receiver_is_retried_with_backoff_then_given_up(
    world, patient, user, receiver, clock
):
    endpoint, _ = endpoint_for(world.organisation, receiver.url, [Event.APPOINTMENT_BOOKED])
    receiver.answer(500)
    book(world, at(world.monday, 9), patient, user)
    delivery = endpoint.deliveries.get()
    for attempt in range(1, webhooks.MAX_ATTEMPTS):
        assert webhooks.deliver(delivery_id=delivery.pk) == Status.FAILED
        delivery.refresh_from_db()
        assert (delivery.attempts, delivery.last_status_code) == (attempt, 500)
        wait = delivery.next_attempt_at - timezone.now()
        expected = min(timedelta(seconds=30) * 4 ** (attempt - 1), timedelta(hours=6))
        assert expected * 0.75 < wait <= expected * 1.2
        # Not due yet: nothing is sent.
        sent = len(receiver.requests)
        assert webhooks.deliver(delivery_id=delivery.pk) == Status.FAILED
        assert len(receiver.requests) == sent
        clock.move_to(delivery.next_attempt_at + timedelta(seconds=1))
    assert webhooks.deliver(delivery_id=delivery.pk) == Status.GAVE_UP
    assert len(receiver.requests) == webhooks.MAX_ATTEMPTS
    clock.move_to(timezone.now() + timedelta(days=2))
    assert webhooks.deliver_due() == 0


def test_a_late_receiver_is_a_failure_retried(world, patient, user, receiver, monkeypatch):
    monkeypatch.setattr(webhooks, "TIMEOUT", 0.3)
    endpoint, _ = endpoint_for(world.organisation, receiver.url, [Event.APPOINTMENT_BOOKED])
    receiver.answer(Answer(200, delay=1.5))
    book(world, at(world.monday, 9), patient, user)
    delivery = endpoint.deliveries.get()
    assert webhooks.deliver(delivery_id=delivery.pk) == Status.FAILED
    delivery.refresh_from_db()
    assert "Timeout" in delivery.last_error and delivery.last_status_code is None


def test_a_redirect_is_not_followed(world, patient, user, receiver):
    endpoint, _ = endpoint_for(world.organisation, receiver.url, [Event.APPOINTMENT_BOOKED])
    receiver.answer(Answer(302, headers={"Location": f"{receiver.url}/elsewhere"}))
    book(world, at(world.monday, 9), patient, user)
    delivery = endpoint.deliveries.get()
    assert webhooks.deliver(delivery_id=delivery.pk) == Status.FAILED
    assert [r.path for r in receiver.requests] == ["/hooks"]


def test_a_410_turns_the_endpoint_off(world, patient, user, receiver):
    endpoint, _ = endpoint_for(world.organisation, receiver.url, [Event.APPOINTMENT_BOOKED])
    receiver.answer(410)
    book(world, at(world.monday, 9), patient, user)
    assert webhooks.deliver(delivery_id=endpoint.deliveries.get().pk) == Status.GAVE_UP
    endpoint.refresh_from_db()
    assert not endpoint.active and "410" in endpoint.disabled_reason
    book(world, at(world.monday, 10), patient, user)
    assert endpoint.deliveries.count() == 1  # nothing more is written for it


def test_an_event_is_written_once_per_endpoint(world, patient, user, receiver):
    endpoint, _ = endpoint_for(world.organisation, receiver.url, [Event.APPOINTMENT_BOOKED])
    book(world, at(world.monday, 9), patient, user)
    delivery = endpoint.deliveries.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        WebhookDelivery.objects.create(
            endpoint=endpoint,
            event_id=delivery.event_id,
            event_type=delivery.event_type,
            payload=delivery.payload,
            next_attempt_at=timezone.now(),
        )
    # A replayed booking request (same idempotency key) is no new event.
    book(world, at(world.monday, 10), patient, user, idempotency_key="k")
    book(world, at(world.monday, 10), patient, user, idempotency_key="k")
    assert endpoint.deliveries.count() == 2


def test_a_replay_sends_the_same_event_id_again(world, patient, user, receiver):
    endpoint, secret = endpoint_for(world.organisation, receiver.url, [Event.APPOINTMENT_BOOKED])
    book(world, at(world.monday, 9), patient, user)
    delivery = endpoint.deliveries.get()
    webhooks.deliver(delivery_id=delivery.pk)
    webhooks.replay(delivery=delivery)
    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING
    assert webhooks.deliver(delivery_id=delivery.pk) == Status.DELIVERED
    first, second = receiver.requests
    assert first.headers["consulto-event-id"] == second.headers["consulto-event-id"]
    assert first.body == second.body and verify(second, secret)


def test_a_test_event_goes_to_that_endpoint_only(world, receiver):
    endpoint, secret = endpoint_for(world.organisation, receiver.url)
    other, _ = endpoint_for(world.organisation, receiver.url)
    delivery = webhooks.send_test_event(endpoint=endpoint)
    assert webhooks.deliver_due() == 1
    (sent,) = receiver.requests
    assert sent.headers["consulto-event"] == "ping" and verify(sent, secret)
    assert sent.json()["id"] == str(delivery.event_id)
    assert not other.deliveries.exists()


def test_a_webhook_turned_off_keeps_its_events_until_it_is_on_again(world, patient, user, receiver):
    endpoint, _ = endpoint_for(world.organisation, receiver.url, [Event.APPOINTMENT_CANCELLED])
    appointment = book(world, at(world.monday, 9), patient, user)
    booking.cancel(appointment=appointment, by=user)
    webhooks.set_active(endpoint=endpoint, active=False, reason="maintenance")
    assert webhooks.deliver_due() == 0
    assert webhooks.deliver(delivery_id=endpoint.deliveries.get().pk) == Status.PENDING
    webhooks.set_active(endpoint=endpoint, active=True)
    assert webhooks.deliver_due() == 1
    assert len(receiver.requests) == 1


def test_the_secret_is_kept_encrypted(world, receiver):
    endpoint, secret = endpoint_for(world.organisation, receiver.url)
    assert secret.startswith("whsec_") and len(secret) > 40
    endpoint.refresh_from_db()
    assert secret not in endpoint.secret
    assert webhooks.secret_of(endpoint) == secret


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org/hooks",  # not https
        "ftp://example.org/hooks",
        "https://10.0.0.5/hooks",  # an intranet address
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hooks",
        "https://localhost/hooks",
        "https://user:pass@example.org/hooks",
        "https://example.org/ho\x00oks",
        "https://example.org/" + "a" * 500,
        "https://example.org:99999/",
        "https://exa mple.org/",
        "https:///nohost",
        "",
    ],
)
def test_an_address_that_is_not_a_public_https_one_is_refused(url, settings):
    settings.CONSULTO_WEBHOOKS_ALLOW_LOOPBACK = False
    with pytest.raises(InvalidInput):
        webhooks.check_url(url)


def test_plain_http_to_this_machine_only_where_allowed(settings):
    assert webhooks.check_url("https://hooks.example.org/in") == "https://hooks.example.org/in"
    assert webhooks.check_url("http://127.0.0.1:8000/in") == "http://127.0.0.1:8000/in"
    settings.CONSULTO_WEBHOOKS_ALLOW_LOOPBACK = False
    settings.DEBUG = False
    with pytest.raises(InvalidInput):
        webhooks.check_url("http://127.0.0.1:8000/in")


def test_a_host_on_a_private_address_is_not_called(settings):
    settings.CONSULTO_WEBHOOKS_ALLOW_LOOPBACK = False
    for url in ("https://127.0.0.1/x", "https://localhost/x", "https://10.1.2.3/x"):
        with pytest.raises(ValueError):
            webhooks.refuse_private(url)


def test_events_must_be_known(world):
    with pytest.raises(InvalidInput):
        webhooks.check_events([])
    with pytest.raises(InvalidInput):
        webhooks.check_events(["appointment.deleted"])


def test_a_hold_given_up_is_not_told(world, user, receiver):
    endpoint, _ = endpoint_for(world.organisation, receiver.url)
    held = booking.hold(
        agenda=world.agenda, motive=world.follow_up, start=at(world.monday, 9), held_by=user
    )
    booking.cancel(appointment=held, by=user, as_staff=True)
    assert not endpoint.deliveries.exists()
    assert PatientProfile.objects.count() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.concurrency
def test_workers_running_one_delivery_at_once_send_it_once(world, receiver):
    from tests.scheduling.test_concurrency import race

    endpoint, _ = endpoint_for(world.organisation, receiver.url)
    delivery = webhooks.send_test_event(endpoint=endpoint)
    results = race(6, lambda _i: webhooks.deliver(delivery_id=delivery.pk))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.DELIVERED, 1)


def test_the_task_written_with_the_booking_delivers_it(world, patient, user, receiver):
    from django_tasks_db.models import DBTaskResult

    from consulto.fhir import tasks

    endpoint, _ = endpoint_for(world.organisation, receiver.url, [Event.APPOINTMENT_BOOKED])
    book(world, at(world.monday, 9), patient, user)
    delivery = endpoint.deliveries.get()
    (queued,) = DBTaskResult.objects.filter(task_path=tasks.deliver_webhook.module_path)
    assert queued.args_kwargs["args"] == [delivery.pk]
    assert tasks.deliver_webhook.call(delivery.pk) == Status.DELIVERED


def test_the_outbox_sweep_is_started_once_and_keeps_coming_back(world, receiver):
    from django_tasks_db.models import DBTaskResult

    from consulto.fhir.tasks import deliver_due_outbox, ensure_sweep

    endpoint, _ = endpoint_for(world.organisation, receiver.url)
    webhooks.send_test_event(endpoint=endpoint)
    ensure_sweep()
    ensure_sweep()
    waiting = DBTaskResult.objects.filter(task_path=deliver_due_outbox.module_path)
    assert waiting.filter(status="READY").count() == 1
    assert deliver_due_outbox.call() == 1
    assert len(receiver.requests) == 1
    later = waiting.filter(status="READY").order_by("-enqueued_at").first()
    assert later.run_after > timezone.now()
