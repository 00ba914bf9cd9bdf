from django.urls import path

from .views import appointments, booking, establishments, family, search

urlpatterns = [
    path("", search.home, name="home"),
    path("praticien/<id:pk>/", search.practitioner, name="practitioner"),
    path("etablissement/<id:pk>-<slug:slug>/", establishments.establishment, name="establishment"),
    path(
        "etablissement/<id:pk>-<slug:slug>/<id:department_id>/",
        establishments.department,
        name="department",
    ),
    path("reserver/", booking.hold, name="hold"),
    path("reserver/<id:hold_id>/", booking.booking_page, name="booking"),
    path("rendez-vous/", appointments.appointments, name="appointments"),
    path("rendez-vous/<id:pk>/", appointments.appointment, name="appointment"),
    path("rendez-vous/<id:pk>/annuler/", appointments.cancel, name="cancel"),
    path("rendez-vous/<id:pk>/deplacer/", appointments.move, name="move"),
    path("rendez-vous/<id:pk>/calendrier.ics", appointments.calendar_file, name="calendar_file"),
    path("liste-attente/", family.waitlist_join, name="waitlist_join"),
    path("liste-attente/<id:pk>/retirer/", family.waitlist_leave, name="waitlist_leave"),
    path("proches/", family.relatives, name="relatives"),
    path("proches/<id:pk>/", family.relative, name="relative"),
    path("proches/<id:pk>/supprimer/", family.remove_relative, name="remove_relative"),
]
