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
from django.utils import timezone

from consulto.core.crypto import decrypt_text, encrypt_text
from consulto.scheduling import booking
from consulto.scheduling.models import Appointment, Motive

from . import quality
from .models import ChatMessage, Delegation, QualitySample, VideoRoom

OPENS_BEFORE = timedelta(minutes=15)
CLOSES_AFTER = timedelta(minutes=30)
LINK_SALT = "consulto.teleconsultation.join"
PATIENT, PRACTITIONER = QualitySample.Side.PATIENT, QualitySample.Side.PRACTITIONER


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


# Who may enter ----------------------------------------------------------------------------------


def active_delegation(user, appointment: Appointment, *, video: bool) -> Delegation | None:
    """The delegation letting ``user`` consult for the agenda's practitioner at that time."""
    practitioner = getattr(user, "practitioner", None)
    titular_id = appointment.agenda.practitioner_id
    if practitioner is None or titular_id is None:
        return None
    scopes = (
        [Delegation.Scope.AGENDA, Delegation.Scope.VIDEO] if video else [Delegation.Scope.AGENDA]
    )
    return (
        Delegation.objects.filter(
            titular_id=titular_id,
            substitute=practitioner,
            scope__in=scopes,
            starts_at__lte=appointment.start,
            ends_at__gt=appointment.start,
            revoked_at__isnull=True,
        )
        .order_by("-starts_at")
        .first()
    )


def side_of(user, room: VideoRoom) -> str | None:
    """ "patient", "practitioner" or None (not theirs)."""
    appointment = room.appointment
    if not getattr(user, "is_authenticated", False):
        return None
    agenda = appointment.agenda
    if agenda.practitioner is not None and agenda.practitioner.user_id == user.pk:
        return PRACTITIONER
    if active_delegation(user, appointment, video=True) is not None:
        return PRACTITIONER
    if appointment.patient is not None and appointment.patient.owner_id == user.pk:
        return PATIENT
    return None


def load_room(room_id: int) -> VideoRoom | None:
    return (
        VideoRoom.objects.select_related(
            "appointment__agenda__practitioner", "appointment__patient", "appointment__motive"
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
