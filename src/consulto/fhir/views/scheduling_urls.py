"""IHE ITI Scheduling ($find, $hold, $book), Appointment and Patient."""

from django.urls import path

from . import appointments, patients

urlpatterns = [
    path("Appointment/$find", appointments.find, name="fhir_appointment_find"),
    path("Appointment/$hold", appointments.hold, name="fhir_appointment_hold"),
    path("Appointment/$book", appointments.book, name="fhir_appointment_book"),
    path("Appointment/_search", appointments.search, name="fhir_appointment_search_post"),
    path("Appointment", appointments.search, name="fhir_appointment_search"),
    path("Appointment/<str:logical_id>", appointments.read, name="fhir_appointment"),
    path("Patient/<str:logical_id>", patients.read, name="fhir_patient"),
]
