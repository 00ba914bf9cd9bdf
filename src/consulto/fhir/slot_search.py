"""Slots as the facade serves them: computed from the availability engine (the shared cache of
``scheduling.cache``), never stored, each tagged with the SAS kind of slot (TRE-R314) of the
opening it lies in.

A slot lies wholly inside one opening (``scheduling.availability``), so the slots an audience is
offered are the union of the slots of each visibility it sees: they are computed per visibility
(one ``slots_for_many`` batch per visibility, date range and motive rank) and merged, each slot
keeping the visibilities it was found in (overlapping openings give a slot several tags, as the
guide allows). What a caller is offered of an agenda is ``Consumer.audience_for`` (the SAS what
regulation sees, never the known patients' openings; an organisation's software its own
openings fully and the professionals' ones elsewhere).

Busy slots (``status=busy``) are shown to the agenda's own organisation only: the openings'
grid (computed without bookings) less the free slots.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from consulto.scheduling import availability as engine
from consulto.scheduling import visibility
from consulto.scheduling.cache import slots_for_many
from consulto.scheduling.models import Agenda, Motive, Opening
from consulto.scheduling.selectors import load_inputs, motive_rule

from . import directory_resources as build
from .refs import SLOT_TYPE_SYSTEM, SlotId, reference

APPOINTMENT_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0276"

V = Opening.Visibility
# The SAS kind of slot (TRE-R314) of each visibility; the known patients' openings have none
# (they are never shown outside the organisation).
SLOT_TYPES = {
    V.PUBLIC.value: ("PUBLIC", "Créneau grand public"),
    V.PROFESSIONALS.value: ("PRO", "Créneau réservé aux professionnels"),
    V.REGULATION.value: ("SNP", "Créneau réservé au SNP"),
    "cpts": ("CPTS", "Créneau réservé à la CPTS"),
}
FREE, BUSY = "free", "busy"


@dataclass
class FoundSlot:
    agenda: Agenda
    motive: Motive
    start: datetime  # in the agenda's zone
    end: datetime
    status: str
    visibilities: set[str] = field(default_factory=set)

    @property
    def key(self) -> tuple[int, int, int]:
        return (self.agenda.pk, self.motive.pk, int(self.start.timestamp()))


def find(
    *,
    consumer,
    agendas: list[Agenda],
    motives: list[Motive],
    low: datetime,
    high: datetime,
    statuses: frozenset[str],
    now: datetime,
) -> list[FoundSlot]:
    """The slots of ``motives`` (of ``agendas``) starting in [low, high), as ``consumer`` is
    offered them, sorted by start. ``agendas`` come with ``site`` selected."""
    if not agendas or not motives or high <= low:
        return []
    by_pk = {agenda.pk: agenda for agenda in agendas}
    audiences = {pk: frozenset(consumer.audience_for(a, now=now)) for pk, a in by_pk.items()}
    seen_visibilities = frozenset().union(*audiences.values())
    motives_by_pk = {m.pk: m for m in motives if m.agenda_id in by_pk}
    offered = _offered(by_pk, motives_by_pk, audiences, seen_visibilities, low, high)

    found: dict[tuple[int, int, int], FoundSlot] = {}
    # The free slots are needed for the busy ones too (the grid less the free).
    if statuses & {FREE, BUSY}:
        batches = _batches(offered, by_pk, motives_by_pk, low, high)
        for (visibility_value, first, days), pairs in batches.items():
            for batch in _one_per_agenda(pairs):
                computed = slots_for_many(
                    batch,
                    start=first,
                    days=days,
                    now=now,
                    audience=frozenset({visibility_value}),
                )
                for agenda, motive in batch:
                    _collect(found, computed[agenda.pk], agenda, motive, visibility_value,
                             FREE, low, high)  # fmt: skip
    if BUSY in statuses:
        own = {pk for pk, audience in audiences.items() if audience == visibility.EVERYONE}
        _busy(found, offered, by_pk, motives_by_pk, own, low=low, high=high, now=now)
    kept = [slot for slot in found.values() if slot.status in statuses]
    return sorted(kept, key=lambda s: (s.start, s.agenda.pk, s.motive.pk))


def _offered(by_pk, motives_by_pk, audiences, seen, low, high):
    """(visibility, agenda, motive) of the openings valid in the window that the caller sees
    on that agenda and that allow one of the motives: one query."""
    if not seen or not motives_by_pk:
        return set()
    first = (low - timedelta(days=1)).date()
    last = (high + timedelta(days=1)).date()
    rows = (
        Opening.objects.filter(agenda_id__in=list(by_pk), visibility__in=sorted(seen))
        .filter(valid_from__lte=last)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=first))
        .filter(motives__in=list(motives_by_pk))
        .order_by()
        .values_list("visibility", "agenda_id", "motives")
        .distinct()
    )
    return {
        (v, agenda_id, motive_id)
        for v, agenda_id, motive_id in rows
        if v in audiences[agenda_id] and motive_id in motives_by_pk
        and motives_by_pk[motive_id].agenda_id == agenda_id
    }  # fmt: skip


def _batches(offered, by_pk, motives_by_pk, low, high) -> dict[tuple[str, date, int], list]:
    batches: dict[tuple[str, date, int], list] = defaultdict(list)
    for v, agenda_id, motive_id in sorted(offered):
        agenda = by_pk[agenda_id]
        first, days = _dates(agenda, low, high)
        batches[(v, first, days)].append((agenda, motives_by_pk[motive_id]))
    return batches


def _dates(agenda: Agenda, low: datetime, high: datetime) -> tuple[date, int]:
    zone = agenda.zone
    first = low.astimezone(zone).date()
    last = (high - timedelta(microseconds=1)).astimezone(zone).date()
    return first, (last - first).days + 1


def _one_per_agenda(pairs: list) -> list[list]:
    """``slots_for_many`` answers per agenda: batches where each agenda comes once."""
    rounds: list[list] = []
    placed: dict[int, int] = defaultdict(int)
    for agenda, motive in pairs:
        index = placed[agenda.pk]
        placed[agenda.pk] += 1
        if index == len(rounds):
            rounds.append([])
        rounds[index].append((agenda, motive))
    return rounds


def _collect(found, slots, agenda, motive, visibility_value, status, low, high) -> None:
    for slot in slots:
        if slot.start < low:
            continue
        if slot.start >= high:
            break
        key = (agenda.pk, motive.pk, int(slot.start.timestamp()))
        hit = found.get(key)
        if hit is None:
            hit = found[key] = FoundSlot(agenda, motive, slot.start, slot.end, status)
        hit.visibilities.add(visibility_value)


def _busy(found, offered, by_pk, motives_by_pk, own: set[int], *, low, high, now) -> None:
    """The taken slots of the organisation's own agendas: the grid less what is free."""
    by_visibility: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for v, agenda_id, motive_id in offered:
        if agenda_id in own:
            by_visibility[v].append((agenda_id, motive_id))
    for v, pairs in by_visibility.items():
        agendas = [by_pk[pk] for pk in sorted({a for a, _m in pairs})]
        spans = [_dates(a, low, high) for a in agendas]
        first = min(start for start, _days in spans)
        days = max((start - first).days + n for start, n in spans)
        inputs = load_inputs(
            agendas, start=first, days=days, now=now, with_busy=False, audience=frozenset({v})
        )
        for agenda_id, motive_id in pairs:
            agenda, motive = by_pk[agenda_id], motives_by_pk[motive_id]
            got = inputs[agenda_id]
            grid = engine.compute_slots(
                openings=got.openings,
                absences=got.absences,
                busy=[],
                motive=motive_rule(motive),
                capacity=got.capacity,
                start=first,
                days=days,
                zone=got.zone,
                now=now,
            )
            for slot in grid:
                if not low <= slot.start < high:
                    continue
                key = (agenda.pk, motive.pk, int(slot.start.timestamp()))
                hit = found.get(key)
                if hit is None:
                    hit = found[key] = FoundSlot(agenda, motive, slot.start, slot.end, BUSY)
                if hit.status == BUSY:
                    hit.visibilities.add(v)


