"""Video rooms: who may enter, the signed join link, ICE servers, and the room's state changes.

Every state change is one transaction. The patient side is the appointment's patient profile's
account (or whoever holds the signed link sent for that appointment); the practitioner side is
the agenda's practitioner, or a substitute whose delegation covers the appointment.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from consulto.core import audit
from consulto.core.crypto import decrypt_text, encrypt_text
from consulto.core.errors import InvalidInput
from consulto.practice import files
from consulto.practice.permissions import Perm, allows
from consulto.scheduling import booking
from consulto.scheduling.models import Appointment, Motive

from . import delegations, quality
from .models import ChatMessage, QualitySample, SharedDocument, VideoRoom

OPENS_BEFORE = timedelta(minutes=15)
CLOSES_AFTER = timedelta(minutes=30)
LINK_SALT = "consulto.teleconsultation.join"
PATIENT, PRACTITIONER = QualitySample.Side.PATIENT, QualitySample.Side.PRACTITIONER


def group_of(room_id: int) -> str:
    """The channel-layer group of a room's connections (consumers.py)."""
    return f"room-{room_id}"


def ensure_room(appointment: Appointment) -> VideoRoom | None:
    """The room of a video appointment (made once); None for other modes."""
    if appointment.motive.mode != Motive.Mode.VIDEO:
        return None
    room, _created = VideoRoom.objects.get_or_create(appointment=appointment)
    return room


def is_open(appointment: Appointment, now: datetime | None = None) -> bool:
    """A room opens 15 minutes before the appointment and closes 30 minutes after its end."""
    now = now or timezone.now()
    return appointment.start - OPENS_BEFORE <= now <= appointment.end + CLOSES_AFTER


EARLY, OPEN, ENDED, CANCELLED = "early", "open", "ended", "cancelled"


@dataclass(frozen=True)
class RoomState:
    """Where a room stands, for the pages that show it and the WebSocket that lets people in:
    ``early`` (opens at ``opens_at``), ``open``, ``ended`` (the call was ended, the appointment
    is over, or its window has passed: the chat and documents stay readable) or ``cancelled``.
    """

    state: str
    opens_at: datetime
    closes_at: datetime

    @property
    def joinable(self) -> bool:
        return self.state == OPEN


def room_state(room: VideoRoom, *, now: datetime | None = None) -> RoomState:
    now = now or timezone.now()
    appointment = room.appointment
    opens_at, closes_at = appointment.start - OPENS_BEFORE, appointment.end + CLOSES_AFTER
    if appointment.status in Appointment.FREEING_STATUSES:
        state = CANCELLED
    elif (
        room.ended_at is not None
        or appointment.status in (Appointment.Status.SEEN, Appointment.Status.NO_SHOW)
        or now > closes_at
    ):
        state = ENDED
    elif now < opens_at:
        state = EARLY
    else:
        state = OPEN
    return RoomState(state, opens_at, closes_at)


def room_of(appointment: Appointment) -> VideoRoom | None:
    """The appointment's room, if it has one (without a query when already loaded)."""
    try:
        return appointment.video_room
    except VideoRoom.DoesNotExist:
        return None


# Who may enter ----------------------------------------------------------------------------------


def side_of(user, room: VideoRoom) -> str | None:
    """ "patient", "practitioner" or None (not theirs)."""
    appointment = room.appointment
    if not getattr(user, "is_authenticated", False):
        return None
    agenda = appointment.agenda
    if agenda.practitioner is not None and agenda.practitioner.user_id == user.pk:
        return PRACTITIONER
    if delegations.covering(user, appointment, video=True) is not None:
        return PRACTITIONER
    if appointment.patient is not None and appointment.patient.owner_id == user.pk:
        return PATIENT
    return None


def load_room(room_id: int) -> VideoRoom | None:
    """The room with what its pages and socket read of the appointment, in one query."""
    return (
        VideoRoom.objects.select_related(
            "appointment__agenda__practitioner",
            "appointment__agenda__site",
            "appointment__patient",
            "appointment__motive",
        )
        .filter(pk=room_id)
        .first()
    )


# The signed link --------------------------------------------------------------------------------


def join_link_token(room: VideoRoom) -> str:
    """A link for the patient, valid only around the appointment and only for this room."""
    appointment = room.appointment
    return signing.dumps(
        {"r": room.pk, "p": appointment.patient_id, "s": appointment.start.timestamp()},
        salt=LINK_SALT,
    )


def patient_link(appointment: Appointment) -> str:
    """The absolute link a video appointment's messages carry (``notifications.links``); its
    room is made if need be."""
    room = ensure_room(appointment)
    if room is None:
        return ""
    path = reverse("visio_link", args=[join_link_token(room)])
    return settings.CONSULTO_SITE_URL.rstrip("/") + path


