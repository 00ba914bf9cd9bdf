"""What the demo dataset holds: realistic, consistent, usable with the demo logins. The dataset is
generated once for this module (about five seconds) and each test runs in a transaction rolled
back after it, so a test may change it freely."""

import itertools
from datetime import date, datetime, time

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.db import transaction

from consulto.demo.dataset import (
    DEMO_LOGINS,
    generate,
)
from consulto.demo.models import DemoDataset
from consulto.directory.models import Organisation, Practitioner, Site
from consulto.scheduling import selectors
from consulto.scheduling.models import Absence, Agenda, Appointment, Motive, Opening
from consulto.scheduling.visibility import EVERYONE
from tests.conftest import TEST_NOW

TODAY = date(2026, 11, 23)
NOW = datetime.combine(TODAY, time(0)).astimezone()


@pytest.fixture(scope="module")
def _dataset(django_db_setup, django_db_blocker):
    """One dataset for the module, at the suite's clock, rolled back at the module's end."""
    with django_db_blocker.unblock(), transaction.atomic():
        with time_machine.travel(TEST_NOW, tick=True):
            dataset = generate(practitioners=16, seed=11, today=TODAY, progress=False)
        yield dataset
        transaction.set_rollback(True)


@pytest.fixture
def demo(_dataset, db):
    return _dataset


def test_a_second_run_adds_nothing(demo):
    before = Appointment.objects.count(), Practitioner.objects.count()
    again = generate(practitioners=16, seed=11, today=TODAY, progress=False)
    assert again.created is False
    assert (Appointment.objects.count(), Practitioner.objects.count()) == before
    other = generate(practitioners=99, seed=1, today=TODAY, progress=False)
    assert other.created is False and "already holds" in other.message
    assert DemoDataset.objects.count() == 1


def test_demo_logins_work_and_their_addresses_are_verified(demo, client):
    for login in DEMO_LOGINS:
        assert client.login(email=login.email, password=login.password), login.email
        assert EmailAddress.objects.get(email=login.email).verified
        client.logout()


def test_every_kind_of_organisation_and_a_capacity_six_vaccination_line(demo):
    kinds = set(Organisation.objects.values_list("kind", flat=True))
    assert kinds == {choice.value for choice in Organisation.Kind}
    vaccination = Agenda.objects.filter(organisation__kind=Organisation.Kind.VACCINATION_CENTRE)
    assert vaccination.filter(capacity=6).exists()
    assert Site.objects.exclude(timezone="Europe/Paris").count() < Site.objects.count()


def test_openings_have_lunch_breaks_and_some_are_every_second_week(demo):
    assert Opening.objects.filter(every_weeks=2).exists()
    # A GP's Monday is two openings (morning, afternoon) with a gap between them.
    gp = Agenda.objects.filter(practitioner__specialty__code="medecin-generaliste").first()
    monday = sorted(gp.openings.filter(weekday=0).values_list("start_time", "end_time"))
    assert len(monday) >= 2 and monday[0][1] < monday[1][0]
    assert Absence.objects.exists()


def test_motives_per_specialty_have_the_usual_durations(demo):
    gp_motives = Motive.objects.filter(agenda__practitioner__specialty__code="medecin-generaliste")
    durations = {m.label: m.duration_minutes for m in gp_motives}
    assert any(15 <= d <= 20 for d in durations.values())
    assert gp_motives.filter(mode=Motive.Mode.VIDEO, duration_minutes=15).exists()
    assert Motive.objects.filter(duration_minutes=30, open_to_new_patients=True).exists()


def test_about_forty_percent_of_the_next_two_weeks_is_booked(demo):
    agendas = list(Agenda.objects.filter(capacity=1).select_related("site"))
    free = selectors.load_inputs(agendas, start=TODAY, days=14, now=NOW, audience=EVERYONE)
    empty = selectors.load_inputs(
        agendas, start=TODAY, days=14, now=NOW, with_busy=False, audience=EVERYONE
    )
    offered = taken = 0
    for agenda in agendas:
        motive = min(agenda.motives.all(), key=lambda m: m.duration_minutes)
        kwargs = dict(motive=motive, start=TODAY, days=14, now=NOW)
        all_slots = len(selectors.compute(empty[agenda.pk], **kwargs))
        offered += all_slots
        taken += all_slots - len(selectors.compute(free[agenda.pk], **kwargs))
    assert offered > 0
    assert 0.3 <= taken / offered <= 0.55


