"""Practitioner search with next availabilities, in a fixed number of queries.

Directory filters pick the practitioners; their agendas, motives and (cached) slots are loaded
in batches, so the number of queries does not grow with the number of results.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import FilteredRelation, Q
from django.utils import timezone

from consulto.directory.models import Practitioner, Site
from consulto.directory.selectors import distance_km, text_search

from . import availability as engine
from . import index, visibility
from .cache import slots_for_many
from .models import Agenda, Motive
from .selectors import MotiveRef, default_motives

SORTS = ("earliest", "distance", "name")


@dataclass
class SearchHit:
    agenda: Agenda
    motive: Motive
    site: Site
    distance_km: float | None
    practitioner: Practitioner | None = None  # loaded for the page's hits only
    slots: Sequence[engine.Slot] = field(default_factory=list)  # built when read (LazySlots)
    filled: bool = False  # ``slots`` holds every slot of the window
    first: datetime | None = None  # the first bookable start, known before ``slots`` is

    @property
    def first_available(self) -> datetime | None:
        return self.first


@dataclass
class SearchResult:
    count: int
    hits: list[SearchHit]
    approximate: tuple[str, ...] = ()  # words of ``q`` matched by spelling only


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
    found = text_search(
        specialty=specialty,
        q=q,
        near=near,
        radius_km=radius_km,
        video=video,
        language=language,
        sector=sector,
    )
    matching = found.practitioners
    # Candidates are plain rows: sorting needs ids, versions, distances, names and first slots,
    # not models. Whole agendas, sites, motives and practitioners are loaded for the page only.
    # Each comes with its row of the next-availability index for the motive this search shows
    # first (``index.py``): the motive and the first slot, in the same query.
    candidates = Agenda.objects.filter(
        practitioner_id__in=matching.values("pk"), is_active=True, online_booking=True
    )
    indexed = FilteredRelation(
        "next_availability",
        condition=Q(
            next_availability__audience=visibility.key(visibility.PUBLIC),
            next_availability__chosen_for=index.chosen_for(video=video),
        ),
    )
    rows = (
        candidates.annotate(row=indexed)
        .order_by("practitioner_id", "id")
        .values_list(
            "pk",
            "practitioner_id",
            "version",
            "capacity",
            "site__timezone",
            "site__latitude",
            "site__longitude",
            "practitioner__last_name",
            "practitioner__first_name",
            "row__motive_id",
            "row__motive__duration_minutes",
            "row__motive__min_notice_minutes",
            "row__motive__max_advance_days",
            "row__version",
            "row__first_at",
            "row__window_end",
            "row__fresh_until",
        )
    )
    reader = index.Reader(now, days)
    listed: list[tuple[AgendaRef, MotiveRef | None, tuple | None]] = []
    unknown: list[int] = []
    for row in rows:
        agenda = AgendaRef(*row[:9])
        motive_id, duration, notice, advance, version, *rest = row[9:]
        if motive_id is None or version != agenda.version:
            # No row, or one written before the agenda's last change (its motives may differ).
            listed.append((agenda, None, None))
            unknown.append(agenda.pk)
        else:
            motive = MotiveRef(motive_id, agenda.pk, duration, notice, advance)
            listed.append((agenda, motive, (version, *rest)))
    motives = default_motives(unknown, video=video) if unknown else {}

    hits: list[_Candidate] = []
    seen: set[int] = set()
    for agenda, motive, held in listed:
        motive = motive or motives.get(agenda.pk)
        if motive is None or agenda.practitioner_id in seen:
            continue
        distance = None
        if near is not None:
            distance = distance_km(near[0], near[1], agenda.latitude, agenda.longitude)
            if radius_km and distance > radius_km:
                continue
        seen.add(agenda.practitioner_id)
        hit = _Candidate(agenda, motive, distance)
        if held is not None:
            hit.first_known, hit.first = reader.first(agenda, motive, held)
        hits.append(hit)

    if within_days:
        _fill_firsts(hits, now=now, days=days)
        until = now + timedelta(days=within_days)
        hits = [h for h in hits if h.first and h.first < until]

    if sort == "name":
        hits.sort(key=lambda h: (h.agenda.last_name, h.agenda.first_name, h.agenda.pk))
    elif sort == "distance" and near is not None:
        hits.sort(key=lambda h: (h.distance_km, h.agenda.last_name, h.agenda.pk))
    else:
        # Earliest availability needs every candidate's first slot before a page can be cut.
        _fill_firsts(hits, now=now, days=days)
        far = now + timedelta(days=365)
        hits.sort(key=lambda h: (h.first or far, h.distance_km or 0, h.agenda.practitioner_id))
    return SearchResult(
        count=len(hits),
        hits=_page(hits[offset : offset + limit], now=now, days=days),
        approximate=found.approximate,
    )


def _page(candidates: list["_Candidate"], *, now: datetime, days: int) -> list[SearchHit]:
    """The page's hits, with their models and every slot of the window."""
    agendas = Agenda.objects.select_related("site", "practitioner__specialty").in_bulk(
        [c.agenda.pk for c in candidates]
    )
    motives = Motive.objects.in_bulk([c.motive.pk for c in candidates])
    hits = []
    for candidate in candidates:
        agenda = agendas[candidate.agenda.pk]
        agenda.version = candidate.agenda.version  # the state the candidate was sorted on
        hits.append(
            SearchHit(
                agenda=agenda,
                motive=motives[candidate.motive.pk],
                site=agenda.site,
                distance_km=candidate.distance_km,
                practitioner=agenda.practitioner,
                first=candidate.first,
            )
        )
    _fill_slots(hits, now=now, days=days)
    return hits


@dataclass(slots=True)
class AgendaRef:
    """What availability needs of an agenda, read as a plain row."""

    pk: int
    practitioner_id: int
    version: int
    capacity: int
    timezone: str
    latitude: float
    longitude: float
    last_name: str
    first_name: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(slots=True)
class _Candidate:
    agenda: AgendaRef
    motive: MotiveRef
    distance_km: float | None
    first: datetime | None = None
    first_known: bool = False


def _fill_firsts(hits: list[_Candidate], *, now: datetime, days: int) -> None:
    """The first slots the index did not hold (agendas written since, or whose first slot
    passed): computed, from the cache where it is warm."""
    hits = [h for h in hits if not h.first_known]
    if not hits:
        return
    firsts = index.compute_firsts([(h.agenda, h.motive) for h in hits], now=now, days=days)
    for hit in hits:
        hit.first, hit.first_known = firsts[hit.agenda.pk], True


def _fill_slots(hits: list[SearchHit], *, now: datetime, days: int) -> None:
    hits = [h for h in hits if not h.filled]
    if not hits:
        return
    start = now.astimezone(hits[0].agenda.zone).date()
    pairs = [(h.agenda, h.motive) for h in hits]
    slots = slots_for_many(pairs, start=start, days=days, now=now, lazy=True)
    for hit in hits:
        hit.slots = slots[hit.agenda.pk]
        hit.first = hit.slots[0].start if hit.slots else None
        hit.filled = True
