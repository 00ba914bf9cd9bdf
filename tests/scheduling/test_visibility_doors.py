"""Each opening's visibility reaches every availability door: the engine's inputs, the shared
cache (one audience's slots never served to another) and the booking door."""

from datetime import date, time, timedelta

import pytest

from consulto.core.errors import DomainError
from consulto.scheduling import booking, visibility
from consulto.scheduling.cache import first_for_many, slots_for_many
from consulto.scheduling.models import Appointment, Opening, PatientProfile
from consulto.scheduling.selectors import load_inputs
from tests.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def saturday_snp(world):
    """Dr Martin keeps Saturday 9:00-12:00 for regulation only."""
    opening = Opening.objects.create(
        agenda=world.agenda,
        site=world.site,
        weekday=5,
        start_time=time(9),
        end_time=time(12),
        valid_from=world.monday,
        visibility=Opening.Visibility.REGULATION,
    )
    opening.motives.set([world.first])
    world.saturday = date.fromordinal(world.monday.toordinal() + 5)
    return world


def _saturday_starts(slots, saturday):
    return [s.start for s in slots if s.start.date() == saturday]


def test_the_engine_reads_only_the_openings_of_the_audience(saturday_snp):
    w, now = saturday_snp, at(saturday_snp.monday, 8)
    public = load_inputs([w.agenda], start=w.monday, days=7, now=now, audience=visibility.PUBLIC)
    regulator = load_inputs(
        [w.agenda], start=w.monday, days=7, now=now, audience=visibility.REGULATOR
    )
    assert len(regulator[w.agenda.pk].openings) == len(public[w.agenda.pk].openings) + 1


def test_the_cache_never_serves_one_audience_the_slots_of_another(saturday_snp):
    w, now = saturday_snp, at(saturday_snp.monday, 8)
    pairs = [(w.agenda, w.first)]
    seen_by_regulator = slots_for_many(
        pairs, start=w.monday, days=7, now=now, audience=visibility.REGULATOR
    )[w.agenda.pk]
    seen_by_public = slots_for_many(pairs, start=w.monday, days=7, now=now)[w.agenda.pk]
    assert _saturday_starts(seen_by_regulator, w.saturday)[0] == at(w.saturday, 9)
    assert _saturday_starts(seen_by_public, w.saturday) == []
    # Once the public's answer is cached, the regulator's is still their own.
    again = slots_for_many(pairs, start=w.saturday, days=1, now=now, audience=visibility.REGULATOR)
    first = first_for_many(pairs, start=w.saturday, days=1, now=now)
    assert again[w.agenda.pk] and first[w.agenda.pk] is None


def test_a_regulator_books_a_regulation_slot_a_patient_cannot(saturday_snp, patient, user):
    w = saturday_snp
    now = at(w.monday, 8)
    with pytest.raises(DomainError) as refused:
        booking.book(
            agenda=w.agenda,
            motive=w.first,
            start=at(w.saturday, 9),
            patient=patient,
            booked_by=user,
            now=now,
        )
    assert refused.value.code == "invalid_slot"
    stranger = PatientProfile.objects.create(
        first_name="Jean", last_name="Valjean", birth_date=date(1950, 1, 2)
    )
    booked = booking.book(
        agenda=w.agenda,
        motive=w.first,
        start=at(w.saturday, 9),
        patient=stranger,
        booked_by=None,
        channel=Appointment.Channel.REGULATOR,
        audience=visibility.REGULATOR,
        now=now,
    )
    assert booked.status == Appointment.Status.BOOKED
    # A professional of another organisation does not see regulation slots either.
    with pytest.raises(DomainError):
        booking.book(
            agenda=w.agenda,
            motive=w.first,
            start=at(w.saturday, 9, 30),
            patient=stranger,
            booked_by=None,
            audience=visibility.PROFESSIONAL,
            now=now,
        )


def test_a_known_patients_opening_is_offered_to_the_patients_the_practice_knows(world, patient):
    w = world
    opening = Opening.objects.create(
        agenda=w.agenda,
        site=w.site,
        weekday=5,
        start_time=time(9),
        end_time=time(12),
        valid_from=w.monday,
        visibility=Opening.Visibility.KNOWN_PATIENTS,
    )
    opening.motives.set([w.first])
    saturday = date.fromordinal(w.monday.toordinal() + 5)
    now = at(w.monday, 8)
    newcomer = PatientProfile.objects.create(
        owner=patient.owner, first_name="Paul", last_name="Durand", birth_date=date(2010, 1, 1)
    )
    with pytest.raises(DomainError):
        booking.book(
            agenda=w.agenda,
            motive=w.first,
            start=at(saturday, 9),
            patient=newcomer,
            booked_by=patient.owner,
            now=now,
        )
    # Alice consulted Dr Martin last month: she is a known patient.
    Appointment.objects.create(
        agenda=w.agenda,
        motive=w.first,
        patient=patient,
        start=at(date.fromordinal(w.monday.toordinal() - 28), 9),
        end=at(date.fromordinal(w.monday.toordinal() - 28), 9, 30),
        status=Appointment.Status.SEEN,
    )
    booked = booking.book(
        agenda=w.agenda,
        motive=w.first,
        start=at(saturday, 9),
        patient=patient,
        booked_by=patient.owner,
        now=now,
    )
    assert booked.start == at(saturday, 9)


def test_who_sent_the_patient_follows_the_appointment_when_the_practice_moves_it(world, patient):
    from consulto.scheduling.models import Referral

    w = world
    first = booking.book(
        agenda=w.agenda,
        motive=w.first,
        start=at(w.monday, 9),
        patient=patient,
        booked_by=None,
        as_staff=True,
        now=at(w.monday, 7),
    )
    Referral.objects.create(
        appointment=first, kind=Referral.Kind.REGULATION, referrer_label="SAMU 75"
    )
    moved = booking.reschedule(
        appointment=first, new_start=at(w.monday, 10), by=None, as_staff=True, now=at(w.monday, 7)
    )
    assert Referral.objects.get().appointment == moved


@pytest.mark.parametrize("late_by", [timedelta(0), timedelta(microseconds=400_000)])
def test_a_slot_at_the_very_edge_of_the_notice_is_offered_only_if_the_door_takes_it(
    world, patient, late_by
):
    """An hour's notice at 8:00:00.4: 9:00 is too soon for the booking door, so the slots read
    from the cache must not offer it (they did, the bound being rounded down to the second)."""
    w = world
    now = at(w.monday, 8) + late_by
    slots = slots_for_many([(w.agenda, w.first)], start=w.monday, days=1, now=now)[w.agenda.pk]
    offered = slots[0].start == at(w.monday, 9)
    try:
        booking.book(
            agenda=w.agenda,
            motive=w.first,
            start=at(w.monday, 9),
            patient=patient,
            booked_by=patient.owner,
            now=now,
        )
        bookable = True
    except DomainError:
        bookable = False
    assert offered == bookable == (late_by == timedelta(0))
