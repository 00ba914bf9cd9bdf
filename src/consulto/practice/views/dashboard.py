"""The practice dashboard: appointments per week, online share and no-show rate, as charts."""

from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from consulto.core.inputs import parse_id

from .. import stats
from ..access import staff_view
from ..charts import dashboard_charts, percent, table_rows


@require_GET
@staff_view
def dashboard(request):
    board = stats.dashboard(
        user=request.user,
        organisation_id=parse_id(request.GET.get("org")),
        agenda_id=parse_id(request.GET.get("agenda")),
    )
    return render(
        request,
        "practice/dashboard.html",
        {
            "section": "dashboard",
            "board": board,
            "charts": dashboard_charts(board),
            "rows": table_rows(board),
            "online_share": percent(board.online_share),
            "no_show_rate": percent(board.no_show_rate),
        },
    )


urlpatterns = [path("tableau-de-bord/", dashboard, name="dashboard")]
