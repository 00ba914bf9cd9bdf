"""Screens 3 to 6: identity and practice, hours and motives, video, publish; and resuming."""

import json
import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from consulto.directory.models import Membership, Practitioner, Site
from consulto.directory.selectors import practitioners_matching
from consulto.onboarding import services
from consulto.onboarding.models import Step
from consulto.scheduling import booking
from consulto.scheduling.models import Agenda, Motive, Opening, PatientProfile

from .conftest import identity_data, schedule_data, sign_up

pytestmark = pytest.mark.django_db


def test_identity_is_prefilled_from_the_directory(client, mailoutbox, directory_gp):
    sign_up(client, mailoutbox)
    page = client.get("/pro/demarrage/identite/").content.decode()
    assert 'value="Camille"' in page and 'value="Rousseau"' in page
    assert 'value="8 Rue des Tilleuls"' in page and 'value="75011"' in page
    assert "annuaire" in page


def test_saving_identity_creates_the_practice_once(client, mailoutbox, directory_gp):
    journey = sign_up(client, mailoutbox)
    for _ in range(2):  # the second save corrects, it does not duplicate
        response = client.post("/pro/demarrage/identite/", identity_data())
        assert response["Location"] == "/pro/demarrage/horaires/"
    journey.refresh_from_db()
    practitioner = journey.practitioner
    assert practitioner.user == journey.user and not practitioner.is_published
    assert practitioner.rpps_status == Practitioner.RppsStatus.VALID
    site = Site.objects.get()
    assert site.postcode == "75011" and 48.8 < site.latitude < 48.9
    assert site.timezone == "Europe/Paris"
    assert Agenda.objects.filter(practitioner=practitioner).count() == 1
    roles = set(Membership.objects.filter(user=journey.user).values_list("role", flat=True))
    assert roles == {"admin", "practitioner"}


def test_an_unknown_postcode_is_refused_and_nothing_is_created(client, mailoutbox, directory_gp):
    sign_up(client, mailoutbox)
    response = client.post("/pro/demarrage/identite/", identity_data(postcode="00000"))
    assert response.status_code == 200
    assert "00000" in response.content.decode()
    assert not Practitioner.objects.exists() and not Site.objects.exists()


def test_a_screen_ahead_sends_back_to_the_first_unfinished_one(client, mailoutbox, directory_gp):
    sign_up(client, mailoutbox)
    response = client.get("/pro/demarrage/publier/")
    assert response["Location"] == "/pro/demarrage/identite/"


def test_the_schedule_suggests_the_specialty_motives(client, mailoutbox, directory_gp):
    sign_up(client, mailoutbox)
    client.post("/pro/demarrage/identite/", identity_data())
    page = client.get("/pro/demarrage/horaires/").content.decode()
    assert "Renouvellement d&#x27;ordonnance" in page or "Renouvellement d'ordonnance" in page
    assert 'value="09:00"' in page  # the standard template fills the grid


def test_saving_the_schedule_creates_openings_and_motives(client, mailoutbox, directory_gp):
    journey = sign_up(client, mailoutbox)
    client.post("/pro/demarrage/identite/", identity_data())
    response = client.post("/pro/demarrage/horaires/", schedule_data())
    assert response["Location"] == "/pro/demarrage/video/"
    journey.refresh_from_db()
    assert Opening.objects.filter(agenda=journey.agenda).count() == 10
    labels = list(Motive.objects.filter(agenda=journey.agenda).values_list("label", "mode"))
    assert labels == [("Consultation", "in_person"), ("Téléconsultation", "video")]
    assert all(o.motives.count() == 2 for o in Opening.objects.filter(agenda=journey.agenda))


