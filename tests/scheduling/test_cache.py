"""Cached availability never shows what changed: every change to an agenda drops its cache."""

from datetime import time

import pytest
from django.utils import timezone

from consulto.scheduling import booking
from consulto.scheduling.cache import slots_for_many
from consulto.scheduling.models import Absence, Agenda
from tests.conftest import at

pytestmark = pytest.mark.django_db


def monday_starts(world):
    agenda = Agenda.objects.select_related("site").get(pk=world.agenda.pk)
    slots = slots_for_many([(agenda, world.first)], start=world.monday, days=1, now=timezone.now())[
        agenda.pk
    ]
    return [s.start.strftime("%H:%M") for s in slots]


def test_a_booking_disappears_from_cached_slots_at_once(world, patient, user):
    assert "09:00" in monday_starts(world)
    booking.book(
        agenda=world.agenda,
        motive=world.first,
        start=at(world.monday, 9),
        patient=patient,
        booked_by=user,
    )
    assert "09:00" not in monday_starts(world)


def test_editing_an_opening_shows_at_once(world):
    assert monday_starts(world)[0] == "09:00"
    opening = world.agenda.openings.get(weekday=0, start_time=time(9))
    opening.start_time = time(10)
    opening.save()
    assert monday_starts(world)[0] == "10:00"


def test_removing_a_motive_from_an_opening_shows_at_once(world):
    assert monday_starts(world)
    for opening in world.agenda.openings.filter(weekday=0):
        opening.motives.remove(world.first)
    assert monday_starts(world) == []


def test_an_absence_shows_at_once_and_its_removal_too(world):
    assert monday_starts(world)
    absence = Absence.objects.create(
        agenda=world.agenda, start=at(world.monday, 0), end=at(world.monday, 23, 59)
    )
    assert monday_starts(world) == []
    absence.delete()
    assert monday_starts(world)


def test_moving_the_site_to_another_zone_shows_at_once(world):
    before = slots_for_many(
        [(Agenda.objects.select_related("site").get(pk=world.agenda.pk), world.first)],
        start=world.monday,
        days=1,
        now=timezone.now(),
    )[world.agenda.pk][0]
    world.site.timezone = "Indian/Reunion"
    world.site.save()
    after = slots_for_many(
        [(Agenda.objects.select_related("site").get(pk=world.agenda.pk), world.first)],
        start=world.monday,
        days=1,
        now=timezone.now(),
    )[world.agenda.pk][0]
    assert before.start.strftime("%H:%M") == after.start.strftime("%H:%M") == "09:00"
    assert before.start.utcoffset() != after.start.utcoffset()


def test_saving_a_stale_agenda_never_rolls_its_version_back(world, patient, user):
    stale = Agenda.objects.get(pk=world.agenda.pk)
    booking.book(
        agenda=world.agenda,
        motive=world.first,
        start=at(world.monday, 9),
        patient=patient,
        booked_by=user,
    )
    booked_version = Agenda.objects.get(pk=world.agenda.pk).version
    stale.name = "Dr Martin (cabinet)"
    stale.save()
    assert Agenda.objects.get(pk=world.agenda.pk).version > booked_version
    assert "09:00" not in monday_starts(world)


def test_the_first_slot_alone_matches_the_full_list(world, patient, user):
    from consulto.scheduling.cache import first_for_many

    booking.book(
        agenda=world.agenda,
        motive=world.first,
        start=at(world.monday, 9),
        patient=patient,
        booked_by=user,
    )
    agenda = Agenda.objects.select_related("site").get(pk=world.agenda.pk)
    line = Agenda.objects.select_related("site").get(pk=world.line.pk)
    pairs = [(agenda, world.first), (line, world.flu)]
    now = at(world.monday, 8, 59)  # just before the booked 09:00, within the notice
    firsts = first_for_many(pairs, start=world.monday, days=7, now=now)
    full = slots_for_many(pairs, start=world.monday, days=7, now=now)
    for a, _motive in pairs:
        assert firsts[a.pk] == full[a.pk][0].start
    assert firsts[agenda.pk] == at(world.monday, 10)  # 09:00 is booked, 09:30 too soon
