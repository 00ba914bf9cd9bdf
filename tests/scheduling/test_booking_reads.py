"""The booking's plain-SQL reads (``scheduling/booking_reads.py``) answer as the ORM would, on
both databases: a slot is offered by the re-check exactly when the engine offers it from the
agenda's whole day, and the rows read are those the querysets they replace return."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db.models import Q

from consulto.api.auth import _live_token
from consulto.api.models import ApiToken, digest
from consulto.scheduling import booking, booking_reads, visibility
from consulto.scheduling.models import Absence, Agenda, Appointment, Motive, Opening, PatientProfile
from consulto.scheduling.selectors import compute, load_inputs
from tests.conftest import at

pytestmark = pytest.mark.django_db

Status = Appointment.Status


def offered_by_the_whole_day(agenda, motive, day, *, now, audience) -> set[datetime]:
    """What the re-check used to read: every opening, absence of the day, then the engine."""
    inputs = load_inputs([agenda], start=day, days=1, now=now, with_busy=False, audience=audience)
    return {
        s.start.astimezone(UTC)
        for s in compute(inputs[agenda.pk], motive=motive, start=day, days=1, now=now)
    }


@pytest.fixture
def week(world):
    """The GP's week with what can make or stop a slot: an absence, a known patients' hour, an
    opening every other week, one that ends this Thursday, one for another motive only."""
    w = world
    monday = w.monday
    Absence.objects.create(
        agenda=w.agenda,
        start=at(monday + timedelta(days=1), 10, 10),
        end=at(monday + timedelta(days=1), 11),
    )
    extra = [
        dict(weekday=2, start_time=time(18), end_time=time(19), visibility="known"),
        dict(
            weekday=5,
            start_time=time(9),
            end_time=time(11),
            every_weeks=2,
            valid_from=monday - timedelta(days=14),
        ),
        dict(
            weekday=5,
            start_time=time(14),
            end_time=time(15),
            every_weeks=2,
            valid_from=monday - timedelta(days=7),
        ),
        dict(
            weekday=3,
            start_time=time(7),
            end_time=time(8, 40),
            valid_until=monday + timedelta(days=3),
        ),
        dict(
            weekday=4,
            start_time=time(7),
            end_time=time(8, 40),
            valid_until=monday + timedelta(days=3),
        ),
        dict(weekday=0, start_time=time(19), end_time=time(20), visibility="pro"),
    ]
    for fields in extra:
        opening = Opening.objects.create(
            agenda=w.agenda,
            site=w.site,
            valid_from=fields.pop("valid_from", monday - timedelta(days=60)),
            **fields,
        )
        opening.motives.set([w.first, w.follow_up])
    only_video = Opening.objects.create(
        agenda=w.agenda,
        site=w.site,
        weekday=1,
        start_time=time(19),
        end_time=time(20),
        valid_from=monday - timedelta(days=60),
    )
    only_video.motives.set([w.video])
    w.agenda = Agenda.objects.select_related("site").get(pk=w.agenda.pk)
    return w


@pytest.mark.parametrize(
    "audience", [visibility.PUBLIC, visibility.KNOWN_PATIENT, visibility.PROFESSIONAL]
)
@pytest.mark.parametrize("motive_name", ["first", "follow_up"])
def test_the_recheck_offers_a_slot_exactly_when_the_engine_offers_it_from_the_whole_day(
    week, audience, motive_name
):
    w = week
    motive = getattr(w, motive_name)
    now = at(w.monday - timedelta(days=1), 12)
    for offset in range(7):
        day = w.monday + timedelta(days=offset)
        expected = offered_by_the_whole_day(w.agenda, motive, day, now=now, audience=audience)
        found = set()
        for minutes in range(6 * 60, 21 * 60, 5):
            start = at(day, minutes // 60, minutes % 60)
            if booking._offered(w.agenda, motive, start, now=now, audience=audience):
                found.add(start.astimezone(UTC))
        assert found == expected, day


def test_occupying_reads_what_the_querysets_read(world, patient):
    w = world
    day = w.monday
    now = at(day - timedelta(days=1), 12)
    rows = [
        (9, 0, 30, Status.BOOKED, None),
        (9, 30, 30, Status.CANCELLED, None),
        (10, 0, 30, Status.EXPIRED, None),
        (10, 30, 30, Status.HELD, now - timedelta(minutes=1)),  # lapsed, still marked held
        (11, 0, 30, Status.HELD, now + timedelta(minutes=5)),
        (11, 30, 30, Status.SEEN, None),
        (12, 0, 30, Status.NO_SHOW, None),
    ]
    for hour, minute, length, status, expires in rows:
        start = at(day, hour, minute)
        Appointment.objects.create(
            agenda=w.agenda,
            motive=w.first,
            patient=patient,
            start=start,
            end=start + timedelta(minutes=length),
            status=status,
            hold_expires_at=expires,
        )
    for hour, minute, length in (
        (8, 30, 30),
        (9, 15, 90),
        (10, 40, 10),
        (11, 45, 60),
        (12, 30, 30),
    ):
        start = at(day, hour, minute)
        end = start + timedelta(minutes=length)
        expected = sorted(
            Appointment.objects.filter(agenda=w.agenda)
            .exclude(status__in=Appointment.FREEING_STATUSES)
            .overlapping(start, end)
            .values_list("start", "end", "status", "hold_expires_at")
        )
        assert (
            sorted(booking_reads.occupying(agenda_id=w.agenda.pk, start=start, end=end)) == expected
        )


def test_a_lapsed_hold_no_longer_counts_and_is_marked_expired_by_the_booking(world, user):
    w = world
    start = at(w.monday, 9)
    now = at(w.monday - timedelta(days=1), 12)
    lapsed = Appointment.objects.create(
        agenda=w.agenda,
        motive=w.follow_up,
        start=start,
        end=start + timedelta(minutes=15),
        status=Status.HELD,
        hold_expires_at=now - timedelta(seconds=1),
    )
    identity = booking.PatientIdentity(
        first_name="Alice", last_name="Durand", birth_date=date(1980, 5, 17)
    )
    made = booking.book(
        agenda=w.agenda, motive=w.follow_up, start=start, patient=identity, booked_by=user, now=now
    )
    assert made.status == Status.BOOKED
    lapsed.refresh_from_db()
    assert lapsed.status == Status.EXPIRED


@pytest.mark.parametrize(
    ("first", "last"),
    [
        ("Alice", "Durand"),
        ("ALICE", "durand"),
        ("Jean_Paul", "Le%Gall"),
        ("JeanXPaul", "LeXGall"),
        ("Zoé", "Ébène"),
    ],
)
def test_own_profiles_finds_the_profile_the_orm_finds(user, other_user, first, last):
    born = date(1980, 5, 17)
    make = PatientProfile.objects.create
    make(owner=other_user, first_name="Alice", last_name="Durand", birth_date=born)
    make(
        owner=user,
        first_name="Jean_Paul",
        last_name="Le%Gall",
        birth_date=born,
        relationship="child",
    )
    make(owner=user, first_name="alice", last_name="DURAND", birth_date=born, relationship="child")
    make(owner=user, first_name="Alice", last_name="Durand", birth_date=born, relationship="spouse")
    make(owner=user, first_name="Zoé", last_name="Ébène", birth_date=born, relationship="child")
    make(
        owner=user,
        first_name="Alice",
        last_name="Durand",
        birth_date=date(1981, 5, 17),
        relationship="child",
    )
    expected = PatientProfile.objects.filter(
        owner=user, first_name__iexact=first, last_name__iexact=last, birth_date=born
    ).first()
    found, has_self = booking_reads.own_profiles(
        owner_id=user.pk, first_name=first, last_name=last, birth_date=born
    )
    assert found == expected
    if expected is not None:
        assert [getattr(found, f.attname) for f in PatientProfile._meta.concrete_fields] == [
            getattr(expected, f.attname) for f in PatientProfile._meta.concrete_fields
        ]
    assert has_self is False
    make(owner=user, first_name="Me", last_name="Myself", birth_date=born, relationship="self")
    assert booking_reads.own_profiles(
        owner_id=user.pk, first_name=first, last_name=last, birth_date=born
    )[1]


def same_fields(a, b) -> bool:
    fields = type(a)._meta.concrete_fields
    return [getattr(a, f.attname) for f in fields] == [getattr(b, f.attname) for f in fields]


@pytest.mark.parametrize("which", ["gp", "line"])
def test_the_motive_to_book_comes_as_the_orm_selects_it(world, which):
    w = world
    motive = w.follow_up if which == "gp" else w.flu
    expected = Motive.objects.select_related("agenda__site", "agenda__practitioner").get(
        pk=motive.pk
    )
    found = booking_reads.motive_to_book(agenda_id=motive.agenda_id, motive_id=motive.pk)
    assert same_fields(found, expected)
    assert same_fields(found.agenda, expected.agenda)
    assert same_fields(found.agenda.site, expected.agenda.site)
    if which == "gp":
        assert same_fields(found.agenda.practitioner, expected.agenda.practitioner)
    else:
        assert found.agenda.practitioner is None
    assert booking_reads.motive_to_book(agenda_id=w.line.pk, motive_id=w.follow_up.pk) is None


def test_a_token_is_read_with_its_user_as_the_orm_reads_them(user):
    token, secret = ApiToken.issue(user)
    found = _live_token(digest(secret))
    assert same_fields(found, ApiToken.objects.get(pk=token.pk))
    assert same_fields(found.user, type(user).objects.get(pk=user.pk))
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=datetime.now(UTC))
    assert _live_token(digest(secret)) is None
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=None)
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    assert _live_token(digest(secret)) is None


def test_the_recheck_keeps_to_what_the_openings_query_would_select(world):
    """The plain query filters openings as ``load_inputs`` does (visibility, validity)."""
    w = world
    day = w.monday
    agenda = Agenda.objects.select_related("site").get(pk=w.agenda.pk)
    rows = booking_reads.openings_allowing(
        agenda_id=agenda.pk,
        motive_id=w.first.pk,
        day=day,
        audience=visibility.PUBLIC,
        start=at(day, 9),
        end=at(day, 9, 30),
    )
    expected = Opening.objects.filter(
        agenda=agenda,
        weekday=day.weekday(),
        motives=w.first,
        visibility__in=visibility.PUBLIC,
        valid_from__lte=day,
    ).filter(Q(valid_until__isnull=True) | Q(valid_until__gte=day))
    assert sorted(r[:5] for r in rows) == sorted(
        expected.values_list("start_time", "end_time", "valid_from", "valid_until", "every_weeks")
    )
    assert {r[5] for r in rows} == {False}
