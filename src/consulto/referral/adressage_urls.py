"""Referrals between practitioners (adressage), under /pro/adressage/."""

from django.urls import path

from . import adressage_views as views

app_name = "adressage"

urlpatterns = [
    path("nouveau/", views.new, name="refer"),
    path("nouveau/confirmer/", views.confirm, name="refer_confirm"),
    path("recus/", views.incoming, name="referrals_received"),
    path("recus/<id:pk>/", views.incoming_detail, name="referral_received"),
    path("envoyes/", views.sent, name="referrals_sent"),
    path("envoyes/<id:pk>/", views.sent_detail, name="referral_sent"),
]
