"""Who calls the FHIR facade, and what they may see and do.

Three kinds of caller:

- a **partner** (``models.Partner``) with an OAuth2 access token from ``/oauth/token/`` (client
  credentials): an organisation's software sees and acts on its organisation's agendas as its
  staff would (every opening, busy slots too) and other organisations' as a professional; the
  SAS national platform sees what regulation sees (public, professionals', regulation's and
  CPTS slots, never those kept for known patients). Each scope allows a kind of call (``SCOPES``);
  a token carries the scopes asked for among those its partner was granted.
- a **person** with an API token of ``/api/v1/`` or a logged-in session (reads only): a patient
  reads their own Patient and appointments and the slots they may book, and books for themselves
  and their relatives with a bearer token.
- **anonymous**: the CapabilityStatement and the SMART configuration only; anything else is 401.

Every call of a partner or a person is counted against a rate (429 past it, with Retry-After) and
recorded in ``ApiCall``.
"""

from __future__ import annotations

import contextlib
import functools
import math
import time
from dataclasses import dataclass, field

from django.db import OperationalError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django_ratelimit.core import get_usage
from oauth2_provider.oauth2_backends import get_oauthlib_core
from oauth2_provider.scopes import BaseScopes

from consulto.core.errors import DomainError
from consulto.scheduling import visibility

from .http import FHIR_JSON, FhirError, error_response, from_domain_error
from .models import ApiCall, Partner

SCOPES = {
    "system/Slot.read": gettext_lazy(
        "Search free slots and read the directory (practitioners, places, schedules, motives)"
    ),
    "system/Appointment.read": gettext_lazy("Read the organisation's appointments"),
    "system/Appointment.write": gettext_lazy("Hold, book, move and cancel appointments"),
    "system/Patient.read": gettext_lazy("Read the patients of the organisation's appointments"),
}
# What a person (patient) may do through the facade, always limited to their own.
PERSON_SCOPES = frozenset(
    {
        "system/Slot.read",
        "system/Appointment.read",
        "system/Appointment.write",
        "system/Patient.read",
    }
)
# Slots the SAS national platform is shown (the guide: all but those kept for known patients):
# what a regulator sees (public, professionals, regulation, CPTS).
SAS_AUDIENCE = visibility.REGULATOR
PERSON_RATE = "120/m"


class PartnerScopes(BaseScopes):
    """django-oauth-toolkit's scopes: a partner's token may carry only what it was granted."""

    def get_all_scopes(self):
        return {name: str(label) for name, label in SCOPES.items()}

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        partner = _partner_of(application)
        if partner is None or not partner.is_active:
            return []
        return sorted(partner.scope_set & set(SCOPES))

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return self.get_available_scopes(application, request)


def _partner_of(application) -> Partner | None:
    if application is None:
        return None
    try:
        return application.partner
    except Partner.DoesNotExist:
        return None


@dataclass(frozen=True)
class Consumer:
    """The caller of one request."""

    partner: Partner | None = None
    user: object | None = None  # the account: the partner's service account, or the person's
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_partner(self) -> bool:
        return self.partner is not None

    @property
    def is_sas(self) -> bool:
        return self.partner is not None and self.partner.kind == Partner.Kind.SAS

    @property
    def organisation_id(self) -> int | None:
        return self.partner.organisation_id if self.partner is not None else None

    def allows(self, scope: str) -> bool:
        return scope in self.scopes

    def require(self, scope: str) -> None:
        if not self.allows(scope):
            raise FhirError(
                403,
                _("This token does not carry the scope %(scope)s.") % {"scope": scope},
                code="forbidden",
            )

    def is_staff_of(self, organisation_id: int) -> bool:
        """Does this caller act as the staff of ``organisation_id`` (its own software)?"""
        return self.partner is not None and self.partner.organisation_id == organisation_id

    def audience_for(self, agenda, *, now) -> frozenset[str]:
        """The openings of ``agenda`` this caller is offered (``scheduling.visibility``)."""
        if self.is_sas:
            return SAS_AUDIENCE
        if self.partner is not None:
            if agenda.organisation_id == self.partner.organisation_id:
                return visibility.EVERYONE
            return visibility.PROFESSIONAL
        return visibility.audience_for(self.user, agenda, now=now)


class Unauthorized(FhirError):
    def __init__(self, diagnostics: str, *, error: str | None = None):
        challenge = 'Bearer realm="consulto-fhir"' + (f', error="{error}"' if error else "")
        super().__init__(401, diagnostics, code="login", headers={"WWW-Authenticate": challenge})


