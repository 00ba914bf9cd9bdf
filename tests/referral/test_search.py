"""The regulator's search: what a regulator on the phone is offered near the patient."""

import itertools
import math
from datetime import date, time, timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consulto.directory.models import Organisation, Practitioner, Site, Specialty
from consulto.referral.models import RegulationCase
from consulto.referral.search import find, week_start
from consulto.scheduling import booking, visibility
from consulto.scheduling.models import Agenda, Appointment, Motive, Opening
from tests.conftest import TEST_NOW, valid_rpps

PATIENT = (48.8589, 2.3800)  # Paris 11e
V = Opening.Visibility
ALL_DAYS = range(7)
_numbers = itertools.count(100)


def practice(
    name: str,
    *,
    north_km: float = 0.0,
    openings=((ALL_DAYS, time(8), time(20), V.PUBLIC),),
    video: bool = False,
    specialty: str = "medecin-generaliste",
    kind: str = Organisation.Kind.PRACTICE,
    capacity: int = 1,
    person: bool = True,
) -> Agenda:
    """An agenda ``north_km`` north of the patient with the openings given (days, from, to,
    visibility); a consultation (and a teleconsultation when ``video``) allowed in each."""
    organisation = Organisation.objects.create(name=name, kind=kind)
    site = Site.objects.create(
        organisation=organisation, name=name, address="1 rue de Paris", postcode="75011",
        city="Paris", latitude=PATIENT[0] + north_km / 111.2, longitude=PATIENT[1],
        phone="01 99 00 11 11",
    )  # fmt: skip
    practitioner = None
    if person:
        practitioner = Practitioner.objects.create(
            title="Dr", first_name="Jeanne", last_name=name, rpps=valid_rpps(next(_numbers)),
            specialty=Specialty.objects.get(code=specialty), video_enabled=video,
        )  # fmt: skip
    agenda = Agenda.objects.create(
        organisation=organisation, practitioner=practitioner, site=site, name=name,
        capacity=capacity,
    )  # fmt: skip
    motives = [Motive.objects.create(agenda=agenda, label="Consultation", duration_minutes=20)]
    if video:
        motives.append(
            Motive.objects.create(
                agenda=agenda, label="Téléconsultation", duration_minutes=15, mode="video",
                position=1,
            )
        )  # fmt: skip
    for days, start, end, seen_by in openings:
        for day in days:
            opening = Opening.objects.create(
                agenda=agenda, site=site, weekday=day, start_time=start, end_time=end,
                valid_from=TEST_NOW.date() - timedelta(days=30), visibility=seen_by,
            )  # fmt: skip
            opening.motives.set(motives)
    return agenda


@pytest.fixture
def regulator(django_user_model):
    return django_user_model.objects.create_user(email="regulation@example.org")


def test_offers_come_soonest_first_then_nearest(db):
    far = practice("Loin", north_km=3)
    near = practice("Près", north_km=1)
    offers = find(need="gp_48h", near=PATIENT, now=timezone.now()).offers
    assert offers
    keys = [(o.start, o.distance_km) for o in offers]
    assert keys == sorted(keys)
    first_two = {o.agenda.pk for o in offers[:2]}
    assert first_two == {near.pk, far.pk} and offers[0].agenda.pk == near.pk
    assert offers[0].distance_km == pytest.approx(1, abs=0.05)


def test_only_slots_within_48_hours_are_offered(db):
    now = timezone.now()
    practice("Souvent")
    # Open only three days from now: too late for an unscheduled consultation.
    later = (now + timedelta(days=3)).astimezone(timezone.get_current_timezone()).weekday()
    practice("Plus tard", openings=(((later,), time(8), time(20), V.PUBLIC),))
    result = find(need="gp_48h", near=PATIENT, now=now, limit=1000)
    assert result.until == now + timedelta(hours=48)
    assert result.offers
    assert all(now <= o.start <= now + timedelta(hours=48) for o in result.offers)
    assert {o.agenda.name for o in result.offers} == {"Souvent"}


