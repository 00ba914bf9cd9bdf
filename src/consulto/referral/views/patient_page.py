"""The page of an appointment for a patient without an account, opened by the signed link of
their SMS or e-mail: where, when, with whom, what to bring; cancel; join the video."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from consulto.core.errors import DomainError
from consulto.notifications.links import video_room_link
from consulto.scheduling.models import Appointment, Motive

from .. import patient_links, services
from .presenters import local_text


@require_http_methods(["GET", "POST"])
def appointment_page(request, token):
    found = patient_links.check(token)
    if found.appointment is None:
        return render(
            request,
            "referral/appointment_link_invalid.html",
            {"problem": found.problem},
            status=404,
        )
    appointment = found.appointment
    if request.method == "POST" and request.POST.get("action") == "cancel":
        try:
            services.cancel_from_link(appointment=appointment)
        except DomainError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, _("Your appointment is cancelled. The practice is told."))
        return redirect("appointment_page", token=token)
    motive, site = appointment.motive, appointment.agenda.site
    now = timezone.now()
    deadline = appointment.start - timedelta(hours=motive.cancellation_deadline_hours)
    is_video = motive.mode == Motive.Mode.VIDEO
    booked = appointment.status == Appointment.Status.BOOKED
    agenda = appointment.agenda
    return render(
        request,
        "referral/appointment_page.html",
        {
            "appointment": appointment,
            "token": token,
            "when": local_text(appointment.start, site.zone, "l j F Y H:i"),
            "who": agenda.practitioner.display_name if agenda.practitioner_id else agenda.name,
            "site": site,
            "is_video": is_video,
            "video_link": video_room_link(appointment) if is_video and booked else "",
            "booked": booked,
            "may_cancel": booked and now <= deadline,
            "deadline": local_text(deadline, site.zone, "l j F H:i"),
            "instructions": motive.instructions.strip(),
        },
    )


urlpatterns = [path("rdv/<str:token>/", appointment_page, name="appointment_page")]
