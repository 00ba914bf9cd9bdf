"""Account e-mails (allauth's codes and password resets, onboarding's codes) go through the
outbox like every other message: a request succeeds while the SMTP server is down, the worker
delivers when it is back; they name the platform and link to CONSULTO_SITE_URL, in French by
default; the codes and links they carry are not kept in clear."""

import re
import socket
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone

from consulto.core import crypto
from consulto.notifications.models import Message
from tests.onboarding.conftest import GP_RPPS, PASSWORD, directory_gp  # noqa: F401 (fixture)

from .conftest import free_port

pytestmark = pytest.mark.django_db
SITE = "https://rendez-vous.example.org"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.CONSULTO_SITE_URL = SITE


def _nothing_listens(settings):
    port = free_port()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    settings.EMAIL_PORT = port


def _plain(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_signing_up_with_the_smtp_server_down_works_and_the_code_follows(
    client, settings, smtp, run_tasks, django_capture_on_commit_callbacks
):
    server_port = settings.EMAIL_PORT
    _nothing_listens(settings)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/accounts/signup/",
            {"email": "lea@example.org", "password1": PASSWORD, "password2": PASSWORD},
            follow=True,
        )
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("Un code est en route vers") == 1 and "lea@example.org" in page
    message = Message.objects.get(recipient="lea@example.org")
    assert message.purpose == Message.Purpose.ACCOUNT and message.language == "fr"

    now = timezone.now()
    assert run_tasks(now) == [("deliver", "pending")]  # refused by the server: tried again later
    assert smtp.messages == []
    settings.EMAIL_PORT = server_port
    assert run_tasks(now + timedelta(minutes=2)) == [("deliver", "sent")]
    [mail] = smtp.messages
    code = re.search(r"^\s*([A-Z0-9]{3,}(?:-[A-Z0-9]{3,})*)\s*$", _plain(mail), re.M).group(1)
    assert Message.objects.get(pk=message.pk).body == ""  # the code is not kept once sent

    response = client.post("/accounts/confirm-email/", {"code": code})
    assert response.status_code == 302
    assert EmailAddress.objects.get(email="lea@example.org").verified


def test_a_waiting_account_email_keeps_its_code_encrypted(client, smtp_down):
    client.post(
        "/accounts/signup/",
        {"email": "lea@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )
    message = Message.objects.get(recipient="lea@example.org")
    assert message.status == Message.Status.PENDING
    assert "Bonjour" not in message.body
    assert crypto.decrypt_text(message.body).startswith("Bonjour,")


def test_account_emails_name_the_platform_and_link_to_its_address(
    client, user, smtp, run_tasks, django_capture_on_commit_callbacks
):
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password/reset/", {"email": user.email})
    run_tasks()
    [mail] = smtp.messages
    text = _plain(mail)
    assert str(mail["Subject"]).strip().startswith("[Consulto] ")
    assert text.startswith("Bonjour,")
    assert "L’équipe Consulto" in text and f"{SITE}/" in text
    assert re.search(rf"{re.escape(SITE)}/accounts/password/reset/key/\S+/", text)
    assert "testserver" not in text and "127.0.0.1" not in text


def test_account_emails_speak_the_language_of_the_page(
    client, user, smtp, run_tasks, django_capture_on_commit_callbacks
):
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/en/accounts/password/reset/", {"email": user.email})
    run_tasks()
    text = _plain(smtp.messages[0])
    assert text.startswith("Hello,") and "The Consulto team" in text
    assert f"{SITE}/en/accounts/password/reset/key/" in text


def test_a_practitioner_signs_up_while_the_smtp_server_is_down(
    client,
    settings,
    smtp,
    run_tasks,
    directory_gp,  # noqa: F811 (the fixture imported above)
    django_capture_on_commit_callbacks,
):
    server_port = settings.EMAIL_PORT
    _nothing_listens(settings)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/pro/rejoindre/",
            {"email": "camille@cabinet.test", "password": PASSWORD, "rpps": GP_RPPS, "terms": "on"},
        )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "est en route vers <strong>camille@cabinet.test</strong>" in page
    now = timezone.now()
    assert run_tasks(now) == [("deliver", "pending")]
    settings.EMAIL_PORT = server_port
    assert run_tasks(now + timedelta(minutes=2)) == [("deliver", "sent")]
    [mail] = smtp.messages
    assert re.search(r"\b\d{6}\b", _plain(mail))
    assert not re.search(r"\d{6}", mail["Subject"])  # the outbox keeps subjects in clear
