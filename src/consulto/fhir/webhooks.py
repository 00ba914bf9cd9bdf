"""Webhooks: an organisation's software is told of its appointments' changes and new patient
files by signed POSTs.

Events are written to the outbox (``WebhookDelivery``) in the transaction of the change, one row
per subscribed endpoint, in one INSERT, with their tasks (``core.queue.enqueue_with_commit``);
a booking in an organisation without webhooks reads nothing (its endpoints are cached, the cache
dropped whenever they change). Delivery claims a row with a conditional update, POSTs it outside
any transaction, never follows a redirect, and retries with exponential backoff and jitter;
``410 Gone`` turns the endpoint off.

Signature, as Stripe's: ``Consulto-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
"<t>.<body>" keyed with the endpoint's secret>``; the receiver recomputes it and refuses old
``t`` (replays). ``Consulto-Event-Id`` is the same on every attempt and on a replay: receivers
dedupe on it.

Payloads hold the least a partner's software needs to fetch the rest through the facade with
its own rights: ids and FHIR references, times and status; never the motive's label, the
patient's name or anything else about their health.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import random
import secrets
import socket
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from consulto.core import crypto, queue
from consulto.core.errors import InvalidInput
from consulto.scheduling.models import Appointment

from . import refs
from .models import WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

Event, Status = WebhookEndpoint.Event, WebhookDelivery.Status

# The task this module enqueues, by name (``core/queue.py``): tasks.py calls this module.
DELIVER = "consulto.fhir.tasks.deliver_webhook"

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=30)
MOST_BETWEEN = timedelta(hours=6)
TIMEOUT = httpx.Timeout(5.0, connect=3.0)
# A claimed delivery whose sender died is claimed again once this lease has run out.
LEASE = timedelta(minutes=2)
MAX_ENDPOINTS = 10
TEST_EVENT = "ping"
USER_AGENT = "Consulto-Webhooks/1"
# Appointment changes (``scheduling.events.appointment_changed``) told to webhooks; "booked" is
# heard from ``appointment_booked`` (the same word also undoes a step of the practice's day).
CHANGES = {
    "moved": Event.APPOINTMENT_MOVED,
    "cancelled": Event.APPOINTMENT_CANCELLED,
    "arrived": Event.APPOINTMENT_ARRIVED,
    "no_show": Event.APPOINTMENT_NO_SHOW,
}


# Endpoints --------------------------------------------------------------------------------------


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def loopback_allowed() -> bool:
    """Plain http to this machine is for development (DEBUG) and the tests' own receiver."""
    return bool(getattr(settings, "CONSULTO_WEBHOOKS_ALLOW_LOOPBACK", settings.DEBUG))


_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


def check_url(url: str) -> str:
    """The endpoint's address, or ``InvalidInput``: https to a public host (plain http to the
    loopback only where allowed), no credentials in it, no NUL byte, 500 characters at most."""
    url = (url or "").strip()
    if not url or len(url) > 500 or "\x00" in url or any(c.isspace() for c in url):
        raise InvalidInput(_("Enter a valid address of at most 500 characters."), field="url")
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        raise InvalidInput(_("Enter a valid address."), field="url") from None
    if parts.username or parts.password:
        raise InvalidInput(_("The address may not hold a user name or password."), field="url")
    if not host:
        raise InvalidInput(_("Enter a valid address."), field="url")
    if parts.scheme == "http" and host in _LOOPBACK_NAMES and loopback_allowed():
        return url
    if parts.scheme != "https":
        raise InvalidInput(_("The address must start with https://."), field="url")
    if host in _LOOPBACK_NAMES or not _public_literal(host):
        raise InvalidInput(_("The address must be reachable from the internet."), field="url")
    return url


