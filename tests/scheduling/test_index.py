"""The next-availability index answers what the engine computes, after any sequence of writes
and whatever the clock does; searches sort on it without computing every match's slots."""

from datetime import time, timedelta

import pytest
from django.core.cache import cache
from django.db import transaction
from django_tasks_db.models import DBTaskResult
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consulto.directory.models import Practitioner
from consulto.scheduling import booking, index, selectors, visibility
from consulto.scheduling.models import (
    Absence,
    Agenda,
    Appointment,
    Motive,
    NextAvailability,
    Opening,
)
from consulto.scheduling.search import search_practitioners
from tests.conftest import TEST_NOW, at, valid_rpps

pytestmark = pytest.mark.django_db

DAYS = 14


def engine_first(agenda_id, motive, now):
    """The oracle: the first bookable slot straight from the engine, read through the ORM."""
    agenda = Agenda.objects.select_related("site").get(pk=agenda_id)
    slots = selectors.agenda_slots(
        agenda=agenda,
        motive=motive,
        start=now.astimezone(agenda.zone).date(),
        days=DAYS,
        now=now,
        limit=1,
        audience=visibility.PUBLIC,
    )
    return slots[0].start if slots else None


def pairs_of(world):
    agendas = Agenda.objects.select_related("site").in_bulk([world.agenda.pk, world.line.pk])
    gp, line = agendas[world.agenda.pk], agendas[world.line.pk]
    return [(gp, world.first), (gp, world.follow_up), (gp, world.video), (line, world.flu)]


def assert_index_agrees(world, now):
    pairs = pairs_of(world)
    # One motive per agenda in each call (``firsts`` answers per agenda id).
    for gp_pair in pairs[:3]:
        found = index.firsts([gp_pair, pairs[3]], now=now, days=DAYS)
        for agenda, motive in (gp_pair, pairs[3]):
            assert found[agenda.pk] == engine_first(agenda.pk, motive, now), (motive, now)


OPERATIONS = st.one_of(
    st.tuples(st.just("book"), st.integers(0, 3), st.integers(0, 12)),
    st.tuples(st.just("hold"), st.integers(0, 3), st.integers(0, 12)),
    st.tuples(st.just("cancel"), st.integers(0, 20)),
    st.tuples(st.just("absence"), st.integers(0, 10), st.integers(0, 23), st.integers(1, 30)),
    st.tuples(st.just("drop_absence"), st.integers(0, 5)),
    st.tuples(st.just("opening"), st.integers(0, 9), st.integers(7, 15)),
    st.tuples(st.just("time"), st.integers(1, 60 * 24 * 3)),
    st.tuples(st.just("refresh")),
    st.tuples(st.just("sweep")),
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=st.lists(OPERATIONS, min_size=1, max_size=12))
def test_the_index_always_equals_the_engine(world, patient, user, clock, operations):
    world.follow_up.min_notice_minutes = 150  # the first slot passes the notice as time flows
    world.follow_up.max_advance_days = 5
    world.follow_up.save()
    saved = transaction.savepoint()
    try:
        clock.move_to(TEST_NOW)
        cache.clear()
        now = TEST_NOW
        index.refresh([world.agenda.pk, world.line.pk], now=now)
        for operation in operations:
            now = _apply(operation, world, patient, user, clock, now)
            assert_index_agrees(world, now)
            if operation[0] in ("refresh", "sweep"):
                versions = dict(Agenda.objects.values_list("pk", "version"))
                for row in NextAvailability.objects.all():
                    assert row.version == versions[row.agenda_id]
    finally:
        transaction.savepoint_rollback(saved)


def _apply(operation, world, patient, user, clock, now):
    kind, *args = operation
    pairs = pairs_of(world)
    if kind in ("book", "hold"):
        agenda, motive = pairs[args[0]]
        slots = selectors.agenda_slots(
            agenda=agenda,
            motive=motive,
            start=now.astimezone(agenda.zone).date(),
            days=DAYS,
            now=now,
            limit=13,
            audience=visibility.PUBLIC,
        )
        if slots:
            start = slots[min(args[1], len(slots) - 1)].start
            if kind == "book":
                booking.book(
                    agenda=agenda,
                    motive=motive,
                    start=start,
                    patient=patient,
                    booked_by=user,
                    as_staff=True,
                    now=now,
                )
            else:
                booking.hold(agenda=agenda, motive=motive, start=start, held_by=user, now=now)
    elif kind == "cancel":
        active = list(Appointment.objects.active(now=now).filter(start__gt=now).order_by("pk"))
        if active:
            booking.cancel(
                appointment=active[args[0] % len(active)], by=user, as_staff=True, now=now
            )
    elif kind == "absence":
        day = now.date() + timedelta(days=args[0])
        start = at(day, args[1])
        Absence.objects.create(
            agenda=world.agenda, start=start, end=start + timedelta(hours=args[2])
        )
    elif kind == "drop_absence":
        absences = list(Absence.objects.order_by("pk"))
        if absences:
            absences[args[0] % len(absences)].delete()
    elif kind == "opening":
        opening = Opening.objects.filter(agenda=world.agenda).order_by("pk")[args[0]]
        opening.start_time = opening.start_time.replace(
            hour=min(args[1], opening.end_time.hour - 1)
        )
        opening.save()
    elif kind == "time":
        now = now + timedelta(minutes=args[0])
        clock.move_to(now)
    elif kind == "refresh":
        index.refresh([world.agenda.pk, world.line.pk], now=now)
    elif kind == "sweep":
        index.sweep(now=now)
    return now


