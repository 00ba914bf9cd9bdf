"""The next-availability index: the first free slot of each agenda, ready to sort on.

Sorting hundreds of practitioners by earliest availability used to need the slots of every
match (about a second when nothing was cached). ``NextAvailability`` keeps, per agenda, motive
and audience (``visibility.key``), the first free start of the search window and the number of
free starts in it, computed for one ``Agenda.version``:

* **Never stale past a write.** Every write to an agenda bumps its version in the writer's
  transaction (``models.bump_versions``, ``booking._lock_agendas``); a row computed for another
  version is not used: ``firsts`` computes those agendas as before (from the cache when it is
  warm). Once the write commits, the worker recomputes the agenda's rows and its cached slots
  (``refresh``, the task ``refresh_availability``), so the next patient does not pay the cold
  path.
* **Never stale past the clock.** A first slot stops being bookable when the motive's notice
  reaches it, a hold lapses, or (no slot in the window) the window moves a day: each row says
  until when it holds (``fresh_until``) and readers check it; the worker's sweep recomputes rows
  shortly before that and creates the rows missing (``sweep``).

Readers never write the index; only the worker (and the demo loader) does.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from . import visibility
from .cache import _bounds, entries_for_many, first_for_many
from .models import Agenda, Motive, NextAvailability
from .selectors import MotiveRef, default_motives

# The sweep recomputes rows that lapse within this margin, so readers rarely meet one.
SWEEP_MARGIN = timedelta(minutes=2)
SWEEP_EVERY = timedelta(minutes=1)
BATCH = 500  # agendas computed together (bounded queries and memory)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(slots=True)
class AgendaState:
    """What computing an agenda's availability needs, read as a plain row."""

    pk: int
    version: int
    capacity: int
    timezone: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _seconds(moment: datetime) -> int:
    return int((moment - _EPOCH).total_seconds())


def chosen_for(*, video: bool) -> str:
    """The rows a search reads with its candidates: those of the motive it shows first."""
    return NextAvailability.ChosenFor.VIDEO if video else NextAvailability.ChosenFor.OFFICE


class _Windows:
    """The search window of each zone at ``now``: its first date and where it ends."""

    def __init__(self, now: datetime, days: int):
        self.now, self.days = now, days
        self._known: dict[str, tuple[date, int]] = {}

    def of(self, zone: ZoneInfo) -> tuple[date, int]:
        known = self._known.get(zone.key)
        if known is None:
            start = self.now.astimezone(zone).date()
            end = datetime.combine(start + timedelta(days=self.days), time(0), tzinfo=zone)
            known = self._known[zone.key] = (start, _seconds(end))
        return known


class Reader:
    """Reads index rows for one search at ``now``: whether a row holds, and its answer."""

    def __init__(self, now: datetime, days: int):
        self.now, self.days = now, days
        self.now_s = _seconds(now)
        self.windows = _Windows(now, days)
        self._bounds: dict[tuple[int, int], tuple[int, int]] = {}

    def first(self, agenda, motive, row) -> tuple[bool, datetime | None]:
        """(whether ``row`` = (version, first_at, window_end, fresh_until) holds for
        ``agenda`` at ``now``; if so, the first bookable start within the window)."""
        version, first_at, window_end, fresh_until = row
        if version != agenda.version or fresh_until <= self.now_s:
            return False, None
        zone = agenda.zone
        _start, end = self.windows.of(zone)
        # Hundreds of rows share a few booking windows: each computed once per search.
        window = (motive.min_notice_minutes, motive.max_advance_days)
        bounds = self._bounds.get(window)
        if bounds is None:
            bounds = self._bounds[window] = _bounds(motive, self.now)
        earliest, latest = bounds
        if first_at is not None:
            if first_at < earliest:
                return False, None  # the notice has reached it since
            bookable = first_at <= latest and first_at < end
            return True, (datetime.fromtimestamp(first_at, zone) if bookable else None)
        return end <= window_end, None


