"""The video consultation pages: the patient's (by their account or the signed link) and the
practitioner's. Both are the same call page, with a device test before the call; the WebSocket
does the rest (``consumers.py``)."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from urllib.parse import quote

from csp.decorators import csp_update
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from consulto.core.audit import client_ip
from consulto.core.device_check import device_texts
from consulto.core.errors import DomainError
from consulto.practice import files
from consulto.practice.access import staff_view
from consulto.practice.forms import NoteForm

from . import delegations, rooms
from .replacement_views import replacements

# The first steps of joining (the room's socket, the camera) start from the page's head, inline:
# fetched, the script waited for its request and for the stylesheets before it (100 to 300 ms on
# a busy machine, bench/visio_join.py). The pages' policy allows exactly this script, by its
# hash; no other inline script runs.
START_SCRIPT = (Path(__file__).parent / "templates/teleconsultation/_visio_start.js").read_text(
    encoding="utf-8"
)
_START_DIGEST = base64.b64encode(hashlib.sha256(START_SCRIPT.encode()).digest()).decode()
with_start_script = csp_update({"script-src": [f"'sha256-{_START_DIGEST}'"]})


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
        "ended": _(
            "The consultation is over. The messages and the documents stay available on this "
            "page and on the appointment page."
        ),
        "offline": _("Cannot reach Consulto: check your connection. Trying again…"),
        "opening": _("The room is opening…"),
        "fileFailed": _("The patient file could not be loaded or saved. Try again."),
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
        "chooseFile": _("Choose a file first."),
        "kilobytes": _("%(n)s KB"),
        "sendFailed": _("The document could not be sent. Try again."),
    }


def _page(request, room, *, side: str, token: str = ""):
    appointment = room.appointment
    state = rooms.room_state(room)
    scheme = "wss" if request.is_secure() else "ws"
    query = f"?t={token}" if token else ""
    documents_url = reverse("visio_documents", args=[room.pk])
    config = {
        "state": state.state,
        # The page opens itself when the room does: counted on the browser's own clock.
        "opensInSeconds": max(0, int((state.opens_at - timezone.now()).total_seconds())),
        "wsUrl": f"{scheme}://{request.get_host()}/ws/visio/{room.pk}/{query}",
        "side": side,
        "pingUrl": reverse("visio_ping"),
        "documentsUrl": documents_url,
        "token": token,
        "sendUrl": reverse("visio_send_document", args=[room.pk])
        if side == rooms.PRACTITIONER
        else "",
        "fileUrl": reverse("visio_patient_file", args=[room.pk])
        if side == rooms.PRACTITIONER
        else "",
        "texts": _texts(),
    }
    user = request.user if request.user.is_authenticated else None
    context = {
        "room": room,
        "appointment": appointment,
        "side": side,
        "state": state,
        "config": config,
        **delegations.who_consults(appointment),
    }
    if state.state == rooms.ENDED:
        # What the call leaves: its messages and its documents, readable after it.
        context["transcript"] = rooms.chat_history(room)
        context["documents"] = [
            {**d, "url": f"{documents_url}{d['id']}/{query}"} for d in rooms.shared_documents(room)
        ]
    if state.state == rooms.OPEN:
        context["start_script"] = mark_safe(START_SCRIPT)  # our own file, as it is
    if state.state in (rooms.EARLY, rooms.OPEN):
        context["device_texts"] = device_texts()
        # The device test checks the relay with the same kind of credentials the call gets.
        context["ice_servers"] = rooms.ice_servers(f"u{user.pk}" if user else f"r{room.pk}")
    return render(request, "teleconsultation/room.html", context)


@never_cache
@with_start_script
def patient_room(request, room_id: int):
    """The patient's page, from their appointment page (logged in)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    room = rooms.load_room(room_id)
    if room is None or rooms.side_of(request.user, room) != rooms.PATIENT:
        raise Http404
    return _page(request, room, side=rooms.PATIENT)


@never_cache
@with_start_script
def link(request, token: str):
    """The patient's page from the signed link of the e-mail or SMS (no account needed)."""
    check = rooms.check_link(token)
    if check.reason == "too_early":  # the page says when, and opens itself then
        return _page(request, check.room, side=rooms.PATIENT, token=token)
    if check.room is None or check.reason:
        return render(
            request, "teleconsultation/link_refused.html", {"reason": check.reason}, status=410
        )
    return _page(request, check.room, side=rooms.PATIENT, token=token)