def test_a_write_is_seen_at_once_and_the_worker_recomputes_the_row(
    world, patient, user, django_capture_on_commit_callbacks
):
    now = TEST_NOW
    index.refresh([world.agenda.pk], now=now)
    row = NextAvailability.objects.get(agenda=world.agenda, motive=world.first)
    first = engine_first(world.agenda.pk, world.first, now)
    assert row.first_at == int(first.timestamp())
    queued = DBTaskResult.objects.filter(task_path__endswith="refresh_availability")
    before = set(queued.values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=False):
        booking.book(
            agenda=world.agenda,
            motive=world.first,
            start=first,
            patient=patient,
            booked_by=user,
            now=now,
        )
    # Stale at once: the reader no longer offers the booked slot, before any worker ran.
    (gp, _), *_rest = pairs_of(world)
    after = index.firsts([(gp, world.first)], now=now, days=DAYS)[gp.pk]
    assert after is not None and after > first
    # The booking queued the worker's refresh, which brings the row up to date.
    assert [row.args_kwargs["args"] for row in queued.exclude(pk__in=before)] == [
        [[world.agenda.pk]]
    ]
    index.refresh([world.agenda.pk], now=now)
    row.refresh_from_db()
    assert row.version == Agenda.objects.get(pk=world.agenda.pk).version
    assert row.first_at == int(after.timestamp())


def test_the_refresh_warms_the_cache_the_search_reads(world, django_assert_max_num_queries):
    now = TEST_NOW
    index.refresh([world.agenda.pk, world.line.pk], now=now)
    # The page's slots come from the cache the worker filled: no availability query at all.
    with django_assert_max_num_queries(6):
        result = search_practitioners(specialty="medecin-generaliste", now=now)
    assert [h.agenda.pk for h in result.hits] == [world.agenda.pk]
    assert result.hits[0].slots[0].start == engine_first(world.agenda.pk, world.first, now)


def test_a_row_past_its_first_slot_is_not_used(world):
    now = TEST_NOW
    index.refresh([world.agenda.pk], now=now)
    first = engine_first(world.agenda.pk, world.first, now)
    later = first + timedelta(minutes=1)
    (gp, _), *_rest = pairs_of(world)
    assert index.firsts([(gp, world.first)], now=later, days=DAYS)[gp.pk] == engine_first(
        gp.pk, world.first, later
    )
    # The sweep recomputes what lapses, ahead of the clock.
    assert index.sweep(now=later) >= 1
    row = NextAvailability.objects.get(agenda=world.agenda, motive=world.first)
    assert row.first_at == int(engine_first(gp.pk, world.first, later).timestamp())


def test_sorting_by_earliest_computes_slots_for_the_page_only(world, monkeypatch):
    """With the index up to date, the search computes the slots of the page's hits, not of
    every match, and sorts them as the engine would."""
    from consulto.scheduling import cache as slot_cache

    now = TEST_NOW
    motives = {world.agenda.pk: world.first}
    for n in range(6):
        practitioner = Practitioner.objects.create(
            title="Dr",
            first_name="Jean",
            last_name=f"Martin{n}",
            rpps=valid_rpps(100 + n),
            specialty=world.gp.specialty,
        )
        clone = Agenda.objects.create(
            organisation=world.organisation,
            practitioner=practitioner,
            site=world.site,
            name=f"Dr Martin{n}",
        )
        motive = Motive.objects.create(agenda=clone, label="Consultation", duration_minutes=20)
        opening = Opening.objects.create(
            agenda=clone,
            site=world.site,
            weekday=(now.weekday() + 1 + n) % 7,
            start_time=time(9 + n),
            end_time=time(12 + n),
            valid_from=now.date(),
        )
        opening.motives.set([motive])
        motives[clone.pk] = motive
    index.refresh(list(motives), now=now)
    cache.clear()
    computed = []
    real = slot_cache._compute

    def spy(pairs, **kwargs):
        computed.extend(agenda.pk for agenda, _motive in pairs)
        return real(pairs, **kwargs)

    monkeypatch.setattr(slot_cache, "_compute", spy)
    result = search_practitioners(specialty="medecin-generaliste", now=now, limit=3)
    assert result.count == 7
    assert sorted(computed) == sorted(h.agenda.pk for h in result.hits)
    expected = sorted(engine_first(pk, motive, now) for pk, motive in motives.items())
    assert [h.first for h in result.hits] == expected[:3]


def test_one_sweep_chain_runs_and_comes_back_every_minute(world):
    from consulto.scheduling.tasks import ensure_index_sweep, sweep_availability_index

    ensure_index_sweep()
    ensure_index_sweep()  # a second server start adds no second chain
    waiting = DBTaskResult.objects.filter(task_path__endswith="sweep_availability_index")
    assert waiting.count() == 1
    # The sweep creates the rows of agendas that have none, then queues its next run.
    assert sweep_availability_index.call() >= 2
    assert NextAvailability.objects.filter(agenda=world.agenda, chosen_for="office").exists()
    assert NextAvailability.objects.filter(agenda=world.agenda, chosen_for="video").exists()
    later = waiting.order_by("-run_after").first().run_after
    assert later >= TEST_NOW + index.SWEEP_EVERY - timedelta(seconds=1)
