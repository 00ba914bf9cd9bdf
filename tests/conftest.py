"""Shared fixtures: a small, real world of one practice with a GP agenda and a vaccination line."""

import os
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import HealthCheck, settings

from consulto.directory.models import Organisation, Practitioner, Site, Specialty
from consulto.directory.rpps import luhn_check_digit
from consulto.directory.services import load_specialties
from consulto.scheduling.models import Agenda, Motive, Opening, PatientProfile

# Property tests judge behaviour, not speed: on a shared two-core CI machine, data generation and
# examples can be slow without anything being wrong (speed is measured in bench/).
settings.register_profile("consulto", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("consulto")

PARIS = ZoneInfo("Europe/Paris")

# The suite's clock. Every test starts at this instant and time then flows (tick), so no test
# depends on the day or hour it runs at. CONSULTO_TEST_NOW moves the whole suite to another
# instant: `.ci/run` runs it once more at an awkward one (tools/suite_at runs any), under
# faketime so that what the tests start outside Python agrees.
DEFAULT_TEST_NOW = "2026-12-09T10:17:00+01:00"  # an ordinary Wednesday morning in Paris


def _test_now() -> datetime:
    value = os.environ.get("CONSULTO_TEST_NOW") or DEFAULT_TEST_NOW
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("CONSULTO_TEST_NOW needs a UTC offset, e.g. 2027-03-27T23:30:00+01:00")
    return moment


TEST_NOW = _test_now()


def pytest_report_header(config):
    return f"suite clock: {TEST_NOW.isoformat()} (CONSULTO_TEST_NOW to change it)"


@pytest.fixture(autouse=True)
def clock(request):
    """Every test runs at ``TEST_NOW`` (flowing); ``clock.move_to(...)`` jumps elsewhere.

    Tests marked ``real_clock`` keep the machine's clock: they talk to programs outside this
    process (a relay server checking time-limited credentials) that cannot share ours.
    """
    if request.node.get_closest_marker("real_clock"):
        yield None
        return
    with time_machine.travel(TEST_NOW, tick=True) as traveller:
        yield traveller


def valid_rpps(n: int) -> str:
    first_ten = f"10{n:08d}"
    return first_ten + luhn_check_digit(first_ten)


def next_weekday(weekday: int, *, weeks_ahead: int = 1) -> date:
    """A date on that weekday at least ``weeks_ahead`` weeks from today (the suite's clock)."""
    today = date.today()
    return today + timedelta(days=(weekday - today.weekday()) % 7 + 7 * weeks_ahead)


def at(day: date, hour: int, minute: int = 0, zone: ZoneInfo = PARIS) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with no cached availability: ids are reused after a rollback."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request to /en/ by the test client leaves
    English active in the thread it ran in."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(email="alice@example.org", password="x" * 12)


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user(email="bob@example.org", password="x" * 12)


@pytest.fixture
def world(db):
    """A GP with Mon–Fri 9–12 and 14–18 openings, and a vaccination line of capacity 6."""
    load_specialties()  # transactional tests flush what the data migration loaded
    organisation = Organisation.objects.create(name="Cabinet des Lilas")
    site = Site.objects.create(
        organisation=organisation,
        name="Cabinet des Lilas",
        address="12 rue des Lilas",
        postcode="75019",
        city="Paris",
        latitude=48.8777,
        longitude=2.3925,
    )
    gp = Practitioner.objects.create(
        title="Dr",
        first_name="Claire",
        last_name="Martin",
        rpps=valid_rpps(1),
        specialty=Specialty.objects.get(code="medecin-generaliste"),
        video_enabled=True,
    )
    agenda = Agenda.objects.create(
        organisation=organisation, practitioner=gp, site=site, name="Dr Martin"
    )
    first = Motive.objects.create(agenda=agenda, label="Première consultation", duration_minutes=30)
    follow_up = Motive.objects.create(
        agenda=agenda, label="Consultation de suivi", duration_minutes=15, position=1
    )
    video = Motive.objects.create(
        agenda=agenda, label="Téléconsultation", duration_minutes=15, mode="video", position=2
    )
    valid_from = date.today() - timedelta(days=60)
    for weekday in range(5):
        for start, end in ((time(9), time(12)), (time(14), time(18))):
            opening = Opening.objects.create(
                agenda=agenda,
                site=site,
                weekday=weekday,
                start_time=start,
                end_time=end,
                valid_from=valid_from,
            )
            opening.motives.set([first, follow_up, video])

    centre = Organisation.objects.create(name="Centre de vaccination", kind="vaccination_centre")
    centre_site = Site.objects.create(
        organisation=centre,
        name="Gymnase",
        address="1 avenue Jean Jaurès",
        postcode="69007",
        city="Lyon",
        latitude=45.745,
        longitude=4.842,
    )
    line = Agenda.objects.create(organisation=centre, site=centre_site, name="Ligne 1", capacity=6)
    flu = Motive.objects.create(agenda=line, label="Vaccination grippe", duration_minutes=10)
    for weekday in range(6):
        opening = Opening.objects.create(
            agenda=line,
            site=centre_site,
            weekday=weekday,
            start_time=time(8),
            end_time=time(18),
            valid_from=valid_from,
        )
        opening.motives.set([flu])

    w = SimpleNamespace()
    w.organisation, w.site, w.gp, w.agenda = organisation, site, gp, agenda
    w.first, w.follow_up, w.video = first, follow_up, video
    w.line, w.flu = line, flu
    w.monday = next_weekday(0)
    return w


@pytest.fixture
def patient(user):
    return PatientProfile.objects.create(
        owner=user, first_name="Alice", last_name="Durand", birth_date=date(1980, 5, 17)
    )
