"""Referrals between practitioners (adressage): a practitioner books, for one of their patients,
a slot of another practitioner or hospital department that is open to professionals, with a
referral letter, an urgency and a reason; the receiver lists and reads them, the sender follows
them.

The booking is an ordinary appointment (``scheduling.booking.book`` through the professionals'
door, ``visibility.PROFESSIONAL``) annotated by a ``scheduling.Referral``. The reason is health
data, encrypted at rest (``core.crypto``); the letter is a document of the *receiving*
organisation's file for that patient (``practice.files``). Every write and every read of the
reason or the letter leaves an audit event.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consulto.core import audit, crypto
from consulto.core.errors import InvalidInput
from consulto.core.time import require_aware
from consulto.directory.models import Membership, Organisation, Practitioner, Site
from consulto.directory.selectors import bounding_box, distance_km
from consulto.notifications import services as notify
from consulto.practice import files
from consulto.practice.models import PatientFile
from consulto.practice.permissions import Perm, agenda_ids, allows, staff_roles
from consulto.scheduling import booking, visibility
from consulto.scheduling.cache import slots_for_many
from consulto.scheduling.models import Agenda, Appointment, Motive, Referral

Action = audit.Action
Status = Appointment.Status
Urgency = Referral.Urgency
AUDIENCE = visibility.PROFESSIONAL
MAX_LETTER_BYTES = 5 * 1024 * 1024
MAX_REASON_CHARS = 4000
PDF_MAGIC = b"%PDF-"
SEARCH_DAYS = 28
RADIUS_KM = 30.0
CANDIDATES = 60  # agendas whose slots are read, the nearest first
SLOTS_SHOWN = 8
TAKEN = _("This slot has just been taken by someone else: choose another one.")


# Who may refer ---------------------------------------------------------------------------------


def referring_organisations(user) -> list[int]:
    """The organisations where ``user`` is a practitioner: only a practitioner refers."""
    roles = staff_roles(user)
    return sorted(o for o, held in roles.items() if Membership.Role.PRACTITIONER in held)


def may_refer(user) -> bool:
    return bool(referring_organisations(user))


def patients(*, user, query: str, limit: int = 20) -> list[PatientFile]:
    """The user's patients (files of the organisations where they practise) matching ``query``."""
    found: list[PatientFile] = []
    for organisation_id in referring_organisations(user):
        found += files.search_files(
            user=user, organisation_id=organisation_id, query=query, limit=limit
        )
    return found[:limit]


def patient_file(*, user, file_id: int) -> PatientFile:
    """A file of one of the user's organisations (404 otherwise) where they practise (403)."""
    file = files.get_file(user=user, file_id=file_id)
    if file.organisation_id not in referring_organisations(user):
        raise PermissionDenied
    return file


# Finding a slot --------------------------------------------------------------------------------


@dataclass
class Candidate:
    """One agenda open to professionals, with the motive offered and its next slots."""

    agenda: Agenda
    motive: Motive
    site: Site
    distance_km: float | None
    slots: list[datetime] = field(default_factory=list)  # in the site's zone

    @property
    def who(self) -> str:
        return agenda_label(self.agenda)

    @property
    def first(self) -> datetime | None:
        return self.slots[0] if self.slots else None


def agenda_label(agenda: Agenda) -> str:
    practitioner = agenda.practitioner
    name = practitioner.display_name if practitioner is not None else agenda.name
    if agenda.department_id is not None:
        name = f"{name} — {agenda.department.name}"
    return name


