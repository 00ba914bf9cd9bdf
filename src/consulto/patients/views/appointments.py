"""My appointments: upcoming and past, one appointment's page, cancelling and moving (each asked
to confirm first), and its calendar file."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from consulto.core.errors import DomainError
from consulto.core.inputs import query_date
from consulto.core.time import parse_instant
from consulto.notifications.ics import appointment_ics
from consulto.scheduling.models import Appointment
from consulto.teleconsultation import delegations, rooms

from .. import selectors, services


@login_required
@require_GET
def appointments(request):
    upcoming, past = selectors.my_appointments(request.user)
    return render(
        request,
        "patients/appointments.html",
        {"upcoming": upcoming, "past": past, "waiting": selectors.my_waitlist(request.user)},
    )


@login_required
@require_GET
def appointment(request, pk: int):
    found = my_appointment_or_404(request, pk)
    now = timezone.now()
    deadline = found.start - timedelta(hours=found.motive.cancellation_deadline_hours)
    return render(
        request,
        "patients/appointment.html",
        {
            "appointment": found,
            "now": now,
            "visio": _visio_state(found, now),
            **delegations.who_consults(found),
            "call_documents": rooms.documents_of(found),
            "upcoming": found.status == Appointment.Status.BOOKED and found.end > now,
            "deadline": deadline,
            "too_late": now > deadline,
        },
    )


def _visio_state(appointment: Appointment, now) -> rooms.RoomState | None:
    """Where the appointment's video room stands: the page offers to join only while one can."""
    room = rooms.room_of(appointment)
    return rooms.room_state(room, now=now) if room is not None else None


def my_appointment_or_404(request, pk: int) -> Appointment:
    found = selectors.my_appointment(request.user, pk)
    if found is None:
        raise Http404
    return found


@login_required
@require_http_methods(["GET", "POST"])
def cancel(request, pk: int):
    """GET asks to confirm with a summary of the appointment; POST cancels."""
    found = my_appointment_or_404(request, pk)
    if request.method == "GET":
        if found.status != Appointment.Status.BOOKED:
            return redirect("appointment", pk=pk)
        return render(request, "patients/cancel.html", {"appointment": found})
    try:
        services.cancel_appointment(user=request.user, appointment=found)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("Your appointment is cancelled; the slot is free for others."))
    return redirect("appointment", pk=pk)


@login_required
def move(request, pk: int):
    found = my_appointment_or_404(request, pk)
    if request.method == "POST":
        new_start = parse_instant(request.POST.get("start"))
        if new_start is None:
            raise BadRequest("start: not an instant")
        try:
            moved = services.move_appointment(
                user=request.user, appointment=found, new_start=new_start
            )
        except DomainError as error:
            messages.error(request, str(error.message))
            return redirect(reverse("move", args=[pk]) + f"?week={new_start.date().isoformat()}")
        messages.success(request, _("Your appointment is moved. The former time is free again."))
        return redirect("appointment", pk=moved.pk)
    if found.status != Appointment.Status.BOOKED:
        return redirect("appointment", pk=pk)
    if "start" in request.GET:
        # A time was chosen: say what changes and ask to confirm, nothing is moved yet.
        new_start = parse_instant(request.GET["start"])
        if new_start is None:
            raise Http404
        return render(
            request, "patients/move_confirm.html", {"appointment": found, "new_start": new_start}
        )
    found.motive.agenda = found.agenda
    now = timezone.now()
    # A patient moves within what a known patient sees (booking.reschedule).
    week = selectors.week_of_slots(
        motive=found.motive,
        week=query_date(request.GET, "week"),
        now=now,
        audience=selectors.patient_audience(request.user, found.agenda, now=now),
    )
    return render(request, "patients/move.html", {"appointment": found, "week": week})


@login_required
@require_GET
def calendar_file(request, pk: int):
    found = my_appointment_or_404(request, pk)
    response = HttpResponse(
        appointment_ics(found, method="PUBLISH"), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="consulto-{found.pk}.ics"'
    return response
