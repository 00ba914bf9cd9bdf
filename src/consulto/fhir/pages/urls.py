"""``/pro/integrations/``: an organisation's partners (API clients) and webhooks."""

from django.urls import include, path

urlpatterns = [
    path("", include("consulto.fhir.pages.clients_urls")),
    path("webhooks/", include("consulto.fhir.pages.webhooks_urls")),
]
