"""The directory, read-only: Practitioner, PractitionerRole, Organization, Location,
HealthcareService and Schedule, read by id and searched (``_id``, ``identifier``, ``name``...,
``_count`` and ``_offset`` with next/previous links).

Public data of what is open on the platform (``directory_resources.public_*``), to callers with
the scope ``system/Slot.read`` (partners, and people with a token or a session); anonymous
callers get a 401 as everywhere in the facade but the CapabilityStatement.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.db.models import Q
from django.utils.translation import gettext as _
from fhir.resources.R4B.bundle import BundleLink

from consulto.directory.folding import fold

from .. import directory_resources as build
from ..access import endpoint
from ..capabilities import declare
from ..http import count_param, invalid, not_found, respond, searchset, token_param
from ..refs import FINESS_SYSTEM, RPPS_SYSTEM, base_url, parse_pk, rpps_of

SCOPE = "system/Slot.read"
DEFAULT_COUNT, MAX_COUNT = 50, 1000
MAX_OFFSET = 100_000
MAX_VALUES = 100  # values of one parameter (a comma-separated list)
ALWAYS_ALLOWED = frozenset({"_format", "_count", "_offset"})


# Parameters -------------------------------------------------------------------------------------


def check_parameters(request, allowed: set[str]) -> None:
    """A parameter the search does not know is a 400, rather than a silent wider answer."""
    for name in request.GET:
        if name not in allowed and name not in ALWAYS_ALLOWED:
            raise invalid(
                _("%(name)s is not a search parameter of this resource (known: %(known)s).")
                % {"name": name[:60], "known": ", ".join(sorted(allowed))},
                expression=name[:60],
            )


def values(request, name: str) -> list[str] | None:
    """Every value of ``name`` (repeated, or comma-separated: "or"), None when absent."""
    raw = request.GET.getlist(name)
    if not raw:
        return None
    found = [part.strip() for item in raw for part in item.split(",")]
    found = [value for value in found if value]
    if not found or len(found) > MAX_VALUES:
        raise invalid(
            _("%(name)s needs between 1 and %(max)d values.") % {"name": name, "max": MAX_VALUES},
            expression=name,
        )
    if any(len(value) > 200 for value in found):
        raise invalid(_("%(name)s: a value is too long.") % {"name": name}, expression=name)
    return found


def pks(request, name: str, resource_type: str | None = None) -> list[int] | None:
    """Ids (or references ``Type/id``) given in ``name``; ids that cannot be ours match none."""
    given = values(request, name)
    if given is None:
        return None
    found = []
    for value in given:
        if "/" in value:
            kind, _slash, value = value.rpartition("/")
            if resource_type is not None and kind.rsplit("/", 1)[-1] != resource_type:
                continue
        pk = parse_pk(value)
        if pk is not None:
            found.append(pk)
    return found


def offset_param(request) -> int:
    raw = request.GET.get("_offset", "")
    if raw == "":
        return 0
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9 or int(raw) > MAX_OFFSET:
        raise invalid(
            _("_offset must be a whole number from 0 to %(max)d.") % {"max": MAX_OFFSET},
            expression="_offset",
        )
    return int(raw)


def page(request, queryset, builder, *, resource_type: str, default=DEFAULT_COUNT):
    """One page of ``queryset`` (ordered) as a searchset with its paging links."""
    count = count_param(request.GET.get("_count"), default=default, maximum=MAX_COUNT)
    offset = offset_param(request)
    total = queryset.count()
    rows = list(queryset[offset : offset + count]) if count else []
    bundle = searchset(request, [builder(row) for row in rows], total=total,
                       resource_type=resource_type)  # fmt: skip
    add_paging_links(request, bundle, total=total, offset=offset, count=count)
    return respond(bundle)


def add_paging_links(request, bundle, *, total: int, offset: int, count: int) -> None:
    for link in paging_links(request, total=total, offset=offset, count=count):
        bundle.link.append(BundleLink(**link))


def paging_links(request, *, total: int, offset: int, count: int) -> list[dict]:
    """The next and previous pages' links (the same search, another ``_offset``)."""

    def url(at: int) -> str:
        query = request.GET.copy()
        query["_offset"] = str(at)
        query["_count"] = str(count)
        path = request.path.split("/fhir/r4", 1)[-1]
        return f"{base_url()}{path}?{urlencode(sorted(query.lists()), doseq=True)}"

    links = []
    if count and offset + count < total:
        links.append({"relation": "next", "url": url(offset + count)})
    if count and offset > 0:
        links.append({"relation": "previous", "url": url(max(0, offset - count))})
    return links


def read_one(queryset, logical_id: str, resource_type: str):
    pk = parse_pk(logical_id)
    row = queryset.filter(pk=pk).first() if pk is not None else None
    if row is None:
        raise not_found(resource_type, logical_id)
    return row


