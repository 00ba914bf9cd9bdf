"""Which appointments and patients a caller may read, and the Appointment search (ITI-118)."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _

from consulto.scheduling.models import Appointment, PatientProfile
from consulto.scheduling.selectors import appointments_of

from ..access import Consumer
from ..http import count_param, date_param, invalid, token_param
from ..refs import identifier_system, parse_pk
from ..resources.appointments import OUR_STATUSES
from .parameters import MAX_VALUES, logical_id

Status = Appointment.Status


def with_relations(qs):
    return qs.select_related("agenda__site", "agenda__practitioner__specialty", "motive", "patient")


def reload(pk: int) -> Appointment:
    return with_relations(Appointment.objects.filter(pk=pk)).get()


def visible_appointments(consumer: Consumer):
    """The appointments ``consumer`` may read: a partner its organisation's and those it booked
    (its live holds too), a person their own and their relatives'."""
    if consumer.is_partner:
        mine = Q(booked_by=consumer.user)
        where = mine
        if consumer.organisation_id is not None:
            where |= Q(agenda__organisation_id=consumer.organisation_id)
        qs = Appointment.objects.filter(where).exclude(status=Status.EXPIRED)
        qs = qs.exclude(Q(status=Status.HELD) & ~mine)
        return with_relations(qs)
    return with_relations(appointments_of(consumer.user))


def visible_patients(consumer: Consumer):
    """The patients ``consumer`` may read: a person their own profiles, a partner the patients
    of the appointments it may read."""
    if consumer.is_partner:
        seen = visible_appointments(consumer).filter(patient__isnull=False)
        return PatientProfile.objects.filter(pk__in=seen.values("patient_id"))
    return PatientProfile.objects.filter(owner=consumer.user)


def search(consumer: Consumer, params, *, default_count: int, max_count: int):
    """Appointments matching the search parameters ``params`` (a QueryDict), with the total."""
    qs = visible_appointments(consumer)
    for raw in params.getlist("date"):
        qs = _on_dates(qs, raw)
    statuses = [code for raw in params.getlist("status") for code in raw.split(",") if code]
    if statuses:
        qs = qs.filter(status__in=[s for code in statuses for s in OUR_STATUSES.get(code, [])])
    for name, resource_type, field in (
        ("patient", "Patient", "patient_id"),
        ("practitioner", "Practitioner", "agenda__practitioner_id"),
        ("location", "Location", "agenda__site_id"),
    ):
        for raw in params.getlist(name):
            qs = qs.filter(**{f"{field}__in": _ids(raw, resource_type, name=name)})
    for raw in params.getlist("actor"):
        where = Q(pk__in=[])
        for value in raw.split(","):
            kind, _slash, logical = value.rpartition("/")
            kind = kind.rsplit("/", 1)[-1]
            fields = {
                "Patient": "patient_id",
                "Practitioner": "agenda__practitioner_id",
                "Location": "agenda__site_id",
                "PractitionerRole": "agenda_id",
                "Schedule": "agenda_id",
                "HealthcareService": "motive_id",
            }
            if kind not in fields:
                raise invalid(
                    _("actor: give references such as Practitioner/12 or Patient/34."),
                    expression="actor",
                )
            pk = parse_pk(logical)
            if pk:
                where |= Q(**{fields[kind]: pk})
        qs = qs.filter(where)
    for raw in params.getlist("identifier"):
        system, value = token_param(raw, name="identifier")
        pk = parse_pk(value)
        if system not in (None, identifier_system("appointment")) or pk is None:
            qs = qs.none()
        else:
            qs = qs.filter(pk=pk)
    for raw in params.getlist("_id"):
        qs = qs.filter(pk__in=[parse_pk(v) or 0 for v in raw.split(",")][:MAX_VALUES])
    count = count_param(params.get("_count"), default=default_count, maximum=max_count)
    qs = qs.order_by("start", "pk")
    return list(qs[:count]), qs.count()


def _ids(raw: str, resource_type: str, *, name: str) -> list[int]:
    ids = []
    for value in raw.split(",")[:MAX_VALUES]:
        logical = logical_id(value, resource_type, name=name)
        ids.append(parse_pk(logical) or 0)
    return ids


def _on_dates(qs, raw: str):
    value = date_param(raw, name="date")
    low, high = value.low, value.high
    match value.prefix:
        case "eq":
            return qs.filter(start__gte=low, start__lt=high)
        case "ne":
            return qs.exclude(start__gte=low, start__lt=high)
        case "ge":
            return qs.filter(start__gte=low)
        case "gt" | "sa":
            return qs.filter(start__gte=high)
        case "le":
            return qs.filter(start__lt=high)
        case "lt" | "eb":
            return qs.filter(start__lt=low)
    raise invalid(
        _("date: the prefix %(prefix)s is not supported.") % {"prefix": value.prefix},
        expression="date",
    )
