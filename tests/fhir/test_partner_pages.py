"""/pro/integrations/: an organisation admin manages its API clients (the FHIR facade's
partners); nobody else sees them. A new client's secret is shown once; revoking it kills its
tokens; each client's calls are listed, never the values it searched for."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.test import Client
from oauth2_provider.models import Application

from consulto.core.models import AuditEvent
from consulto.directory.models import Membership
from consulto.fhir.access import SCOPES
from consulto.fhir.models import ApiCall, Partner
from consulto.fhir.partners import create_partner
from tests.practice.conftest import with_totp

from .conftest import FhirClient, token_for

pytestmark = pytest.mark.django_db
Role = Membership.Role
HOME = "/pro/integrations/"


@pytest.fixture
def staff(world, partners, django_user_model):
    """Staff of the practice world's organisation (``admin``, ``secretary``, ``practitioner``),
    ``outsider`` the admin of the other organisation, ``patient`` no staff role at all."""
    make = django_user_model.objects.create_user
    people = {}
    for name, organisation, role in (
        ("admin", world.organisation, Role.ADMIN),
        ("secretary", world.organisation, Role.SECRETARY),
        ("practitioner", world.organisation, Role.PRACTITIONER),
        ("outsider", partners.other_org, Role.ADMIN),
    ):
        user = make(email=f"{name}@staff.test", password="x" * 12, first_name=name.title())
        Membership.objects.create(user=user, organisation=organisation, role=role)
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        with_totp(user)
        people[name] = user
    people["patient"] = make(email="patient@example.org", password="x" * 12)
    return people


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def pages_of(partner) -> list[str]:
    base = f"{HOME}clients/{partner.pk}/"
    return [base, f"{base}revoquer/", f"{base}appels/"]


def test_only_the_organisation_admin_opens_the_pages_of_its_clients(staff, partners):
    own, other = partners.own[0], partners.other[0]
    admin = logged_in(staff["admin"])
    assert admin.get(HOME).status_code == 200
    assert admin.get(f"{HOME}clients/nouveau/").status_code == 200
    for url in pages_of(own):
        assert admin.get(url).status_code == 200, url
    for url in pages_of(other):  # another organisation's client: not even its existence
        assert admin.get(url).status_code == 404, url
    for url in pages_of(partners.sas[0]):  # the SAS platform's: an operator's business
        assert admin.get(url).status_code == 404, url

    for name in ("secretary", "practitioner"):
        member = logged_in(staff[name])
        for url in [HOME, f"{HOME}clients/nouveau/", *pages_of(own)]:
            assert member.get(url).status_code == 403, (name, url)
        assert member.post(pages_of(own)[1]).status_code == 403
    assert partners.own[0].__class__.objects.get(pk=own.pk).is_active

    outsider = logged_in(staff["outsider"])
    page = outsider.get(HOME)
    assert page.status_code == 200
    assert "SIH Clinique du Parc" in page.content.decode()
    assert "Logiciel du cabinet" not in page.content.decode()
    for url in pages_of(own):
        assert outsider.get(url).status_code == 404, url
    assert outsider.post(pages_of(own)[1]).status_code == 404

    assert logged_in(staff["patient"]).get(HOME).status_code == 403
    anonymous = Client().get(HOME)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_the_home_lists_the_clients_and_links_the_staff_nav(staff, partners):
    page = logged_in(staff["admin"]).get(HOME).content.decode()
    assert "Logiciel du cabinet" in page
    assert partners.own[0].application.client_id in page
    assert 'href="/pro/integrations/"' in page  # in the practice navigation
    secretary_page = logged_in(staff["secretary"]).get("/pro/")
    assert secretary_page.status_code == 200
    assert 'class="practice-nav"' in secretary_page.content.decode()
    assert 'href="/pro/integrations/"' not in secretary_page.content.decode()


def _create(client, organisation, **fields):
    data = {
        "org": organisation.pk,
        "name": "SIH du cabinet",
        "scopes": ["system/Slot.read", "system/Appointment.read"],
        "rate_per_minute": "120",
        **fields,
    }
    return client.post(f"{HOME}clients/nouveau/", data)


def test_a_new_client_shows_its_secret_once_and_keeps_only_its_hash(staff, world):
    admin = logged_in(staff["admin"])
    created = _create(admin, world.organisation)
    assert created.status_code == 302
    partner = Partner.objects.get(name="SIH du cabinet")
    assert partner.organisation == world.organisation
    assert partner.scope_set == {"system/Slot.read", "system/Appointment.read"}
    assert partner.rate_per_minute == 120 and partner.created_by == staff["admin"]
    assert created["Location"] == f"{HOME}clients/{partner.pk}/"

    page = admin.get(created["Location"])
    assert page["Cache-Control"] == "private, no-store"
    secret = re.search(r'id="client-secret" type="text" value="([^"]+)"', page.content.decode())[1]
    assert "grant_type=client_credentials" in page.content.decode()
    assert f"{settings.CONSULTO_SITE_URL}/oauth/token/" in page.content.decode()

    again = admin.get(created["Location"]).content.decode()
    assert secret not in again and 'id="client-secret"' not in again
    application = Application.objects.get(pk=partner.application_id)
    assert application.client_secret != secret
    assert check_password(secret, application.client_secret)

    token = token_for((partner, secret))
    assert FhirClient(token).get("/fhir/r4/metadata").status_code == 200
    assert AuditEvent.objects.filter(
        target_type="api_client", target_id=str(partner.pk), action="create"
    ).exists()


def test_hostile_inputs_are_form_errors_in_french(staff, world):
    admin = logged_in(staff["admin"])
    cases = [
        ({"name": "SIH\x00"}, "nul"),
        ({"name": "x" * 10_000}, "Assurez-vous"),
        ({"name": "   "}, "obligatoire"),
        ({"rate_per_minute": str(10**30)}, "6000"),
        ({"rate_per_minute": "0"}, "Assurez-vous"),
        ({"rate_per_minute": "9" * 5000}, "nombre entier"),
        ({"rate_per_minute": "-1e9"}, "nombre entier"),
        ({"scopes": ["system/*.*"]}, "Sélectionnez un choix valide"),
        ({"scopes": []}, 'class="error"'),
        ({"org": str(10**30)}, 'class="error"'),
    ]
    for fields, expected in cases:
        answer = _create(admin, world.organisation, **fields)
        assert answer.status_code == 200, fields
        body = answer.content.decode()
        assert expected in body, (fields, body[body.find("error") - 200 : body.find("error") + 300])
        assert 'aria-invalid="true"' in body or 'class="error"' in body
    assert not Partner.objects.filter(created_by=staff["admin"]).exists()


def test_an_admin_cannot_create_a_client_for_another_organisation(staff, partners):
    answer = _create(logged_in(staff["admin"]), partners.other_org)
    assert answer.status_code == 404
    assert not Partner.objects.filter(name="SIH du cabinet").exists()


def test_revoking_a_client_asks_first_then_kills_its_tokens_at_once(staff, partners):
    partner = partners.own[0]
    token = token_for(partners.own)
    assert FhirClient(token).get("/fhir/r4/metadata").status_code == 200
    admin = logged_in(staff["admin"])
    confirm = admin.get(f"{HOME}clients/{partner.pk}/revoquer/")
    assert confirm.status_code == 200 and 'method="post"' in confirm.content.decode()
    partner.refresh_from_db()
    assert partner.is_active  # asking is not doing

    done = admin.post(f"{HOME}clients/{partner.pk}/revoquer/")
    assert done.status_code == 302
    partner.refresh_from_db()
    assert not partner.is_active
    answer = FhirClient(token).get("/fhir/r4/metadata")
    assert answer.status_code == 401
    assert answer.json()["resourceType"] == "OperationOutcome"
    from .conftest import _basic

    refused = Client().post(
        "/oauth/token/",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=_basic(partner.application.client_id, partners.own[1]),
    )
    assert refused.status_code == 401  # no new token either
    assert admin.post(f"{HOME}clients/{partner.pk}/revoquer/").status_code == 302  # idempotent
    assert AuditEvent.objects.filter(target_type="api_client", action="delete").count() == 1


def test_a_client_past_its_rate_is_told_to_wait(world):
    limited = create_partner(
        name="Pressé", kind=Partner.Kind.ORGANISATION, organisation=world.organisation,
        scopes=list(SCOPES), rate_per_minute=2,
    )  # fmt: skip
    client = FhirClient(token_for(limited))
    assert [client.get("/fhir/r4/metadata").status_code for _ in range(2)] == [200, 200]
    answer = client.get("/fhir/r4/metadata")
    assert answer.status_code == 429
    assert 1 <= int(answer["Retry-After"]) <= 60
    assert answer.json()["issue"][0]["code"] == "throttled"


def test_a_token_is_refused_once_its_hour_is_over(partners, clock):
    from datetime import timedelta

    from django.utils import timezone

    token = token_for(partners.own)
    client = FhirClient(token)
    assert client.get("/fhir/r4/metadata").status_code == 200
    clock.move_to(timezone.now() + timedelta(seconds=3601))
    answer = client.get("/fhir/r4/metadata")
    assert answer.status_code == 401
    assert "invalid_token" in answer["WWW-Authenticate"]


def test_the_call_log_lists_calls_but_never_what_was_searched(staff, partners):
    from django.utils import timezone

    partner = partners.own[0]
    client = FhirClient(token_for(partners.own))
    client.get("/fhir/r4/metadata", {"identifier": "secret-nir-1234567890", "_format": "json"})
    ApiCall.objects.create(
        at=timezone.now(), partner=partner, method="GET", path="/fhir/r4/Slot/nowhere",
        status=404, duration_ms=2,
    )  # fmt: skip
    admin = logged_in(staff["admin"])
    page = admin.get(f"{HOME}clients/{partner.pk}/appels/").content.decode()
    assert "<caption" in page and "/fhir/r4/metadata" in page
    assert "_format,identifier" in page
    assert "secret-nir" not in page
    assert ">404<" in page and ">200<" in page

    errors = admin.get(f"{HOME}clients/{partner.pk}/appels/", {"status": "4"}).content.decode()
    assert ">404<" in errors and ">200<" not in errors
    for hostile in ({"status": "\x00"}, {"status": "9" * 50}, {"page": "9" * 5000}, {"page": "-1"}):
        assert admin.get(f"{HOME}clients/{partner.pk}/appels/", hostile).status_code in (200, 400)
    other_page = admin.get(f"{HOME}clients/{partners.other[0].pk}/appels/")
    assert other_page.status_code == 404


def test_the_call_log_is_paginated(staff, partners):
    from django.utils import timezone

    partner = partners.own[0]
    ApiCall.objects.bulk_create(
        ApiCall(at=timezone.now(), partner=partner, method="GET", path=f"/fhir/r4/Slot/{n}",
                status=200, duration_ms=3)
        for n in range(120)
    )  # fmt: skip
    admin = logged_in(staff["admin"])
    first = admin.get(f"{HOME}clients/{partner.pk}/appels/").content.decode()
    assert first.count("<tr>") == 51  # the header and 50 calls
    last = admin.get(f"{HOME}clients/{partner.pk}/appels/", {"page": "3"}).content.decode()
    assert last.count("<tr>") == 21
