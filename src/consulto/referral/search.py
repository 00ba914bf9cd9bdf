"""The regulator's search: slots that fit a need near the patient, across every organisation.

One search reads the agendas near the patient that can meet the need, their slots in the
window as a regulator sees them (public, professionals and regulation openings:
``scheduling.visibility.REGULATOR``) from the shared availability cache, and, beside them, the
practitioners who accept extra patients sent by regulation. Offers come sorted by soonest, then
by distance.

A regulator is on the phone: the search answers in a fixed number of queries whatever the
number of agendas around. Candidates are read as plain rows (ids, versions, coordinates), the
nearest ``NEAREST`` of them (and the nearest ``NEAREST_SNP`` with regulation-only openings, which
are there for regulators) have their motives and slots read, and models are built for the offers
returned only. In Paris 20 km hold hundreds of GPs: the soonest slots of the nearest few dozen
are the ones a regulator offers first anyway (``bench/regulation.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from consulto.directory.models import Organisation, Practitioner, Site
from consulto.directory.selectors import bounding_box, distance_km
from consulto.scheduling import visibility
from consulto.scheduling.cache import slots_for_many
from consulto.scheduling.models import Agenda, Motive, Opening
from consulto.scheduling.selectors import MotiveRef

from .models import RegulationCase

Need = RegulationCase.Need
GP = "medecin-generaliste"
# Which organisations meet a need that is not a practitioner's specialty.
CENTRE_KINDS = {
    Need.COVID: (Organisation.Kind.COVID_CENTRE,),
    Need.SCREENING: (Organisation.Kind.SCREENING_CENTRE,),
}
DEFAULT_RADIUS_KM = 20.0
MAX_RADIUS_KM = 200.0
NEAREST = 60  # agendas whose slots are read, nearest first
NEAREST_SNP = 20  # and agendas with regulation-only openings, nearest first
SNP = Opening.Visibility.REGULATION.value


@dataclass
class Offer:
    agenda: Agenda
    motive: Motive
    site: Site
    start: datetime  # in the site's zone
    end: datetime
    distance_km: float | None  # None for a video consultation: where it is does not matter
    regulation_openings: bool = False  # the agenda keeps openings for regulation ("snp")

    @property
    def is_video(self) -> bool:
        return self.motive.mode == Motive.Mode.VIDEO


@dataclass
class ExtraOffer:
    """A practitioner who takes extra patients sent by regulation, to call."""

    practitioner: Practitioner
    site: Site
    distance_km: float
    phone: str
    taken_this_week: int
    cap: int

    @property
    def room_left(self) -> bool:
        return self.taken_this_week < self.cap


@dataclass
class Results:
    offers: list[Offer]
    extras: list[ExtraOffer]
    until: datetime


def week_start(moment: datetime) -> datetime:
    """Monday 00:00 of the week of ``moment``, in the platform's zone (Paris)."""
    local = timezone.localtime(moment)
    monday = local.date() - timedelta(days=local.weekday())
    return datetime.combine(monday, datetime.min.time(), tzinfo=local.tzinfo)


@dataclass(slots=True)
class _AgendaRow:
    """What a candidate needs of an agenda, read as a plain row (``slots_for_many`` reads
    ``pk``, ``version``, ``capacity`` and ``zone``)."""

    pk: int
    version: int
    capacity: int
    timezone: str
    latitude: float
    longitude: float
    distance_km: float = 0.0
    regulation_openings: bool = False

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def find(
    *,
    need: str,
    near: tuple[float, float],
    now: datetime,
    specialty: str | None = None,
    within_hours: int = 48,
    radius_km: float = DEFAULT_RADIUS_KM,
    limit: int = 40,
) -> Results:
    """Offers for ``need`` near ``near`` starting within ``within_hours``, soonest first.

    Nonsense (a point off the Earth, no radius, no window) finds nothing rather than failing."""
    until = now + timedelta(hours=max(0, min(within_hours, 24 * 14)))
    if not _sensible(near, radius_km) or until <= now or limit <= 0:
        return Results(offers=[], extras=[], until=until)
    radius_km = min(radius_km, MAX_RADIUS_KM)
    video_allowed = need in (Need.GP_48H, Need.VIDEO, Need.SPECIALIST)
    in_person = need != Need.VIDEO

    rows = _nearby_agendas(need=need, specialty=specialty, near=near, radius_km=radius_km)
    regulation_only = _with_regulation_openings([row.pk for row in rows])
    for row in rows:
        row.regulation_openings = row.pk in regulation_only
    # The nearest agendas first (and the nearest keeping regulation-only openings); farther
    # ones are read only while fewer than ``limit`` offers are found, so that anything free
    # within the radius is offered when the nearest are full.
    first = rows[:NEAREST]
    first += [row for row in rows[NEAREST:] if row.regulation_openings][:NEAREST_SNP]
    batches = [first]
    taken = {row.pk for row in first}
    rest = [row for row in rows[NEAREST:] if row.pk not in taken]
    batches += [rest[i : i + 2 * NEAREST] for i in range(0, len(rest), 2 * NEAREST)]
    found: list[tuple[datetime, float, int, int, datetime, bool]] = []
    chosen: list[_AgendaRow] = []
    for batch in batches:
        chosen += _read_offers(
            batch, found, now=now, until=until, video=video_allowed, in_person=in_person
        )
        if len(found) >= limit:
            break
    found.sort(key=lambda f: (f[0], f[1], f[2], f[3]))
    return Results(
        offers=_offers(found[:limit], {row.pk: row for row in chosen}),
        extras=_extras(need, specialty, near, radius_km, now),
        until=until,
    )