def _public_literal(host: str) -> bool:
    """False for an IP address that is not a public one; True for a public one or a name."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return "." in host and not host.endswith((".local", ".localhost", ".internal"))
    return address.is_global


def check_events(events: Iterable[str]) -> str:
    chosen = sorted(set(events))
    if not chosen or any(e not in Event.values for e in chosen):
        raise InvalidInput(_("Choose at least one event."), field="events")
    return " ".join(chosen)


def create_endpoint(
    *, organisation_id: int, url: str, events: Iterable[str], by
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret, in clear: the only time anyone sees it."""
    url, chosen = check_url(url), check_events(events)
    secret = new_secret()
    with transaction.atomic():
        if WebhookEndpoint.objects.filter(organisation_id=organisation_id).count() >= MAX_ENDPOINTS:
            raise InvalidInput(
                _("An organisation has at most %(count)s webhooks.") % {"count": MAX_ENDPOINTS}
            )
        endpoint = WebhookEndpoint.objects.create(
            organisation_id=organisation_id,
            url=url,
            events=chosen,
            secret=crypto.encrypt_text(secret),
            created_by=by,
        )
        _forget(organisation_id)
    return endpoint, secret


def update_endpoint(*, endpoint: WebhookEndpoint, url: str, events: Iterable[str]):
    endpoint.url, endpoint.events = check_url(url), check_events(events)
    with transaction.atomic():
        endpoint.save(update_fields=["url", "events"])
        _forget(endpoint.organisation_id)
    return endpoint


def set_active(*, endpoint: WebhookEndpoint, active: bool, reason: str = "") -> WebhookEndpoint:
    """Turn an endpoint on (its reason to be off forgotten) or off (no event is written for
    it; what was pending is not sent until it is on again)."""
    with transaction.atomic():
        endpoint.active = active
        endpoint.disabled_reason = "" if active else reason[:255]
        endpoint.save(update_fields=["active", "disabled_reason"])
        _forget(endpoint.organisation_id)
        if active:
            waiting = endpoint.deliveries.filter(status__in=(Status.PENDING, Status.FAILED))
            waiting.update(next_attempt_at=timezone.now())
            # The first ones at once; the outbox sweep takes the rest of a long backlog.
            for pk in waiting.order_by("id").values_list("pk", flat=True)[:200]:
                queue.on_commit(DELIVER, pk)
    return endpoint


def delete_endpoint(*, endpoint: WebhookEndpoint) -> None:
    with transaction.atomic():
        organisation_id = endpoint.organisation_id
        endpoint.delete()
        _forget(organisation_id)


def secret_of(endpoint: WebhookEndpoint) -> str:
    return crypto.decrypt_text(endpoint.secret)


def _cache_key(organisation_id: int) -> str:
    return f"fhir:webhooks:{organisation_id}"


ANYWHERE_KEY = "fhir:webhooks:any"
# Dropped on every change of an endpoint; the timeout bounds what a read racing with a change
# may leave in the cache.
CACHED_FOR = 300


def _forget(organisation_id: int) -> None:
    keys = [_cache_key(organisation_id), ANYWHERE_KEY]
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))


def subscribed(organisation_id: int) -> dict[str, list[int]]:
    """{event: ids of the organisation's active endpoints that want it}, cached. While no
    organisation has any (one cached answer for all), nothing is read for each one."""
    if not active_anywhere():
        return {}
    key = _cache_key(organisation_id)
    found = cache.get(key)
    if found is None:
        found = {}
        for pk, events in WebhookEndpoint.objects.filter(
            organisation_id=organisation_id, active=True
        ).values_list("pk", "events"):
            for event in events.split():
                found.setdefault(event, []).append(pk)
        cache.set(key, found, timeout=CACHED_FOR)
    return found


def active_anywhere() -> bool:
    """Whether any organisation has an active endpoint (cached): when none does, a change
    whose organisation is not at hand costs no read to learn it."""
    found = cache.get(ANYWHERE_KEY)
    if found is None:
        found = WebhookEndpoint.objects.filter(active=True).exists()
        cache.set(ANYWHERE_KEY, found, timeout=CACHED_FOR)
    return found


