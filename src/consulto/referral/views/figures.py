"""The centre admin's figures: cases per day, time to book, share booked within 48 h."""

from __future__ import annotations

from django.shortcuts import render
from django.urls import path
from django.utils.formats import number_format
from django.views.decorators.http import require_GET

from .. import selectors
from ..access import regulation_view
from ..charts import charts
from ..models import RegulationCase


def _percent(value: float | None) -> str:
    return "—" if value is None else number_format(round(value * 100)) + " %"


def _minutes(value: float | None) -> str:
    return "—" if value is None else number_format(round(value)) + " min"


@regulation_view(admin_only=True)
@require_GET
def figures(request):
    found = selectors.figures(centre=request.seat.centre)
    return render(
        request,
        "referral/figures.html",
        {
            "seat": request.seat,
            "section": "figures",
            "figures": found,
            "charts": charts(found),
            "median": _minutes(found.median_minutes_to_book),
            "within_48h": _percent(found.share_within_48h),
            "outcome_rows": [
                (label, found.outcomes.get(value, 0))
                for value, label in RegulationCase.Outcome.choices
            ],
        },
    )


urlpatterns = [path("chiffres/", figures, name="figures")]
