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
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from consulto.core.audit import client_ip
from consulto.core.errors import DomainError
from consulto.core.inputs import has_nul, parse_id, parse_ids, query_date
from consulto.core.language import current_language
from consulto.core.time import parse_date, parse_instant, wall_to_instant
from consulto.scheduling.booking import STATUS_STEPS
from consulto.scheduling.models import Appointment, Motive

from .. import files, selectors, services
from ..access import staff_view
from ..forms import BlockForm, CancelForm, MoveForm, NewAppointmentForm
from ..models import PatientFile
from ..permissions import Perm, agenda_ids, allows
from ..settings_selectors import agenda_for_absences

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


@staff_view
def appointment_detail(request, pk: int):
    appointment = selectors.appointment_for_staff(user=request.user, appointment_id=pk)
    return _detail_page(request, appointment)


def _detail_page(request, appointment, *, move_form=None, cancel_form=None, **extra):
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
            "move_form": move_form
            or MoveForm(initial={"date": local.date(), "time": local.time()}),
            "cancel_form": cancel_form or CancelForm(),
            "steps": _steps(appointment),
            "back": _agenda_url(appointment.agenda_id, local.date()),
            **_visio(request.user, appointment, zone),
            "undo_from": _undoable_from(request.user, appointment),
            **extra,
        },
    )


def _visio(user, appointment: Appointment, zone) -> dict:
    """The call's link, for whoever takes the practitioner's side of it, worded by where its
    room stands (open, opening at a time, over)."""
    from consulto.teleconsultation import rooms

    room = rooms.room_of(appointment)
    if room is None or rooms.side_of(user, room) != rooms.PRACTITIONER:
        return {}
    state = rooms.room_state(room)
    return {"visio": state, "visio_opens": state.opens_at.astimezone(zone)}


# How long after a move its "Undo" stays on the appointment's page.
UNDO_SHOWN = timedelta(minutes=10)


def _undoable_from(user, appointment):
    """Where this appointment was just moved from by this user (for "Undo"), or None."""
    previous = appointment.rescheduled_from
    if (
        appointment.status != Status.BOOKED
        or previous is None
        or previous.cancelled_by_id != user.pk
        or not previous.cancelled_by_practice
        or previous.cancelled_at is None
        or timezone.now() - previous.cancelled_at > UNDO_SHOWN
    ):
        return None
    return previous.start.astimezone(appointment.agenda.site.zone)


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


def _json_error(error: DomainError, **extra) -> JsonResponse:
    body = {"error": error.code, "message": str(error.message), **extra}
    if isinstance(error, services.NeedsConfirmation):
        body["cautions"] = [str(c) for c in error.cautions]
    return JsonResponse(body, status=error.status)


def _moved_text(moved: Appointment) -> str:
    local = moved.start.astimezone(moved.agenda.site.zone)
    return _("Appointment moved to %(day)s at %(time)s.") % {
        "day": date_format(local, "l j F"),
        "time": f"{local:%H:%M}",
    }


@require_POST
@staff_view
def appointment_move(request, pk: int):
    """The form on the appointment page, or a drag and drop in the calendar (JSON). An unusual
    time (past, night, outside the openings) is moved to only once confirmed."""
    appointment = selectors.appointment_for_staff(user=request.user, appointment_id=pk)
    zone = appointment.agenda.site.zone
    wants_json = "application/json" in request.headers.get("Accept", "")
    form = None
    try:
        if wants_json:
            new_start = selectors.from_wall(request.POST.get("start", ""), zone)
        else:
            form = MoveForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("Give a valid date and time."))
                return redirect("practice:appointment", pk=pk)
            new_start = wall_to_instant(form.cleaned_data["date"], form.cleaned_data["time"], zone)
        moved = services.move(
            user=request.user,
            appointment_id=pk,
            new_start=new_start,
            confirmed=parse_instant(request.POST.get("confirmed")) == new_start,
        )
    except services.NeedsConfirmation as needed:
        if wants_json:
            return _json_error(needed, confirm=new_start.isoformat())
        return _detail_page(
            request,
            appointment,
            move_form=form,
            move_cautions=needed.cautions,
            move_confirm=new_start.isoformat(),
        )
    except DomainError as error:
        if wants_json:
            return _json_error(error)
        messages.error(request, error.message)
        return redirect("practice:appointment", pk=pk)
    if wants_json:
        return JsonResponse(
            {
                "id": moved.pk,
                "url": reverse("practice:appointment", args=[moved.pk]),
                "undoUrl": reverse("practice:appointment_undo_move", args=[moved.pk]),
                "message": _moved_text(moved),
            }
        )
    messages.success(request, _("Appointment moved; the patient is told."))
    return redirect("practice:appointment", pk=moved.pk)


