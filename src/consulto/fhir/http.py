"""Answering in FHIR: ``application/fhir+json`` bodies, errors as OperationOutcome, searchset
Bundles, and the search parameters' types (dates with their prefixes, tokens, counts).

Every resource sent is first built as a ``fhir.resources`` model, so what leaves the facade is
valid R4 by construction; a view that builds an invalid one fails in the tests, not at a partner.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.http import HttpResponse
from django.utils.translation import gettext as _
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.resource import Resource

from consulto.core.errors import DomainError

FHIR_JSON = "application/fhir+json"
PARIS = ZoneInfo("Europe/Paris")

# OperationOutcome.issue.code (FHIR IssueType) for each HTTP status we answer.
ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    410: "deleted",
    412: "conflict",
    415: "not-supported",
    422: "business-rule",
    429: "throttled",
}


class FhirError(Exception):
    """An answer other than 2xx, sent as an OperationOutcome."""

    def __init__(
        self,
        status: int,
        diagnostics: str,
        *,
        code: str | None = None,
        expression: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(diagnostics)
        self.status = status
        self.diagnostics = str(diagnostics)
        self.code = code or ISSUE_CODES.get(status, "processing")
        self.expression = expression
        self.headers = headers or {}


def invalid(diagnostics: str, *, expression: str | None = None) -> FhirError:
    return FhirError(400, diagnostics, code="invalid", expression=expression)


def not_found(resource_type: str, logical_id: str) -> FhirError:
    return FhirError(404, _("%(resource)s/%(id)s is not known.") % {
        "resource": resource_type, "id": logical_id[:64]
    })  # fmt: skip


def from_domain_error(error: DomainError) -> FhirError:
    status = error.status if 400 <= error.status < 500 else 400
    headers = {}
    retry_after = getattr(error, "retry_after", None)
    if retry_after:
        headers["Retry-After"] = str(retry_after)
    return FhirError(status, str(error.message), expression=error.field, headers=headers)


def outcome(error: FhirError) -> OperationOutcome:
    issue = {"severity": "error", "code": error.code, "diagnostics": error.diagnostics}
    if error.expression:
        issue["expression"] = [error.expression]
    return OperationOutcome(issue=[issue])


def respond(resource: Resource | dict, *, status: int = 200, headers=None) -> HttpResponse:
    """``resource`` (a fhir.resources model, or a dict checked against one) as the body."""
    if isinstance(resource, dict):
        resource = validated(resource)
    body = resource.model_dump_json(exclude_none=True)
    response = HttpResponse(body, status=status, content_type=f"{FHIR_JSON}; charset=utf-8")
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def error_response(error: FhirError) -> HttpResponse:
    return respond(outcome(error), status=error.status, headers=error.headers)


def _model_of(resource_type: str):
    from fhir.resources.R4B import get_fhir_model_class

    return get_fhir_model_class(resource_type)


def validated(resource: dict) -> Resource:
    """``resource`` (a dict with its resourceType) as its fhir.resources R4B model."""
    return _model_of(resource["resourceType"]).model_validate(resource)


def searchset(
    request,
    matches: Iterable[dict | Resource],
    *,
    total: int,
    included: Iterable[dict | Resource] = (),
    resource_type: str | None = None,
) -> Bundle:
    """A searchset Bundle: ``matches`` (search mode "match"), then ``included`` ("include"),
    each with its fullUrl; ``total`` the number of matches of the whole search."""
    from .refs import base_url

    base = base_url()
    entries = []
    for mode, resources in (("match", matches), ("include", included)):
        for resource in resources:
            if isinstance(resource, dict):
                resource = validated(resource)
            entries.append(
                {
                    "fullUrl": f"{base}/{resource.get_resource_type()}/{resource.id}",
                    "resource": resource,
                    "search": {"mode": mode},
                }
            )
    link = [{"relation": "self", "url": _self_url(request, base, resource_type)}]
    return Bundle(type="searchset", total=total, link=link, entry=entries or None)


def _self_url(request, base: str, resource_type: str | None) -> str:
    path = request.path.split("/fhir/r4", 1)[-1]
    query = request.META.get("QUERY_STRING", "")
    return f"{base}{path}" + (f"?{query}" if query else "")


def read_json(request) -> dict:
    """The request's body as a JSON object, else a 400 (or 415 for another media type)."""
    kind = request.content_type or ""
    if kind not in (FHIR_JSON, "application/json", "application/json-patch+json"):
        raise FhirError(415, _("Send the body as application/fhir+json."))
    try:
        # ValueError too: an integer of more than 4,300 digits is refused by the parser itself.
        body = json.loads(request.body.decode("utf-8") or "null")
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise invalid(_("The body is not valid JSON.")) from None
    if _holds_nul(body):
        raise invalid(_("The body holds a NUL character, which is not allowed."))
    return body


