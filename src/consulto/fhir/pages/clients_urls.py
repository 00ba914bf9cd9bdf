"""API clients of an organisation (``pages/clients.py``)."""

from django.urls import path

from . import clients

urlpatterns = [
    path("", clients.home, name="integrations"),
    path("clients/nouveau/", clients.client_new, name="integrations_client_new"),
    path("clients/<id:partner_id>/", clients.client, name="integrations_client"),
    path(
        "clients/<id:partner_id>/revoquer/",
        clients.client_revoke,
        name="integrations_client_revoke",
    ),
    path("clients/<id:partner_id>/appels/", clients.client_calls, name="integrations_client_calls"),
]
