"""The practice dashboard: appointments per week, online share and no-show rate, as charts; the
consultations taken through regulation (SAS), as a chart and a CSV export."""

import csv
import io

from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from consulto.core import audit
from consulto.core.inputs import parse_id

from .. import stats
from ..access import staff_view
from ..charts import dashboard_charts, percent, sas_chart, table_rows


def _board(request):
    return stats.dashboard(
        user=request.user,
        organisation_id=parse_id(request.GET.get("org")),
        agenda_id=parse_id(request.GET.get("agenda")),
    )


@require_GET
@staff_view
def dashboard(request):
    board = _board(request)
    return render(
        request,
        "practice/dashboard.html",
        {
            "section": "dashboard",
            "board": board,
            "charts": dashboard_charts(board),
            "sas": sas_chart(board),
            "sas_ceiling": stats.SAS_PAID_CEILING,
            "rows": table_rows(board),
            "online_share": percent(board.online_share),
            "no_show_rate": percent(board.no_show_rate),
        },
    )


def _cell(value) -> str:
    """A value a spreadsheet reads as text, never as a formula (CSV injection)."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@require_GET
@staff_view
def sas_export(request):
    """The consultations taken through regulation over the last 12 weeks, one row each, then
    the weekly totals: for the SAS supplement claim. It names patients: the download is
    audited."""
    board = _board(request)
    rows = stats.sas_consultations(board)
    out = io.StringIO()
    out.write("\ufeff")  # Excel opens UTF-8 with a BOM as UTF-8
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        [_("Date"), _("Time"), _("Patient"), _("Motive"), _("Referred by"), _("Status")]
    )
    for row in rows:
        writer.writerow(
            [
                row.start.strftime("%d/%m/%Y"),
                row.start.strftime("%H:%M"),
                _cell(row.patient),
                _cell(row.motive),
                _cell(row.referred_by),
                _cell(row.status),
            ]
        )
    writer.writerow([])
    writer.writerow(
        [
            _("Week of"),
            _("Consultations"),
            _("Paid (at most %(n)s)") % {"n": stats.SAS_PAID_CEILING},
        ]
    )
    for week in board.sas_weeks:
        writer.writerow([week.start.strftime("%d/%m/%Y"), week.consultations, week.paid])
    writer.writerow([_("Total"), board.sas_total, sum(w.paid for w in board.sas_weeks)])
    with transaction.atomic():
        audit.record(
            actor=request.user,
            action=audit.Action.DOWNLOAD,
            target_type="sas_export",
            target_id=board.agenda.pk if board.agenda else board.organisation.pk,
            organisation_id=board.organisation.pk,
            ip=audit.client_ip(request),
        )
    first = board.sas_weeks[0].start if board.sas_weeks else None
    name = "consulto-sas"
    if first is not None:
        name += f"-{first:%Y-%m-%d}"
    response = HttpResponse(out.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


urlpatterns = [
    path("tableau-de-bord/", dashboard, name="dashboard"),
    path("tableau-de-bord/sas.csv", sas_export, name="dashboard_sas_csv"),
]