def _read_offers(batch, found, *, now, until, video: bool, in_person: bool):
    """Append the slots of ``batch`` within the window to ``found``; return the agendas read."""
    motives = _regulation_motives([row.pk for row in batch])
    chosen = [row for row in batch if row.pk in motives]
    groups: dict[bool, list[tuple[_AgendaRow, MotiveRef]]] = {False: [], True: []}
    for row in chosen:
        for motive, mode in motives[row.pk]:
            is_video = mode == Motive.Mode.VIDEO
            if (is_video and video) or (not is_video and in_person):
                groups[is_video].append((row, motive))
    for is_video, pairs in groups.items():
        if not pairs:
            continue
        zone = pairs[0][0].zone
        start = now.astimezone(zone).date()
        days = (until.astimezone(zone).date() - start).days + 2
        slots = slots_for_many(
            pairs, start=start, days=days, now=now, audience=visibility.REGULATOR
        )
        for row, motive in pairs:
            for slot in slots[row.pk]:
                if slot.start > until:
                    break
                distance = math.inf if is_video else row.distance_km
                found.append((slot.start, distance, row.pk, motive.pk, slot.end, is_video))
    return chosen


def _sensible(near, radius_km) -> bool:
    try:
        lat, lon, radius = float(near[0]), float(near[1]), float(radius_km)
    except (TypeError, ValueError, IndexError):
        return False
    if not all(math.isfinite(x) for x in (lat, lon, radius)) or radius <= 0:
        return False
    # Near a pole a radius spans every longitude: no French site is there.
    return -85 <= lat <= 85 and -180 <= lon <= 180


def _nearby_agendas(*, need: str, specialty: str | None, near, radius_km: float):
    """The active agendas that can meet the need within the radius, as plain rows, nearest
    first."""
    agendas = Agenda.objects.filter(is_active=True)
    if need in CENTRE_KINDS:
        agendas = agendas.filter(organisation__kind__in=CENTRE_KINDS[need])
    else:
        code = specialty if need == Need.SPECIALIST and specialty else GP
        agendas = agendas.filter(practitioner__specialty__code=code)
    lat0, lat1, lon0, lon1 = bounding_box(near[0], near[1], radius_km)
    values = agendas.filter(
        site__latitude__range=(lat0, lat1), site__longitude__range=(lon0, lon1)
    ).values_list(
        "pk", "version", "capacity", "site__timezone", "site__latitude", "site__longitude"
    )
    rows = []
    for row in values:
        agenda = _AgendaRow(*row)
        agenda.distance_km = distance_km(near[0], near[1], agenda.latitude, agenda.longitude)
        if agenda.distance_km <= radius_km:
            rows.append(agenda)
    rows.sort(key=lambda a: (a.distance_km, a.pk))
    return rows


def _with_regulation_openings(agenda_ids: list[int]) -> set[int]:
    """Which of the agendas keep openings for regulation only ("snp"): one query."""
    if not agenda_ids:
        return set()
    return set(
        Opening.objects.filter(agenda_id__in=agenda_ids, visibility=SNP)
        .order_by()
        .values_list("agenda_id", flat=True)
        .distinct()
    )


