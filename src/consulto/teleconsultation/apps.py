from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TeleconsultationConfig(AppConfig):
    name = "consulto.teleconsultation"
    verbose_name = _("Teleconsultation")

    def ready(self) -> None:
        from . import receivers  # noqa: F401
