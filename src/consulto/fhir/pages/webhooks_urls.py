"""Webhooks of an organisation: ``/pro/integrations/webhooks/``."""

from django.urls import path

from . import webhooks

app_name = "fhir_webhooks"

urlpatterns = [
    path("", webhooks.endpoint_list, name="webhooks"),
    path("nouveau/", webhooks.endpoint_new, name="webhook_new"),
    path("<id:endpoint_id>/", webhooks.endpoint_edit, name="webhook_edit"),
    path("<id:endpoint_id>/activation/", webhooks.endpoint_active, name="webhook_active"),
    path("<id:endpoint_id>/suppression/", webhooks.endpoint_delete, name="webhook_delete"),
    path("<id:endpoint_id>/test/", webhooks.endpoint_test, name="webhook_test"),
    path("<id:endpoint_id>/envois/", webhooks.delivery_log, name="webhook_deliveries"),
    path(
        "<id:endpoint_id>/envois/<id:delivery_id>/renvoi/",
        webhooks.delivery_replay,
        name="webhook_replay",
    ),
]