def authenticate(request) -> Consumer | None:
    """The caller of ``request``, None when anonymous; a bearer token that is not valid is a 401
    (never read as anonymous)."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header:
        scheme, _space, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or len(token) > 255:
            raise Unauthorized(_("Send a bearer token: Authorization: Bearer <token>."),
                               error="invalid_request")  # fmt: skip
        consumer = _partner_token(request) or _person_token(request, token)
        if consumer is None:
            raise Unauthorized(
                _("The access token is not valid, has expired or was revoked."),
                error="invalid_token",
            )
        return consumer
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_active:
        if request.method not in ("GET", "HEAD"):
            raise Unauthorized(_("Changes need a bearer token, not a browser session."))
        return Consumer(user=user, scopes=PERSON_SCOPES)
    return None


def _partner_token(request) -> Consumer | None:
    valid, oauth_request = get_oauthlib_core().verify_request(request, scopes=[])
    if not valid:
        return None
    token = oauth_request.access_token
    partner = _partner_of(token.application)
    if partner is None or not partner.is_active:
        return None
    scopes = frozenset(token.scope.split()) & partner.scope_set
    return Consumer(partner=partner, user=token.application.user, scopes=scopes)


# Checks of a person's own API token (``request, token -> user | None``). The api app, above this
# one in the layering, registers its own when it is ready: this app never imports it.
person_token_checks: list = []


def _person_token(request, token: str) -> Consumer | None:
    for check in person_token_checks:
        user = check(request, token)
        if user is not None:
            return Consumer(user=user, scopes=PERSON_SCOPES)
    return None


def throttle(consumer: Consumer) -> None:
    """Count this call against the caller's rate; a 429 with Retry-After past it."""
    if consumer.partner is not None:
        group, key = "consulto.fhir.partner", str(consumer.partner.pk)
        rate = f"{consumer.partner.rate_per_minute}/m"
    else:
        group, key, rate = "consulto.fhir.person", str(consumer.user.pk), PERSON_RATE
    usage = get_usage(None, group=group, key=lambda _g, _r: key, rate=rate, increment=True)
    if usage is not None and usage["should_limit"]:
        wait = max(1, math.ceil(usage["time_left"]))
        raise FhirError(
            429,
            _("Too many requests: this client may make %(rate)s. Try again in %(wait)d s.")
            % {"rate": rate.replace("/m", _(" per minute")), "wait": wait},
            code="throttled",
            headers={"Retry-After": str(wait)},
        )


def endpoint(*, methods=("GET",), scope: str | None = None, anonymous: bool = False):
    """Wrap a FHIR view: the caller authenticated (``request.consumer``), throttled and checked
    for ``scope``; errors answered as OperationOutcome; the call recorded."""

    def wrap(view):
        @csrf_exempt
        @functools.wraps(view)
        def handler(request, *args, **kwargs):
            started = time.perf_counter()
            consumer = None
            try:
                if request.method not in methods:
                    raise FhirError(
                        405,
                        _("%(method)s is not allowed here.") % {"method": request.method[:10]},
                        headers={"Allow": ", ".join(methods)},
                    )
                _check_format(request)
                consumer = authenticate(request)
                if consumer is None and not anonymous:
                    raise Unauthorized(_("Authenticate with a bearer token (OAuth2 client "
                                         "credentials at /oauth/token/)."))  # fmt: skip
                request.consumer = consumer
                if consumer is not None:
                    throttle(consumer)
                    if scope is not None:
                        consumer.require(scope)
                response = view(request, *args, **kwargs)
            except FhirError as error:
                response = error_response(error)
            except DomainError as error:
                response = error_response(from_domain_error(error))
            if consumer is not None:
                _record(request, consumer, response.status_code, started)
            return response

        return handler

    return wrap


def _check_format(request) -> None:
    """JSON only: ``_format`` and ``Accept`` may ask for JSON (or anything), not XML."""
    wanted = request.GET.get("_format", "")
    if wanted and wanted not in ("json", "application/json", FHIR_JSON):
        raise FhirError(406, _("Only JSON is served here (_format=json)."))
    accept = request.META.get("HTTP_ACCEPT", "")
    if accept and "xml" in accept and "json" not in accept and "*/*" not in accept:
        raise FhirError(406, _("Only JSON is served here (application/fhir+json)."))


def _record(request, consumer: Consumer, status: int, started: float) -> None:
    from consulto.core.audit import client_ip

    names = ",".join(sorted({name[:40] for name in request.GET}))[:500]
    # A database too busy to take the record must not fail the call.
    with contextlib.suppress(OperationalError):
        ApiCall.objects.create(
            at=timezone.now(),
            partner=consumer.partner,
            user=consumer.user if getattr(consumer.user, "pk", None) else None,
            method=request.method[:8],
            path=request.path[:255],
            parameters=names,
            status=status,
            duration_ms=int((time.perf_counter() - started) * 1000),
            ip=client_ip(request),
        )
