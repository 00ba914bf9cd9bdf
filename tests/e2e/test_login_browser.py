"""Logging in happens in Consulto's own layout, in French, on a phone too."""

import pytest
from allauth.account.models import EmailAddress

from .conftest import assert_accessible, assert_fits_width, shoot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def verified(django_user_model):
    user = django_user_model.objects.create_user(
        email="claire@example.org", password="un-mot-de-passe-solide"
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def test_a_patient_logs_in_from_the_header_on_a_phone(phone, verified):
    phone.goto("/")
    phone.get_by_role("link", name="Se connecter").click()
    phone.wait_for_url("**/accounts/login/**")
    assert_fits_width(phone)
    assert_accessible(phone)
    shoot(phone, "login-phone")
    phone.get_by_label("Courriel").fill("claire@example.org")
    phone.get_by_label("Mot de passe").fill("un-mot-de-passe-solide")
    phone.get_by_role("button", name="Connexion").click()
    phone.get_by_text("claire@example.org", exact=True).wait_for()
    assert phone.get_by_role("button", name="Se déconnecter").is_visible()


def test_a_wrong_password_says_so_next_to_the_form(page, verified):
    page.goto("/accounts/login/")
    page.get_by_label("Courriel").fill("claire@example.org")
    page.get_by_label("Mot de passe").fill("pas-le-bon-mot-de-passe")
    page.get_by_role("button", name="Connexion").click()
    assert page.get_by_text("L’adresse e-mail ou le mot de passe sont incorrects").is_visible()
    shoot(page, "login-error-desktop")
    assert_accessible(page)