@require_POST
@staff_view
def appointment_undo_move(request, pk: int):
    """Put back an appointment just moved ("Undo" in the agenda and on its page)."""
    wants_json = "application/json" in request.headers.get("Accept", "")
    try:
        back = services.undo_move(user=request.user, appointment_id=pk)
    except DomainError as error:
        if wants_json:
            return _json_error(error)
        messages.error(request, error.message)
        return redirect("practice:appointment", pk=pk)
    local = back.start.astimezone(back.agenda.site.zone)
    text = _("Move undone: the appointment is back on %(day)s at %(time)s.") % {
        "day": date_format(local, "l j F"),
        "time": f"{local:%H:%M}",
    }
    if wants_json:
        return JsonResponse(
            {"id": back.pk, "url": reverse("practice:appointment", args=[back.pk]), "message": text}
        )
    messages.success(request, text)
    return redirect("practice:appointment", pk=back.pk)


@require_POST
@staff_view
def appointment_cancel(request, pk: int):
    """Cancelling takes two steps: the reason (the patient reads it), then a confirmation."""
    appointment = selectors.appointment_for_staff(user=request.user, appointment_id=pk)
    form = CancelForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, appointment, cancel_form=form)
    reason = form.cleaned_data["reason"]
    if request.POST.get("confirmed") != "1":
        zone = appointment.agenda.site.zone
        return render(
            request,
            "practice/appointment_cancel.html",
            {
                "section": "agenda",
                "appointment": appointment,
                "local_start": appointment.start.astimezone(zone),
                "local_end": appointment.end.astimezone(zone),
                "reason": reason,
                "told_by": selectors.contact_channels(appointment),
            },
        )
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


def _new_form(request, *, data=None, initial=None, allowed=None) -> NewAppointmentForm:
    allowed = allowed if allowed is not None else selectors.visible_agendas(request.user)
    motives = list(
        Motive.objects.filter(agenda__in=allowed, is_active=True).order_by("agenda_id", "position")
    )
    return NewAppointmentForm(data, agendas=allowed, motives=motives, initial=initial or {})


def _when(form: NewAppointmentForm) -> dict:
    """The free slots of the form's agenda and motive on its date, to pick from; the next free
    one after that date when there is none."""
    agenda = form.current_agenda
    if agenda is None:
        return {}
    motive = form.motives.get(str(_value(form, "motive"))) or next(
        iter(form.motives.values()), None
    )
    zone = agenda.site.zone
    now = timezone.now()
    day = _date_value(form) or now.astimezone(zone).date()
    context = {"when_day": day, "slots": [], "next_free": None, "motive": motive}
    if motive is None:
        return context
    with suppress(ValueError, OverflowError):
        context["slots"] = [
            s.start.astimezone(zone).strftime("%H:%M")
            for s in selectors.free_slots(agenda=agenda, motive=motive, day=day, now=now)
        ]
        if not context["slots"]:
            found = selectors.next_free_slot(agenda=agenda, motive=motive, after=day, now=now)
            context["next_free"] = found.start.astimezone(zone) if found else None
    return context


def _value(form, name: str):
    return form.data.get(name) if form.is_bound else form.initial.get(name)


def _date_value(form) -> date | None:
    value = _value(form, "date")
    return value if isinstance(value, date) else _parse_day(str(value or ""))


@staff_view
def appointment_new(request):
    """Book by phone or at the desk. ``?agenda=&start=`` (a click in the calendar) or ``?file=``
    ("book for this patient") fill part of the form."""
    allowed = selectors.visible_agendas(request.user)
    if not allowed:
        raise Http404
    if request.method != "POST":
        return _new_page(request, allowed, *_new_initial(request, allowed))
    post = request.POST
    if "search" in post or "show_slots" in post or "show_day" in post:
        # Not a booking yet: the form comes back as it was typed, without errors.
        initial = post.dict()
        day = _parse_day(post.get("show_day", ""))
        if day is not None:
            initial.update(date=day, time="")
        found = None
        if "search" in post:
            found = _find_files(request, post.get("agenda"), post.get("query", ""))
        form = _new_form(request, initial=initial, allowed=allowed)
        return _new_page(request, allowed, form.initial, _posted_file(form), found=found)
    form = _new_form(request, data=post, allowed=allowed)
    cautions, confirm_value = None, ""
    if form.is_valid():
        data = form.cleaned_data
        agenda = data["agenda"]
        try:
            start = wall_to_instant(data["date"], data["time"], agenda.site.zone, field="time")
            confirm_value = start.isoformat()
            services.book_for_patient(
                user=request.user,
                agenda_id=agenda.pk,
                motive_id=data["motive"].pk,
                start=start,
                file_id=data["file"].pk if data.get("file") else None,
                new_patient=data.get("new_patient"),
                ip=client_ip(request),
                confirmed=parse_instant(data.get("confirmed")) == start,
            )
        except services.NeedsConfirmation as needed:
            cautions = needed.cautions
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, _("Appointment booked."))
            return redirect(_agenda_url(agenda.pk, data["date"]))
    return _new_page(
        request,
        allowed,
        None,
        form.chosen_file or _posted_file(form),
        form=form,
        cautions=cautions,
        confirm_value=confirm_value,
    )