@dataclass
class LinkCheck:
    room: VideoRoom | None
    reason: str = ""  # "", "invalid", "too_early", "expired", "moved", "cancelled"


def check_link(token: str, *, now: datetime | None = None) -> LinkCheck:
    try:
        data = signing.loads(token, salt=LINK_SALT)
    except signing.BadSignature:
        return LinkCheck(None, "invalid")
    room = load_room(int(data.get("r", 0)))
    if room is None or room.appointment.patient_id != data.get("p"):
        return LinkCheck(None, "invalid")
    appointment = room.appointment
    if appointment.start.timestamp() != data.get("s"):
        return LinkCheck(None, "moved")
    if appointment.status in Appointment.FREEING_STATUSES:
        return LinkCheck(None, "cancelled")
    now = now or timezone.now()
    if now < appointment.start - OPENS_BEFORE:
        return LinkCheck(room, "too_early")
    if now > appointment.end + CLOSES_AFTER:
        return LinkCheck(None, "expired")
    return LinkCheck(room)


# ICE servers ------------------------------------------------------------------------------------


def turn_credentials(user_key: str, *, now: float | None = None) -> tuple[str, str]:
    """coturn's REST scheme: the username carries its expiry, the password is its HMAC-SHA1
    under the shared secret, so coturn checks it without asking us."""
    expires = int((now or time.time()) + settings.CONSULTO_TURN_TTL)
    username = f"{expires}:{user_key}"
    digest = hmac.new(
        settings.CONSULTO_TURN_SECRET.encode(), username.encode(), hashlib.sha1
    ).digest()
    return username, base64.b64encode(digest).decode()


def ice_servers(user_key: str) -> list[dict]:
    servers = []
    if settings.CONSULTO_STUN_URLS:
        servers.append({"urls": list(settings.CONSULTO_STUN_URLS)})
    if settings.CONSULTO_TURN_URLS and settings.CONSULTO_TURN_SECRET:
        username, credential = turn_credentials(user_key)
        servers.append(
            {
                "urls": list(settings.CONSULTO_TURN_URLS),
                "username": username,
                "credential": credential,
            }
        )
    return servers


# The room's life --------------------------------------------------------------------------------


def patient_waiting(room: VideoRoom, *, now: datetime | None = None) -> VideoRoom:
    """The patient is in the waiting room (again, after a reload: the first time counts)."""
    now = now or timezone.now()
    with transaction.atomic():
        VideoRoom.objects.filter(pk=room.pk, waiting_since__isnull=True).update(waiting_since=now)
        appointment = room.appointment
        if appointment.status == Appointment.Status.BOOKED:
            booking.set_status(appointment=appointment, status=Appointment.Status.ARRIVED, by=None)
    room.refresh_from_db()
    return room


def _as_substitute(room: VideoRoom, by, action: str = audit.Action.UPDATE) -> None:
    """What a substitute does in a room is audited: done by them, on the titular's behalf."""
    appointment = room.appointment
    titular = appointment.agenda.practitioner
    if by is None or titular is None or titular.user_id in (None, by.pk):
        return
    audit.record(
        actor=by,
        on_behalf_of_id=titular.user_id,
        action=action,
        target_type="appointment",
        target_id=appointment.pk,
        organisation_id=appointment.agenda.organisation_id,
    )


def admit(room: VideoRoom, *, by, now: datetime | None = None) -> VideoRoom:
    now = now or timezone.now()
    with transaction.atomic():
        VideoRoom.objects.filter(pk=room.pk, admitted_at__isnull=True).update(
            admitted_at=now, admitted_by=by
        )
        appointment = Appointment.objects.get(pk=room.appointment_id)
        if appointment.status in (Appointment.Status.BOOKED, Appointment.Status.ARRIVED):
            booking.set_status(
                appointment=appointment, status=Appointment.Status.IN_PROGRESS, by=by
            )
        _as_substitute(room, by)
    room.refresh_from_db()
    return room


def end_call(room: VideoRoom, *, by, now: datetime | None = None) -> VideoRoom:
    """The practitioner ends the call: the appointment is seen."""
    now = now or timezone.now()
    with transaction.atomic():
        VideoRoom.objects.filter(pk=room.pk, ended_at__isnull=True).update(ended_at=now)
        appointment = Appointment.objects.get(pk=room.appointment_id)
        if appointment.status != Appointment.Status.SEEN:
            if appointment.status not in (
                Appointment.Status.IN_PROGRESS,
                Appointment.Status.ARRIVED,
            ):
                booking.set_status(
                    appointment=appointment, status=Appointment.Status.IN_PROGRESS, by=by
                )
            booking.set_status(appointment=appointment, status=Appointment.Status.SEEN, by=by)
        _as_substitute(room, by)
        room.refresh_from_db()
        quality.summarise(room)
    return room


