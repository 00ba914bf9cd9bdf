"""IHE ITI Scheduling, Appointment and Patient (filled by its feature)."""

urlpatterns: list = []