# Events -----------------------------------------------------------------------------------------


def appointment_data(appointment: Appointment) -> dict:
    return {
        "id": str(appointment.pk),
        "identifier": {
            "system": refs.identifier_system("appointment"),
            "value": str(appointment.pk),
        },
        "schedule": f"Schedule/{appointment.agenda_id}",
        "healthcareService": f"HealthcareService/{appointment.motive_id}",
        "patient": f"Patient/{appointment.patient_id}" if appointment.patient_id else None,
        "start": refs.utc_instant(appointment.start),
        "end": refs.utc_instant(appointment.end),
        "status": appointment.status,
    }


def record(
    *, organisation_id: int, event: str, data: dict, now: datetime | None = None
) -> list[WebhookDelivery]:
    """Write ``event`` for each active endpoint of the organisation that wants it (call in the
    transaction of the change): one INSERT, and their tasks with it."""
    endpoint_ids = subscribed(organisation_id).get(event)
    if not endpoint_ids:
        return []
    now = now or timezone.now()
    event_id = uuid.uuid4()
    payload = {
        "id": str(event_id),
        "type": event,
        "created": refs.utc_instant(now),
        "organisation": str(organisation_id),
        "data": data,
    }
    rows = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                endpoint_id=pk,
                event_id=event_id,
                event_type=event,
                payload=payload,
                next_attempt_at=now,
            )
            for pk in endpoint_ids
        ]
    )
    if rows and rows[0].pk is None:  # a backend that does not return ids
        rows = list(WebhookDelivery.objects.filter(event_id=event_id))
    queue.enqueue_with_commit([(DELIVER, [row.pk], None) for row in rows])
    return rows


def appointment_event(*, appointment: Appointment, event: str, previous=None) -> None:
    data = {"appointment": appointment_data(appointment)}
    if previous is not None:
        data["previous"] = appointment_data(previous)
    organisation_id = _organisation_of(appointment)
    if organisation_id is not None:
        record(organisation_id=organisation_id, event=event, data=data)


def _organisation_of(appointment: Appointment) -> int | None:
    agenda = appointment._state.fields_cache.get("agenda")
    if agenda is not None:
        return agenda.organisation_id
    if not active_anywhere():
        return None
    return (
        Appointment.objects.filter(pk=appointment.pk)
        .values_list("agenda__organisation_id", flat=True)
        .first()
    )


def send_test_event(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A ``ping`` to this endpoint alone, through the outbox like any event."""
    now = timezone.now()
    event_id = uuid.uuid4()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint,
            event_id=event_id,
            event_type=TEST_EVENT,
            payload={
                "id": str(event_id),
                "type": TEST_EVENT,
                "created": refs.utc_instant(now),
                "organisation": str(endpoint.organisation_id),
                "data": {},
            },
            next_attempt_at=now,
        )
        queue.on_commit(DELIVER, delivery.pk)
    return delivery


def replay(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again, whatever became of it: a new round of attempts, the same event
    id (the receiver dedupes on it)."""
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=Status.PENDING, attempts=0, next_attempt_at=timezone.now(), last_error=""
        )
        queue.on_commit(DELIVER, delivery.pk)
    delivery.refresh_from_db()
    return delivery


# Delivery ---------------------------------------------------------------------------------------


