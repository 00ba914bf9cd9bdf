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

import math
from bisect import bisect_left, bisect_right
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
from consulto.scheduling.cache import entries_for_many
from consulto.scheduling.models import Agenda, Motive, Opening
from consulto.scheduling.selectors import load_inputs, motive_rule

from . import directory_resources as build
from .refs import SLOT_TYPE_SYSTEM, reference

APPOINTMENT_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0276"

V = Opening.Visibility
# The SAS kind of slot (TRE-R314) of each visibility; the known patients' openings have none
# (they are never shown outside the organisation).
SLOT_TYPES = {
    V.PUBLIC.value: ("PUBLIC", "Créneau grand public"),
    V.PROFESSIONALS.value: ("PRO", "Créneau réservé aux professionnels"),
    V.REGULATION.value: ("SNP", "Créneau réservé au SNP"),
    V.CPTS.value: ("CPTS", "Créneau réservé à la CPTS"),
}
FREE, BUSY = "free", "busy"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class FoundSlot:
    agenda: Agenda
    motive: Motive
    start: datetime  # in the agenda's zone
    end: datetime
    status: str
    visibilities: set[str] = field(default_factory=set)


def find(
    *,
    consumer,
    agendas: list[Agenda],
    motives: list[Motive],
    low: datetime,
    high: datetime,
    statuses: frozenset[str],
    now: datetime,
    one_per_mode: bool = False,
) -> list[FoundSlot]:
    """The slots of ``motives`` (of ``agendas``) starting in [low, high), as ``consumer`` is
    offered them, sorted by start. ``agendas`` come with ``site`` selected.

    ``one_per_mode``: per agenda, only the first motive of each consultation type (in person,
    video, home) among those offered, one open to new patients first, then by position: what
    the regulation console offers (``referral.search``), rather than the same hours once per
    motive."""
    if not agendas or not motives or high <= low:
        return []
    by_pk = {agenda.pk: agenda for agenda in agendas}
    audiences = {pk: frozenset(consumer.audience_for(a, now=now)) for pk, a in by_pk.items()}
    seen_visibilities = frozenset().union(*audiences.values())
    motives_by_pk = {m.pk: m for m in motives if m.agenda_id in by_pk}
    offered = _offered(by_pk, motives_by_pk, audiences, seen_visibilities, low, high)
    if one_per_mode:
        offered = _first_per_mode(offered, motives_by_pk)

    found: dict[tuple[int, int, int], FoundSlot] = {}
    # The free slots are needed for the busy ones too (the grid less the free).
    if statuses & {FREE, BUSY}:
        batches = _batches(offered, by_pk, motives_by_pk, low, high)
        for (visibility_value, first, days), pairs in batches.items():
            for batch in _one_per_agenda(pairs):
                # The cached arrays of starts (epoch seconds): only the slots of the window
                # become datetimes (the cache holds whole days).
                computed = entries_for_many(
                    batch,
                    start=first,
                    days=days,
                    now=now,
                    audience=frozenset({visibility_value}),
                )
                for agenda, motive in batch:
                    raw = computed[agenda.pk][1]
                    _collect(found, raw, agenda, motive, visibility_value, low=low, high=high,
                             now=now)  # fmt: skip
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


def _first_per_mode(offered: set, motives_by_pk: dict) -> set:
    candidates = sorted(
        {motives_by_pk[motive_id] for _v, _a, motive_id in offered},
        key=lambda m: (m.agenda_id, m.mode, not m.open_to_new_patients, m.position, m.pk),
    )
    chosen: dict[tuple[int, str], int] = {}
    for motive in candidates:
        chosen.setdefault((motive.agenda_id, motive.mode), motive.pk)
    kept = set(chosen.values())
    return {triple for triple in offered if triple[2] in kept}


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
    """The cache answers per agenda (``entries_for_many``): batches where each agenda comes
    once."""
    rounds: list[list] = []
    placed: dict[int, int] = defaultdict(int)
    for agenda, motive in pairs:
        index = placed[agenda.pk]
        placed[agenda.pk] += 1
        if index == len(rounds):
            rounds.append([])
        rounds[index].append((agenda, motive))
    return rounds


def _collect(found, raw, agenda, motive, visibility_value, *, low, high, now) -> None:
    """The free slots of ``raw`` (the cache's arrays) in [low, high) and in the motive's
    booking window (not sooner than its notice, not later than its horizon)."""
    starts, ends, _remaining = raw
    soonest = now + timedelta(minutes=motive.min_notice_minutes)
    earliest = max(_ceil_seconds(soonest), _ceil_seconds(low))
    latest = min(epoch(now + timedelta(days=motive.max_advance_days)), _ceil_seconds(high) - 1)
    zone = agenda.zone
    for i in range(bisect_left(starts, earliest), bisect_right(starts, latest)):
        key = (agenda.pk, motive.pk, starts[i])
        hit = found.get(key)
        if hit is None:
            start = datetime.fromtimestamp(starts[i], zone)
            end = datetime.fromtimestamp(ends[i], zone)
            hit = found[key] = FoundSlot(agenda, motive, start, end, FREE)
        hit.visibilities.add(visibility_value)


