"""Webhooks of an organisation: ``/pro/integrations/webhooks/``."""

from django.urls import path

from . import webhooks

app_name = "fhir_webhooks"

urlpatterns = [
    path("", webhooks.endpoint_list, name="list"),
    path("nouveau/", webhooks.endpoint_new, name="new"),
    path("<id:endpoint_id>/", webhooks.endpoint_edit, name="edit"),
    path("<id:endpoint_id>/activation/", webhooks.endpoint_active, name="active"),
    path("<id:endpoint_id>/suppression/", webhooks.endpoint_delete, name="delete"),
    path("<id:endpoint_id>/test/", webhooks.endpoint_test, name="test"),
    path("<id:endpoint_id>/envois/", webhooks.delivery_log, name="deliveries"),
    path(
        "<id:endpoint_id>/envois/<id:delivery_id>/renvoi/",
        webhooks.delivery_replay,
        name="replay",
    ),
]