def _holds_nul(value) -> bool:
    """Is there a NUL in any key or string of this JSON value (written raw or as \\u0000)?"""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


# Search parameters ------------------------------------------------------------------------------

PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")
_DATE = re.compile(
    r"^(?P<year>[0-9]{4})(-(?P<month>[0-9]{2})(-(?P<day>[0-9]{2})"
    r"(T(?P<time>[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?)(?P<zone>Z|[+-][0-9]{2}:[0-9]{2})?)?)?)?$"
)
FIRST_YEAR, LAST_YEAR = 2000, 2100


@dataclass(frozen=True)
class DateParam:
    """A date search parameter: its prefix and the range of instants its value covers
    (``2026-12-09`` covers the whole day, in Paris unless an offset is given)."""

    prefix: str
    low: datetime  # aware, inclusive
    high: datetime  # aware, exclusive


def date_param(raw: str, *, name: str, zone: ZoneInfo = PARIS) -> DateParam:
    """Parse a FHIR date/dateTime search value (with an optional prefix), or raise a 400."""
    prefix, value = "eq", raw
    if raw[:2] in PREFIXES:
        prefix, value = raw[:2], raw[2:]
    match = _DATE.match(value)
    if not match:
        raise invalid(
            _("%(name)s: “%(value)s” is not a FHIR date or dateTime (e.g. %(example)s).")
            % {"name": name, "value": raw[:40], "example": "ge2026-12-09T08:00:00+01:00"},
            expression=name,
        )
    try:
        year = int(match["year"])
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise ValueError
        month, day = int(match["month"] or 1), int(match["day"] or 1)
        if match["time"]:
            parts = match["time"].split(":")
            seconds = float(parts[2]) if len(parts) > 2 else 0.0
            at = time(int(parts[0]), int(parts[1]), int(seconds), round(seconds % 1 * 1e6) % 10**6)
            tz = zone
            if match["zone"]:
                tz = UTC if match["zone"] == "Z" else _offset(match["zone"])
            low = datetime.combine(date(year, month, day), at, tzinfo=tz)
            low = _real_instant(low)
            high = low + timedelta(seconds=1 if len(parts) > 2 else 60)
        elif match["day"]:
            low = _midnight(date(year, month, day), zone)
            high = _midnight(date(year, month, day) + timedelta(days=1), zone)
        elif match["month"]:
            first = date(year, month, 1)
            following = date(year + (month == 12), month % 12 + 1, 1)
            low, high = _midnight(first, zone), _midnight(following, zone)
        else:
            low, high = _midnight(date(year, 1, 1), zone), _midnight(date(year + 1, 1, 1), zone)
    except (ValueError, OverflowError):
        raise invalid(
            _("%(name)s: “%(value)s” is not a date that exists (years 2000 to 2100).")
            % {"name": name, "value": raw[:40]},
            expression=name,
        ) from None
    return DateParam(prefix, low, high)


def _offset(text: str):
    from datetime import timezone

    sign = 1 if text[0] == "+" else -1
    hours, minutes = int(text[1:3]), int(text[4:6])
    if hours > 14 or minutes > 59:
        raise ValueError(text)
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return _real_instant(datetime.combine(day, time(0), tzinfo=zone))


def _real_instant(moment: datetime) -> datetime:
    """A wall-clock time that does not exist (in a spring-forward gap) moves past the gap."""
    utc = moment.astimezone(UTC)
    back = utc.astimezone(moment.tzinfo)
    if back.replace(tzinfo=None) != moment.replace(tzinfo=None):
        return utc.astimezone(moment.tzinfo)
    return moment


def token_param(raw: str, *, name: str) -> tuple[str | None, str]:
    """A token value ``system|code`` (or ``code``): (system or None, code)."""
    if "|" in raw:
        system, _bar, code = raw.partition("|")
        return system, code
    return None, raw


def count_param(raw: str | None, *, default: int, maximum: int) -> int:
    """``_count``: a whole number from 0 to ``maximum`` (larger asks get ``maximum``)."""
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        raise invalid(
            _("_count must be a whole number from 0 to %(max)d.") % {"max": maximum},
            expression="_count",
        )
    return min(int(raw), maximum)
