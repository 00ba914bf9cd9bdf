"""``/fhir/r4/``: each feature's views in their own module, gathered here."""

from django.urls import include, path

from .views import discovery, metadata

urlpatterns = [
    path("metadata", metadata.capability_statement, name="fhir_metadata"),
    path(".well-known/smart-configuration", discovery.smart_configuration, name="fhir_smart"),
    # The directory and the SAS slot search: Practitioner, PractitionerRole, Organization,
    # Location, HealthcareService, Schedule, Slot.
    path("", include("consulto.fhir.views.directory_urls")),
    # IHE ITI Scheduling ($find, $hold, $book), Appointment, Patient.
    path("", include("consulto.fhir.views.scheduling_urls")),
]
