from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "consulto.core"
    label = "core"

    def ready(self):
        from django.urls import register_converter

        from . import errors_seen  # noqa: F401
        from .inputs import IdConverter

        # ``<id:pk>`` in every urls.py: an id the database can hold, else 404.
        register_converter(IdConverter, "id")