@pytest.mark.parametrize(
    ("seen_by", "found"),
    [(V.PUBLIC, True), (V.PROFESSIONALS, True), (V.REGULATION, True), (V.KNOWN_PATIENTS, False)],
)
def test_a_regulator_is_offered_public_professional_and_regulation_slots_never_known_patients(
    db, seen_by, found
):
    agenda = practice("Cabinet", openings=((ALL_DAYS, time(8), time(20), seen_by),))
    offers = find(need="gp_48h", near=PATIENT, now=timezone.now()).offers
    assert bool(offers) is found
    assert all(o.agenda.pk == agenda.pk for o in offers)
    if found:
        assert offers[0].regulation_openings is (seen_by == V.REGULATION)


def test_video_is_offered_for_a_gp_or_video_need_not_for_covid_or_screening(db):
    practice("Visio", video=True)
    covid = practice(
        "Centre COVID", kind=Organisation.Kind.COVID_CENTRE, capacity=3, person=False,
        video=True,
    )  # fmt: skip
    screening = practice(
        "Dépistage", kind=Organisation.Kind.SCREENING_CENTRE, capacity=4, person=False
    )
    now = timezone.now()

    gp = find(need="gp_48h", near=PATIENT, now=now, limit=1000).offers
    assert {o.is_video for o in gp} == {True, False}
    assert all(o.distance_km is None for o in gp if o.is_video)
    assert {o.agenda.name for o in gp} == {"Visio"}
    video = find(need="video", near=PATIENT, now=now, limit=1000).offers
    assert video and all(o.is_video for o in video)

    for need, centre in (("covid", covid), ("screening", screening)):
        offers = find(need=need, near=PATIENT, now=now, limit=1000).offers
        assert offers and {o.agenda.pk for o in offers} == {centre.pk}
        assert not any(o.is_video for o in offers)


def test_an_agenda_outside_the_radius_is_left_out(db):
    practice("Dans Paris", north_km=5)
    practice("Trop loin", north_km=30)
    offers = find(need="gp_48h", near=PATIENT, now=timezone.now(), limit=1000).offers
    assert {o.agenda.name for o in offers} == {"Dans Paris"}
    wider = find(need="gp_48h", near=PATIENT, now=timezone.now(), radius_km=40, limit=1000)
    assert {o.agenda.name for o in wider.offers} == {"Dans Paris", "Trop loin"}


def test_specialist_need_finds_that_specialty_only(db):
    practice("Généraliste")
    practice("Cardiologue", specialty="cardiologue")
    offers = find(
        need="specialist", specialty="cardiologue", near=PATIENT, now=timezone.now()
    ).offers
    assert offers and {o.agenda.name for o in offers} == {"Cardiologue"}


def test_extras_count_this_weeks_extra_patients_only_and_come_with_room_first(db, regulator):
    now = timezone.now()
    full = practice("Complet", north_km=1).practitioner
    room = practice("Place", north_km=4).practitioner
    practice("Sans surnuméraire", north_km=2)
    Practitioner.objects.filter(pk=full.pk).update(
        takes_extra_patients=True, extra_patients_weekly_cap=2, regulation_phone="06 39 98 00 01"
    )
    Practitioner.objects.filter(pk=room.pk).update(
        takes_extra_patients=True, extra_patients_weekly_cap=3
    )
    centre = Organisation.objects.create(
        name="SAMU 75", kind=Organisation.Kind.REGULATION_CENTRE, territory="75"
    )
    monday = week_start(now)

    def case(outcome, practitioner, at):
        RegulationCase.objects.create(
            centre=centre, opened_by=regulator, opened_at=at, first_name="Paul",
            last_name="Petit", birth_date=date(1970, 1, 1), phone="06 39 98 00 00",
            postcode="75011", need="gp_48h", outcome=outcome,
            extra_practitioner=practitioner, extra_at=at,
        )  # fmt: skip

    case("extra", full, monday + timedelta(hours=9))
    case("extra", full, monday + timedelta(hours=10))
    case("extra", room, monday - timedelta(hours=2))  # last week's
    case("advice", room, monday + timedelta(hours=11))  # not an extra patient

    extras = find(need="gp_48h", near=PATIENT, now=now).extras
    assert [(e.practitioner.pk, e.taken_this_week, e.cap) for e in extras] == [
        (room.pk, 0, 3),
        (full.pk, 2, 2),
    ]
    assert extras[1].phone == "06 39 98 00 01" and extras[0].phone == "01 99 00 11 11"
    assert extras[0].room_left and not extras[1].room_left
    assert find(need="covid", near=PATIENT, now=now).extras == []


