"""``GET /fhir/r4/Slot``: the SAS slot search (flows INT_R01 and, for CPTS, INT_R04), and
``Slot/{id}``.

The SAS national platform asks for the free slots of 1 to 25 practitioners (their IDNPS) in a
window, with their Schedules and the Schedules' actors (Practitioner, and PractitionerRole with
its Location contained); the CPTS flow adds the HealthcareService of each slot and its
Organization::

    GET /fhir/r4/Slot?_include=Slot:schedule&_include:iterate=Schedule:actor
        &start=ge2026-12-09T08:00:00+01:00&start=le2026-12-11T08:00:00+01:00
        &schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1|810000000013,…
        &status=free&_count=1000

Slots are never stored (``slot_search``); each carries its kinds of slot (TRE-R314) in
``meta.security``. The SAS is offered, per agenda, one motive of each consultation type (as the
regulation console offers them); an organisation's software every motive.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from consulto.directory.models import Membership
from consulto.scheduling import visibility

from .. import directory_resources as build
from .. import slot_search
from ..access import endpoint
from ..capabilities import declare
from ..http import (
    FHIR_JSON,
    FhirError,
    count_param,
    date_param,
    invalid,
    not_found,
    respond,
    token_param,
    validated,
)
from ..refs import RPPS_SYSTEM, SlotId, base_url, rpps_of
from .directory import (
    SCOPE,
    check_parameters,
    offset_param,
    paging_links,
    pks,
    schedules_of,
    values,
)

IDENTIFIER = "schedule.actor:Practitioner.identifier"
MAX_PRACTITIONERS = 25
MAX_WINDOW = timedelta(days=31)
DEFAULT_COUNT = MAX_COUNT = 1000
INCLUDES = {"Slot:schedule", "Slot:service-type-reference"}
ITERATED = {"Schedule:actor", "HealthcareService:organization"}

declare(
    "Slot",
    search_params=[
        ("start", "date", "Mandatory: ge<dateTime> and le<dateTime>, at most 31 days apart"),
        ("status", "token", "Mandatory: free (busy: the organisation's own agendas only)"),
        (IDENTIFIER, "token", f"1 to 25 practitioners' IDNPS ({RPPS_SYSTEM}|8 + RPPS)"),
        ("schedule", "reference", "1 to 25 Schedule/{id} (instead of the practitioners)"),
    ],
    search_include=sorted(INCLUDES | ITERATED),
    documentation=(
        "Computed from the agendas, never stored; meta.security gives the kind of slot "
        "(TRE-R314: PUBLIC, PRO, SNP). Schedule:actor and HealthcareService:organization "
        "are included with _include:iterate. The SAS platform is offered one motive per "
        "consultation type of each agenda."
    ),
)


@endpoint(scope=SCOPE)
def slot_search_view(request):
    check_parameters(
        request, {"start", "status", IDENTIFIER, "schedule", "_include", "_include:iterate"}
    )
    consumer = request.consumer
    now = timezone.now()
    low, high = _window(request)
    statuses = _statuses(request, consumer)
    includes = _includes(request)
    count = count_param(request.GET.get("_count"), default=DEFAULT_COUNT, maximum=MAX_COUNT)
    offset = offset_param(request)

    agendas = _agendas(request)
    if not consumer.is_partner:  # a patient books online: agendas closed to it show nothing
        agendas = [agenda for agenda in agendas if agenda.online_booking]
    motives = build.motives_of(agendas, consumer)
    found = slot_search.find(
        consumer=consumer,
        agendas=agendas,
        motives=motives,
        low=low,
        high=high,
        statuses=statuses,
        now=now,
        one_per_mode=consumer.is_sas,
    )
    shown = found[offset : offset + count] if count else []
    with_reference = "Slot:service-type-reference" in includes
    builder = slot_search.SlotBuilder(consumer=consumer, with_service_reference=with_reference)
    matches = [builder(s) for s in shown]
    links = paging_links(request, total=len(found), offset=offset, count=count)
    included = _included(shown, includes, consumer, motives)
    return _searchset(request, matches, included, len(found), links)


_CHECKED_LAYOUTS: set[tuple[str, ...]] = set()


def _searchset(request, matches, included, total: int, links: list[dict]) -> HttpResponse:
    """The searchset Bundle, written as JSON directly.

    Elsewhere the facade builds every resource as a fhir.resources model before sending it; an
    answer of hundreds of slots would spend most of its time there (about 1 ms a resource), for
    resources built by the same few functions. Here each layout of a resource (its type and
    members) is checked against its model the first time this process sends it (a change that
    breaks one breaks them all), and the tests validate every one."""
    base = base_url()
    entries = []
    for mode, resources in (("match", matches), ("include", included)):
        for resource in resources:
            kind = resource["resourceType"]
            layout = (kind, *resource)
            if layout not in _CHECKED_LAYOUTS:
                validated(resource)
                _CHECKED_LAYOUTS.add(layout)
            entries.append(
                {
                    "fullUrl": f"{base}/{kind}/{resource['id']}",
                    "resource": resource,
                    "search": {"mode": mode},
                }
            )
    query = request.META.get("QUERY_STRING", "")
    self_url = f"{base}/Slot" + (f"?{query}" if query else "")
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": [{"relation": "self", "url": self_url}, *links],
    }
    if entries:
        bundle["entry"] = entries
    body = json.dumps(bundle, ensure_ascii=False, separators=(",", ":"))
    return HttpResponse(body, content_type=f"{FHIR_JSON}; charset=utf-8")


@endpoint(scope=SCOPE)
def slot_read(request, logical_id: str):
    slot_id = SlotId.parse(logical_id)
    if slot_id is None:
        raise not_found("Slot", logical_id)
    consumer = request.consumer
    agenda = (
        build.public_agendas()
        .select_related("site", "practitioner__specialty", "organisation")
        .filter(pk=slot_id.agenda_id)
        .first()
    )
    motive = build.public_motives(consumer).filter(pk=slot_id.motive_id).first()
    if agenda is None or motive is None or motive.agenda_id != agenda.pk:
        raise not_found("Slot", logical_id)
    if not consumer.is_partner and not agenda.online_booking:
        raise not_found("Slot", logical_id)
    found = slot_search.find(
        consumer=consumer,
        agendas=[agenda],
        motives=[motive],
        low=slot_id.start,
        high=slot_id.start + timedelta(seconds=1),
        statuses=frozenset({slot_search.FREE, slot_search.BUSY}),
        now=timezone.now(),
        one_per_mode=consumer.is_sas,
    )
    if not found:
        raise FhirError(
            404, _("Slot/%(id)s is not offered (taken, past or never was).") % {"id": logical_id}
        )
    return respond(slot_search.slot_resource(found[0], consumer=consumer))


# Parameters -------------------------------------------------------------------------------------


def _window(request) -> tuple[datetime, datetime]:
    """``start``: a lower bound (ge, gt) and an upper bound (le, lt), both mandatory."""
    lows, highs = [], []
    for raw in request.GET.getlist("start"):
        if raw[:2] not in ("ge", "gt", "le", "lt"):
            raise invalid(
                _("start takes the prefixes ge/gt and le/lt (e.g. start=ge%(example)s).")
                % {"example": "2026-12-09T08:00:00+01:00"},
                expression="start",
            )
        param = date_param(raw, name="start")
        if param.prefix == "ge":
            lows.append(param.low)
        elif param.prefix == "gt":
            lows.append(param.high)
        elif param.prefix == "le":
            highs.append(param.high)
        else:
            highs.append(param.low)
    if not lows or not highs:
        raise invalid(
            _("Give start twice: start=ge<dateTime> and start=le<dateTime>."),
            expression="start",
        )
    low, high = max(lows), min(highs)
    if high - low > MAX_WINDOW:
        raise invalid(
            _("The window of start may span %(days)d days at most.") % {"days": MAX_WINDOW.days},
            expression="start",
        )
    return low, high


def _statuses(request, consumer) -> frozenset[str]:
    given = values(request, "status")
    if given is None:
        raise invalid(_("Give status=free."), expression="status")
    statuses = frozenset(given)
    if not statuses <= {slot_search.FREE, slot_search.BUSY}:
        raise invalid(_("status is free or busy."), expression="status")
    if slot_search.BUSY in statuses and not _is_staff(consumer):
        raise FhirError(
            403,
            _("Busy slots are shown to the organisation's own software and staff only."),
            code="forbidden",
        )
    return statuses


def _is_staff(consumer) -> bool:
    if consumer.partner is not None:
        return consumer.organisation_id is not None
    return Membership.objects.filter(user=consumer.user, role__in=visibility.STAFF_ROLES).exists()


def _includes(request) -> set[str]:
    includes = set(request.GET.getlist("_include"))
    iterated = set(request.GET.getlist("_include:iterate"))
    unknown = (includes - INCLUDES - ITERATED) | (iterated - ITERATED - INCLUDES)
    if unknown:
        raise invalid(
            _("_include: %(value)s is not supported (supported: %(known)s).")
            % {"value": sorted(unknown)[0][:60], "known": ", ".join(sorted(INCLUDES | ITERATED))},
            expression="_include",
        )
    return includes | iterated


def _agendas(request) -> list:
    """The agendas of the practitioners named by IDNPS, or the Schedules named (1 to 25)."""
    identifiers = values(request, IDENTIFIER)
    schedules = pks(request, "schedule", "Schedule")
    if identifiers is None and schedules is None:
        raise invalid(
            _("Name the practitioners (%(name)s=%(system)s|8<RPPS>,…) or the schedules.")
            % {"name": IDENTIFIER, "system": RPPS_SYSTEM},
            expression=IDENTIFIER,
        )
    agendas = build.public_agendas().select_related(
        "site", "practitioner__specialty", "organisation"
    )
    if identifiers is not None:
        numbers = set()
        for raw in identifiers:
            system, code = token_param(raw, name=IDENTIFIER)
            rpps = rpps_of(code)
            if system not in (None, RPPS_SYSTEM) or rpps is None:
                raise invalid(
                    _("%(value)s is not a practitioner's IDNPS (%(system)s|8 + 11 digits).")
                    % {"value": raw[:60], "system": RPPS_SYSTEM},
                    expression=IDENTIFIER,
                )
            numbers.add(rpps)
        _at_most(len(numbers), IDENTIFIER)
        agendas = agendas.filter(practitioner__rpps__in=sorted(numbers))
    if schedules is not None:
        _at_most(len(set(schedules)) or 1, "schedule")
        agendas = agendas.filter(pk__in=schedules)
    return list(agendas.order_by("pk"))


def _at_most(count: int, name: str) -> None:
    if not 1 <= count <= MAX_PRACTITIONERS:
        raise invalid(
            _("%(name)s takes 1 to %(max)d values.") % {"name": name, "max": MAX_PRACTITIONERS},
            expression=name,
        )


# Included resources -----------------------------------------------------------------------------


def _included(shown, includes: set[str], consumer, motives) -> list[dict]:
    agendas = list({s.agenda.pk: s.agenda for s in shown}.values())
    included: list[dict] = []
    if "Slot:schedule" in includes:
        included += schedules_of(agendas, consumer, motives)
        if "Schedule:actor" in includes:
            practitioners = {a.practitioner_id: a.practitioner for a in agendas if a.practitioner}
            included += [build.practitioner(p) for p in practitioners.values()]
            included += [build.practitioner_role(a) for a in agendas if a.practitioner_id]
            sites = {a.site_id: a.site for a in agendas if not a.practitioner_id}
            included += [build.location_of(site) for site in sites.values()]
    if "Slot:service-type-reference" in includes:
        motives = {s.motive.pk: s.motive for s in shown}
        included += [build.healthcare_service(m) for m in motives.values()]
        if "HealthcareService:organization" in includes:
            organisations = {s.agenda.organisation_id: s.agenda.organisation for s in shown}
            included += [build.organization(o) for o in organisations.values()]
    return included
