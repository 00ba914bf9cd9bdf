from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("praticien/<id:pk>/", views.practitioner, name="practitioner"),
    path("reserver/", views.hold, name="hold"),
    path("reserver/<id:hold_id>/", views.booking_page, name="booking"),
    path("rendez-vous/", views.appointments, name="appointments"),
    path("rendez-vous/<id:pk>/", views.appointment, name="appointment"),
    path("rendez-vous/<id:pk>/annuler/", views.cancel, name="cancel"),
    path("rendez-vous/<id:pk>/deplacer/", views.move, name="move"),
    path("rendez-vous/<id:pk>/calendrier.ics", views.calendar_file, name="calendar_file"),
    path("liste-attente/", views.waitlist_join, name="waitlist_join"),
    path("liste-attente/<id:pk>/retirer/", views.waitlist_leave, name="waitlist_leave"),
    path("proches/", views.relatives, name="relatives"),
    path("proches/<id:pk>/", views.relative, name="relative"),
    path("proches/<id:pk>/supprimer/", views.remove_relative, name="remove_relative"),
]
