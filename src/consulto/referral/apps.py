from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralConfig(AppConfig):
    name = "consulto.referral"
    verbose_name = _("Regulation and referrals")

    def ready(self) -> None:
        from consulto.notifications import links

        from .patient_links import page_link

        # Notifications may not import this app: it is given the link maker.
        links.provide_appointment_page_link(page_link)