def epoch(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp())


def slot_types(found: FoundSlot) -> list[dict]:
    return [
        {"system": SLOT_TYPE_SYSTEM, "code": SLOT_TYPES[v][0], "display": SLOT_TYPES[v][1]}
        for v in sorted(found.visibilities)
        if v in SLOT_TYPES
    ]


def booking_link(found: FoundSlot, *, consumer) -> str | None:
    """Where a person books this slot in our pages: the regulation console for the SAS (a
    regulator comes from the SAS platform), the practitioner's page, on the slot's week, for
    anyone else; None for a resource's agenda (booked from its establishment's page)."""
    if consumer is not None and consumer.is_sas:
        return f"{settings.CONSULTO_SITE_URL}{_reverse('regulation:new_case')}"
    if found.agenda.practitioner_id is None:
        return None
    day = found.start.date()
    week = day - timedelta(days=day.weekday())
    query = urlencode({"agenda": found.agenda.pk, "motive": found.motive.pk, "week": week})
    path = _reverse("practitioner", args=[found.agenda.practitioner_id])
    return f"{settings.CONSULTO_SITE_URL}{path}?{query}"


def _reverse(name: str, args=()) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return reverse(name, args=args)


def slot_resource(found: FoundSlot, *, consumer, with_service_reference: bool = False) -> dict:
    """A Slot (``refs.SlotId``): its kinds of slot (meta.security), consultation type,
    specialty, motive (appointmentType), schedule, times, status and where to book it."""
    service_type = build.encounter_code(found.motive)
    if with_service_reference:
        service_type = {
            **service_type,
            "extension": [
                {
                    "url": build.SERVICE_TYPE_REFERENCE,
                    "valueReference": reference("HealthcareService", found.motive.pk),
                }
            ],
        }
    link = booking_link(found, consumer=consumer)
    security = slot_types(found)
    resource = {
        "resourceType": "Slot",
        "id": str(SlotId.of(found.agenda.pk, found.motive.pk, found.start)),
        "serviceType": [service_type],
        "specialty": build.specialty(found.agenda.practitioner),
        "appointmentType": {
            "coding": [{"system": APPOINTMENT_TYPE_SYSTEM, "code": "ROUTINE"}],
            "text": found.motive.label,
        },
        "schedule": reference("Schedule", found.agenda.pk),
        "status": found.status,
        "start": found.start.isoformat(timespec="seconds"),
        "end": found.end.isoformat(timespec="seconds"),
    }
    if security:
        resource["meta"] = {"security": security}
    if link and found.status == FREE:
        resource["comment"] = _("Book: %(url)s") % {"url": link}
    return {key: value for key, value in resource.items() if value is not None}
