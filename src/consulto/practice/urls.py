"""The practice space (back office), under /pro/ (/en/pro/ in English)."""

from .views import agenda, audit, dashboard, feed, files, settings, team

app_name = "practice"

urlpatterns = (
    agenda.urlpatterns
    + files.urlpatterns
    + settings.urlpatterns
    + dashboard.urlpatterns
    + audit.urlpatterns
    + feed.urlpatterns
    + team.urlpatterns
)
