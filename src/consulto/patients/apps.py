from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "consulto.patients"
    label = "patients"

    def ready(self) -> None:
        from . import receivers  # noqa: F401 - connects the receivers