def _new_initial(request, allowed) -> tuple[dict, PatientFile | None]:
    initial = {}
    preset_file = _preset_file(request)
    if preset_file is not None:
        allowed[:] = [a for a in allowed if a.organisation_id == preset_file.organisation_id]
        if not allowed:
            raise Http404
        initial.update(patient_kind="file", file=preset_file.pk)
    agenda_id = request.GET.get("agenda", "")
    agenda = next((a for a in allowed if a.pk == parse_id(agenda_id)), None)
    initial["agenda"] = agenda.pk if agenda else allowed[0].pk
    start = request.GET.get("start", "")
    if agenda and start:
        # A time that cannot be read only leaves the fields empty.
        with suppress(DomainError):
            local = selectors.from_wall(start, agenda.site.zone).astimezone(agenda.site.zone)
            initial.update(date=local.date(), time=f"{local:%H:%M}")
    zone = (agenda or allowed[0]).site.zone
    initial.setdefault("date", timezone.now().astimezone(zone).date())
    return initial, preset_file


def _new_page(request, allowed, initial, chosen_file, *, form=None, found=None, **extra):
    form = form or _new_form(request, initial=initial, allowed=allowed)
    return render(
        request,
        "practice/appointment_new.html",
        {
            "section": "agenda",
            "form": form,
            "found": found,
            "chosen_file": chosen_file,
            **extra,
            **_when_with_choice(form),
        },
    )


def _when_with_choice(form) -> dict:
    """``_when`` and the time to show as picked: a time that is not a free slot (a click in
    the calendar outside the openings) goes to "another time"."""
    when = _when(form)
    picked = str(_value(form, "time") or "")
    if picked and picked != NewAppointmentForm.OTHER and picked not in when.get("slots", []):
        if not form.is_bound:
            form.initial["other_time"] = picked
        picked = NewAppointmentForm.OTHER
    if not picked and not when.get("slots"):
        picked = NewAppointmentForm.OTHER
    return {**when, "picked_time": picked}


def _parse_day(text: str) -> date | None:
    return parse_date(text or "")


@require_GET
@staff_view
def appointment_slots(request):
    """The motive, date and free slots part of the new-appointment form (htmx swaps it in)."""
    # The agenda asked for is checked like any other (404 elsewhere, 403 not yours).
    agendas = selectors.chosen_agendas(request.user, _ids(request.GET.get("agenda", ""))[:1])
    form = _new_form(request, initial=request.GET.dict() | {"agenda": agendas[0].pk})
    return render(request, "practice/_when.html", {"form": form, **_when_with_choice(form)})


def _preset_file(request) -> PatientFile | None:
    file_id = parse_id(request.GET.get("file", ""))
    if file_id is None:
        return None
    return files.get_file(user=request.user, file_id=file_id)


def _posted_file(form) -> PatientFile | None:
    """The file chosen in a form sent back (a search, an error): still shown as chosen."""
    value, kind = _value(form, "file") or "", _value(form, "patient_kind")
    agenda = form.current_agenda
    file_id = parse_id(value)
    if file_id is None or agenda is None or kind == "new":
        return None
    return (
        PatientFile.objects.select_related("profile")
        .filter(pk=file_id, organisation_id=agenda.organisation_id)
        .first()
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
    path("rendez-vous/nouveau/", appointment_new, name="appointment_new"),
    path("rendez-vous/nouveau/patients/", file_picker, name="file_picker"),
    path("rendez-vous/nouveau/creneaux/", appointment_slots, name="appointment_slots"),
    path("rendez-vous/<id:pk>/", appointment_detail, name="appointment"),
    path("rendez-vous/<id:pk>/deplacer/", appointment_move, name="appointment_move"),
    path("rendez-vous/<id:pk>/annuler/", appointment_cancel, name="appointment_cancel"),
    path(
        "rendez-vous/<id:pk>/annuler-deplacement/",
        appointment_undo_move,
        name="appointment_undo_move",
    ),
    path("rendez-vous/<id:pk>/statut/", appointment_status, name="appointment_status"),
]