@pytest.mark.parametrize(
    "arguments",
    [
        {"near": (90.0, 0.0)},
        {"near": (-90.0, 180.0)},
        {"near": (math.nan, 2.35)},
        {"near": (48.85, math.inf)},
        {"near": ("Paris", None)},
        {"radius_km": 0},
        {"radius_km": -5},
        {"within_hours": 0},
        {"within_hours": -48},
        {"limit": 0},
    ],
)
def test_nonsense_finds_nothing_rather_than_failing(db, arguments):
    practice("Cabinet")
    values = {"need": "gp_48h", "near": PATIENT, "now": timezone.now(), **arguments}
    result = find(**values)
    assert result.offers == [] and result.extras == []


def test_a_huge_radius_or_window_is_capped_not_an_error(db):
    practice("Cabinet")
    result = find(
        need="gp_48h", near=PATIENT, now=timezone.now(), radius_km=10**9, within_hours=10**9
    )
    assert result.offers


def test_the_search_takes_a_fixed_number_of_queries(db):
    """Cold (nothing cached): the same number of queries for 6 agendas around as for 24."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for size in (6, 24):
        for index in range(size - len(counts) * 6):
            agenda = practice(f"Cabinet {size}-{index}", north_km=index / 8, video=index % 2 == 0)
            Practitioner.objects.filter(pk=agenda.practitioner_id).update(takes_extra_patients=True)
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            result = find(need="gp_48h", near=PATIENT, now=timezone.now())
        counts.append(len(queries))
        assert len(result.offers) == 40 and len(result.extras) >= 6
    assert counts[0] == counts[1] <= 17


@pytest.fixture(scope="module")
def _hypothesis_world(django_db_setup, django_db_blocker):
    """Three practices with every kind of opening, made once for the law below. It is set up
    before each test's clock (``tests/conftest.py``), so nothing here may read the clock:
    ``practice`` dates its openings from ``TEST_NOW``."""
    with django_db_blocker.unblock(), transaction.atomic():
        made = [
            practice(
                f"Loi {index}",
                north_km=index,
                video=True,
                openings=(
                    ((0, 2, 4, 6), time(8), time(12), V.PUBLIC),
                    ((1, 3, 5), time(9), time(13), V.PROFESSIONALS),
                    (ALL_DAYS, time(14), time(16), V.REGULATION),
                    (ALL_DAYS, time(18), time(20), V.KNOWN_PATIENTS),
                ),
            )
            for index in range(3)
        ]
        yield made
        transaction.set_rollback(True)


@pytest.mark.django_db
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(hours_later=st.integers(min_value=0, max_value=24 * 7), pick=st.integers(0, 10**6))
def test_law_every_offer_is_bookable_by_a_regulator(
    _hypothesis_world, regulator, hours_later, pick
):
    now = timezone.now() + timedelta(hours=hours_later)
    offers = find(need="gp_48h", near=PATIENT, now=now, limit=1000).offers
    assert offers
    offer = offers[pick % len(offers)]
    with transaction.atomic():
        appointment = booking.book(
            agenda=offer.agenda,
            motive=offer.motive,
            start=offer.start,
            patient=booking.PatientIdentity("Paul", "Petit", date(1970, 1, 1), "0639980000"),
            booked_by=regulator,
            channel=Appointment.Channel.REGULATOR,
            audience=visibility.REGULATOR,
            now=now,
        )
        assert appointment.start == offer.start
        transaction.set_rollback(True)


def test_when_the_nearest_are_full_farther_agendas_within_the_radius_are_offered(db, monkeypatch):
    from consulto.referral import search

    monkeypatch.setattr(search, "NEAREST", 2)
    monkeypatch.setattr(search, "NEAREST_SNP", 0)
    full = []
    for index in range(2):
        # Nothing a regulator may take near the patient: only known patients' openings.
        full += [practice(f"Complet {index}", north_km=100.5 + index / 10, openings=(
            (ALL_DAYS, time(8), time(20), V.KNOWN_PATIENTS),
        ))]  # fmt: skip
    farther = practice("Plus loin", north_km=108)
    elsewhere = (PATIENT[0] + 100 / 111.2, PATIENT[1])  # away from the other tests' practices
    offers = find(need="gp_48h", near=elsewhere, now=timezone.now()).offers
    offered = {o.agenda.pk for o in offers}
    assert farther.pk in offered and not offered & {a.pk for a in full}