def post_chat(room: VideoRoom, *, author, text: str) -> ChatMessage:
    return ChatMessage.objects.create(room=room, author=author, body=encrypt_text(text))


def chat_history(room: VideoRoom) -> list[dict]:
    """The room's chat so far, for a page (re)joining the call."""
    patient = room.appointment.patient
    patient_user = patient.owner_id if patient is not None else None

    def side(author_id) -> str:
        return PATIENT if author_id is None or author_id == patient_user else PRACTITIONER

    return [
        {"side": side(m.author_id), "text": decrypt_text(m.body), "at": m.created_at.isoformat()}
        for m in room.messages.all()
    ]


def record_stats(room: VideoRoom, *, user, side: str, stats: dict) -> QualitySample:
    return QualitySample.objects.create(room=room, user=user, side=side, **stats)


# The patient file beside the call ---------------------------------------------------------------


def patient_file(room: VideoRoom, *, by, ip=None) -> files.FileView | None:
    """The patient's file at the practice, for the call's practitioner, read by the practice's
    own rules and audited as the file page is; None when the user has no access to the
    practice's files (a substitute from elsewhere) or the appointment has no patient."""
    appointment = room.appointment
    organisation_id = appointment.agenda.organisation_id
    if appointment.patient_id is None or not allows(by, organisation_id, Perm.FILES):
        return None
    file = files.ensure_file(organisation_id=organisation_id, profile_id=appointment.patient_id)
    return files.open_file(user=by, file_id=file.pk, ip=ip)


def add_note(room: VideoRoom, *, by, text: str, ip=None):
    """A note in the patient's file, written during the call (the practice's rules apply:
    practitioners only)."""
    appointment = room.appointment
    if appointment.patient_id is None:
        raise InvalidInput(_("This appointment has no patient file."), field="text")
    file = files.ensure_file(
        organisation_id=appointment.agenda.organisation_id, profile_id=appointment.patient_id
    )
    return files.add_note(user=by, file_id=file.pk, text=text, ip=ip)


# Documents sent during the call ------------------------------------------------------------------


def send_document(room: VideoRoom, *, by, name: str, content: bytes, ip=None) -> SharedDocument:
    """The practitioner (or their substitute) sends a document: it goes, encrypted, into the
    patient's file at the practice, and the patient may download it. One transaction; the call
    hears of it once committed."""
    appointment = room.appointment
    if appointment.patient_id is None:
        raise InvalidInput(_("This appointment has no patient to send to."), field="document")
    titular = appointment.agenda.practitioner
    on_behalf_of_id = (
        titular.user_id if titular is not None and titular.user_id not in (None, by.pk) else None
    )
    with transaction.atomic():
        file = files.ensure_file(
            organisation_id=appointment.agenda.organisation_id, profile_id=appointment.patient_id
        )
        document = files.store_document(
            file=file, user=by, name=name, content=content, ip=ip, on_behalf_of_id=on_behalf_of_id
        )
        shared = SharedDocument.objects.create(room=room, document=document, sent_by=by)
        message = _document_message(shared, name=files.document_name(document))
        transaction.on_commit(lambda: _tell_room(room.pk, message))
    return shared


def _document_message(shared: SharedDocument, *, name: str) -> dict:
    return {
        "type": "document",
        "id": shared.document_id,
        "name": name,
        "size": shared.document.size,
        "at": shared.sent_at.isoformat(),
    }


def shared_documents(room: VideoRoom) -> list[dict]:
    """What was sent in this call so far, for a page (re)joining it."""
    return [
        _document_message(shared, name=files.document_name(shared.document))
        for shared in room.documents.select_related("document")
    ]


def documents_of(appointment: Appointment) -> list[dict]:
    """The documents of an appointment's call, each with its download address (patient pages)."""
    room = VideoRoom.objects.filter(appointment=appointment).first()
    if room is None:
        return []
    return [
        {**d, "url": reverse("visio_document", args=[room.pk, d["id"]])}
        for d in shared_documents(room)
    ]


def shared_document(room: VideoRoom, document_id: int) -> SharedDocument | None:
    return room.documents.select_related("document__file").filter(document_id=document_id).first()


def download_shared(shared: SharedDocument, *, by, ip=None) -> tuple[str, str, bytes]:
    """The document's name, type and content for the patient (or the call's practitioner),
    audited as a download of the patient file."""
    document = shared.document
    with transaction.atomic():
        audit.record(
            actor=by if getattr(by, "is_authenticated", False) else None,
            action=audit.Action.DOWNLOAD,
            target_type="document",
            target_id=document.pk,
            organisation_id=document.file.organisation_id,
            patient_file_id=document.file_id,
            ip=ip,
        )
        return files.document_content(document)


def _tell_room(room_id: int, message: dict) -> None:
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(
            group_of(room_id), {"type": "room.relay", "sender": "", "message": message}
        )
