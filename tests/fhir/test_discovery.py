"""Discovery: a FHIR client finds how to get a token from the SMART configuration and from the
CapabilityStatement's oauth-uris, without reading our documentation."""

import pytest
from django.conf import settings
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from consulto.fhir.access import SCOPES

from .conftest import FhirClient, token_for

pytestmark = pytest.mark.django_db
SMART = "/fhir/r4/.well-known/smart-configuration"


def test_the_smart_configuration_is_open_and_names_the_client_credentials_flow():
    answer = FhirClient().get(SMART, HTTP_ACCEPT="application/json")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("application/json")
    config = answer.json()
    assert config["token_endpoint"] == f"{settings.CONSULTO_SITE_URL}/oauth/token/"
    assert config["token_endpoint"].startswith(("http://", "https://"))
    assert config["grant_types_supported"] == ["client_credentials"]
    assert config["token_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
    ]
    assert config["scopes_supported"] == list(SCOPES)
    assert config["capabilities"] == ["client-confidential-symmetric"]
    assert config["revocation_endpoint"] == f"{settings.CONSULTO_SITE_URL}/oauth/revoke/"
    assert "authorization_endpoint" not in config  # no user ever authorises an app here


def test_the_token_endpoint_it_names_really_issues_tokens(partners):
    from urllib.parse import urlsplit

    path = urlsplit(FhirClient().get(SMART).json()["token_endpoint"]).path
    assert path == "/oauth/token/"
    assert token_for(partners.own)


def test_the_capability_statement_points_to_the_same_endpoints():
    statement = CapabilityStatement.model_validate(FhirClient().get("/fhir/r4/metadata").json())
    security = statement.rest[0].security
    codes = {coding.code for service in security.service for coding in service.coding}
    assert {"OAuth", "SMART-on-FHIR"} <= codes
    (uris,) = [
        e
        for e in security.extension
        if e.url == "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
    ]
    found = {e.url: e.valueUri for e in uris.extension}
    config = FhirClient().get(SMART).json()
    assert found["token"] == config["token_endpoint"]
    assert found["revoke"] == config["revocation_endpoint"]
    assert found["manage"] == config["management_endpoint"]


def test_a_bad_token_or_another_method_is_an_operation_outcome():
    assert FhirClient("not-a-token").get(SMART).status_code == 401
    answer = FhirClient().post(SMART, {})
    assert answer.status_code == 405
    assert answer.json()["resourceType"] == "OperationOutcome"
    assert FhirClient().get(SMART, {"_format": "xml"}).status_code == 406


def test_the_addresses_do_not_follow_the_callers_language():
    english = FhirClient().get(SMART, HTTP_ACCEPT_LANGUAGE="en").json()
    assert english["management_endpoint"] == f"{settings.CONSULTO_SITE_URL}/pro/integrations/"
