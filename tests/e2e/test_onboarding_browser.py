"""A practitioner who has never seen Consulto signs up alone, from the home page, and ends
bookable with video; then a patient books them. On a desktop and on a 375 px phone; every
screen is checked with axe-core, and screenshots land in var/screenshots/onboarding-*.
"""

import re
from datetime import date

import pytest

from consulto.directory.models import Practitioner
from consulto.directory.sample import SAMPLE_GP_RPPS
from consulto.directory.services import load_specialties
from consulto.onboarding.models import Journey
from consulto.scheduling.models import Appointment, PatientProfile

from .conftest import assert_accessible, assert_fits_width, log_in, shoot
from .onboarding_journey import run_journey

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "Un-Mot-de-passe-2026!"


@pytest.fixture
def directory(db):
    """The sample directory extract, imported as `consulto directory import` does."""
    from consulto.directory.directory_import import import_sample_if_empty

    load_specialties()
    import_sample_if_empty()


def _code(smtp):
    def read(email: str) -> str:
        body = smtp.to(email)[-1].get_body(("plain",)).get_content()
        return re.search(r"\b(\d{6})\b", body).group(1)

    return read


@pytest.mark.parametrize("device", ["page", "phone"])
def test_a_new_practitioner_publishes_alone_then_a_patient_books(
    request, device, directory, smtp, live_server, browser, django_user_model
):
    page, phone = request.getfixturevalue(device), device == "phone"
    email = f"nouveau.{device}@cabinet.test"

    def check(page, name):
        shoot(page, f"onboarding-{name}-{device}")
        assert_accessible(page)
        if phone:
            assert_fits_width(page)

    run = run_journey(
        page,
        email=email,
        password=PASSWORD,
        rpps=SAMPLE_GP_RPPS,
        read_code=_code(smtp),
        check=check,
    )
    assert len(run.screens) <= 6, run.screens
    shoot(page, f"onboarding-7-practice-home-{device}")
    assert_accessible(page)

    journey = Journey.objects.get(email=email)
    practitioner = journey.practitioner
    assert journey.done and practitioner.is_published and practitioner.video_enabled
    assert practitioner.rpps == SAMPLE_GP_RPPS

    # A patient finds them in the search and books the first slot offered.
    patient = django_user_model.objects.create_user(email=f"patient.{device}@example.org")
    PatientProfile.objects.create(
        owner=patient, first_name="Jeanne", last_name="Petit", birth_date=date(1975, 4, 2)
    )
    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    visitor = context.new_page()
    log_in(visitor, patient, live_server)
    visitor.goto(f"/?what={practitioner.last_name}&where=75011&video=on")
    card = visitor.locator("li.card").filter(has_text=practitioner.last_name)
    card.locator("button.slot").first.click()
    visitor.get_by_role("button", name="Confirmer le rendez-vous").click()
    visitor.get_by_text("Votre rendez-vous est réservé").wait_for()
    context.close()
    appointment = Appointment.objects.get(agenda__practitioner=practitioner)
    assert appointment.status == Appointment.Status.BOOKED
    assert appointment.patient.last_name == "Petit"


def test_a_refused_camera_gets_plain_help(directory, smtp, browser, live_server):
    """Without the fake-UI flag's automatic yes, permission is denied: the page says what to do
    in this browser, and the practitioner can still go on."""
    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    page = context.new_page()
    page.add_init_script(
        "navigator.mediaDevices.getUserMedia = () => Promise.reject("
        "new DOMException('denied', 'NotAllowedError'));"
    )
    run_journey(
        page,
        email="refus@cabinet.test",
        password=PASSWORD,
        rpps=SAMPLE_GP_RPPS,
        read_code=_code(smtp),
        stop_at_video=True,
    )
    page.get_by_text("Caméra : indisponible.").wait_for()
    help_box = page.locator("#device-help")
    assert "Dans Chrome" in help_box.inner_text()
    shoot(page, "onboarding-5-video-refused")
    assert_accessible(page)
    page.get_by_role("button", name="Continuer").click()
    page.get_by_role("heading", name="Votre profil, tel que les patients le verront").wait_for()
    journey = Journey.objects.get(email="refus@cabinet.test")
    assert journey.device_check["camera"] is False
    assert journey.device_check["error"] == "denied_chrome"
    context.close()
    assert Practitioner.objects.filter(pk=journey.practitioner_id, video_enabled=True).exists()


def test_the_funnel_page_is_a_chart_with_its_table(page, live_server, django_user_model, directory):
    from consulto.onboarding import services
    from consulto.onboarding.models import Step

    for n in range(3):
        journey = services.start_signup(
            email=f"f{n}@cabinet.test", password=PASSWORD, rpps=SAMPLE_GP_RPPS, language="fr"
        )
        services.reach(journey, Step.SECURITY)
    staff = django_user_model.objects.create_user(email="ops@consulto.test", is_staff=True)
    log_in(page, staff, live_server)
    page.goto("/pro/entonnoir/")
    page.get_by_role("img", name="Entonnoir d'inscription").wait_for()
    assert "3 inscriptions, 0 publiées" in page.inner_text("main")
    shoot(page, "onboarding-funnel")
    assert_accessible(page)


@pytest.mark.parametrize("device", ["page", "phone"])
def test_a_mistyped_rpps_is_questioned_on_the_first_screen(request, device, directory, smtp):
    """Said at once with what to do, and a way on for a number that is right; the terms of use
    are a link that leaves the form as it is."""
    page = request.getfixturevalue(device)
    page.goto("/pro/rejoindre/")
    page.get_by_label("E-mail professionnel").fill(f"cle.{device}@cabinet.test")
    page.get_by_label(re.compile(r"^Mot de passe\W*$")).fill(PASSWORD)
    wrong = SAMPLE_GP_RPPS[:-1] + str((int(SAMPLE_GP_RPPS[-1]) + 1) % 10)
    page.get_by_label("Numéro RPPS").fill(wrong)
    with page.context.expect_page() as terms:
        page.get_by_role(
            "link", name="conditions d'utilisation (s'ouvre dans un nouvel onglet)"
        ).click()
    terms.value.get_by_role(
        "heading", name="Conditions d'utilisation pour les professionnels de santé"
    ).wait_for()
    terms.value.close()
    page.get_by_label("J'accepte les conditions").check()
    page.get_by_role("button", name="Créer mon compte").click()
    page.get_by_text("il semble mal saisi").wait_for()
    box = page.get_by_label("Ce numéro est bien le mien")
    shoot(page, f"onboarding-1-rpps-check-digit-{device}")
    assert_accessible(page)
    assert_fits_width(page)
    assert not Journey.objects.exists()
    box.check()
    page.get_by_label(re.compile(r"^Mot de passe\W*$")).fill(PASSWORD)
    page.get_by_role("button", name="Créer mon compte").click()
    page.get_by_label("Code reçu par e-mail").wait_for()
    assert Journey.objects.get().rpps == wrong
