"""The demo dataset: deterministic, realistic, idempotent, and usable with the demo logins."""

from collections import Counter
from datetime import date, datetime, time
from io import StringIO

from django.core.management import call_command

from consulto.demo.dataset import (
    DEMO_LOGINS,
    DEMO_PASSWORD,
    generate,
    load_cities,
    plan_directory,
)
from consulto.directory.models import Practitioner, Site
from consulto.scheduling.models import Appointment

TODAY = date(2026, 11, 23)
NOW = datetime.combine(TODAY, time(0)).astimezone()


def test_the_same_seed_plans_the_same_directory_and_another_seed_does_not():
    first = plan_directory(seed=3, practitioners=50, today=TODAY)
    again = plan_directory(seed=3, practitioners=50, today=TODAY)
    other = plan_directory(seed=4, practitioners=50, today=TODAY)
    assert first == again
    assert [p.last_name for p in first.practitioners] != [p.last_name for p in other.practitioners]


def test_the_cities_are_real_french_places_with_coordinates():
    cities = load_cities()
    names = {c.name for c in cities}
    assert {"Paris", "Lyon", "Marseille", "Bordeaux"} <= names
    for city in cities:
        assert (41 <= city.lat <= 51.2 and -5.2 <= city.lon <= 9.6) or city.postcode.startswith(
            "97"
        )
        assert len(city.postcode) == 5


def test_the_command_prints_progress_and_the_demo_logins(db):
    out, err = StringIO(), StringIO()
    call_command("demo", practitioners=12, seed=5, stdout=out, stderr=err)
    text = out.getvalue()
    for login in DEMO_LOGINS:
        assert login.email in text
    assert DEMO_PASSWORD in text
    assert Practitioner.objects.count() >= 12


def test_specialties_are_weighted_as_in_real_life():
    plan = plan_directory(seed=2, practitioners=400, today=TODAY)
    counts = Counter(p.specialty for p in plan.practitioners)
    most_common, _ = counts.most_common(1)[0]
    assert most_common == "medecin-generaliste"
    assert len(counts) >= 12


def test_every_run_leaves_a_video_consultation_to_try_now(db):
    from django.utils import timezone

    from consulto.teleconsultation import rooms

    out = StringIO()
    call_command("demo", practitioners=12, seed=5, stdout=out, stderr=StringIO())
    call = Appointment.objects.get(
        patient__owner__email=DEMO_LOGINS[0].email,
        agenda__practitioner__user__email=DEMO_LOGINS[1].email,
        motive__mode="video",
        start__gt=timezone.now(),
    )
    assert f"/pro/visio/{call.video_room.pk}/" in out.getvalue()
    assert call.start - timezone.now() < rooms.OPENS_BEFORE * 4  # soon: today, to try at once
    videos = Appointment.objects.filter(motive__mode="video", patient=call.patient)
    before = videos.count()
    call_command("demo", practitioners=12, seed=5, stdout=StringIO(), stderr=StringIO())
    assert videos.count() == before  # the coming one is kept, not doubled


def test_the_demo_practice_is_in_paris_where_a_search_finds_many_with_slots(db):
    """A newcomer runs `make run` (60 practitioners, seed 2026) and searches Paris: the demo
    logins' health centre is there, among many practitioners with free slots."""
    from django.utils import timezone

    from consulto.directory.selectors import place_coordinates
    from consulto.scheduling.search import search_practitioners

    generate(practitioners=60, seed=2026, today=timezone.localdate(), progress=False)
    gp = Practitioner.objects.get(user__email=DEMO_LOGINS[1].email)
    site = gp.agendas.get().site
    assert site.city == "Paris" and site.postcode.startswith("75")
    secretary_sites = set(
        Site.objects.filter(
            organisation__memberships__user__email=DEMO_LOGINS[2].email
        ).values_list("city", flat=True)
    )
    assert secretary_sites == {"Paris"}
    result = search_practitioners(near=place_coordinates("Paris"), radius_km=25, limit=20)
    assert result.count >= 20
    assert sum(1 for hit in result.hits if hit.slots) >= 15
    generalists = search_practitioners(
        specialty="medecin-generaliste", near=place_coordinates("Paris"), radius_km=25
    )
    assert generalists.count >= 3


def test_paris_gets_its_share_without_changing_the_rest_of_a_large_dataset():
    plan = plan_directory(seed=7, practitioners=400, today=TODAY)
    in_paris = [
        a
        for a in plan.agendas
        if a.practitioner is not None
        and plan.organisations[a.organisation].sites[a.site].city == "Paris"
    ]
    assert 24 <= len(in_paris) <= 0.4 * len(plan.agendas)
    assert len({plan.organisations[a.organisation].sites[a.site].city for a in plan.agendas}) > 40


def test_the_rpps_offered_to_try_onboarding_is_never_one_already_used(db):
    import re

    from consulto.directory.sample import SAMPLE_GP_RPPS
    from consulto.onboarding.models import Journey

    def offered() -> str:
        out = StringIO()
        call_command("demo", practitioners=12, seed=5, stdout=out, stderr=StringIO())
        return re.search(r"Try self-onboarding with RPPS (\d{11})", out.getvalue())[1]

    first = offered()
    assert first == SAMPLE_GP_RPPS
    # Someone tried it, and the server restarts: the next number offered is free.
    Practitioner.objects.create(
        first_name="Julie",
        last_name="Bernardin",
        rpps=first,
        specialty=Practitioner.objects.first().specialty,
    )
    second = offered()
    assert second != first
    Journey.objects.create(email="essai@example.org", rpps=second)
    third = offered()
    assert third not in (first, second)
    assert not Practitioner.objects.filter(rpps=third).exists()


def test_the_demo_loads_on_29_february(db, clock):
    """`make run` on a leap day: the ages of the patient pools are counted back in years."""
    clock.move_to(datetime(2028, 2, 29, 9, 0).astimezone())
    out = StringIO()
    call_command("demo", practitioners=12, seed=5, stdout=out, stderr=StringIO())
    assert "Demo dataset loaded" in out.getvalue()
    assert Appointment.objects.exists()
