from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FhirConfig(AppConfig):
    name = "consulto.fhir"
    label = "fhir"
    verbose_name = _("Interoperability")

    def ready(self) -> None:
        from . import receivers  # noqa: F401