def signature(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def retry_delay(attempts: int) -> timedelta:
    """After the ``attempts``-th failure: 30 s, 2 min, 8 min... (×4, at most 6 h), ±20 %."""
    base = min(FIRST_RETRY * 4 ** (attempts - 1), MOST_BETWEEN)
    return base * random.uniform(0.8, 1.2)  # spreads retries, not a secret


def claim(model, pk: int, now: datetime, max_attempts: int) -> bool:
    """Take a due row for one attempt (a conditional update: one worker wins)."""
    return bool(
        model.objects.filter(
            pk=pk,
            status__in=(Status.PENDING, Status.FAILED),
            next_attempt_at__lte=now,
            attempts__lt=max_attempts,
        ).update(attempts=F("attempts") + 1, next_attempt_at=now + LEASE)
    )


def deliver(*, delivery_id: int, now: datetime | None = None) -> str | None:
    """Attempt one delivery if it is due; return its status afterwards."""
    now = now or timezone.now()
    found = WebhookDelivery.objects.filter(pk=delivery_id)
    # An endpoint turned off keeps its deliveries pending until it is on again.
    active = found.filter(endpoint__active=True).exists()
    if not active or not claim(WebhookDelivery, delivery_id, now, MAX_ATTEMPTS):
        return found.values_list("status", flat=True).first()
    delivery = found.select_related("endpoint").get()
    endpoint = delivery.endpoint
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Consulto-Event": delivery.event_type,
        "Consulto-Event-Id": str(delivery.event_id),
        "Consulto-Signature": signature(secret_of(endpoint), body, int(now.timestamp())),
    }
    code, error = None, ""
    try:
        refuse_private(endpoint.url)
        with httpx.Client(timeout=TIMEOUT, follow_redirects=False, trust_env=False) as client:
            answer = client.post(endpoint.url, content=body, headers=headers)
        code = answer.status_code
        if not 200 <= code < 300:
            error = f"HTTP {code}"
    except (httpx.HTTPError, OSError, ValueError) as failure:
        error = f"{type(failure).__name__}: {failure}"
    fields = {"last_status_code": code, "last_error": error[:500]}
    if not error:
        fields |= {"status": Status.DELIVERED, "delivered_at": now}
    elif code == 410:
        fields |= {"status": Status.GAVE_UP}
        set_active(endpoint=endpoint, active=False, reason=_("The receiver answered 410 Gone."))
    elif delivery.attempts >= MAX_ATTEMPTS:
        fields |= {"status": Status.GAVE_UP}
    else:
        retry_at = now + retry_delay(delivery.attempts)
        fields |= {"status": Status.FAILED, "next_attempt_at": retry_at}
        queue.on_commit(DELIVER, delivery.pk, run_after=retry_at)
    if error:
        logger.info("Webhook delivery %s: attempt %s: %s", delivery.pk, delivery.attempts, error)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
    return fields.get("status", delivery.status)


def refuse_private(url: str) -> None:
    """Raise ``ValueError`` when the endpoint's host resolves to a non-public address (an
    intranet reached through us), unless it is the loopback where that is allowed."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host in _LOOPBACK_NAMES and loopback_allowed():
        return
    for *_rest, sockaddr in socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP):
        if not ipaddress.ip_address(sockaddr[0]).is_global:
            raise ValueError(f"{host} is not a public address")


def sweep(model, attempt, *, now: datetime, limit: int, max_attempts: int, **only) -> int:
    """The outbox's safety net, for webhook deliveries and SAS reports alike: attempt the rows
    that are due (``attempt(pk, now)``), whatever became of their tasks; a row whose last allowed
    attempt never finished (its lease ran out) is given up."""
    pending = (Status.PENDING, Status.FAILED)
    model.objects.filter(
        status__in=pending, next_attempt_at__lte=now, attempts__gte=max_attempts
    ).update(status=Status.GAVE_UP, last_error="the last attempt did not finish")
    due = list(
        model.objects.filter(
            status__in=pending, next_attempt_at__lte=now, attempts__lt=max_attempts, **only
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        attempt(pk, now)
    return len(due)


def deliver_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Attempt the deliveries that are due (``sweep``), those of active endpoints."""
    return sweep(
        WebhookDelivery,
        lambda pk, now: deliver(delivery_id=pk, now=now),
        now=now or timezone.now(),
        limit=limit,
        max_attempts=MAX_ATTEMPTS,
        endpoint__active=True,
    )