def identifier_values(request, name: str, system: str) -> list[str] | None:
    """The codes of ``system|code`` tokens (a code without a system is taken as one of
    ``system``); tokens of another system match nothing."""
    given = values(request, name)
    if given is None:
        return None
    codes = []
    for raw in given:
        token_system, code = token_param(raw, name=name)
        if token_system in (None, "", system) and code:
            codes.append(code)
    return codes


def text_filter(request, name: str, field: str) -> Q | None:
    given = values(request, name)
    if given is None:
        return None
    where = Q(pk__in=[])
    for value in given:
        where |= Q(**{f"{field}__icontains": value})
    return where


# Practitioner -----------------------------------------------------------------------------------

declare(
    "Practitioner",
    search_params=[
        ("_id", "token", "Logical id"),
        ("identifier", "token", f"IDNPS ({RPPS_SYSTEM}|8 + RPPS)"),
        ("name", "string", "Part of the first or last name"),
        ("family", "string", "Part of the last name"),
    ],
    documentation="Published practitioners with an active agenda.",
)


def _practitioners():
    return build.public_practitioners().select_related("specialty").order_by("last_name", "pk")


@endpoint(scope=SCOPE)
def practitioner_read(request, logical_id: str):
    return respond(build.practitioner(read_one(_practitioners(), logical_id, "Practitioner")))


@endpoint(scope=SCOPE)
def practitioner_search(request):
    check_parameters(request, {"_id", "identifier", "name", "family"})
    rows = _practitioners()
    if (ids := pks(request, "_id")) is not None:
        rows = rows.filter(pk__in=ids)
    if (codes := identifier_values(request, "identifier", RPPS_SYSTEM)) is not None:
        rows = rows.filter(rpps__in=[r for r in map(rpps_of, codes) if r])
    if (names := values(request, "name")) is not None:
        where = Q(pk__in=[])
        for name in names:
            where |= Q(search_name__contains=fold(name))
        rows = rows.filter(where)
    if (family := text_filter(request, "family", "last_name")) is not None:
        rows = rows.filter(family)
    return page(request, rows, build.practitioner, resource_type="Practitioner")


# PractitionerRole -------------------------------------------------------------------------------

declare(
    "PractitionerRole",
    search_params=[
        ("_id", "token", "Logical id (the agenda's)"),
        ("practitioner", "reference", "Practitioner/{id}"),
        ("organization", "reference", "Organization/{id}"),
        ("location", "reference", "Location/{id}"),
    ],
    documentation="A practitioner's agenda at an organisation, with its place (contained).",
)


def _roles():
    return (
        build.public_agendas()
        .filter(practitioner__isnull=False)
        .select_related("site", "practitioner__specialty")
        .order_by("pk")
    )


@endpoint(scope=SCOPE)
def practitioner_role_read(request, logical_id: str):
    return respond(build.practitioner_role(read_one(_roles(), logical_id, "PractitionerRole")))


@endpoint(scope=SCOPE)
def practitioner_role_search(request):
    check_parameters(request, {"_id", "practitioner", "organization", "location"})
    rows = _roles()
    for name, field, kind in (
        ("_id", "pk", None),
        ("practitioner", "practitioner_id", "Practitioner"),
        ("organization", "organisation_id", "Organization"),
        ("location", "site_id", "Location"),
    ):
        if (ids := pks(request, name, kind)) is not None:
            rows = rows.filter(**{f"{field}__in": ids})
    return page(request, rows, build.practitioner_role, resource_type="PractitionerRole")


# Organization -----------------------------------------------------------------------------------

declare(
    "Organization",
    search_params=[
        ("_id", "token", "Logical id"),
        ("identifier", "token", f"FINESS ({FINESS_SYSTEM}|number)"),
        ("name", "string", "Part of the name"),
    ],
    documentation="Organisations with an active public agenda.",
)


def _organisations():
    return build.public_organisations().order_by("name", "pk")


@endpoint(scope=SCOPE)
def organization_read(request, logical_id: str):
    return respond(build.organization(read_one(_organisations(), logical_id, "Organization")))


@endpoint(scope=SCOPE)
def organization_search(request):
    check_parameters(request, {"_id", "identifier", "name"})
    rows = _organisations()
    if (ids := pks(request, "_id")) is not None:
        rows = rows.filter(pk__in=ids)
    if (codes := identifier_values(request, "identifier", FINESS_SYSTEM)) is not None:
        rows = rows.filter(finess__in=[c for c in codes if c])
    if (name := text_filter(request, "name", "name")) is not None:
        rows = rows.filter(name)
    return page(request, rows, build.organization, resource_type="Organization")


# Location ---------------------------------------------------------------------------------------

declare(
    "Location",
    search_params=[
        ("_id", "token", "Logical id"),
        ("name", "string", "Part of the name"),
        ("address-city", "string", "Part of the city"),
        ("address-postalcode", "string", "Postcode (or its start)"),
        ("organization", "reference", "Organization/{id}"),
    ],
    documentation="Places of consultation of active public agendas (address, position, zone).",
)


def _sites():
    return build.public_sites().order_by("pk")


@endpoint(scope=SCOPE)
def location_read(request, logical_id: str):
    return respond(build.location_of(read_one(_sites(), logical_id, "Location")))


