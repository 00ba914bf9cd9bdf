"""The practice space (back office), under /pro/ (/en/pro/ in English)."""

from .views import (
    agenda,
    appointments,
    audit,
    dashboard,
    feed,
    files,
    new_appointment,
    settings,
    team,
)

app_name = "practice"

urlpatterns = (
    agenda.urlpatterns
    + new_appointment.urlpatterns
    + appointments.urlpatterns
    + files.urlpatterns
    + settings.urlpatterns
    + dashboard.urlpatterns
    + audit.urlpatterns
    + feed.urlpatterns
    + team.urlpatterns
)
