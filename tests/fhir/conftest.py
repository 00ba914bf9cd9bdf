"""Partners of the FHIR facade: a client of the practice world's organisation, one of another
organisation and the SAS platform, each with a real OAuth2 token from /oauth/token/."""

from types import SimpleNamespace

import pytest
from django.test import Client

from consulto.directory.models import Organisation
from consulto.fhir.access import SCOPES
from consulto.fhir.models import Partner
from consulto.fhir.partners import create_partner

FHIR = "application/fhir+json"


def token_for(partner_and_secret, scope: str | None = None) -> str:
    """An access token of this partner (client credentials), asking for ``scope`` if given."""
    partner, secret = partner_and_secret
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    answer = Client().post(
        "/oauth/token/",
        data,
        HTTP_AUTHORIZATION=_basic(partner.application.client_id, secret),
    )
    assert answer.status_code == 200, answer.content
    return answer.json()["access_token"]


def _basic(client_id: str, secret: str) -> str:
    import base64
    from urllib.parse import quote

    raw = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
    return "Basic " + base64.b64encode(raw).decode()


class FhirClient:
    """A test client that speaks FHIR with a bearer token (or none)."""

    def __init__(self, token: str | None = None):
        self.client = Client()
        self.headers = {"HTTP_ACCEPT": FHIR}
        if token:
            self.headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"

    def get(self, path: str, params=None, **extra):
        return self.client.get(path, params or {}, **{**self.headers, **extra})

    def post(self, path: str, body, **extra):
        import json

        return self.client.post(
            path, json.dumps(body), content_type=FHIR, **{**self.headers, **extra}
        )

    def patch(self, path: str, body, content_type="application/json-patch+json", **extra):
        import json

        return self.client.patch(
            path, json.dumps(body), content_type=content_type, **{**self.headers, **extra}
        )


@pytest.fixture
def partners(world):
    """``own``: the practice world's organisation's software (every scope); ``other``: another
    organisation's; ``sas``: the SAS platform (slots only); each with ``client`` and ``secret``."""
    other_org = Organisation.objects.create(name="Clinique du Parc", kind="hospital")
    p = SimpleNamespace()
    p.own = create_partner(
        name="Logiciel du cabinet", kind=Partner.Kind.ORGANISATION,
        organisation=world.organisation, scopes=list(SCOPES),
    )  # fmt: skip
    p.other = create_partner(
        name="SIH Clinique du Parc", kind=Partner.Kind.ORGANISATION,
        organisation=other_org, scopes=list(SCOPES),
    )  # fmt: skip
    p.sas = create_partner(
        name="Plateforme SAS", kind=Partner.Kind.SAS, scopes=["system/Slot.read"]
    )
    p.other_org = other_org
    return p
