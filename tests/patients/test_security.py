"""What protects patients: no third party in pages, CSRF, rate limits, strong passwords."""

import pytest
from django.core.cache import cache
from django.test import Client

from consulto.core.passwords import CnilPasswordValidator
from tests.conftest import at

pytestmark = pytest.mark.django_db


def test_pages_allow_only_our_own_origin(client, world):
    policy = client.get("/")["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "http" not in policy.replace("'self'", "")


def test_choosing_a_slot_without_the_csrf_token_is_refused(world):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        "/reserver/",
        {
            "agenda": world.agenda.pk,
            "motive": world.first.pk,
            "start": at(world.monday, 9).isoformat(),
        },
    )
    assert response.status_code == 403


def test_holding_slot_after_slot_is_rate_limited(client, world):
    cache.clear()
    statuses = []
    for i in range(32):
        hour, minute = 9 + (i // 2) % 3, 30 * (i % 2)
        statuses.append(
            client.post(
                "/reserver/",
                {
                    "agenda": world.agenda.pk,
                    "motive": world.first.pk,
                    "start": at(world.monday, hour, minute).isoformat(),
                },
            ).status_code
        )
    assert statuses[0] == 302
    assert statuses[-1] == 429


def test_logging_in_is_rate_limited_after_failures(client, user):
    cache.clear()
    for _ in range(5):
        client.post("/accounts/login/", {"login": user.email, "password": "wrong-password-1!"})
    response = client.post("/accounts/login/", {"login": user.email, "password": "x" * 12})
    assert response.status_code == 429 or "trop" in response.content.decode().lower()


@pytest.mark.parametrize(
    ("password", "strong"),
    [
        ("Abcdef1!ghij", True),  # 12 characters of all four kinds
        ("Abcdefgh1jklmn", True),  # 14 without symbols
        ("Abcdefghijklmnop", True),  # 16 letters
        ("abcdefghijkl", False),  # 12 lower-case letters only
        ("Abcdefghij1k", False),  # 12 without symbols
    ],
)
def test_passwords_follow_the_cnil_recommendation(password, strong):
    validator = CnilPasswordValidator()
    if strong:
        validator.validate(password)
    else:
        with pytest.raises(Exception, match="12"):
            validator.validate(password)


def test_signing_up_with_a_weak_password_says_why_in_french(client):
    response = client.post(
        "/accounts/signup/",
        {"email": "new@example.org", "password1": "Abcdefghij1k", "password2": "Abcdefghij1k"},
    )
    assert "au moins 12 caractères" in response.content.decode()