def test_booked_appointments_lie_inside_openings_and_never_overlap(demo):
    agenda = (
        Agenda.objects.filter(capacity=1, appointments__status=Appointment.Status.BOOKED)
        .select_related("site")
        .first()
    )
    inputs = selectors.load_inputs(
        [agenda], start=TODAY, days=14, now=NOW, with_busy=False, audience=EVERYONE
    )
    starts = set()
    for motive in agenda.motives.all():
        for slot in selectors.compute(
            inputs[agenda.pk], motive=motive, start=TODAY, days=14, now=NOW
        ):
            starts.add((motive.pk, slot.start))
    booked = agenda.appointments.filter(status=Appointment.Status.BOOKED, start__gte=NOW)
    assert booked.exists()
    for appointment in booked:
        assert (appointment.motive_id, appointment.start) in starts
    spans = sorted(
        Appointment.objects.active(now=NOW)
        .filter(agenda__capacity=1)
        .values_list("agenda_id", "start", "end")
    )
    for (a1, _, end), (a2, start, _) in itertools.pairwise(spans):
        assert a1 != a2 or end <= start


def test_history_has_seen_no_show_and_cancelled_appointments(demo):
    past = Appointment.objects.filter(end__lte=NOW)
    statuses = set(past.values_list("status", flat=True))
    assert {Appointment.Status.SEEN, Appointment.Status.NO_SHOW} <= statuses
    assert Appointment.objects.filter(status=Appointment.Status.CANCELLED).exists()
    assert not past.filter(status=Appointment.Status.BOOKED).exists()


def test_every_demo_video_appointment_has_its_room(demo):
    from consulto.scheduling.models import Appointment
    from consulto.teleconsultation.models import VideoRoom

    video = Appointment.objects.filter(motive__mode="video")
    assert video.exists()
    assert VideoRoom.objects.count() == video.count()


def test_the_video_call_to_try_makes_room_in_a_full_agenda(demo):
    """At a busy time of a weekday, the demo's video call still starts at the next quarter
    hour: the appointment in its way moves to the same local time on a later day, and nothing
    overlaps on the agenda."""
    from datetime import timedelta

    from django.utils import timezone

    from consulto.demo.video_call import ensure_demo_video_call

    gp_email = DEMO_LOGINS[1].email
    agenda = Agenda.objects.filter(practitioner__user__email=gp_email).order_by("pk").first()
    zone = agenda.site.zone
    in_the_way = next(
        a
        for a in Appointment.objects.active()
        .filter(agenda=agenda, status=Appointment.Status.BOOKED, start__gt=NOW + timedelta(days=1))
        .exclude(patient__owner__email=DEMO_LOGINS[0].email)
        .order_by("start")
        if timezone.localtime(a.start, zone).minute % 15 == 0
    )
    now = in_the_way.start - timedelta(minutes=7)

    call = ensure_demo_video_call(now=now)
    assert call.start == in_the_way.start and call.motive.mode == Motive.Mode.VIDEO
    assert call.moved >= 1
    in_the_way.refresh_from_db()
    assert in_the_way.status == Appointment.Status.CANCELLED
    moved = Appointment.objects.get(rescheduled_from=in_the_way)
    before, after = (timezone.localtime(t, zone) for t in (in_the_way.start, moved.start))
    assert after.date() > before.date() and after.time() == before.time()
    active = list(Appointment.objects.active().filter(agenda=agenda).order_by("start"))
    assert all(a.end <= b.start for a, b in itertools.pairwise(active))
    # A second run in the same quarter hour finds it: nothing more is booked or moved.
    again = ensure_demo_video_call(now=now + timedelta(minutes=2))
    assert again.pk == call.pk and again.moved == 0