def firsts(
    pairs: list, *, now: datetime, days: int, audience: frozenset[str] = visibility.PUBLIC
) -> dict[int, datetime | None]:
    """The first bookable start per agenda id of each (agenda, motive) pair (one pair per
    agenda) within ``days`` local dates from today, as ``cache.first_for_many`` answers it: from
    the index where a row holds for the agenda's current version at ``now``, computed for the
    others.

    Agendas need ``pk``, ``version``, ``capacity`` and ``zone``; motives ``pk`` and the
    booking window (``min_notice_minutes``, ``max_advance_days``, ``duration``).
    """
    if not pairs:
        return {}
    key = visibility.key(audience)
    rows = {}
    ids = [agenda.pk for agenda, _motive in pairs]
    if len(set(ids)) != len(ids):
        raise ValueError("one motive per agenda: the answer is per agenda id")
    for chunk in range(0, len(ids), 5000):
        rows.update(
            ((agenda_id, motive_id), rest)
            for agenda_id, motive_id, *rest in NextAvailability.objects.filter(
                agenda_id__in=ids[chunk : chunk + 5000], audience=key
            ).values_list(
                "agenda_id", "motive_id", "version", "first_at", "window_end", "fresh_until"
            )
        )
    reader = Reader(now, days)
    result: dict[int, datetime | None] = {}
    stale = []
    for agenda, motive in pairs:
        row = rows.get((agenda.pk, motive.pk))
        known, first = reader.first(agenda, motive, row) if row else (False, None)
        if known:
            result[agenda.pk] = first
        else:
            stale.append((agenda, motive))
    result.update(compute_firsts(stale, now=now, days=days, audience=audience))
    return result


def compute_firsts(
    pairs: list, *, now: datetime, days: int, audience: frozenset[str] = visibility.PUBLIC
) -> dict[int, datetime | None]:
    """What the index could not answer, from the cache or the engine (in bounded batches)."""
    result: dict[int, datetime | None] = {}
    windows = _Windows(now, days)
    for chunk in range(0, len(pairs), BATCH):
        by_start = defaultdict(list)
        for agenda, motive in pairs[chunk : chunk + BATCH]:
            by_start[windows.of(agenda.zone)[0]].append((agenda, motive))
        for start, group in by_start.items():
            result.update(first_for_many(group, start=start, days=days, now=now, audience=audience))
    return result


def refresh(agenda_ids, *, now: datetime | None = None, force: bool = False) -> int:
    """Recompute the index rows of these agendas that do not hold for their current version
    (all of them with ``force``), and their cached slots for the search window on the way;
    create the public rows of the motives search shows first; drop rows of agendas and
    motives no longer bookable online. Returns the number of rows written."""
    now = now or timezone.now()
    ids = sorted(set(agenda_ids))
    written = 0
    for chunk in range(0, len(ids), BATCH):
        written += _refresh_batch(ids[chunk : chunk + BATCH], now=now, force=force)
    return written