def find_slots(
    *,
    user,
    specialty: str = "",
    near: tuple[float, float] | None = None,
    now: datetime | None = None,
    days: int = SEARCH_DAYS,
    limit: int = 20,
) -> list[Candidate]:
    """Agendas of other practitioners and departments with a slot professionals may book in the
    next ``days`` days, soonest first then nearest; ``specialty`` is a specialty code (the
    practitioner's or the department's)."""
    now = now or timezone.now()
    agendas = (
        Agenda.objects.filter(is_active=True)
        .exclude(practitioner__user=user)
        .exclude(organisation__kind=Organisation.Kind.REGULATION_CENTRE)
        .select_related("site", "practitioner", "department", "organisation")
    )
    if specialty:
        agendas = agendas.filter(
            Q(practitioner__specialty__code=specialty) | Q(department__specialty__code=specialty)
        )
    distances: dict[int, float | None] = {}
    if near is None:
        chosen = list(agendas.order_by("pk")[:CANDIDATES])
    else:
        # The nearest within the radius, from plain rows; models for those only.
        lat0, lat1, lon0, lon1 = bounding_box(near[0], near[1], RADIUS_KM)
        rows = agendas.filter(
            site__latitude__range=(lat0, lat1), site__longitude__range=(lon0, lon1)
        ).values_list("pk", "site__latitude", "site__longitude")
        for pk, lat, lon in rows:
            distance = distance_km(near[0], near[1], lat, lon)
            if distance <= RADIUS_KM:
                distances[pk] = distance
        nearest = sorted(distances, key=lambda pk: (distances[pk], pk))[:CANDIDATES]
        by_id = agendas.in_bulk(nearest)
        chosen = [by_id[pk] for pk in nearest]
    motives = _professional_motives([a.pk for a in chosen])
    pairs = [(a, motives[a.pk]) for a in chosen if a.pk in motives]
    if not pairs:
        return []
    today = now.astimezone(pairs[0][0].zone).date()
    slots = slots_for_many(pairs, start=today, days=days, now=now, audience=AUDIENCE)
    found = []
    for agenda, motive in pairs:
        starts = [s.start.astimezone(agenda.zone) for s in slots.get(agenda.pk, [])]
        if starts:
            found.append(
                Candidate(
                    agenda, motive, agenda.site, distances.get(agenda.pk), starts[:SLOTS_SHOWN]
                )
            )
    found.sort(key=lambda c: (c.first, c.distance_km or 0.0, c.agenda.pk))
    return found[:limit]


def _professional_motives(agenda_ids_: list[int]) -> dict[int, Motive]:
    """Per agenda, its first active motive (by position) offered in an opening professionals
    see; home visits are not referred."""
    found: dict[int, Motive] = {}
    rows = (
        Motive.objects.filter(
            agenda_id__in=agenda_ids_,
            is_active=True,
            openings__visibility__in=sorted(AUDIENCE),
        )
        .exclude(mode=Motive.Mode.HOME)
        .distinct()
        .order_by("agenda_id", "position", "id")
    )
    for motive in rows:
        found.setdefault(motive.agenda_id, motive)
    return found


def slot_choice(*, agenda_id: int, motive_id: int) -> tuple[Agenda, Motive]:
    """The agenda and motive a referral names, both active (404 otherwise)."""
    agenda = (
        Agenda.objects.select_related("site", "practitioner", "department", "organisation")
        .filter(pk=agenda_id, is_active=True)
        .first()
    )
    motive = Motive.objects.filter(pk=motive_id, agenda_id=agenda_id, is_active=True).first()
    if agenda is None or motive is None:
        raise Http404
    return agenda, motive


# Referring -------------------------------------------------------------------------------------


def check_letter(content: bytes | None) -> None:
    """A letter is a PDF (by its first bytes, not its name) of at most 5 MB."""
    if content is None:
        return
    if len(content) > MAX_LETTER_BYTES:
        raise InvalidInput(_("The letter may be at most 5 MB."), field="letter")
    if not content.startswith(PDF_MAGIC):
        raise InvalidInput(_("The letter must be a PDF document."), field="letter")


def referrer_label(user, organisation: Organisation | None) -> str:
    """What the receiving practice reads: "Dr Anne Martin, Cabinet du Parc"."""
    practitioner = Practitioner.objects.filter(user=user).first()
    if practitioner is not None:
        name = practitioner.display_name
    else:
        name = f"{user.first_name} {user.last_name}".strip() or user.email
    return (f"{name}, {organisation.name}" if organisation is not None else name)[:255]


