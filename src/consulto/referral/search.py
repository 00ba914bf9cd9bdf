"""The regulator's search: slots that fit a need near the patient, across every organisation.

One search reads the agendas near the patient that can meet the need, their slots in the
window as a regulator sees them (public, professionals and regulation openings:
``scheduling.visibility.REGULATOR``) from the shared availability cache, and, beside them, the
practitioners who accept extra patients sent by regulation. Offers come sorted by soonest, then
by distance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q

from consulto.directory.models import Organisation, Practitioner, Site
from consulto.directory.selectors import bounding_box, distance_km
from consulto.scheduling import visibility
from consulto.scheduling.cache import slots_for_many
from consulto.scheduling.models import Agenda, Motive

from .models import RegulationCase

Need = RegulationCase.Need
GP = "medecin-generaliste"
# Which organisations meet a need that is not a practitioner's specialty.
CENTRE_KINDS = {
    Need.COVID: (Organisation.Kind.COVID_CENTRE,),
    Need.SCREENING: (Organisation.Kind.SCREENING_CENTRE,),
}
DEFAULT_RADIUS_KM = 20.0


@dataclass
class Offer:
    agenda: Agenda
    motive: Motive
    site: Site
    start: datetime  # in the site's zone
    end: datetime
    distance_km: float | None  # None for a video consultation: where it is does not matter

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
    """Monday 00:00 of the week of ``moment``, in its zone."""
    local = moment
    monday = local.date() - timedelta(days=local.weekday())
    return datetime.combine(monday, datetime.min.time(), tzinfo=local.tzinfo)


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
    """Offers for ``need`` near ``near`` starting within ``within_hours``, soonest first."""
    until = now + timedelta(hours=within_hours)
    video_allowed = need in (Need.GP_48H, Need.VIDEO, Need.SPECIALIST)
    in_person = need != Need.VIDEO
    agendas = _agendas(need=need, specialty=specialty)
    lat0, lat1, lon0, lon1 = bounding_box(near[0], near[1], radius_km)
    nearby = agendas.filter(site__latitude__range=(lat0, lat1), site__longitude__range=(lon0, lon1))
    pairs: list[tuple[Agenda, Motive, float | None]] = []
    chosen = list(nearby.select_related("site", "practitioner", "organisation"))
    distances = {
        a.pk: distance_km(near[0], near[1], a.site.latitude, a.site.longitude) for a in chosen
    }
    chosen = [a for a in chosen if distances[a.pk] <= radius_km]
    motives = _regulation_motives([a.pk for a in chosen])
    for agenda in chosen:
        for motive in motives.get(agenda.pk, ()):
            is_video = motive.mode == Motive.Mode.VIDEO
            if (is_video and video_allowed) or (not is_video and in_person):
                pairs.append((agenda, motive, None if is_video else distances[agenda.pk]))
    offers = _offers(pairs, now=now, until=until)
    offers.sort(key=lambda o: (o.start, o.distance_km or 0.0, o.agenda.pk))
    return Results(
        offers=offers[:limit], extras=_extras(need, specialty, near, radius_km, now), until=until
    )


def _agendas(*, need: str, specialty: str | None):
    agendas = Agenda.objects.filter(is_active=True)
    if need in CENTRE_KINDS:
        return agendas.filter(organisation__kind__in=CENTRE_KINDS[need])
    code = specialty if need == Need.SPECIALIST and specialty else GP
    return agendas.filter(practitioner__specialty__code=code, practitioner__isnull=False)


def _regulation_motives(agenda_ids: list[int]) -> dict[int, list[Motive]]:
    """Per agenda, its active motives offered in an opening a regulator sees: one in person
    and one by video at most, the first by position."""
    found: dict[int, list[Motive]] = {}
    modes_seen: set[tuple[int, str]] = set()
    rows = (
        Motive.objects.filter(
            agenda_id__in=agenda_ids,
            is_active=True,
            openings__visibility__in=sorted(visibility.REGULATOR),
        )
        .exclude(mode=Motive.Mode.HOME)
        .distinct()
        .order_by("agenda_id", "position", "id")
    )
    for motive in rows:
        key = (motive.agenda_id, motive.mode)
        if key in modes_seen:
            continue
        modes_seen.add(key)
        found.setdefault(motive.agenda_id, []).append(motive)
    return found


def _offers(pairs, *, now: datetime, until: datetime) -> list[Offer]:
    offers: list[Offer] = []
    by_motive: dict[int, list[tuple[Agenda, Motive, float | None]]] = {}
    for agenda, motive, distance in pairs:
        by_motive.setdefault(0 if motive.mode != Motive.Mode.VIDEO else 1, []).append(
            (agenda, motive, distance)
        )
    for group in by_motive.values():
        # One agenda may appear twice (in person and video): a batch holds one pair per agenda.
        today = now.astimezone(group[0][0].zone).date() if group else now.date()
        days = (until.date() - now.date()).days + 2
        slots = slots_for_many(
            [(a, m) for a, m, _d in group],
            start=today,
            days=days,
            now=now,
            audience=visibility.REGULATOR,
        )
        for agenda, motive, distance in group:
            for slot in slots[agenda.pk]:
                if slot.start > until:
                    break
                offers.append(Offer(agenda, motive, agenda.site, slot.start, slot.end, distance))
    return offers


def _extras(need, specialty, near, radius_km, now) -> list[ExtraOffer]:
    if need in CENTRE_KINDS:
        return []
    code = specialty if need == Need.SPECIALIST and specialty else GP
    lat0, lat1, lon0, lon1 = bounding_box(near[0], near[1], radius_km)
    since = week_start(now)
    practitioners = (
        Practitioner.objects.filter(takes_extra_patients=True, specialty__code=code)
        .filter(
            agendas__site__latitude__range=(lat0, lat1),
            agendas__site__longitude__range=(lon0, lon1),
            agendas__is_active=True,
        )
        .annotate(
            taken=Count(
                "extra_patient_cases",
                filter=Q(
                    extra_patient_cases__outcome=RegulationCase.Outcome.EXTRA,
                    extra_patient_cases__extra_at__gte=since,
                ),
                distinct=True,
            )
        )
        .distinct()
    )
    extras = []
    for practitioner in practitioners:
        agenda = (
            Agenda.objects.select_related("site")
            .filter(practitioner=practitioner, is_active=True)
            .order_by("pk")
            .first()
        )
        if agenda is None:
            continue
        distance = distance_km(near[0], near[1], agenda.site.latitude, agenda.site.longitude)
        if distance > radius_km:
            continue
        extras.append(
            ExtraOffer(
                practitioner=practitioner,
                site=agenda.site,
                distance_km=distance,
                phone=practitioner.regulation_phone or agenda.site.phone,
                taken_this_week=practitioner.taken,
                cap=practitioner.extra_patients_weekly_cap,
            )
        )
    extras.sort(key=lambda e: (not e.room_left, e.distance_km))
    return extras
