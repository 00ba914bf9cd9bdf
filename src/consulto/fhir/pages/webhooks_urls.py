"""Webhooks of an organisation (filled by its feature)."""

urlpatterns: list = []
