"""Practitioner search with next availabilities, in a fixed number of queries.

Directory filters pick the practitioners; their agendas, motives and (cached) slots are loaded
in batches, so the number of queries does not grow with the number of results.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from consulto.directory.models import Practitioner, Site
from consulto.directory.selectors import distance_km, practitioners_matching

from . import availability as engine
from .cache import first_for_many, slots_for_many
from .models import Agenda, Motive

SORTS = ("earliest", "distance", "name")


@dataclass
class SearchHit:
    agenda: Agenda
    motive: Motive
    site: Site
    distance_km: float | None
    practitioner: Practitioner | None = None  # loaded for the page's hits only
    slots: list[engine.Slot] = field(default_factory=list)
    filled: bool = False  # ``slots`` holds every slot of the window
    first: datetime | None = None  # the first bookable start, known before ``slots`` is

    @property
    def first_available(self) -> datetime | None:
        return self.first


@dataclass
class SearchResult:
    count: int
    hits: list[SearchHit]


def search_practitioners(
    *,
    specialty: str | None = None,
    q: str | None = None,
    near: tuple[float, float] | None = None,
    radius_km: float | None = None,
    mode: str | None = None,
    sort: str = "earliest",
    limit: int = 20,
    offset: int = 0,
    days: int | None = None,
    within_days: int | None = None,
    language: str | None = None,
    sector: str | None = None,
    now: datetime | None = None,
) -> SearchResult:
    """Matching practitioners, each with its next slots; ``within_days`` keeps only those
    with a free slot in that many days."""
    now = now or timezone.now()
    days = days or settings.CONSULTO_SEARCH_DAYS
    video = mode == Motive.Mode.VIDEO
    matching = practitioners_matching(
        specialty=specialty,
        q=q,
        near=near,
        radius_km=radius_km,
        video=video,
        language=language,
        sector=sector,
    )
    # Every candidate's agenda (and site), but practitioners only for the page: sorting needs
    # ids, distances, names and first slots, not whole profiles.
    agendas = list(
        Agenda.objects.filter(
            practitioner_id__in=matching.values("pk"), is_active=True, online_booking=True
        )
        .select_related("site")
        .annotate(last_name=F("practitioner__last_name"), first_name=F("practitioner__first_name"))
        .order_by("practitioner_id", "id")
    )
    motives = _default_motives([a.pk for a in agendas], video=video)

    hits: list[SearchHit] = []
    seen: set[int] = set()
    for agenda in agendas:
        motive = motives.get(agenda.pk)
        if motive is None or agenda.practitioner_id in seen:
            continue
        distance = None
        if near is not None:
            distance = distance_km(near[0], near[1], agenda.site.latitude, agenda.site.longitude)
            if radius_km and distance > radius_km:
                continue
        seen.add(agenda.practitioner_id)
        hits.append(SearchHit(agenda=agenda, motive=motive, site=agenda.site, distance_km=distance))

    if within_days:
        _fill_firsts(hits, now=now, days=days)
        until = now + timedelta(days=within_days)
        hits = [h for h in hits if h.first and h.first < until]

    if sort == "name":
        hits.sort(key=lambda h: (h.agenda.last_name, h.agenda.first_name, h.agenda.pk))
        page = hits[offset : offset + limit]
        _fill_slots(page, now=now, days=days)
    elif sort == "distance" and near is not None:
        hits.sort(key=lambda h: (h.distance_km, h.agenda.last_name, h.agenda.pk))
        page = hits[offset : offset + limit]
        _fill_slots(page, now=now, days=days)
    else:
        # Earliest availability needs every hit's first slot before a page can be cut; only
        # the page's hits get all their slots.
        _fill_firsts(hits, now=now, days=days)
        far = now + timedelta(days=365)
        hits.sort(key=lambda h: (h.first or far, h.distance_km or 0, h.agenda.practitioner_id))
        page = hits[offset : offset + limit]
        _fill_slots(page, now=now, days=days)
    people = Practitioner.objects.select_related("specialty").in_bulk(
        [h.agenda.practitioner_id for h in page]
    )
    for hit in page:
        hit.practitioner = hit.agenda.practitioner = people[hit.agenda.practitioner_id]
    return SearchResult(count=len(hits), hits=page)


def _fill_firsts(hits: list[SearchHit], *, now: datetime, days: int) -> None:
    hits = [h for h in hits if not h.filled]
    if not hits:
        return
    start = now.astimezone(hits[0].agenda.zone).date()
    firsts = first_for_many([(h.agenda, h.motive) for h in hits], start=start, days=days, now=now)
    for hit in hits:
        hit.first = firsts[hit.agenda.pk]


def _fill_slots(hits: list[SearchHit], *, now: datetime, days: int) -> None:
    hits = [h for h in hits if not h.filled]
    if not hits:
        return
    start = now.astimezone(hits[0].agenda.zone).date()
    slots = slots_for_many([(h.agenda, h.motive) for h in hits], start=start, days=days, now=now)
    for hit in hits:
        hit.slots = slots[hit.agenda.pk]
        hit.first = hit.slots[0].start if hit.slots else None
        hit.filled = True


def _default_motives(agenda_ids: list[int], *, video: bool) -> dict[int, Motive]:
    """Per agenda, the motive a new patient would book first (video ones for a video search):
    one row per agenda, chosen by the database."""
    online = Motive.objects.filter(is_active=True, online=True)
    online = (
        online.filter(mode=Motive.Mode.VIDEO) if video else online.exclude(mode=Motive.Mode.VIDEO)
    )
    first = (
        online.filter(agenda_id=OuterRef("agenda_id"))
        .order_by("-open_to_new_patients", "position", "id")
        .values("pk")[:1]
    )
    chosen = online.filter(agenda_id__in=agenda_ids, pk=Subquery(first))
    return {motive.agenda_id: motive for motive in chosen}
