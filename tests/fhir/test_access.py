"""The facade's door: the CapabilityStatement for anyone, OAuth2 client credentials for the
rest, scopes, rates and a record of every call."""

import pytest
from django.test import Client
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome

from consulto.fhir.models import ApiCall
from consulto.fhir.partners import revoke_partner

from .conftest import FhirClient, token_for

pytestmark = pytest.mark.django_db


def test_the_capability_statement_is_open_to_anyone_and_valid():
    answer = FhirClient().get("/fhir/r4/metadata")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("application/fhir+json")
    statement = CapabilityStatement.model_validate(answer.json())
    assert statement.fhirVersion == "4.0.1"


def test_without_a_token_the_answer_is_401_with_an_operation_outcome(world):
    answer = FhirClient().get("/fhir/r4/metadata-nothing")
    assert answer.status_code == 404
    answer = FhirClient("not-a-token").get("/fhir/r4/metadata")
    assert answer.status_code == 401
    assert "Bearer" in answer["WWW-Authenticate"]
    OperationOutcome.model_validate(answer.json())


def test_a_partner_gets_only_the_scopes_it_was_granted(partners):
    from django.test import Client
    from oauth2_provider.models import AccessToken

    from .conftest import _basic

    partner, secret = partners.sas
    asked = Client().post(
        "/oauth/token/",
        {"grant_type": "client_credentials", "scope": "system/Slot.read system/Appointment.write"},
        HTTP_AUTHORIZATION=_basic(partner.application.client_id, secret),
    )
    assert asked.status_code == 400 and asked.json()["error"] == "invalid_scope"
    token_for(partners.sas)  # without asking: what it was granted
    assert AccessToken.objects.get(application=partner.application).scope == "system/Slot.read"
    wrong = Client().post(
        "/oauth/token/",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=_basic(partner.application.client_id, "not the secret"),
    )
    assert wrong.status_code == 401


def test_a_revoked_partner_is_refused_at_once(partners):
    token = token_for(partners.own)
    assert FhirClient(token).get("/fhir/r4/metadata").status_code == 200
    revoke_partner(partners.own[0])
    answer = FhirClient(token).get("/fhir/r4/metadata")
    assert answer.status_code == 401


def test_every_call_of_a_partner_is_recorded_without_parameter_values(partners):
    token = token_for(partners.own)
    FhirClient(token).get("/fhir/r4/metadata", {"_format": "json", "mode": "full"})
    call = ApiCall.objects.get()
    assert call.partner == partners.own[0]
    assert call.status == 200
    assert call.parameters == "_format,mode"


def test_xml_is_refused_with_406():
    answer = FhirClient().get("/fhir/r4/metadata", {"_format": "xml"})
    assert answer.status_code == 406
    OperationOutcome.model_validate(answer.json())


def test_a_nul_byte_is_an_operation_outcome():
    answer = FhirClient().get("/fhir/r4/metadata", {"x": "a\x00b"})
    assert answer.status_code == 400
    assert answer.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize(
    "body",
    [
        b'{"resourceType": "Parameters", "parameter": [{"name": "x", "valueString": "a\\u0000b"}]}',
        b'{"resourceType": "Parameters", "id": ' + b"9" * 5000 + b"}",
        b'{"resource\\u0000Type": "Parameters"}',
    ],
    ids=["escaped NUL in a value", "5000-digit integer", "escaped NUL in a key"],
)
def test_a_body_the_parser_refuses_is_a_400_outcome(partners, body):
    answer = Client().post(
        "/fhir/r4/Appointment/$hold",
        body,
        content_type="application/fhir+json",
        HTTP_AUTHORIZATION=f"Bearer {token_for(partners.own)}",
    )
    assert answer.status_code == 400
    assert answer.json()["resourceType"] == "OperationOutcome"
