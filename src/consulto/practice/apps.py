from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PracticeConfig(AppConfig):
    name = "consulto.practice"
    verbose_name = _("Practice back office")

    def ready(self) -> None:
        from . import receivers  # noqa: F401
