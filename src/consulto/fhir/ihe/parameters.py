"""The parameters of an operation (a Parameters body, or the query string of a GET), read into
plain values or a 4xx OperationOutcome: never an exception the caller did not expect."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _

from ..http import date_param, invalid, read_json, token_param
from ..refs import parse_pk

MAX_VALUES = 25  # values of one repeated parameter
FIND_COUNT, FIND_MAX_COUNT = 50, 500


class Parts:
    """The parameters of an operation, by name: from a Parameters body (POST) or the query
    string (GET, where every value is a string)."""

    def __init__(self, by_name: dict[str, list[dict]]):
        self.by_name = by_name

    @classmethod
    def of_body(cls, request) -> Parts:
        try:
            body = read_json(request)
        except ValueError:  # an integer too long for Python to read
            raise invalid(_("The body is not valid JSON.")) from None
        if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
            raise invalid(_("Send a Parameters resource."))
        if _holds_nul(body):
            raise invalid(_("The body holds a NUL character, which is not allowed."))
        from fhir.resources.R4B.parameters import Parameters

        try:
            Parameters.model_validate(body)
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as error:
            raise invalid(
                _("The Parameters resource is not valid FHIR R4: %(error)s")
                % {"error": short(error)}
            ) from None
        by_name: dict[str, list[dict]] = defaultdict(list)
        for part in body.get("parameter") or []:
            by_name[part["name"]].append(part)
        return cls(dict(by_name))

    @classmethod
    def of_query(cls, request) -> Parts:
        by_name: dict[str, list[dict]] = {}
        for name, values in request.GET.lists():
            by_name[name] = [{"name": name, "valueString": value} for value in values]
        return cls(by_name)

    def all(self, name: str) -> list[dict]:
        found = self.by_name.get(name, [])
        if len(found) > MAX_VALUES:
            raise invalid(
                _("%(name)s: at most %(max)d values.") % {"name": name, "max": MAX_VALUES},
                expression=name,
            )
        return found

    def one(self, name: str) -> dict | None:
        found = self.all(name)
        if len(found) > 1:
            raise invalid(_("%(name)s may be given once.") % {"name": name}, expression=name)
        return found[0] if found else None

    def string(self, part: dict, *kinds: str) -> str:
        """The value of ``part`` among ``value<Kind>`` (or the query string's), as a string."""
        for kind in (*kinds, "String"):
            value = part.get(f"value{kind}")
            if value is not None:
                if not isinstance(value, str):
                    break
                return value
        raise invalid(
            _("%(name)s: expected a value of type %(type)s.")
            % {"name": part["name"], "type": kinds[0] if kinds else "string"},
            expression=part["name"],
        )


def _holds_nul(value, depth: int = 0) -> bool:
    """Does a JSON value hold a NUL character (escaped as \\u0000 in the body), anywhere?"""
    if isinstance(value, str):
        return "\x00" in value
    if depth > 64:
        raise invalid(_("The body nests too deeply."))
    if isinstance(value, dict):
        return any(_holds_nul(k, depth) or _holds_nul(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v, depth + 1) for v in value)
    return False


def short(error: Exception) -> str:
    text = " ".join(str(error).split())
    return text[:300]


def instant_part(parts: Parts, name: str) -> tuple[datetime, datetime] | None:
    """A dateTime (or date) parameter, as ``instant`` reads it; None when not given."""
    part = parts.one(name)
    if part is None:
        return None
    return instant(parts.string(part, "DateTime", "Date", "Instant"), name=name)


def instant(raw: str, *, name: str) -> tuple[datetime, datetime]:
    """A FHIR date or dateTime: (the first instant it names, the end of what it names: the same
    instant for a time, the next midnight for a date), in Paris when it carries no offset; a time
    in a spring-forward gap moves past the gap."""
    if not (raw[:1].isascii() and raw[:1].isdigit()):
        raise invalid(
            _("%(name)s: “%(value)s” is not a FHIR dateTime (e.g. %(example)s).")
            % {"name": name, "value": raw[:40], "example": "2026-12-14T08:00:00+01:00"},
            expression=name,
        )
    value = date_param(raw, name=name)
    return (value.low, value.high) if "T" not in raw else (value.low, value.low)


@dataclass(frozen=True)
class Ref:
    """A reference parameter: a logical id of ours, or an identifier (system, value)."""

    pk: int | None = None
    system: str | None = None
    value: str | None = None


def references(parts: Parts, name: str, resource_type: str) -> list[Ref]:
    refs = []
    for part in parts.all(name):
        found = part.get("valueReference")
        if found is None:
            raw = parts.string(part, "Reference")
            found = (
                {"identifier": dict(zip(("system", "value"), raw.split("|", 1), strict=True))}
                if "|" in raw
                else {"reference": raw}
            )
        refs.append(reference(found, name=name, resource_type=resource_type))
    return refs


def reference(found: dict, *, name: str, resource_type: str) -> Ref:
    if not isinstance(found, dict):
        raise invalid(_("%(name)s: expected a Reference.") % {"name": name}, expression=name)
    text = found.get("reference")
    if isinstance(text, str) and text:
        logical = logical_id(text, resource_type, name=name)
        return Ref(pk=parse_pk(logical) or 0)  # 0: names nothing of ours
    identifier = found.get("identifier")
    if isinstance(identifier, dict) and isinstance(identifier.get("value"), str):
        system = identifier.get("system")
        return Ref(system=system if isinstance(system, str) else None, value=identifier["value"])
    raise invalid(
        _("%(name)s: give a reference (%(type)s/id) or an identifier.")
        % {"name": name, "type": resource_type},
        expression=name,
    )


def logical_id(text: str, resource_type: str, *, name: str) -> str:
    """The id in ``Type/id``, an absolute URL ending with it, or a bare id."""
    text = text.split("/_history/", 1)[0].rstrip("/")
    pieces = text.split("/")
    if len(pieces) == 1:
        return pieces[0]
    if pieces[-2] != resource_type:
        raise invalid(
            _("%(name)s: expected a reference to the resource type %(type)s.")
            % {"name": name, "type": resource_type},
            expression=name,
        )
    return pieces[-1]


def tokens(parts: Parts, name: str) -> list[tuple[str | None, str]]:
    tokens = []
    for part in parts.all(name):
        raw = parts.string(part, "Code", "Token")
        for value in raw.split(","):
            if value:
                tokens.append(token_param(value, name=name))
    return tokens


def count_of(parts: Parts) -> int:
    part = parts.one("_count")
    if part is None:
        return FIND_COUNT
    value = part.get("valueInteger", part.get("valuePositiveInt", part.get("valueString")))
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not (value.isascii() and value.isdigit()) or len(value) > 9:
        raise invalid(
            _("_count must be a whole number from 0 to %(max)d.") % {"max": FIND_MAX_COUNT},
            expression="_count",
        )
    return min(int(value), FIND_MAX_COUNT)
