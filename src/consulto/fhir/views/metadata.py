"""``GET /fhir/r4/metadata``: the CapabilityStatement, built from what the facade serves."""

from django.conf import settings
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from consulto.fhir import capabilities
from consulto.fhir.access import endpoint
from consulto.fhir.http import respond
from consulto.fhir.refs import FHIR_VERSION, base_url
from consulto.fhir.views import discovery

OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"


@endpoint(anonymous=True)
def capability_statement(request):
    statement = CapabilityStatement(
        status="active",
        date="2026-12-07",
        kind="instance",
        software={"name": settings.CONSULTO_SITE_NAME},
        implementation={"description": "Consulto FHIR R4", "url": base_url()},
        fhirVersion=FHIR_VERSION,
        format=["application/fhir+json", "json"],
        instantiates=capabilities.INSTANTIATES or None,
        rest=[
            {
                "mode": "server",
                "security": {
                    "cors": False,
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "OAuth",
                                },
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "SMART-on-FHIR",
                                },
                            ]
                        }
                    ],
                    # The SMART oauth-uris; the same, and more, at .well-known/smart-configuration.
                    "extension": [
                        {
                            "url": OAUTH_URIS,
                            "extension": [
                                {"url": name, "valueUri": url}
                                for name, url in discovery.oauth_urls().items()
                            ],
                        }
                    ],
                    "description": "OAuth2 client credentials at /oauth/token/ "
                    "(scopes: " + ", ".join(capabilities.scopes()) + ")",
                },
                "resource": capabilities.resources(),
                "operation": capabilities.system_operations() or None,
            }
        ],
    )
    return respond(statement)