def _practitioners_room(request, room_id: int):
    room = rooms.load_room(room_id)
    if room is None or rooms.side_of(request.user, room) != rooms.PRACTITIONER:
        raise Http404
    return room


@never_cache
@staff_view
@with_start_script
def practitioner_room(request, room_id: int):
    return _page(request, _practitioners_room(request, room_id), side=rooms.PRACTITIONER)


@never_cache
@staff_view
def patient_file(request, room_id: int):
    """The patient file beside the call (a fragment the call page loads when the practitioner
    opens it): read and audited as the file page is; a note added without leaving the call."""
    room = _practitioners_room(request, room_id)
    ip = client_ip(request)
    form, saved = NoteForm(), False
    if request.method == "POST":
        form = NoteForm(request.POST)
        if form.is_valid():
            try:
                rooms.add_note(room, by=request.user, text=form.cleaned_data["text"], ip=ip)
            except DomainError as error:
                form.add_error("text", str(error.message))
            else:
                form, saved = NoteForm(), True
        if request.headers.get("X-Requested-With") != "fetch":  # a browser without scripts
            if saved:
                messages.success(request, _("Note saved."))
            return redirect("visio_practitioner", room_id=room.pk)
    return render(
        request,
        "teleconsultation/_patient_file.html",
        {
            "room": room,
            "view": rooms.patient_file(room, by=request.user, ip=ip),
            "note_form": form,
            "saved": saved,
        },
        status=422 if form.errors else 200,
    )


@never_cache
@require_POST
@staff_view
def send_document(request, room_id: int):
    """The practitioner sends a document (PDF, JPEG, PNG) to the patient during the call."""
    room = rooms.load_room(room_id)
    if room is None or rooms.side_of(request.user, room) != rooms.PRACTITIONER:
        raise Http404
    upload = request.FILES.get("document")
    if upload is None:
        return JsonResponse({"error": "invalid", "message": _("Choose a file first.")}, status=422)
    if upload.size > files.MAX_DOCUMENT_BYTES:
        return JsonResponse(
            {"error": "invalid", "message": _("A document may be at most 10 MB.")}, status=422
        )
    try:
        shared = rooms.send_document(
            room, by=request.user, name=upload.name, content=upload.read(), ip=client_ip(request)
        )
    except DomainError as error:
        return JsonResponse(
            {"error": error.code, "message": str(error.message)}, status=error.status
        )
    return JsonResponse({"id": shared.document_id}, status=201)


def _room_of_caller(request, room_id: int):
    """The room, for its patient (their account or the call's signed link ``?t=``) or its
    practitioner; 404 for anyone else."""
    room = rooms.load_room(room_id)
    if room is None:
        raise Http404
    if rooms.side_of(request.user, room) is None:
        check = rooms.check_link(request.GET.get("t", ""))
        if check.room is None or check.room.pk != room.pk or check.reason:
            raise Http404
    return room


@never_cache
def document_list(request, room_id: int):
    """The documents sent in the call so far (the call page adds the ones sent later live)."""
    room = _room_of_caller(request, room_id)
    return JsonResponse({"documents": rooms.shared_documents(room)})


@never_cache
def document(request, room_id: int, document_id: int):
    """A document sent in the call: a download of the patient file, audited."""
    room = _room_of_caller(request, room_id)
    shared = rooms.shared_document(room, document_id)
    if shared is None:
        raise Http404
    name, content_type, content = rooms.download_shared(
        shared, by=request.user, ip=client_ip(request)
    )
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name, safe='')}"
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@never_cache
def ping(request):
    """The device test's network check: an empty answer, as fast as the server gives one."""
    return JsonResponse({"ok": True})


patient_urlpatterns = [
    path("visio/<id:room_id>/", patient_room, name="visio_patient"),
    path("visio/lien/<str:token>/", link, name="visio_link"),
    path("visio/ping/", ping, name="visio_ping"),
    path("visio/<id:room_id>/documents/", document_list, name="visio_documents"),
    path("visio/<id:room_id>/documents/<id:document_id>/", document, name="visio_document"),
]
practice_urlpatterns = [
    path("visio/<id:room_id>/", practitioner_room, name="visio_practitioner"),
    path("remplacements/", replacements, name="replacements"),
    path("visio/<id:room_id>/document/", send_document, name="visio_send_document"),
    path("visio/<id:room_id>/dossier/", patient_file, name="visio_patient_file"),
]
