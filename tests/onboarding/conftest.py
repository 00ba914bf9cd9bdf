"""Onboarding fixtures: a directory entry for a GP, and a signed-up practitioner at each screen."""

import re
import time
from types import SimpleNamespace

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

from consulto.directory.models import DirectoryRecord
from consulto.directory.rpps import luhn_check_digit
from consulto.directory.services import load_specialties
from consulto.onboarding.models import Journey

PASSWORD = "Tr3s-bon-mot-de-passe!"


def rpps(n: int) -> str:
    first_ten = f"199{n:07d}"
    return first_ten + luhn_check_digit(first_ten)


GP_RPPS = rpps(4242)


def totp_now(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def last_code(mailoutbox) -> str:
    return re.search(r"\b(\d{6})\b", mailoutbox[-1].body).group(1)


@pytest.fixture(autouse=True)
def _commit_per_request(monkeypatch, django_capture_on_commit_callbacks):
    """Run each request's on-commit callbacks when the request ends, as a real commit would (the
    test's own transaction never commits), then send what the request wrote to the outbox (the
    e-mailed codes), as the task worker does."""
    from django.test import Client

    from consulto.notifications import services as notifications

    request = Client.request

    def request_then_commit(self, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            response = request(self, **kwargs)
        notifications.deliver_due()
        return response

    monkeypatch.setattr(Client, "request", request_then_commit)


@pytest.fixture
def directory_gp(db):
    load_specialties()
    return DirectoryRecord.objects.create(
        rpps=GP_RPPS,
        structure_id="S1",
        civility="Docteur",
        first_name="CAMILLE",
        last_name="ROUSSEAU",
        profession_code="10",
        profession_label="Médecin",
        skill_code="SM54",
        skill_label="Médecine générale",
        specialty_code="medecin-generaliste",
        mode="Libéral",
        site_name="CABINET MEDICAL DES TILLEULS",
        address="8 Rue des Tilleuls",
        postcode="75011",
        city="PARIS",
        phone="0143000000",
    )


def sign_up(client, mailoutbox, *, email="camille@cabinet.test", number=GP_RPPS, **extra):
    """The first two screens, done right: returns the journey, logged in."""
    response = client.post(
        "/pro/rejoindre/",
        {"email": email, "password": PASSWORD, "rpps": number, "terms": "on", **extra},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    client.get("/pro/demarrage/securite/")
    secret = client.session["onboarding_totp_secret"]
    response = client.post(
        "/pro/demarrage/securite/",
        {"email_code": last_code(mailoutbox), "totp_code": totp_now(secret)},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == "/pro/demarrage/identite/"
    journey = Journey.objects.get(email=email)
    journey.totp_secret = secret
    return journey


IDENTITY = {
    "title": "Dr",
    "first_name": "Camille",
    "last_name": "Rousseau",
    "convention_sector": "1",
    "practice_name": "Cabinet médical des Tilleuls",
    "address": "8 rue des Tilleuls",
    "postcode": "75011",
    "city": "Paris",
    "phone": "01 43 00 00 00",
}


def identity_data(**changes):
    from consulto.directory.models import Specialty

    data = dict(IDENTITY, specialty=Specialty.objects.get(code="medecin-generaliste").pk)
    data.update(changes)
    return data


def schedule_data(*, template="standard", motives=None, days=None):
    """The schedule form as the browser posts it: Mon–Fri 9–12 and 14–18 by default."""
    data = {"template": template}
    days = days if days is not None else {d: ("09:00", "12:00", "14:00", "18:00") for d in range(5)}
    for day in range(7):
        values = days.get(day, ("", "", "", ""))
        for key, value in zip(("s1", "e1", "s2", "e2"), values, strict=True):
            data[f"d{day}-{key}"] = value
    motives = (
        motives
        if motives is not None
        else [
            ("Consultation", 15, "in_person", True),
            ("Téléconsultation", 15, "video", False),
        ]
    )
    data["motive_count"] = str(len(motives))
    for i, (label, minutes, mode, new) in enumerate(motives):
        data[f"m{i}-offered"] = "on"
        data[f"m{i}-label"] = label
        data[f"m{i}-duration"] = str(minutes)
        data[f"m{i}-mode"] = mode
        if new:
            data[f"m{i}-new"] = "on"
        data[f"m{i}-colour"] = "#2e6fd8"
    return data


@pytest.fixture
def onboarded(client, mailoutbox, directory_gp):
    """A GP who went through the first five screens: ready to publish."""
    journey = sign_up(client, mailoutbox)
    assert client.post("/pro/demarrage/identite/", identity_data()).status_code == 302
    assert client.post("/pro/demarrage/horaires/", schedule_data()).status_code == 302
    response = client.post(
        "/pro/demarrage/video/",
        {"enabled": "on", "camera": "true", "microphone": "true", "rtt_ms": "12"},
    )
    assert response.status_code == 302
    journey.refresh_from_db()
    return SimpleNamespace(journey=journey, client=client)
