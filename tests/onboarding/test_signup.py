"""Screens 1 and 2: the sign-up form, then the e-mail code and the authenticator together."""

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth.hashers import check_password
from django.utils import translation

from consulto.onboarding.models import Journey, SignupPageVisits, Step, StepRecord

from .conftest import GP_RPPS, PASSWORD, last_code, rpps, sign_up, totp_now

pytestmark = pytest.mark.django_db


def _join(client, **changes):
    data = {"email": "camille@cabinet.test", "password": PASSWORD, "rpps": GP_RPPS, "terms": "on"}
    data.update(changes)
    return client.post("/pro/rejoindre/", data)


def test_the_landing_page_offers_the_sign_up_and_counts_the_visit(client):
    response = client.get("/pro/rejoindre/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Créez votre compte professionnel" in page
    assert "Étape 1 sur 6" in page
    assert SignupPageVisits.objects.get().count == 1


def test_a_weak_password_is_refused_in_french_and_nothing_is_created(client, mailoutbox):
    response = _join(client, password="motdepasse")
    assert response.status_code == 200
    assert "mot de passe" in response.content.decode().lower()
    assert not Journey.objects.exists()
    assert mailoutbox == []


def test_an_rpps_number_must_have_eleven_digits(client, mailoutbox):
    response = _join(client, rpps="1234")
    assert "11 chiffres" in response.content.decode()
    assert not Journey.objects.exists()


def _wrong_check_digit(number: str) -> str:
    return number[:-1] + str((int(number[-1]) + 1) % 10)


def test_a_number_failing_its_check_digit_is_questioned_at_once(client, mailoutbox, db):
    """Said on the first screen (likely a typo), with a way on for a real number: not five
    screens later, at "Publish"."""
    mistyped = _wrong_check_digit(GP_RPPS)
    response = _join(client, rpps=mistyped)
    page = response.content.decode()
    assert response.status_code == 200
    assert "ne passe pas le contrôle" in page and "semble mal saisi" in page
    assert 'type="checkbox" name="rpps_confirmed"' in page
    assert "avant la publication de votre profil" in page
    assert not Journey.objects.exists() and mailoutbox == []

    response = _join(client, rpps=mistyped, rpps_confirmed="on")
    assert response["Location"] == "/pro/demarrage/securite/"
    journey = Journey.objects.get()
    assert journey.rpps == mistyped


def test_the_check_digit_box_is_not_offered_for_a_right_number(client):
    page = client.get("/pro/rejoindre/").content.decode()
    assert 'name="rpps_confirmed"' not in page
    page = _join(client, rpps="1234").content.decode()  # wrong length: another error
    assert 'type="checkbox" name="rpps_confirmed"' not in page


def test_a_confirmed_number_is_checked_by_support_before_publishing(client, mailoutbox, db):
    """The wrong check digit is said again on the identity screen, and publishing waits."""
    from consulto.directory.models import Practitioner

    from .conftest import identity_data

    mistyped = _wrong_check_digit(rpps(31))
    sign_up(client, mailoutbox, number=mistyped, rpps_confirmed="on")
    page = client.get("/pro/demarrage/identite/").content.decode()
    assert "ne passe pas le contrôle de la clé" in page
    client.post("/pro/demarrage/identite/", identity_data())
    practitioner = Practitioner.objects.get(rpps=mistyped)
    assert practitioner.rpps_status == Practitioner.RppsStatus.TO_VERIFY


def test_the_terms_of_use_are_a_link_where_consent_is_asked(client):
    page = client.get("/pro/rejoindre/").content.decode()
    assert '<a href="/conditions-d-utilisation/" target="_blank" rel="noopener">' in page
    english = client.get("/en/pro/rejoindre/").content.decode()
    assert '<a href="/en/conditions-d-utilisation/"' in english and "terms of use" in english


def test_a_valid_form_opens_a_journey_and_emails_a_code(client, mailoutbox, directory_gp):
    response = _join(client)
    assert response["Location"] == "/pro/demarrage/securite/"
    journey = Journey.objects.get()
    assert journey.in_directory and journey.user is None
    assert check_password(PASSWORD, journey.password_hash)  # a hash, never the password
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["camille@cabinet.test"]
    assert len(last_code(mailoutbox)) == 6
    assert StepRecord.objects.get(journey=journey, step=Step.ACCOUNT).finished_at is not None


def test_the_right_codes_create_a_verified_account_with_an_authenticator(
    client, mailoutbox, directory_gp
):
    journey = sign_up(client, mailoutbox)
    user = journey.user
    assert user.check_password(PASSWORD)
    assert EmailAddress.objects.get(user=user).verified
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).exists()
    assert journey.password_hash == "" and journey.step == Step.IDENTITY
    assert client.get("/pro/demarrage/identite/").status_code == 200  # logged in