def _refresh_batch(ids: list[int], *, now: datetime, force: bool) -> int:
    # The version is read before the inputs (the engine reads them after): a row may say an
    # older version than its inputs, never a newer one, so a concurrent write is never lost.
    states = {
        row[0]: AgendaState(*row)
        for row in Agenda.objects.filter(pk__in=ids, is_active=True, online_booking=True)
        .order_by()
        .values_list("pk", "version", "capacity", "site__timezone")
    }
    public = visibility.key(visibility.PUBLIC)
    wanted: set[tuple[int, int, str]] = set()
    chosen: dict[tuple[int, int], str] = {}
    for video in (False, True):
        role = chosen_for(video=video)
        for agenda_id, motive in default_motives(list(states), video=video).items():
            wanted.add((agenda_id, motive.pk, public))
            chosen[(agenda_id, motive.pk)] = role
    existing = {
        (agenda_id, motive_id, audience): (version, fresh_until)
        for agenda_id, motive_id, audience, version, fresh_until in NextAvailability.objects.filter(
            agenda_id__in=ids
        ).values_list("agenda_id", "motive_id", "audience", "version", "fresh_until")
    }
    wanted.update(k for k in existing if k[0] in states)
    motives = {
        row[0]: MotiveRef(*row)
        for row in Motive.objects.filter(
            pk__in={k[1] for k in wanted}, is_active=True, online=True
        ).values_list(
            "pk", "agenda_id", "duration_minutes", "min_notice_minutes", "max_advance_days"
        )
    }
    wanted = {k for k in wanted if k[1] in motives}
    gone = [k for k in existing if k not in wanted]
    if gone:
        doomed = Q()
        for agenda_id, motive_id, audience in gone:
            doomed |= Q(agenda_id=agenda_id, motive_id=motive_id, audience=audience)
        NextAvailability.objects.filter(doomed).delete()

    now_s = _seconds(now)
    margin = now_s + int(SWEEP_MARGIN.total_seconds())
    todo: dict[str, list] = defaultdict(list)
    for agenda_id, motive_id, audience in sorted(wanted):
        held = existing.get((agenda_id, motive_id, audience))
        state = states[agenda_id]
        if not force and held is not None and held[0] == state.version and held[1] > margin:
            continue  # already computed for this version (a task queued twice, the sweep)
        todo[audience].append((state, motives[motive_id]))

    days = settings.CONSULTO_SEARCH_DAYS
    windows = _Windows(now, days)
    rows = []
    for audience_key, pairs in todo.items():
        audience = frozenset(audience_key.split("-"))
        # One pair per agenda in each call (the cache answers per agenda id): an agenda's
        # second motive goes in a second round.
        by_start = defaultdict(list)
        rounds: dict[int, int] = defaultdict(int)
        for pair in pairs:
            turn = rounds[pair[0].pk]
            rounds[pair[0].pk] += 1
            by_start[(windows.of(pair[0].zone)[0], turn)].append(pair)
        for (start, _turn), group in by_start.items():
            # Through the cache: the slots a reader asks next are warm, keyed by the version.
            raw = entries_for_many(group, start=start, days=days, now=now, audience=audience)
            for state, motive in group:
                row = _row(state, motive, audience_key, raw[state.pk], now=now, windows=windows)
                if audience_key == public:
                    row.chosen_for = chosen.get((state.pk, motive.pk), "")
                rows.append(row)
    if rows:
        NextAvailability.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["agenda", "motive", "audience"],
            update_fields=[
                "chosen_for",
                "version",
                "first_at",
                "free_count",
                "window_end",
                "fresh_until",
                "computed_at",
            ],
        )
    return len(rows)


def _row(state, motive, audience_key, raw, *, now, windows) -> NextAvailability:
    (refresh_at, (starts, _ends, _remaining)) = raw
    earliest, _latest = _bounds(motive, now)
    _start, window_end = windows.of(state.zone)
    free = [s for s in starts if s >= earliest]
    first_at = free[0] if free else None
    if first_at is not None:
        # Not bookable any more once the notice reaches it.
        fresh_until = first_at - motive.min_notice_minutes * 60
    else:
        # Nothing in the window: holds until the window moves on to the next date.
        local = now.astimezone(state.zone).date() + timedelta(days=1)
        fresh_until = _seconds(datetime.combine(local, time(0), tzinfo=state.zone))
    if refresh_at is not None:
        fresh_until = min(fresh_until, refresh_at)
    return NextAvailability(
        agenda_id=state.pk,
        motive_id=motive.pk,
        audience=audience_key,
        version=state.version,
        first_at=first_at,
        free_count=len(free),
        window_end=window_end,
        fresh_until=fresh_until,
        computed_at=now,
    )


def sweep(*, now: datetime | None = None, limit: int = 5000) -> int:
    """Recompute the rows that lapse soon or were left behind by a write whose refresh was
    lost, and create the rows of agendas that have none; returns the rows written."""
    now = now or timezone.now()
    soon = _seconds(now + SWEEP_MARGIN)
    public = visibility.key(visibility.PUBLIC)
    due = NextAvailability.objects.filter(
        Q(fresh_until__lte=soon) | ~Q(version=F("agenda__version"))
    ).values_list("agenda_id", flat=True)
    missing = (
        Agenda.objects.filter(is_active=True, online_booking=True)
        .exclude(pk__in=NextAvailability.objects.filter(audience=public).values("agenda_id"))
        .values_list("pk", flat=True)
    )
    ids = set(due.distinct()[:limit]) | set(missing[:limit])
    return refresh(ids, now=now)


def rebuild(*, now: datetime | None = None, force: bool = False, progress=None) -> int:
    """Bring every agenda's rows up to date (all recomputed with ``force``): the demo loader,
    the benchmarks, after a restore. ``progress(done, total)`` is called after each batch."""
    ids = list(
        Agenda.objects.filter(is_active=True, online_booking=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    written = 0
    for chunk in range(0, len(ids), BATCH):
        written += refresh(ids[chunk : chunk + BATCH], now=now, force=force)
        if progress is not None:
            progress(min(chunk + BATCH, len(ids)), len(ids))
    return written