def _regulation_motives(agenda_ids: list[int]) -> dict[int, list[tuple[MotiveRef, str]]]:
    """Per agenda, its active motives offered in an opening a regulator sees: one in person
    and one by video at most (with its mode), one open to new patients first (the patient
    a regulator sends is rarely known there), then by position. One query."""
    if not agenda_ids:
        return {}
    seen = Opening.motives.through.objects.filter(
        motive_id=OuterRef("pk"), opening__visibility__in=sorted(visibility.REGULATOR)
    )
    rows = (
        Motive.objects.filter(agenda_id__in=agenda_ids, is_active=True)
        .exclude(mode=Motive.Mode.HOME)
        .filter(Exists(seen))
        .order_by("agenda_id", "-open_to_new_patients", "position", "id")
        .values_list(
            "pk", "agenda_id", "duration_minutes", "min_notice_minutes", "max_advance_days", "mode"
        )
    )
    found: dict[int, list[tuple[MotiveRef, str]]] = {}
    modes_seen: set[tuple[int, str]] = set()
    for pk, agenda_id, duration, notice, advance, mode in rows:
        if (agenda_id, mode) in modes_seen:
            continue
        modes_seen.add((agenda_id, mode))
        found.setdefault(agenda_id, []).append(
            (MotiveRef(pk, agenda_id, duration, notice, advance), mode)
        )
    return found


def _offers(found, rows: dict[int, _AgendaRow]) -> list[Offer]:
    """Models for the offers returned only: two queries."""
    agendas = Agenda.objects.select_related("site", "practitioner", "organisation").in_bulk(
        {f[2] for f in found}
    )
    motives = Motive.objects.in_bulk({f[3] for f in found})
    offers = []
    for start, distance, agenda_id, motive_id, end, is_video in found:
        agenda = agendas[agenda_id]
        agenda.version = rows[agenda_id].version  # the state the slots were read from
        offers.append(
            Offer(
                agenda=agenda,
                motive=motives[motive_id],
                site=agenda.site,
                start=start,
                end=end,
                distance_km=None if is_video else distance,
                regulation_openings=rows[agenda_id].regulation_openings,
            )
        )
    return offers


def _extras(need, specialty, near, radius_km, now) -> list[ExtraOffer]:
    """The practitioners taking extra patients within the radius, at their nearest agenda's
    site, with the extra patients of this week's cases: three queries."""
    if need in CENTRE_KINDS:
        return []
    code = specialty if need == Need.SPECIALIST and specialty else GP
    lat0, lat1, lon0, lon1 = bounding_box(near[0], near[1], radius_km)
    rows = Agenda.objects.filter(
        is_active=True,
        practitioner__takes_extra_patients=True,
        practitioner__specialty__code=code,
        site__latitude__range=(lat0, lat1),
        site__longitude__range=(lon0, lon1),
    ).values_list("practitioner_id", "site_id", "site__latitude", "site__longitude")
    nearest: dict[int, tuple[float, int]] = {}
    for practitioner_id, site_id, lat, lon in rows:
        distance = distance_km(near[0], near[1], lat, lon)
        if distance <= radius_km and (
            practitioner_id not in nearest or distance < nearest[practitioner_id][0]
        ):
            nearest[practitioner_id] = (distance, site_id)
    if not nearest:
        return []
    since = week_start(now)
    taken = dict(
        RegulationCase.objects.filter(
            outcome=RegulationCase.Outcome.EXTRA,
            extra_practitioner_id__in=list(nearest),
            extra_at__gte=since,
            extra_at__lt=since + timedelta(days=7),
        )
        .values("extra_practitioner_id")
        .annotate(count=Count("id"))
        .values_list("extra_practitioner_id", "count")
    )
    practitioners = Practitioner.objects.in_bulk(list(nearest))
    sites = Site.objects.in_bulk([site_id for _d, site_id in nearest.values()])
    extras = []
    for practitioner_id, (distance, site_id) in nearest.items():
        practitioner, site = practitioners[practitioner_id], sites[site_id]
        extras.append(
            ExtraOffer(
                practitioner=practitioner,
                site=site,
                distance_km=distance,
                phone=practitioner.regulation_phone or site.phone,
                taken_this_week=taken.get(practitioner_id, 0),
                cap=practitioner.extra_patients_weekly_cap,
            )
        )
    extras.sort(key=lambda e: (not e.room_left, e.distance_km, e.practitioner.pk))
    return extras
