"""Patient-facing pages: the home page and its practitioner search."""

from collections import OrderedDict
from datetime import timedelta

from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from consulto.directory.selectors import place_coordinates
from consulto.scheduling.search import search_practitioners

from .forms import SearchForm

DAYS_SHOWN = 5
SLOTS_PER_DAY = 4
RADIUS_KM = 25


def home(request):
    form = SearchForm(request.GET or None)
    context = {"form": form, "searched": False}
    if form.is_bound and form.is_valid():
        context.update(_search(form.cleaned_data))
    return render(request, "patients/home.html", context)


def _search(data) -> dict:
    where = data["where"]
    near = place_coordinates(where) if where else None
    if where and near is None:
        return {"searched": True, "hits": [], "problem": _("We do not know this place yet.")}
    result = search_practitioners(
        specialty=data["specialty"].code if data["specialty"] else None,
        near=near,
        radius_km=RADIUS_KM if near else None,
        mode="video" if data["video"] else None,
        sort="earliest",
        limit=20,
    )
    today = timezone.localdate()
    days = [today + timedelta(days=i) for i in range(DAYS_SHOWN)]
    cards = []
    for hit in result.hits:
        per_day: OrderedDict = OrderedDict((d, []) for d in days)
        for slot in hit.slots:
            local_day = slot.start.date()
            if local_day in per_day and len(per_day[local_day]) < SLOTS_PER_DAY:
                per_day[local_day].append(slot.start)
        cards.append({"hit": hit, "days": per_day})
    return {"searched": True, "hits": cards, "count": result.count, "radius": RADIUS_KM}
