"""The video consultation pages: the patient's (by their account or the signed link) and the
practitioner's. Both are the same call page, with a device test before the call; the WebSocket
does the rest (``consumers.py``)."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from consulto.core.device_check import device_texts
from consulto.practice.access import staff_view

from . import rooms


def _texts() -> dict:
    return {
        "connecting": _("Connecting…"),
        "waiting": _(
            "You are in the waiting room. The practitioner has been told you are here and will "
            "let you in."
        ),
        "patientWaiting": _("The patient is in the waiting room."),
        "patientAbsent": _("The patient has not arrived yet."),
        "connected": _("Connected."),
        "reconnecting": _("The connection is unsteady: reconnecting…"),
        "ended": _("The consultation is over. You can close this page."),
        "left": _("The other person left the call."),
        "refused": _("This consultation cannot be joined (closed, or not yours)."),
        "me": _("You"),
        "them": _("The other person"),
        "qualityGood": _("Call quality: good"),
        "qualityPoor": _("Call quality: poor (jitter or packet loss)"),
        "micOn": _("Mute the microphone"),
        "micOff": _("Unmute the microphone"),
        "camOn": _("Turn the camera off"),
        "camOff": _("Turn the camera on"),
    }


def _page(request, room, *, side: str, token: str = ""):
    appointment = room.appointment
    scheme = "wss" if request.is_secure() else "ws"
    query = f"?t={token}" if token else ""
    config = {
        "wsUrl": f"{scheme}://{request.get_host()}/ws/visio/{room.pk}/{query}",
        "side": side,
        "pingUrl": reverse("visio_ping"),
        "texts": _texts(),
    }
    return render(
        request,
        "teleconsultation/room.html",
        {
            "room": room,
            "appointment": appointment,
            "side": side,
            "config": config,
            "device_texts": device_texts(),
        },
    )


@never_cache
def patient_room(request, room_id: int):
    """The patient's page, from their appointment page (logged in)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    room = rooms.load_room(room_id)
    if room is None or rooms.side_of(request.user, room) != rooms.PATIENT:
        raise Http404
    return _page(request, room, side=rooms.PATIENT)


@never_cache
def link(request, token: str):
    """The patient's page from the signed link of the e-mail or SMS (no account needed)."""
    check = rooms.check_link(token)
    if check.room is None or check.reason:
        return render(
            request, "teleconsultation/link_refused.html", {"reason": check.reason}, status=410
        )
    return _page(request, check.room, side=rooms.PATIENT, token=token)


@never_cache
@staff_view
def practitioner_room(request, room_id: int):
    room = rooms.load_room(room_id)
    if room is None or rooms.side_of(request.user, room) != rooms.PRACTITIONER:
        raise Http404
    return _page(request, room, side=rooms.PRACTITIONER)


@never_cache
def ping(request):
    """The device test's network check: an empty answer, as fast as the server gives one."""
    return JsonResponse({"ok": True})


patient_urlpatterns = [
    path("visio/<int:room_id>/", patient_room, name="visio_patient"),
    path("visio/lien/<str:token>/", link, name="visio_link"),
    path("visio/ping/", ping, name="visio_ping"),
]
practice_urlpatterns = [
    path("visio/<int:room_id>/", practitioner_room, name="visio_practitioner"),
]