def refer(
    *,
    user,
    file_id: int,
    agenda_id: int,
    motive_id: int,
    start: datetime,
    urgency: str,
    reason: str,
    letter: bytes | None = None,
    letter_name: str = "",
    token: str = "",
    ip: str | None = None,
    now: datetime | None = None,
) -> Referral:
    """Book ``start`` for the file's patient on another practitioner's agenda and leave the
    referral (reason encrypted, letter filed in the receiving organisation's file), the
    patient's messages and the audit events in one transaction: all or nothing.

    ``token`` names one submission of the form: sent twice, it gives back the first referral.
    """
    require_aware(start, "start")
    file = patient_file(user=user, file_id=file_id)
    agenda, motive = slot_choice(agenda_id=agenda_id, motive_id=motive_id)
    if agenda.practitioner_id is not None and agenda.practitioner.user_id == user.pk:
        raise InvalidInput(_("Choose another practitioner's slot."), field="start")
    if urgency not in Urgency.values:
        raise InvalidInput(_("Choose the urgency."), field="urgency")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Say why you refer this patient."), field="reason")
    if len(reason) > MAX_REASON_CHARS:
        raise InvalidInput(_("The reason holds at most 4,000 characters."), field="reason")
    check_letter(letter)
    stored = None
    try:
        with booking.reservation():
            try:
                appointment = booking.book(
                    agenda=agenda,
                    motive=motive,
                    start=start,
                    patient=file.profile,
                    booked_by=user,
                    channel=Appointment.Channel.PRACTITIONER,
                    idempotency_key=f"adressage:{token}" if token else None,
                    audience=AUDIENCE,
                    now=now,
                )
            except booking.SlotTaken as taken:
                raise booking.SlotTaken(TAKEN) from taken
            if appointment.replayed:
                existing = Referral.objects.filter(appointment=appointment).first()
                if existing is not None:
                    return existing
            receiving = files.ensure_file(
                organisation_id=agenda.organisation_id,
                profile_id=file.profile_id,
                created_by_id=user.pk,
            )
            if letter is not None:
                stored = files.store_document(
                    file=receiving,
                    user=user,
                    name=_letter_name(letter_name),
                    content=letter,
                    ip=ip,
                )
            referral = Referral.objects.create(
                appointment=appointment,
                kind=Referral.Kind.PRACTITIONER,
                from_organisation=file.organisation,
                referrer_label=referrer_label(user, file.organisation),
                referred_by=user,
                reason=crypto.encrypt_text(reason),
                urgency=urgency,
                letter_document_id=stored.pk if stored is not None else None,
            )
            for organisation_id, patient_file_id in (
                (agenda.organisation_id, receiving.pk),
                (file.organisation_id, file.pk),
            ):
                audit.record(
                    actor=user,
                    action=Action.CREATE,
                    target_type="referral",
                    target_id=referral.pk,
                    organisation_id=organisation_id,
                    patient_file_id=patient_file_id,
                    ip=ip,
                )
            notify.appointment_booked(appointment=appointment)
    except BaseException:
        # The document row went with the transaction; its encrypted content on disk goes too.
        if stored is not None:
            (files.documents_dir() / f"{stored.storage_key}.bin").unlink(missing_ok=True)
        raise
    return referral


def _letter_name(name: str) -> str:
    clean = "".join(ch for ch in os.path.basename(name or "") if ch.isprintable()).strip()
    if not clean.lower().endswith(".pdf"):
        clean = f"{clean or 'courrier-adressage'}.pdf"
    return clean[:200]


# Following referrals ---------------------------------------------------------------------------


@dataclass
class Row:
    referral: Referral
    appointment: Appointment  # where it stands now (a referral follows its appointment's moves)
    status: str
    status_label: str

    @property
    def unread(self) -> bool:
        return self.referral.acknowledged_at is None

    @property
    def moved(self) -> bool:
        return self.appointment.rescheduled_from_id is not None

    @property
    def receiver(self) -> str:
        return agenda_label(self.appointment.agenda)


STATUS_LABELS = {
    "booked": _("Booked"),
    "acknowledged": _("Read by the receiver"),
    "arrived": _("In the waiting room"),
    "in_progress": _("In progress"),
    "seen": _("Seen"),
    "no_show": _("Did not come"),
    "cancelled": _("Cancelled"),
}


def status_of(referral: Referral, appointment: Appointment) -> str:
    if appointment.status in (Status.CANCELLED, Status.EXPIRED):
        return "cancelled"
    if appointment.status == Status.BOOKED:
        return "acknowledged" if referral.acknowledged_at else "booked"
    return appointment.status


