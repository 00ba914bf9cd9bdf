"""Error pages, the practice space seen by a patient, the terms of use and the privacy notice:
French, styled like the site, usable by keyboard, axe-clean, on a desktop and a 375 px phone.
Screenshots: var/screenshots/pages-*."""

import pytest

from consulto.directory.services import load_specialties

from .conftest import assert_accessible, assert_fits_width, log_in, shoot

pytestmark = pytest.mark.django_db(transaction=True)

DEVICES = ["page", "phone"]


def _check(page, name, device):
    shoot(page, f"pages-{name}-{device}")
    assert_accessible(page)
    assert_fits_width(page)


@pytest.mark.parametrize("device", DEVICES)
def test_a_missing_page_leads_back_home_by_keyboard(request, device, live_server):
    page = request.getfixturevalue(device)
    response = page.goto("/rendez-vous-perdu/")
    assert response.status == 404
    page.get_by_role("heading", name="Page introuvable").wait_for()
    _check(page, "404", device)
    link = page.get_by_role("link", name="Chercher un praticien depuis l'accueil")
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/")


@pytest.mark.parametrize("device", DEVICES)
def test_the_server_error_page_is_french_and_styled(request, device, settings, live_server):
    settings.ROOT_URLCONF = "tests.e2e.failing_urls"
    page = request.getfixturevalue(device)
    response = page.goto("/panne/")
    assert response.status == 500
    page.get_by_role("heading", name="Une erreur s'est produite de notre côté").wait_for()
    _check(page, "500", device)
    page.get_by_role("link", name="Retour à l’accueil").click()
    page.wait_for_url(f"{live_server.url}/")


@pytest.mark.parametrize("device", DEVICES)
def test_a_patient_who_opens_the_practice_space_learns_where_to_go(
    request, device, live_server, django_user_model
):
    page = request.getfixturevalue(device)
    patient = django_user_model.objects.create_user(email="jeanne@example.org")
    log_in(page, patient, live_server)
    assert page.goto("/pro/").status == 403
    page.get_by_role("heading", name="Un espace réservé aux professionnels de santé").wait_for()
    _check(page, "pro-as-patient", device)
    page.get_by_role("link", name="Mes rendez-vous").last.click()
    page.wait_for_url("**/rendez-vous/")


def test_a_form_sent_from_an_expired_page_explains_itself(page, live_server, world):
    page.goto("/")
    page.context.clear_cookies()  # the CSRF cookie is gone, as after a long pause
    page.evaluate(
        """() => {
            const form = document.createElement('form');
            form.method = 'post';
            form.action = '/reserver/';
            document.body.append(form);
            form.submit();
        }"""
    )
    page.get_by_role("heading", name="Cette page a expiré").wait_for()
    _check(page, "csrf", "page")


@pytest.mark.parametrize("device", DEVICES)
def test_the_terms_and_the_privacy_notice_are_linked_from_every_page(request, device):
    page = request.getfixturevalue(device)
    load_specialties()
    page.goto("/")
    page.get_by_role("contentinfo").get_by_role("link", name="Conditions d'utilisation").click()
    page.get_by_role(
        "heading", name="Conditions d'utilisation pour les professionnels de santé"
    ).wait_for()
    assert page.get_by_text("hébergeur de données de santé (HDS").count() == 1
    _check(page, "terms", device)
    page.get_by_role("contentinfo").get_by_role(
        "link", name="Confidentialité et données de santé"
    ).click()
    page.get_by_role(
        "heading", name="Confidentialité et données de santé : information des patients"
    ).wait_for()
    assert page.get_by_text("hébergeur certifié de données de santé (HDS").count() == 1
    _check(page, "privacy", device)
    page.goto("/en/confidentialite/")
    page.get_by_role("heading", name="Privacy and health data: notice for patients").wait_for()