@endpoint(scope=SCOPE)
def location_search(request):
    check_parameters(request, {"_id", "name", "address-city", "address-postalcode", "organization"})
    rows = _sites()
    if (ids := pks(request, "_id")) is not None:
        rows = rows.filter(pk__in=ids)
    if (ids := pks(request, "organization", "Organization")) is not None:
        rows = rows.filter(organisation_id__in=ids)
    if (name := text_filter(request, "name", "name")) is not None:
        rows = rows.filter(name)
    if (city := text_filter(request, "address-city", "city")) is not None:
        rows = rows.filter(city)
    if (postcodes := values(request, "address-postalcode")) is not None:
        where = Q(pk__in=[])
        for postcode in postcodes:
            where |= Q(postcode__startswith=postcode)
        rows = rows.filter(where)
    return page(request, rows, build.location_of, resource_type="Location")


# HealthcareService ------------------------------------------------------------------------------

declare(
    "HealthcareService",
    search_params=[
        ("_id", "token", "Logical id (the motive's)"),
        ("name", "string", "Part of the motive's label"),
        ("organization", "reference", "Organization/{id}"),
        ("location", "reference", "Location/{id}"),
        ("service-type", "token", "AMB (in person), VR (video), HH (home visit)"),
    ],
    documentation="A motive of consultation: label, duration (extension), consultation type.",
)

MODES = {code: mode for mode, (code, _display) in build.ENCOUNTER.items()}


def _motives(request):
    return build.public_motives(request.consumer).order_by("agenda_id", "position", "pk")


@endpoint(scope=SCOPE)
def healthcare_service_read(request, logical_id: str):
    motive = read_one(_motives(request), logical_id, "HealthcareService")
    return respond(build.healthcare_service(motive))


@endpoint(scope=SCOPE)
def healthcare_service_search(request):
    check_parameters(request, {"_id", "name", "organization", "location", "service-type"})
    rows = _motives(request)
    if (ids := pks(request, "_id")) is not None:
        rows = rows.filter(pk__in=ids)
    if (ids := pks(request, "organization", "Organization")) is not None:
        rows = rows.filter(agenda__organisation_id__in=ids)
    if (ids := pks(request, "location", "Location")) is not None:
        rows = rows.filter(agenda__site_id__in=ids)
    if (name := text_filter(request, "name", "label")) is not None:
        rows = rows.filter(name)
    if (types := values(request, "service-type")) is not None:
        codes = [token_param(t, name="service-type")[1] for t in types]
        rows = rows.filter(mode__in=[MODES[c] for c in codes if c in MODES])
    return page(request, rows, build.healthcare_service, resource_type="HealthcareService")


# Schedule ---------------------------------------------------------------------------------------

declare(
    "Schedule",
    search_params=[
        ("_id", "token", "Logical id (the agenda's)"),
        ("actor", "reference", "Practitioner/{id}, PractitionerRole/{id} or Location/{id}"),
    ],
    documentation="An agenda: its practitioner and role (or place), its consultation types.",
)


def _schedules():
    return build.public_agendas().select_related("site", "practitioner__specialty").order_by("pk")


def schedules_of(agendas, consumer, motives=None) -> list[dict]:
    """The Schedules of ``agendas`` with the consultation types of their public motives
    (``motives`` when the caller has read them already)."""
    modes: dict[int, set[str]] = {}
    if motives is None:
        motives = build.motives_of(list(agendas), consumer)
    for motive in motives:
        modes.setdefault(motive.agenda_id, set()).add(motive.mode)
    return [build.schedule(agenda, modes.get(agenda.pk, ())) for agenda in agendas]


@endpoint(scope=SCOPE)
def schedule_read(request, logical_id: str):
    agenda = read_one(_schedules(), logical_id, "Schedule")
    return respond(schedules_of([agenda], request.consumer)[0])


@endpoint(scope=SCOPE)
def schedule_search(request):
    check_parameters(request, {"_id", "actor"})
    rows = _schedules()
    if (ids := pks(request, "_id")) is not None:
        rows = rows.filter(pk__in=ids)
    if (actors := values(request, "actor")) is not None:
        where = Q(pk__in=[])
        for actor in actors:
            kind, _slash, raw = actor.rpartition("/")
            pk = parse_pk(raw)
            field = {
                "Practitioner": "practitioner_id",
                "PractitionerRole": "pk",
                "Location": "site_id",
            }.get(kind.rsplit("/", 1)[-1])
            if pk is not None and field is not None:
                where |= Q(**{field: pk})
        rows = rows.filter(where)
    count = count_param(request.GET.get("_count"), default=DEFAULT_COUNT, maximum=MAX_COUNT)
    offset = offset_param(request)
    total = rows.count()
    agendas = list(rows[offset : offset + count]) if count else []
    bundle = searchset(request, schedules_of(agendas, request.consumer), total=total)
    add_paging_links(request, bundle, total=total, offset=offset, count=count)
    return respond(bundle)