def _rows(referrals: list[Referral]) -> list[Row]:
    rows = []
    for referral in referrals:
        appointment = referral.appointment
        code = status_of(referral, appointment)
        rows.append(Row(referral, appointment, code, str(STATUS_LABELS[code])))
    return rows


def _referrals():
    return Referral.objects.select_related(
        "appointment",
        "appointment__agenda",
        "appointment__agenda__site",
        "appointment__agenda__practitioner",
        "appointment__agenda__department",
        "appointment__agenda__organisation",
        "appointment__motive",
        "appointment__patient",
        "from_organisation",
    ).filter(kind=Referral.Kind.PRACTITIONER)


def incoming(*, user, unread_only: bool = False, limit: int = 200) -> list[Row]:
    """Referrals booked on the agendas the user may see, newest first."""
    found = _referrals().filter(appointment__agenda_id__in=agenda_ids(user))
    if unread_only:
        found = found.filter(acknowledged_at__isnull=True)
    return _rows(list(found.order_by("-created_at", "-pk")[:limit]))


def sent(*, user, limit: int = 200) -> list[Row]:
    """The referrals the user made, newest first."""
    found = _referrals().filter(referred_by=user)
    return _rows(list(found.order_by("-created_at", "-pk")[:limit]))


def unread_count(*, user) -> int:
    return (
        Referral.objects.filter(
            kind=Referral.Kind.PRACTITIONER,
            appointment__agenda_id__in=agenda_ids(user),
            acknowledged_at__isnull=True,
        )
        .exclude(appointment__status__in=(Status.CANCELLED, Status.EXPIRED))
        .count()
    )


@dataclass
class Incoming:
    row: Row
    reason: str
    file: PatientFile | None  # the receiving organisation's file for the patient
    letter_document_id: int | None  # None: no letter, or this user may not read documents


@transaction.atomic
def open_incoming(*, user, referral_id: int, ip: str | None = None) -> Incoming:
    """A referral received on one of the user's agendas (404 otherwise): marked read the first
    time, its reason decrypted; the read is audited in the receiving organisation."""
    found = _referrals().filter(pk=referral_id, appointment__agenda_id__in=agenda_ids(user))
    # The first reader marks it read; a second one at the same moment changes nothing.
    found.filter(acknowledged_at__isnull=True).update(acknowledged_at=timezone.now())
    referral = found.first()
    if referral is None:
        raise Http404
    agenda = referral.appointment.agenda
    file = PatientFile.objects.filter(
        organisation_id=agenda.organisation_id, profile_id=referral.appointment.patient_id
    ).first()
    audit.record(
        actor=user,
        action=Action.READ,
        target_type="referral",
        target_id=referral.pk,
        organisation_id=agenda.organisation_id,
        patient_file_id=file.pk if file else None,
        ip=ip,
    )
    letter = referral.letter_document_id
    if letter is not None and not allows(user, agenda.organisation_id, Perm.DOCUMENTS):
        letter = None
    [row] = _rows([referral])
    return Incoming(
        row=row, reason=crypto.decrypt_text(referral.reason) if referral.reason else "", file=file,
        letter_document_id=letter,
    )  # fmt: skip


@dataclass
class Sent:
    row: Row
    reason: str


@transaction.atomic
def open_sent(*, user, referral_id: int, ip: str | None = None) -> Sent:
    """One of the user's own referrals (404 otherwise), with the reason they wrote; the read is
    audited in their organisation."""
    referral = _referrals().filter(pk=referral_id, referred_by=user).first()
    if referral is None:
        raise Http404
    file = PatientFile.objects.filter(
        organisation_id=referral.from_organisation_id, profile_id=referral.appointment.patient_id
    ).first()
    audit.record(
        actor=user,
        action=Action.READ,
        target_type="referral",
        target_id=referral.pk,
        organisation_id=referral.from_organisation_id,
        patient_file_id=file.pk if file else None,
        ip=ip,
    )
    [row] = _rows([referral])
    return Sent(row=row, reason=crypto.decrypt_text(referral.reason) if referral.reason else "")
