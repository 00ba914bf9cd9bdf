"""The directory and the SAS slot search (filled by its feature)."""

urlpatterns: list = []
