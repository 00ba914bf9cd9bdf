"""One appointment in the practice space: its page, moving it (by the form or by drag and drop,
with an undo), cancelling it with a reason, marking it arrived / in consultation / seen / absent."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from consulto.core.audit import client_ip
from consulto.core.errors import DomainError
from consulto.core.time import parse_instant, wall_to_instant
from consulto.scheduling.booking import STATUS_STEPS
from consulto.scheduling.models import Appointment

from .. import selectors, services
from ..access import staff_view
from ..forms import CancelForm, MoveForm
from ..models import PatientFile
from ..permissions import Perm, allows
from .agenda import _agenda_url

Status = Appointment.Status


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
            "referral": selectors.referral_for_staff(
                user=request.user, appointment=appointment, ip=client_ip(request)
            ),
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
    previous = services.moved_from_by(user=user, appointment=appointment)
    if (
        previous is None
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


urlpatterns = [
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
