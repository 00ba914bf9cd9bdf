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


# CPTS openings --------------------------------------------------------------------------------


@pytest.fixture
def cpts(world, django_user_model):
    """Dr Martin (an account, a practitioner of her practice) is a member of the CPTS du 19e with
    Dr Roy of another practice; Dr Blanc, of a third practice, belongs to another CPTS; a SAMU
    regulator. Saturday 9:00-12:00 is kept for the CPTS."""
    from consulto.directory.models import Membership, Organisation

    make = django_user_model.objects.create_user
    Role, Kind = Membership.Role, Organisation.Kind
    w = world
    w.gp_user = make(email="martin@lilas.test", password="x" * 12)
    w.gp.user = w.gp_user
    w.gp.save()
    w.cpts = Organisation.objects.create(name="CPTS du 19e", kind=Kind.CPTS, territory="75")
    w.other_cpts = Organisation.objects.create(name="CPTS de Lyon", kind=Kind.CPTS, territory="69")
    w.colleague = make(email="roy@ailleurs.test", password="x" * 12)
    w.stranger = make(email="blanc@loin.test", password="x" * 12)
    w.regulator = make(email="regulateur@samu75.test", password="x" * 12)
    elsewhere = Organisation.objects.create(name="Cabinet Roy")
    far = Organisation.objects.create(name="Cabinet Blanc")
    samu = Organisation.objects.create(name="SAMU 75", kind=Kind.REGULATION_CENTRE)
    for user, organisation, role in (
        (w.gp_user, w.organisation, Role.PRACTITIONER),
        (w.gp_user, w.cpts, Role.PRACTITIONER),
        (w.colleague, elsewhere, Role.PRACTITIONER),
        (w.colleague, w.cpts, Role.PRACTITIONER),
        (w.stranger, far, Role.PRACTITIONER),
        (w.stranger, w.other_cpts, Role.PRACTITIONER),
        (w.regulator, samu, Role.REGULATOR),
    ):
        Membership.objects.create(user=user, organisation=organisation, role=role)
    opening = Opening.objects.create(
        agenda=w.agenda,
        site=w.site,
        weekday=5,
        start_time=time(9),
        end_time=time(12),
        valid_from=w.monday,
        visibility=Opening.Visibility.CPTS,
    )
    opening.motives.set([w.first])
    w.saturday = date.fromordinal(w.monday.toordinal() + 5)
    return w


def test_who_sees_a_cpts_opening(cpts, user, django_assert_max_num_queries):
    w, now = cpts, at(cpts.monday, 8)
    assert "cpts" in visibility.REGULATOR and "cpts" in visibility.EVERYONE
    assert "cpts" not in visibility.PROFESSIONAL | visibility.KNOWN_PATIENT
    expected = {
        w.colleague: visibility.CPTS_MEMBER,
        w.stranger: visibility.PROFESSIONAL,
        w.regulator: visibility.REGULATOR,
    }
    for reader, audience in expected.items():
        with django_assert_max_num_queries(1):
            assert visibility.professional_audience(reader, w.agenda) == audience
        assert visibility.audience_for(reader, w.agenda, now=now) == audience
    # Her own practice sees everything; a patient and the public nothing of it.
    assert visibility.professional_audience(w.gp_user, w.agenda) is None
    assert visibility.audience_for(w.gp_user, w.agenda, now=now) == visibility.EVERYONE
    assert visibility.professional_audience(user, w.agenda) is None
    assert visibility.audience_for(user, w.agenda, now=now) == visibility.PUBLIC
    # A resource's agenda has no practitioner: no CPTS to share.
    assert visibility.professional_audience(w.colleague, w.line) == visibility.PROFESSIONAL
    assert visibility.audience_for(w.colleague, w.line, now=now) == visibility.PROFESSIONAL
    # The cache keys of the new audiences are their own.
    keys = {visibility.key(a) for a in visibility.AUDIENCES.values()}
    assert len(keys) == len(visibility.AUDIENCES)


def test_a_cpts_slot_is_offered_and_booked_only_by_cpts_members_and_regulators(cpts, patient):
    w, now = cpts, at(cpts.monday, 8)
    pairs = [(w.agenda, w.first)]
    for audience, offered in (
        (visibility.PUBLIC, False),
        (visibility.KNOWN_PATIENT, False),
        (visibility.PROFESSIONAL, False),
        (visibility.CPTS_MEMBER, True),
        (visibility.REGULATOR, True),
        (visibility.EVERYONE, True),
    ):
        slots = slots_for_many(pairs, start=w.saturday, days=1, now=now, audience=audience)
        assert bool(_saturday_starts(slots[w.agenda.pk], w.saturday)) is offered, audience
    stranger = PatientProfile.objects.create(
        first_name="Jean", last_name="Valjean", birth_date=date(1950, 1, 2)
    )
    for audience in (visibility.PUBLIC, visibility.KNOWN_PATIENT, visibility.PROFESSIONAL):
        with pytest.raises(DomainError) as refused:
            booking.book(
                agenda=w.agenda,
                motive=w.first,
                start=at(w.saturday, 9),
                patient=patient if audience != visibility.PROFESSIONAL else stranger,
                booked_by=None,
                audience=audience,
                now=now,
            )
        assert refused.value.code == "invalid_slot"
    for hour, audience in ((9, visibility.CPTS_MEMBER), (10, visibility.REGULATOR)):
        booked = booking.book(
            agenda=w.agenda,
            motive=w.first,
            start=at(w.saturday, hour),
            patient=stranger,
            booked_by=None,
            channel=Appointment.Channel.API,
            audience=audience,
            now=now,
        )
        assert booked.status == Appointment.Status.BOOKED
