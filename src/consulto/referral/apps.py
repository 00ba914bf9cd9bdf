from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralConfig(AppConfig):
    name = "consulto.referral"
    verbose_name = _("Regulation and referrals")
