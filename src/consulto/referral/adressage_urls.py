"""Referrals between practitioners (adressage), under /pro/adressage/."""

from django.urls import path

from . import adressage_views as views

app_name = "adressage"

urlpatterns = [
    path("nouveau/", views.new, name="new"),
    path("nouveau/confirmer/", views.confirm, name="confirm"),
    path("recus/", views.incoming, name="incoming"),
    path("recus/<id:pk>/", views.incoming_detail, name="incoming_detail"),
    path("envoyes/", views.sent, name="sent"),
    path("envoyes/<id:pk>/", views.sent_detail, name="sent_detail"),
]
