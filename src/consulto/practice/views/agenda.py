"""The agenda: day and week views of one or several agendas side by side (FullCalendar), with
the day's list under them (what a screen reader or a phone reads first), and the actions on an
appointment: book, move, cancel, block a period, mark arrived / seen / no-show."""

from __future__ import annotations

from contextlib import suppress
from datetime import date, time, timedelta

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from consulto.core.audit import client_ip
from consulto.core.errors import DomainError
from consulto.core.inputs import has_nul, parse_id, parse_ids, query_date
from consulto.core.language import current_language
from consulto.core.time import parse_date, wall_to_instant
from consulto.scheduling.booking import STATUS_STEPS
from consulto.scheduling.models import Appointment, Motive

from .. import files, selectors, services
from ..access import staff_view
from ..forms import BlockForm, CancelForm, MoveForm, NewAppointmentForm
from ..models import PatientFile
from ..permissions import Perm, agenda_ids, allows

Status = Appointment.Status


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
    agendas = selectors.chosen_agendas(request.user, _requested(request))
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
            "offline": _("Live updates are paused: reconnecting…"),
        },
    }
    return render(
        request,
        "practice/agenda.html",
        {
            "section": "agenda",
            "agendas": agendas,
            "all_agendas": selectors.visible_agendas(request.user),
            "chosen_ids": {a.pk for a in agendas},
            "ids": ids,
            "day": day,
            "view": view,
            "previous": day - timedelta(days=7 if view == "week" else 1),
            "next": day + timedelta(days=7 if view == "week" else 1),
            "config": config,
            "day_lists": selectors.day_appointments(agendas=agendas, day=day),
            "settings_ids": agenda_ids(request.user, Perm.SETTINGS),
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


@staff_view
def appointment_detail(request, pk: int):
    appointment = selectors.appointment_for_staff(user=request.user, appointment_id=pk)
    zone = appointment.agenda.site.zone
    local = appointment.start.astimezone(zone)
    # Opened with the booking (practice/receivers.py): looked up here, never written on a GET.
    organisation_id = appointment.agenda.organisation_id
    file = (
        PatientFile.objects.filter(
            organisation_id=organisation_id, profile_id=appointment.patient_id
        ).first()
        if appointment.patient_id and allows(request.user, organisation_id, Perm.FILES)
        else None  # a substitute from elsewhere runs the agenda, not the practice's files
    )
    return render(
        request,
        "practice/appointment.html",
        {
            "section": "agenda",
            "appointment": appointment,
            "local_start": local,
            "local_end": appointment.end.astimezone(zone),
            "file": file,
            "move_form": MoveForm(initial={"date": local.date(), "time": local.time()}),
            "cancel_form": CancelForm(),
            "steps": _steps(appointment),
            "back": _agenda_url(appointment.agenda_id, local.date()),
        },
    )


def _steps(appointment: Appointment) -> list[tuple[str, str]]:
    allowed = STATUS_STEPS.get(appointment.status, set())
    order = [Status.ARRIVED, Status.IN_PROGRESS, Status.SEEN, Status.NO_SHOW, Status.BOOKED]
    labels = {
        Status.ARRIVED: _("Mark arrived"),
        Status.IN_PROGRESS: _("Start the consultation"),
        Status.SEEN: _("Mark seen"),
        Status.NO_SHOW: _("Mark as no-show"),
        Status.BOOKED: _("Back to booked"),
    }
    past = appointment.start <= timezone.now()
    return [(s, labels[s]) for s in order if s in allowed and (s != Status.NO_SHOW or past)]


def _agenda_url(agenda_id: int, day: date) -> str:
    return reverse("practice:agenda") + "?" + urlencode({"agendas": agenda_id, "date": day})


def _json_error(error: DomainError) -> JsonResponse:
    return JsonResponse({"error": error.code, "message": str(error.message)}, status=error.status)


@require_POST
@staff_view
def appointment_move(request, pk: int):
    """The form on the appointment page, or a drag and drop in the calendar (JSON)."""
    appointment = selectors.appointment_for_staff(user=request.user, appointment_id=pk)
    zone = appointment.agenda.site.zone
    wants_json = "application/json" in request.headers.get("Accept", "")
    try:
        if wants_json:
            new_start = selectors.from_wall(request.POST.get("start", ""), zone)
        else:
            form = MoveForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("Give a valid date and time."))
                return redirect("practice:appointment", pk=pk)
            new_start = wall_to_instant(form.cleaned_data["date"], form.cleaned_data["time"], zone)
        moved = services.move(user=request.user, appointment_id=pk, new_start=new_start)
    except DomainError as error:
        if wants_json:
            return _json_error(error)
        messages.error(request, error.message)
        return redirect("practice:appointment", pk=pk)
    if wants_json:
        return JsonResponse(
            {"id": moved.pk, "url": reverse("practice:appointment", args=[moved.pk])}
        )
    messages.success(request, _("Appointment moved; the patient is told."))
    return redirect("practice:appointment", pk=moved.pk)


@require_POST
@staff_view
def appointment_cancel(request, pk: int):
    appointment = selectors.appointment_for_staff(user=request.user, appointment_id=pk)
    form = CancelForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.cancel(user=request.user, appointment_id=pk, reason=reason)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("practice:appointment", pk=pk)
    messages.success(request, _("Appointment cancelled; the patient is told."))
    return redirect(
        _agenda_url(
            appointment.agenda_id, appointment.start.astimezone(appointment.agenda.site.zone).date()
        )
    )


@require_POST
@staff_view
def appointment_status(request, pk: int):
    try:
        changed = services.set_status(
            user=request.user, appointment_id=pk, status=request.POST.get("status", "")
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("practice:appointment", pk=pk)
    messages.success(request, _("Status: %(status)s.") % {"status": changed.get_status_display()})
    next_url = request.POST.get("next", "")
    if next_url == "agenda":
        return redirect(
            _agenda_url(
                changed.agenda_id, changed.start.astimezone(changed.agenda.site.zone).date()
            )
        )
    return redirect("practice:appointment", pk=pk)


@staff_view
def appointment_new(request):
    allowed = selectors.visible_agendas(request.user)
    if not allowed:
        raise Http404
    motives = list(
        Motive.objects.filter(agenda__in=allowed, is_active=True).order_by("agenda_id", "position")
    )
    initial = {}
    if request.method == "GET":
        agenda_id = request.GET.get("agenda")
        start = request.GET.get("start", "")
        initial["agenda"] = agenda_id
        agenda = next((a for a in allowed if str(a.pk) == agenda_id), None)
        if agenda and start:
            # A time that cannot be read only leaves the fields empty.
            with suppress(DomainError):
                local = selectors.from_wall(start, agenda.site.zone).astimezone(agenda.site.zone)
                initial.update(date=local.date(), time=local.time())
    searching = request.method == "POST" and "search" in request.POST
    form = NewAppointmentForm(
        request.POST or None, agendas=allowed, motives=motives, initial=initial
    )
    found = None
    if searching:
        found = _find_files(request, request.POST.get("agenda"), request.POST.get("query", ""))
    elif form.is_bound and form.is_valid():
        data = form.cleaned_data
        agenda = data["agenda"]
        try:
            start = wall_to_instant(data["date"], data["time"], agenda.site.zone, field="time")
            services.book_for_patient(
                user=request.user,
                agenda_id=agenda.pk,
                motive_id=data["motive"].pk,
                start=start,
                file_id=data["file"].pk if data.get("file") else None,
                new_patient=data.get("new_patient"),
                ip=client_ip(request),
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, _("Appointment booked."))
            return redirect(_agenda_url(agenda.pk, data["date"]))
    return render(
        request,
        "practice/appointment_new.html",
        {
            "section": "agenda",
            "form": form,
            "found": found,
            "chosen_file": form.chosen_file if form.is_bound and not searching else None,
        },
    )


def _find_files(request, agenda_id, query: str):
    wanted = parse_id(agenda_id)
    agenda = next((a for a in selectors.visible_agendas(request.user) if a.pk == wanted), None)
    if agenda is None or not 2 <= len(query.strip()) <= 80 or has_nul(query):
        return []  # the form says what is wrong with the query
    return files.search_files(
        user=request.user, organisation_id=agenda.organisation_id, query=query, limit=20
    )


@require_GET
@staff_view
def file_picker(request):
    """The patients matching the search, as choices (htmx swaps them into the booking form)."""
    found = _find_files(request, request.GET.get("agenda"), request.GET.get("query", ""))
    return render(request, "practice/_file_choices.html", {"files": found, "chosen": None})


@staff_view
def block(request, agenda_id: int):
    agendas = selectors.chosen_agendas(request.user, [agenda_id])
    agenda = agendas[0]
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
    path("rendez-vous/nouveau/", appointment_new, name="appointment_new"),
    path("rendez-vous/nouveau/patients/", file_picker, name="file_picker"),
    path("rendez-vous/<id:pk>/", appointment_detail, name="appointment"),
    path("rendez-vous/<id:pk>/deplacer/", appointment_move, name="appointment_move"),
    path("rendez-vous/<id:pk>/annuler/", appointment_cancel, name="appointment_cancel"),
    path("rendez-vous/<id:pk>/statut/", appointment_status, name="appointment_status"),
]
