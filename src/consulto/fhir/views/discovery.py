"""``GET /fhir/r4/.well-known/smart-configuration``: how a client gets a token, read by
machines (SMART App Launch 2, "Conformance"), the way FHIR clients discover a server's OAuth2.

Partners are confidential clients with a shared secret (``client-confidential-symmetric``) on the
client credentials grant only; no user ever authorises an app here, so there is no authorization
endpoint and no launch capability.
"""

from django.conf import settings
from django.http import JsonResponse
from django.urls import reverse
from django.utils import translation

from consulto.fhir.access import SCOPES, endpoint


def oauth_urls() -> dict[str, str]:
    """The absolute addresses of our OAuth2 endpoints and of the page where an organisation
    manages its clients (the CapabilityStatement's oauth-uris name them too)."""
    site = settings.CONSULTO_SITE_URL
    # The same addresses whatever language the caller's headers ask for (the page is prefixed).
    with translation.override(settings.LANGUAGE_CODE):
        return {
            "token": site + reverse("oauth_token"),
            "revoke": site + reverse("oauth_revoke"),
            "manage": site + reverse("integrations"),
        }


@endpoint(anonymous=True)
def smart_configuration(request):
    urls = oauth_urls()
    body = {
        "token_endpoint": urls["token"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "grant_types_supported": ["client_credentials"],
        "scopes_supported": list(SCOPES),
        "capabilities": ["client-confidential-symmetric"],
        # Required by SMART 2; S256 is the only PKCE method our OAuth2 server accepts should a
        # client other than client credentials ever be registered (settings.OAUTH2_PROVIDER).
        "code_challenge_methods_supported": ["S256"],
        "revocation_endpoint": urls["revoke"],
        "management_endpoint": urls["manage"],
    }
    response = JsonResponse(body)
    response["Cache-Control"] = "public, max-age=3600"
    return response