def test_overlapping_periods_are_refused_and_nothing_is_saved(client, mailoutbox, directory_gp):
    journey = sign_up(client, mailoutbox)
    client.post("/pro/demarrage/identite/", identity_data())
    data = schedule_data(days={0: ("09:00", "13:00", "12:00", "18:00")})
    response = client.post("/pro/demarrage/horaires/", data)
    assert response.status_code == 200
    assert "se chevauchent" in response.content.decode()
    journey.refresh_from_db()
    assert not Opening.objects.filter(agenda=journey.agenda).exists()
    assert 'value="13:00"' in response.content.decode()  # what was typed is kept


def test_a_template_fills_the_grid_without_javascript(client, mailoutbox, directory_gp):
    sign_up(client, mailoutbox)
    client.post("/pro/demarrage/identite/", identity_data())
    data = schedule_data()
    data.update({"template": "with_saturday", "apply": "1"})
    page = client.post("/pro/demarrage/horaires/", data).content.decode()
    assert 'name="d5-s1" value="09:00"' in page
    assert not Opening.objects.exists()


def test_video_adds_a_video_motive_when_there_is_none(client, mailoutbox, directory_gp):
    journey = sign_up(client, mailoutbox)
    client.post("/pro/demarrage/identite/", identity_data())
    client.post(
        "/pro/demarrage/horaires/",
        schedule_data(motives=[("Consultation", 15, "in_person", True)]),
    )
    client.post(
        "/pro/demarrage/video/",
        {"enabled": "on", "camera": "true", "microphone": "false", "rtt_ms": "99999999"},
    )
    journey.refresh_from_db()
    assert journey.practitioner.video_enabled
    video = Motive.objects.get(agenda=journey.agenda, mode="video")
    assert video.openings.count() == 10
    assert journey.device_check == {"camera": True, "microphone": False}  # the absurd RTT dropped


def test_the_video_screen_gives_the_device_test_turn_credentials(
    client, mailoutbox, directory_gp, settings
):
    settings.CONSULTO_STUN_URLS = []
    settings.CONSULTO_TURN_URLS = ["turn:turn.example.org:3478?transport=udp"]
    settings.CONSULTO_TURN_SECRET = "s3cret"
    journey = sign_up(client, mailoutbox)
    client.post("/pro/demarrage/identite/", identity_data())
    client.post("/pro/demarrage/horaires/", schedule_data())
    page = client.get("/pro/demarrage/video/").content.decode()
    found = re.search(
        r'<script id="device-ice-servers" type="application/json">(.*?)</script>', page
    )
    (turn,) = json.loads(found.group(1))
    assert turn["urls"] == ["turn:turn.example.org:3478?transport=udp"]
    assert turn["username"].endswith(f":u{journey.user_id}") and turn["credential"]
    assert 'id="check-relay"' in page and 'name="relay"' in page


def test_the_relay_check_is_kept_typed_and_bounded():
    clean = services.clean_device_check
    assert clean({"relay": "reachable", "relay_ms": "87.4"}) == {
        "relay": "reachable",
        "relay_ms": 87,
    }
    assert clean({"relay": "unreachable", "relay_ms": "12"}) == {"relay": "unreachable"}
    assert clean({"relay": "none"}) == {"relay": "none"}
    assert clean({"relay": "<script>", "relay_ms": "12"}) == {}
    assert clean({"relay": "reachable", "relay_ms": "inf"}) == {"relay": "reachable"}
    assert clean({"relay": "reachable", "relay_ms": "-3"}) == {"relay": "reachable"}
    assert clean({"rtt_ms": "1e400"}) == {}


def test_a_new_relay_result_replaces_the_old_one(client, mailoutbox, directory_gp):
    journey = sign_up(client, mailoutbox)
    client.post("/pro/demarrage/identite/", identity_data())
    client.post("/pro/demarrage/horaires/", schedule_data())
    video = {"enabled": "on", "camera": "true", "microphone": "true"}
    client.post("/pro/demarrage/video/", {**video, "relay": "reachable", "relay_ms": "40"})
    journey.refresh_from_db()
    assert journey.device_check["relay"] == "reachable"
    assert journey.device_check["relay_ms"] == 40
    services.save_video(
        journey=journey, enabled=True, device_check={**video, "relay": "unreachable"}
    )
    journey.refresh_from_db()
    assert journey.device_check["relay"] == "unreachable"
    assert "relay_ms" not in journey.device_check


