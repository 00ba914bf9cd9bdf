"""The directory and the SAS slot search: Practitioner, PractitionerRole, Organization,
Location, HealthcareService, Schedule (``directory.py``) and Slot (``directory_slots.py``)."""

from django.urls import path

from . import directory, directory_slots

urlpatterns = [
    path("Slot", directory_slots.slot_search_view, name="fhir_slot_search"),
    path("Slot/<str:logical_id>", directory_slots.slot_read, name="fhir_slot"),
]
for _type, _read, _search in (
    ("Practitioner", directory.practitioner_read, directory.practitioner_search),
    ("PractitionerRole", directory.practitioner_role_read, directory.practitioner_role_search),
    ("Organization", directory.organization_read, directory.organization_search),
    ("Location", directory.location_read, directory.location_search),
    ("HealthcareService", directory.healthcare_service_read, directory.healthcare_service_search),
    ("Schedule", directory.schedule_read, directory.schedule_search),
):
    urlpatterns += [
        path(_type, _search, name=f"fhir_{_type.lower()}_search"),
        path(f"{_type}/<str:logical_id>", _read, name=f"fhir_{_type.lower()}"),
    ]
