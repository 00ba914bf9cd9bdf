"""``$find`` (ITI-115): potential appointments, from the availability the patient and regulation
pages read (``scheduling.cache``), in the openings the caller's audience sees."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils.translation import gettext as _

from consulto.scheduling.cache import slots_for_many
from consulto.scheduling.models import Agenda, Motive

from ..access import Consumer
from ..http import invalid
from ..refs import ACT_ENCOUNTER_SYSTEM, RPPS_SYSTEM, identifier_system, parse_pk, rpps_of
from ..resources.appointments import ENCOUNTER_MODE
from .parameters import Parts, Ref, count_of, instant_part, references, tokens

# Local business rules of ``$find`` (the operation lets the server bound what it searches).
MAX_FIND_DAYS = 31
MAX_FIND_AGENDAS = 50


@dataclass(frozen=True)
class Potential:
    agenda: Agenda
    motive: Motive
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Found:
    potentials: list[Potential]
    total: int
    requested: tuple[datetime, datetime]
    notes: list[str]


def find(consumer: Consumer, parts: Parts, *, now: datetime) -> Found:
    """The potential appointments matching ``parts`` (ITI-115), earliest first."""
    begin, end, notes = _period(parts)
    limit = count_of(parts)
    agendas = _candidate_agendas(consumer, parts)
    motives = _candidate_motives(consumer, parts, agendas)
    if not motives:
        return Found([], 0, (begin, end), notes)
    by_agenda = {agenda.pk: agenda for agenda in agendas}
    # slots_for_many takes one motive per agenda and one audience and span per call: batch so.
    batches: dict[tuple, list[list[tuple[Agenda, Motive]]]] = defaultdict(list)
    for agenda_id, own in motives.items():
        agenda = by_agenda[agenda_id]
        audience = consumer.audience_for(agenda, now=now)
        first_day = begin.astimezone(agenda.zone).date()
        last_day = (end - timedelta(microseconds=1)).astimezone(agenda.zone).date()
        rounds = batches[(audience, first_day, (last_day - first_day).days + 1)]
        for i, motive in enumerate(own):
            if len(rounds) <= i:
                rounds.append([])
            rounds[i].append((agenda, motive))
    potentials = []
    for (audience, first_day, days), rounds in batches.items():
        for pairs in rounds:
            slots = slots_for_many(pairs, start=first_day, days=days, now=now, audience=audience)
            for agenda, motive in pairs:
                potentials.extend(
                    Potential(agenda, motive, slot.start, slot.end)
                    for slot in slots[agenda.pk]
                    if begin <= slot.start and slot.end <= end
                )
    potentials.sort(key=lambda p: (p.start, p.agenda.pk, p.motive.pk))
    return Found(potentials[:limit], len(potentials), (begin, end), notes)


def _period(parts: Parts) -> tuple[datetime, datetime, list[str]]:
    start, end = instant_part(parts, "start"), instant_part(parts, "end")
    if start is None or end is None:
        raise invalid(
            _("start and end are required: the period to look for appointments in."),
            expression="start" if start is None else "end",
        )
    begin, finish = start[0], end[1]
    if finish <= begin:
        raise invalid(_("end must come after start."), expression="end")
    notes = []
    if finish - begin > timedelta(days=MAX_FIND_DAYS):
        finish = begin + timedelta(days=MAX_FIND_DAYS)
        notes.append(
            _("Only the first %(days)d days of the period were searched (until %(end)s).")
            % {"days": MAX_FIND_DAYS, "end": finish.isoformat()}
        )
    return begin, finish, notes


def _candidate_agendas(consumer: Consumer, parts: Parts) -> list[Agenda]:
    agendas = Agenda.objects.filter(is_active=True).select_related(
        "site", "practitioner__specialty"
    )
    narrowed = False
    practitioners = references(parts, "practitioner", "Practitioner")
    if practitioners:
        narrowed = True
        agendas = agendas.filter(_any(practitioners, "practitioner_id", _rpps_q))
    organisations = references(parts, "organization", "Organization")
    if organisations:
        narrowed = True
        agendas = agendas.filter(_any(organisations, "organisation_id", None))
    locations = references(parts, "location-reference", "Location")
    if locations:
        narrowed = True
        agendas = agendas.filter(_any(locations, "site_id", None))
    places = [parts.string(part) for part in parts.all("location-string")]
    if places:
        narrowed = True
        where = Q(pk__in=[])
        for place in places:
            place = place.strip()[:100]
            if place:
                where |= (
                    Q(site__postcode__istartswith=place)
                    | Q(site__city__icontains=place)
                    | Q(site__address__icontains=place)
                )
        agendas = agendas.filter(where)
    specialties = tokens(parts, "specialty")
    if specialties:
        narrowed = True
        ours = identifier_system("specialty")
        codes = [code[:64] for system, code in specialties if system in (None, "", ours)]
        agendas = agendas.filter(practitioner__specialty__code__in=codes)
    if not narrowed:
        if consumer.organisation_id is None:
            raise invalid(
                _("Name a practitioner, an organization, a location or a specialty to search."),
                expression="practitioner",
            )
        agendas = agendas.filter(organisation_id=consumer.organisation_id)
    if not consumer.is_partner:
        agendas = agendas.filter(online_booking=True)
    return list(agendas.order_by("pk")[:MAX_FIND_AGENDAS])


def _rpps_q(ref: Ref) -> Q | None:
    if ref.system == RPPS_SYSTEM and ref.value and rpps_of(ref.value):
        return Q(practitioner__rpps=rpps_of(ref.value))
    return None


def _any(refs: list[Ref], field: str, by_identifier) -> Q:
    """Agendas matching any of ``refs``: by our id, or by an identifier ``by_identifier`` knows
    (an identifier of another system names nothing here)."""
    where = Q(pk__in=[])
    for ref in refs:
        if ref.pk:
            where |= Q(**{field: ref.pk})
        elif by_identifier is not None:
            found = by_identifier(ref)
            if found is not None:
                where |= found
    return where


def _candidate_motives(
    consumer: Consumer, parts: Parts, agendas: list[Agenda]
) -> dict[int, list[Motive]]:
    motives = Motive.objects.filter(agenda__in=agendas, is_active=True).order_by(
        "agenda_id", "position", "pk"
    )
    if not consumer.is_partner:
        motives = motives.filter(online=True)
    kinds = tokens(parts, "visit-type") + tokens(parts, "service-type")
    if kinds:
        by_code = {code: mode for mode, (code, _d) in ENCOUNTER_MODE.items()}
        ours = identifier_system("motive")
        wanted_modes, wanted_ids = set(), set()
        for system, code in kinds:
            if system in (None, "", ACT_ENCOUNTER_SYSTEM) and code in by_code:
                wanted_modes.add(by_code[code])
            if system in (None, "", ours) and parse_pk(code):
                wanted_ids.add(parse_pk(code))
        motives = motives.filter(Q(mode__in=wanted_modes) | Q(pk__in=wanted_ids))
    grouped: dict[int, list[Motive]] = defaultdict(list)
    for motive in motives:
        grouped[motive.agenda_id].append(motive)
    return grouped
