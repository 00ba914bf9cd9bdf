from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TeleconsultationConfig(AppConfig):
    name = "consulto.teleconsultation"
    verbose_name = _("Teleconsultation")

    def ready(self) -> None:
        from consulto.notifications import links

        from . import receivers  # noqa: F401
        from .rooms import patient_link

        # Notifications may not import this app (it sits below it): it is given the link.
        links.provide_video_room_link(patient_link)
