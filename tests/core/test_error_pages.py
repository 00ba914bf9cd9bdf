"""Error pages speak the visitor's language (French first, English under /en/), look like the
site, offer a way back, and the 500 page renders with the database down."""

from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client

from tests.practice.conftest import as_user, practice  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

STYLESHEET = "/static/core/consulto.css"


def test_a_missing_page_is_french_styled_and_leads_back(client):
    response = client.get("/cette-page-n-existe-pas/")
    page = response.content.decode()
    assert response.status_code == 404
    assert '<html lang="fr">' in page and STYLESHEET in page
    assert "<h1>Page introuvable</h1>" in page
    assert 'href="/">Chercher un praticien' in page


def test_a_missing_page_under_en_is_english(client):
    page = client.get("/en/no-such-page/").content.decode()
    assert '<html lang="en">' in page and "<h1>Page not found</h1>" in page
    assert 'href="/en/"' in page


def test_a_missing_page_offers_staff_their_space(practice, as_user):  # noqa: F811
    page = as_user(practice.secretary).get("/pro/nulle-part/").content.decode()
    assert "Retour à l&#x27;espace praticien" in page or "Retour à l'espace praticien" in page


def test_a_refused_page_says_so_in_french_with_a_way_back(practice, as_user):  # noqa: F811
    response = as_user(practice.secretary).get("/pro/journal/")  # admins only
    page = response.content.decode()
    assert response.status_code == 403
    assert "<h1>Accès refusé</h1>" in page and STYLESHEET in page
    assert "administrateur de votre structure" in page
    assert 'href="/pro/"' in page


def test_a_patient_who_opens_the_practice_space_is_told_what_it_is_for(
    practice,  # noqa: F811
    as_user,  # noqa: F811
):
    response = as_user(practice.patient_user).get("/pro/")
    page = response.content.decode()
    assert response.status_code == 403
    assert "professionnels de santé et leurs équipes" in page
    assert practice.patient_user.email in page
    for way in ('href="/rendez-vous/"', 'href="/"', 'href="/pro/rejoindre/"'):
        assert way in page
    english = as_user(practice.patient_user).get("/en/pro/patients/").content.decode()
    assert "A space for health professionals" in english and 'href="/en/rendez-vous/"' in english


def test_a_visitor_who_opens_the_practice_space_is_told_at_the_login(client):
    response = client.get("/pro/", follow=True)
    page = response.content.decode()
    assert response.redirect_chain[-1][0].startswith("/accounts/login/?next=/pro/")
    assert "réservé aux professionnels de santé et à leurs équipes" in page


def test_a_form_without_its_csrf_token_gets_a_french_explanation(world):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/reserver/", {"agenda": world.agenda.pk})
    page = response.content.decode()
    assert response.status_code == 403
    assert "<h1>Cette page a expiré</h1>" in page and STYLESHEET in page
    assert "Rien n&#x27;a été enregistré" in page or "Rien n'a été enregistré" in page
    english = strict.post("/en/reserver/", {"agenda": world.agenda.pk}).content.decode()
    assert "<h1>This page has expired</h1>" in english


def test_a_request_that_cannot_be_read_gets_a_french_page(client):
    response = client.get("/", HTTP_HOST="not-our-host.example")
    page = response.content.decode()
    assert response.status_code == 400
    assert "<h1>Demande non valide</h1>" in page and STYLESHEET in page
    assert "Retour à l’accueil" in page


@pytest.mark.parametrize(
    ("path", "title"),
    [("/", "produite de notre côté"), ("/en/", "Something went wrong on our side")],
)
def test_the_server_error_page_renders_with_the_database_down(user, path, title):
    """Every query fails: the page that says so must need none (no user, no session)."""
    client = Client(raise_request_exception=False)
    client.force_login(user)  # a session to load: the first query of the request
    down = OperationalError("could not connect to server: Connection refused")
    with mock.patch("django.db.backends.base.base.BaseDatabaseWrapper.cursor", side_effect=down):
        response = client.get(path)
    page = response.content.decode()
    assert response.status_code == 500
    assert title in page and STYLESHEET in page
    assert 'href="/' in page  # the way back home
    assert user.email not in page  # nothing of the request's context was used
