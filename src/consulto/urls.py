from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from oauth2_provider import views as oauth_views

from consulto.api.api import api
from consulto.core import views as core_views
from consulto.practice.views.feed import agenda_feed
from consulto.referral.urls import patient_urlpatterns as appointment_page_urlpatterns
from consulto.teleconsultation.views import patient_urlpatterns, practice_urlpatterns

urlpatterns = [
    path("api/v1/", api.urls),
    path("fhir/r4/", include("consulto.fhir.urls")),
    # Partners' OAuth2 client credentials (django-oauth-toolkit): a token, and its revocation.
    path("oauth/token/", oauth_views.TokenView.as_view(), name="oauth_token"),
    path("oauth/revoke/", oauth_views.RevokeTokenView.as_view(), name="oauth_revoke"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("calendrier/<str:token>.ics", agenda_feed, name="agenda_feed"),
]
urlpatterns += i18n_patterns(
    path("", include("consulto.patients.urls")),
    path("conditions-d-utilisation/", core_views.terms, name="terms"),
    path("confidentialite/", core_views.privacy, name="privacy"),
    path("", include(patient_urlpatterns)),
    path("pro/", include(practice_urlpatterns)),
    path("pro/", include("consulto.onboarding.urls")),
    path("pro/", include("consulto.practice.urls")),
    path("pro/adressage/", include("consulto.referral.adressage_urls")),
    path("regulation/", include("consulto.referral.urls")),
    path("pro/integrations/", include("consulto.fhir.pages.urls")),
    path("", include(appointment_page_urlpatterns)),
    path("", include("consulto.support.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    prefix_default_language=False,
)

handler400 = "consulto.core.views.bad_request"
handler500 = "consulto.core.views.server_error"