def test_publishing_makes_the_practitioner_searchable_and_bookable(onboarded, django_user_model):
    journey = onboarded.journey
    page = onboarded.client.get("/pro/demarrage/publier/").content.decode()
    assert "Publier mon profil" in page and "Dr Camille Rousseau" in page
    response = onboarded.client.post("/pro/demarrage/publier/")
    assert response["Location"] == "/pro/"
    journey.refresh_from_db()
    assert journey.done and journey.step == Step.PUBLISH
    found = practitioners_matching(specialty="medecin-generaliste", video=True)
    assert journey.practitioner in found
    # A patient books the first slot of next week at once, through the patient pages' rules.
    agenda = journey.agenda
    motive = Motive.objects.get(agenda=agenda, label="Consultation")
    monday = timezone.localdate() + timedelta(days=7 - timezone.localdate().weekday())
    start = datetime.combine(monday, time(9), tzinfo=ZoneInfo("Europe/Paris"))
    patient_user = django_user_model.objects.create_user(email="jean@example.org")
    profile = PatientProfile.objects.create(
        owner=patient_user, first_name="Jean", last_name="Patient", birth_date=date(1970, 1, 1)
    )
    appointment = booking.book(
        agenda=agenda, motive=motive, start=start, patient=profile, booked_by=patient_user
    )
    assert appointment.status == "booked"


def test_a_number_to_verify_cannot_publish_until_support_confirms(
    client, mailoutbox, django_user_model, django_capture_on_commit_callbacks
):
    from consulto.directory.services import load_specialties

    from .conftest import rpps

    load_specialties()
    journey = sign_up(client, mailoutbox, number=rpps(99))
    client.post("/pro/demarrage/identite/", identity_data())
    client.post("/pro/demarrage/horaires/", schedule_data())
    client.post("/pro/demarrage/video/", {"enabled": "on"})
    page = client.get("/pro/demarrage/publier/").content.decode()
    assert "Publier mon profil" not in page and "vérifie votre numéro RPPS" in page
    client.post("/pro/demarrage/publier/")
    journey.refresh_from_db()
    assert not journey.practitioner.is_published
    staff = django_user_model.objects.create_user(email="support@consulto.test", is_staff=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.confirm_rpps(practitioner=journey.practitioner, by=staff)
    assert "Publier mon profil" in client.get("/pro/demarrage/publier/").content.decode()
    assert "confirmé" in mailoutbox[-1].subject.lower()


def test_a_practitioner_who_left_resumes_where_they_stopped(client, mailoutbox, directory_gp):
    from .conftest import PASSWORD, totp_now

    journey = sign_up(client, mailoutbox)
    client.post("/pro/demarrage/identite/", identity_data())
    client.logout()
    # Log in again (password, then the authenticator code): back to the hours screen.
    client.post("/accounts/login/", {"login": journey.email, "password": PASSWORD})
    secret = journey.totp_secret
    response = client.post("/accounts/2fa/authenticate/", {"code": totp_now(secret)})
    assert response["Location"] == "/pro/demarrage/"
    assert client.get("/pro/demarrage/")["Location"] == "/pro/demarrage/horaires/"


def test_the_checklist_on_the_practice_home_shows_what_is_left(onboarded):
    page = onboarded.client.get("/pro/").content.decode()
    assert "ce qu&#x27;il reste" in page.lower() or "ce qu'il reste" in page.lower()
    assert "/pro/demarrage/publier/" in page
    onboarded.client.post("/pro/demarrage/publier/")
    page = onboarded.client.get("/pro/").content.decode()
    assert "/pro/demarrage/publier/" not in page  # nothing left: the checklist is gone
