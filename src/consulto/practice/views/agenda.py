"""The agenda: day and week views of one or several agendas side by side (FullCalendar), with
the day's list under them (what a screen reader or a phone reads first), and blocking a period."""

from __future__ import annotations

from datetime import date, time, timedelta

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from consulto.core.errors import DomainError
from consulto.core.inputs import parse_id, parse_ids, query_date
from consulto.core.language import current_language
from consulto.core.time import parse_date, wall_to_instant

from .. import selectors, services
from ..access import staff_view
from ..forms import BlockForm
from ..permissions import Perm, agenda_ids
from ..settings_selectors import agenda_for_absences


def _ids(text: str) -> list[int]:
    return parse_ids(text or "", limit=8)


def _requested(request) -> list[int]:
    picked = request.GET.getlist("agenda_pick")
    return parse_ids(picked or request.GET.get("agendas", ""), limit=8)


def _day(request) -> date:
    return query_date(request.GET, "date", default=timezone.localdate())


@require_GET
@staff_view
def agenda_page(request):
    department_id = parse_id(request.GET.get("department"))
    department = None
    visible = selectors.visible_agendas(request.user)
    if department_id is not None:
        # A department chosen opens its agendas side by side, whatever boxes were ticked.
        department, agendas = selectors.department_agendas(request.user, department_id)
    elif request.GET.get("department"):
        raise Http404  # not an id
    else:
        agendas = selectors.chosen_agendas(request.user, _requested(request), visible=visible)
    day = _day(request)
    view = "week" if request.GET.get("view") == "week" else "day"
    ids = ",".join(str(a.pk) for a in agendas)
    config = {
        "eventsUrl": reverse("practice:events"),
        "listUrl": reverse("practice:day_list"),
        "moveUrl": reverse("practice:appointment_move", args=[0])[: -len("0/deplacer/")],
        "newUrl": reverse("practice:appointment_new"),
        "wsPath": "/ws/pro/agendas/",
        "locale": current_language(),
        "date": day.isoformat(),
        "view": view,
        "agendas": [{"id": a.pk, "name": a.name} for a in agendas],
        "now": selectors.wall(timezone.now(), agendas[0].site.zone) if agendas else None,
        "texts": {
            "updated": _("The agenda was updated."),
            "moved": _("Appointment moved."),
            "refused": _("The appointment could not be moved."),
            "undoRefused": _("The move could not be undone."),
            "offline": _("Live updates are paused: reconnecting…"),
        },
    }
    return render(
        request,
        "practice/agenda.html",
        {
            "section": "agenda",
            "agendas": agendas,
            "all_agendas": visible,
            "departments": selectors.visible_departments(request.user, visible=visible),
            "department": department,
            "shown": f"department={department.pk}" if department else f"agendas={ids}",
            "chosen_ids": {a.pk for a in agendas},
            "ids": ids,
            "day": day,
            "view": view,
            # The calendar's weeks start on Monday.
            "week_first": day - timedelta(days=day.weekday()),
            "week_last": day + timedelta(days=6 - day.weekday()),
            "previous": day - timedelta(days=7 if view == "week" else 1),
            "next": day + timedelta(days=7 if view == "week" else 1),
            "config": config,
            "day_lists": selectors.day_appointments(agendas=agendas, day=day),
            "settings_ids": agenda_ids(request.user, Perm.SETTINGS),
            "absence_ids": agenda_ids(request.user, Perm.ABSENCES),
            "feed_ids": agenda_ids(request.user, Perm.FEED),
        },
    )


@require_GET
@staff_view
def day_list(request):
    agendas = selectors.chosen_agendas(request.user, _ids(request.GET.get("agendas", "")))
    day = _day(request)
    return render(
        request,
        "practice/_day_list.html",
        {"day": day, "day_lists": selectors.day_appointments(agendas=agendas, day=day)},
    )


@require_GET
@staff_view
def events(request):
    agendas = selectors.chosen_agendas(request.user, _ids(request.GET.get("agendas", "")))
    start = parse_date((request.GET.get("start") or "")[:10])
    end = parse_date((request.GET.get("end") or "")[:10])
    if start is None or end is None:
        return JsonResponse(
            {"error": "invalid", "message": _("Give a start and an end date.")}, status=400
        )
    try:
        data = selectors.agenda_events(agendas=agendas, start=start, end=end)
    except DomainError as error:
        return JsonResponse({"error": error.code, "message": str(error.message)}, status=400)
    response = JsonResponse({"agendas": data})
    response["Cache-Control"] = "private, no-store"
    return response


def _agenda_url(agenda_id: int, day: date) -> str:
    return reverse("practice:agenda") + "?" + urlencode({"agendas": agenda_id, "date": day})


@staff_view
def block(request, agenda_id: int):
    agenda = agenda_for_absences(request.user, agenda_id)
    zone = agenda.site.zone
    form = BlockForm(
        request.POST or None,
        initial={
            "start_date": _day(request),
            "end_date": _day(request),
            "start_time": time(12),
            "end_time": time(14),
        },
    )
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            start = wall_to_instant(
                data["start_date"], data["start_time"], zone, field="start_time"
            )
            end = wall_to_instant(data["end_date"], data["end_time"], zone, field="end_time")
            _absence, overlapping = services.block_period(
                user=request.user, agenda_id=agenda.pk, start=start, end=end, reason=data["reason"]
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, _("Period blocked: it is no longer offered online."))
            if overlapping:
                messages.warning(
                    request,
                    _(
                        "%(count)s appointment(s) already in this period stay booked: "
                        "move or cancel them."
                    )
                    % {"count": overlapping},
                )
            return redirect(_agenda_url(agenda.pk, data["start_date"]))
    return render(
        request, "practice/block.html", {"section": "agenda", "agenda": agenda, "form": form}
    )


@require_POST
@staff_view
def unblock(request, absence_id: int):
    services.unblock(user=request.user, absence_id=absence_id)
    messages.success(request, _("The period is open again."))
    return redirect("practice:agenda")


urlpatterns = [
    path("", agenda_page, name="agenda"),
    path("agenda/evenements/", events, name="events"),
    path("agenda/liste/", day_list, name="day_list"),
    path("agenda/<id:agenda_id>/bloquer/", block, name="block"),
    path("agenda/absences/<id:absence_id>/supprimer/", unblock, name="unblock"),
]