def _ceil_seconds(moment: datetime) -> int:
    """Epoch seconds of ``moment``, rounded up (slots start on whole seconds)."""
    return math.ceil((moment - _EPOCH) / timedelta(seconds=1))


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


class SlotBuilder:
    """Slots as FHIR resources (``refs.SlotId``), for one answer: what slots share (kinds of
    slot, consultation type, specialty, booking links) is built once per answer, not once per
    slot (an answer holds up to a thousand)."""

    def __init__(self, *, consumer, with_service_reference: bool = False):
        self.consumer = consumer
        self.with_service_reference = with_service_reference
        self.comment = _("Book: %(url)s")
        self._security: dict[frozenset[str], list[dict]] = {}
        self._motive: dict[int, tuple] = {}
        self._specialty: dict[int, list | None] = {}
        self._paths: dict[int, str] = {}
        self._regulation = None

    def security(self, visibilities: frozenset[str]) -> list[dict]:
        found = self._security.get(visibilities)
        if found is None:
            found = self._security[visibilities] = [
                {"system": SLOT_TYPE_SYSTEM, "code": SLOT_TYPES[v][0], "display": SLOT_TYPES[v][1]}
                for v in sorted(visibilities)
                if v in SLOT_TYPES
            ]
        return found

    def _of_motive(self, motive: Motive) -> tuple:
        found = self._motive.get(motive.pk)
        if found is None:
            service_type = build.encounter_code(motive)
            if self.with_service_reference:
                reference_to = reference("HealthcareService", motive.pk)
                service_type = {
                    **service_type,
                    "extension": [
                        {"url": build.SERVICE_TYPE_REFERENCE, "valueReference": reference_to}
                    ],
                }
            kind = {"coding": [{"system": APPOINTMENT_TYPE_SYSTEM, "code": "ROUTINE"}]}
            if motive.label.strip():
                kind["text"] = motive.label
            found = self._motive[motive.pk] = ([service_type], kind)
        return found

    def _specialty_of(self, agenda: Agenda):
        if agenda.pk not in self._specialty:
            self._specialty[agenda.pk] = build.specialty(agenda.practitioner)
        return self._specialty[agenda.pk]

    def booking_link(self, found: FoundSlot) -> str | None:
        """Where a person books this slot in our pages: the regulation console for the SAS (a
        regulator comes from the SAS platform), the practitioner's page on the slot's week for
        anyone else; None for a resource's agenda (booked from its establishment's page)."""
        if self.consumer is not None and self.consumer.is_sas:
            if self._regulation is None:
                self._regulation = f"{settings.CONSULTO_SITE_URL}{_reverse('regulation:new_case')}"
            return self._regulation
        practitioner_id = found.agenda.practitioner_id
        if practitioner_id is None:
            return None
        if practitioner_id not in self._paths:
            path = _reverse("practitioner", args=[practitioner_id])
            self._paths[practitioner_id] = f"{settings.CONSULTO_SITE_URL}{path}"
        day = found.start.date()
        week = day - timedelta(days=day.weekday())
        query = urlencode({"agenda": found.agenda.pk, "motive": found.motive.pk, "week": week})
        return f"{self._paths[practitioner_id]}?{query}"

    def __call__(self, found: FoundSlot) -> dict:
        service_type, appointment_type = self._of_motive(found.motive)
        resource = {
            "resourceType": "Slot",
            "id": f"{found.agenda.pk}-{found.motive.pk}-{epoch(found.start)}",
        }
        security = self.security(frozenset(found.visibilities))
        if security:
            resource["meta"] = {"security": security}
        resource["serviceType"] = service_type
        specialty = self._specialty_of(found.agenda)
        if specialty:
            resource["specialty"] = specialty
        resource["appointmentType"] = appointment_type
        resource["schedule"] = {"reference": f"Schedule/{found.agenda.pk}"}
        resource["status"] = found.status
        resource["start"] = found.start.isoformat(timespec="seconds")
        resource["end"] = found.end.isoformat(timespec="seconds")
        link = self.booking_link(found) if found.status == FREE else None
        if link:
            resource["comment"] = self.comment % {"url": link}
        return resource


def _reverse(name: str, args=()) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return reverse(name, args=args)


def slot_resource(found: FoundSlot, *, consumer, with_service_reference: bool = False) -> dict:
    """One Slot (see ``SlotBuilder``)."""
    return SlotBuilder(consumer=consumer, with_service_reference=with_service_reference)(found)