def test_samu_75_its_staff_and_the_paris_organisations_its_regulators_book_with(demo, client):
    """`make run` gives a regulation centre whose staff log in with the demo authenticator, a
    hospital with departments (each with agendas of its own and an admin for one), a screening
    and a COVID centre with capacity lines, an MSP and a CPTS."""
    from allauth.mfa.models import Authenticator

    from consulto.directory.models import Department, Membership

    samu = Organisation.objects.get(name="SAMU 75")
    assert samu.kind == Organisation.Kind.REGULATION_CENTRE and samu.territory == "75"
    assert samu.sites.get().city == "Paris"
    roles = dict(samu.memberships.values_list("user__email", "role"))
    assert roles == {
        "regulateur@consulto.local": Membership.Role.REGULATOR,
        "operateur@consulto.local": Membership.Role.OPERATOR,
        "samu-admin@consulto.local": Membership.Role.ADMIN,
    }
    for email in roles:
        assert Authenticator.objects.filter(user__email=email, type="totp").exists()

    hospital = Organisation.objects.get(departments__name="Cardiologie")
    departments = list(Department.objects.filter(organisation=hospital))
    assert [d.name for d in departments] == ["Cardiologie", "Pédiatrie", "Radiologie"]
    for department in departments:
        agendas = Agenda.objects.filter(department=department)
        assert 2 <= agendas.count() <= 3
        assert all(a.motives.exists() and a.openings.exists() for a in agendas)
    admin = Membership.objects.get(user__email="cardiologie@consulto.local")
    assert admin.organisation == hospital and admin.department.name == "Cardiologie"

    for kind in (Organisation.Kind.SCREENING_CENTRE, Organisation.Kind.COVID_CENTRE):
        lines = Agenda.objects.filter(organisation__kind=kind, site__city="Paris", capacity__gt=1)
        assert lines.filter(practitioner__isnull=True).exists()
    msp = Organisation.objects.get(kind=Organisation.Kind.MSP)
    takers = Practitioner.objects.filter(agendas__organisation=msp, takes_extra_patients=True)
    assert takers.count() == 2 and all(p.regulation_phone for p in takers)
    assert Organisation.objects.filter(kind=Organisation.Kind.CPTS, territory="75").exists()


def test_a_regulator_finds_regulation_slots_within_48_hours_whatever_the_day(demo):
    """The showcase's GPs keep regulation-only openings every day: on any day and hour of the
    week, a regulator searching near 75011 finds some within 48 hours, and a COVID
    consultation near 75020."""
    from datetime import timedelta

    from django.core.cache import cache

    from consulto.directory.selectors import place_coordinates
    from consulto.referral.search import find

    for hours in range(0, 7 * 24, 11):
        now = NOW + timedelta(hours=hours)
        cache.clear()
        result = find(need="gp_48h", near=place_coordinates("75011"), now=now, limit=10_000)
        assert any(o.regulation_openings for o in result.offers), now
        covid = find(need="covid", near=place_coordinates("75020"), now=now, limit=1)
        assert covid.offers, now


def test_samu_75_has_two_weeks_of_cases_with_the_referrals_of_its_bookings(demo):
    from datetime import timedelta

    from consulto.core.crypto import decrypt_text
    from consulto.directory.selectors import place_coordinates
    from consulto.referral.models import RegulationCase
    from consulto.referral.search import find

    cases = RegulationCase.objects.filter(centre__name="SAMU 75")
    assert cases.filter(opened_at__lt=NOW - timedelta(days=10)).exists()
    assert set(cases.values_list("outcome", flat=True)) == set(RegulationCase.Outcome.values)
    booked = cases.filter(outcome="booked").select_related("appointment__referral")
    assert booked.count() >= 5
    for case in booked:
        referral = case.appointment.referral
        assert referral.kind == "regulation" and referral.referrer_label == "SAMU 75"
        assert referral.reason and decrypt_text(referral.reason) == decrypt_text(case.reason)
        assert case.appointment.patient_id == case.patient_id
        assert case.appointment.start > case.opened_at
    within_48h = [c for c in booked if c.appointment.start - c.opened_at <= timedelta(hours=48)]
    assert 0.5 < len(within_48h) / len(booked) <= 1
    # The demo GP's agenda has a coming appointment sent by SAMU 75.
    assert Appointment.objects.filter(
        agenda__practitioner__user__email=DEMO_LOGINS[1].email,
        referral__referrer_label="SAMU 75",
        start__gt=NOW,
    ).exists()

    extras = find(
        need="gp_48h", near=place_coordinates("75019"), now=NOW + timedelta(hours=12)
    ).extras
    assert [(e.taken_this_week, e.cap) for e in extras] == [(1, 5), (3, 3)]
