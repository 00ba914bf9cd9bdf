"""The onboarding wizard under /pro/ (/en/pro/ in English), and the funnel page."""

from django.urls import path

from . import views, views_bulk

app_name = "onboarding"
urlpatterns = [
    path("rejoindre/", views.join, name="join"),
    path("demarrage/", views.resume, name="resume"),
    path("demarrage/securite/", views.security, name="security"),
    path("demarrage/identite/", views.identity, name="identity"),
    path("demarrage/horaires/", views.schedule, name="schedule"),
    path("demarrage/video/", views.video, name="video"),
    path("demarrage/video/ping/", views.ping, name="ping"),
    path("demarrage/publier/", views.publish, name="publish"),
    path("entonnoir/", views.funnel, name="funnel"),
    path("equipe/importer/", views_bulk.bulk_import, name="bulk_import"),
    path("equipe/importer/confirmer/", views_bulk.bulk_confirm, name="bulk_confirm"),
    path("equipe/importer/exemple.csv", views_bulk.bulk_example, name="bulk_example"),
    path(
        "equipe/invitations/<id:invitation_id>/renvoyer/",
        views_bulk.invitation_resend,
        name="invitation_resend",
    ),
    path("invitation/<str:token>/", views_bulk.invitation, name="invitation"),
]