def test_a_wrong_email_code_is_refused_and_five_tries_end_the_code(client, mailoutbox):
    _join(client)
    client.get("/pro/demarrage/securite/")
    secret = client.session["onboarding_totp_secret"]
    right = last_code(mailoutbox)
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    for _ in range(5):
        response = client.post(
            "/pro/demarrage/securite/", {"email_code": wrong, "totp_code": totp_now(secret)}
        )
        assert "pas le code" in response.content.decode()
    response = client.post(
        "/pro/demarrage/securite/", {"email_code": right, "totp_code": totp_now(secret)}
    )
    assert "a expiré" in response.content.decode()
    assert Journey.objects.get().user is None


def test_a_wrong_authenticator_code_creates_nothing(client, mailoutbox):
    _join(client)
    client.get("/pro/demarrage/securite/")
    secret = client.session["onboarding_totp_secret"]
    wrong = f"{(int(totp_now(secret)) + 500_000) % 10**6:06d}"
    response = client.post(
        "/pro/demarrage/securite/", {"email_code": last_code(mailoutbox), "totp_code": wrong}
    )
    assert "code de l'application" in response.content.decode().replace("&#x27;", "'")
    assert Journey.objects.get().user is None


def test_a_new_code_can_be_asked_for_after_thirty_seconds(client, mailoutbox):
    _join(client)
    client.post("/pro/demarrage/securite/", {"resend": "1"})
    assert len(mailoutbox) == 1  # too soon
    Journey.objects.update(code_sent_at=Journey.objects.get().code_sent_at.replace(year=2000))
    client.post("/pro/demarrage/securite/", {"resend": "1"})
    assert len(mailoutbox) == 2


def test_an_email_with_an_account_gets_a_warning_not_a_code(client, mailoutbox, user):
    _join(client, email=user.email)
    assert "déjà un compte" in mailoutbox[0].body
    client.get("/pro/demarrage/securite/")
    secret = client.session["onboarding_totp_secret"]
    response = client.post(
        "/pro/demarrage/securite/", {"email_code": "123456", "totp_code": totp_now(secret)}
    )
    assert response.status_code == 200
    assert Journey.objects.get().user is None


def test_an_rpps_with_a_profile_already_is_refused(client, mailoutbox, world):
    response = _join(client, rpps=world.gp.rpps)
    assert "déjà un profil" in response.content.decode()
    assert not Journey.objects.exists()


def test_errors_are_in_english_on_the_english_pages(client):
    with translation.override("en"):
        response = client.post(
            "/en/pro/rejoindre/",
            {"email": "x@y.test", "password": PASSWORD, "rpps": "12", "terms": "on"},
        )
    assert "exactly 11 digits" in response.content.decode()


def test_a_number_not_in_the_directory_is_taken_to_verify(client, mailoutbox, db):
    journey = sign_up(client, mailoutbox, number=rpps(7))
    assert not journey.in_directory
    page = client.get("/pro/demarrage/identite/").content.decode()
    assert "notre équipe vérifiera" in page.lower() or "vérifier" in page


def test_pending_password_hashes_are_wiped_after_a_day(client, mailoutbox):
    from datetime import timedelta

    from django.utils import timezone

    from consulto.onboarding.services import forget_pending

    _join(client)
    assert forget_pending() == 0
    assert forget_pending(now=timezone.now() + timedelta(days=2)) == 1
    assert Journey.objects.get().password_hash == ""
    # The next sign-up sweeps them too, with no scheduler needed.
    _join(client, email="late@cabinet.test")
    Journey.objects.filter(email="late@cabinet.test").update(
        created_at=timezone.now() - timedelta(days=2)
    )
    _join(client, email="next@cabinet.test")
    assert Journey.objects.get(email="late@cabinet.test").password_hash == ""
    assert Journey.objects.get(email="next@cabinet.test").password_hash != ""
