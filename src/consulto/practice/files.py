"""Patient files (dossiers patients): who may open them, their encrypted notes and documents,
and the audit event that every read and write leaves.

Encrypted at rest (core/crypto.py, Fernet with rotatable keys): a note's text, a document's name
and a document's content. Not encrypted: the patient's identity and contact (the profile), the
file's flags, the notes' and documents' dates, authors, types and sizes (needed to list and
search them).
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from consulto.core import audit, crypto
from consulto.core.errors import InvalidInput
from consulto.core.time import parse_date
from consulto.directory.models import Organisation
from consulto.scheduling import events, rules
from consulto.scheduling.models import Appointment, OnlineBookingStop, PatientProfile
from consulto.scheduling.selectors import online_booking_stopped

from .models import FileDocument, FileNote, PatientFile, PracticePolicy
from .permissions import Perm, allows, check_organisation, organisations_with, staff_roles

Action = audit.Action
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
# What a document's first bytes must be for its declared type: the name and the browser's word
# are not trusted.
SIGNATURES = {
    FileDocument.Kind.PDF: (b"%PDF-",),
    FileDocument.Kind.JPEG: (b"\xff\xd8\xff",),
    FileDocument.Kind.PNG: (b"\x89PNG\r\n\x1a\n",),
}


def documents_dir() -> Path:
    path = settings.DATA_DIR / "documents"
    path.mkdir(parents=True, exist_ok=True)
    return path


# Files ------------------------------------------------------------------------------------------


def ensure_file(
    *, organisation_id: int, profile_id: int, created_by_id: int | None = None
) -> PatientFile:
    """The organisation's file for this patient, opened on their first appointment there."""
    found = PatientFile.objects.filter(organisation_id=organisation_id, profile_id=profile_id)
    existing = found.first()
    if existing is not None:
        return existing
    with transaction.atomic():
        created, made = PatientFile.objects.get_or_create(
            organisation_id=organisation_id,
            profile_id=profile_id,
            defaults={"created_by_id": created_by_id},
        )
        if made:
            events.file_opened(organisation_id=organisation_id, profile_id=profile_id)
    return created


def open_file_if_missing(
    *,
    organisation_id: int,
    profile_id: int,
    created_by_id: int | None = None,
    announce: bool = False,
) -> None:
    """Open the organisation's file for this patient unless it has one: a single INSERT that
    the file's unique constraint turns into nothing when it exists (no read before it, no
    savepoint), cheap enough for every booking's transaction. ``announce``: tell a new file
    to the apps that listen for the organisation's (``scheduling.events``); when one does, a
    read first tells whether this file is new."""
    watched = announce and events.watched_file_openings(organisation_id)
    if (
        watched
        and PatientFile.objects.filter(
            organisation_id=organisation_id, profile_id=profile_id
        ).exists()
    ):
        return
    PatientFile.objects.bulk_create(
        [
            PatientFile(
                organisation_id=organisation_id,
                profile_id=profile_id,
                created_by_id=created_by_id,
            )
        ],
        ignore_conflicts=True,
    )
    if watched:
        events.file_opened(organisation_id=organisation_id, profile_id=profile_id)


def get_file(*, user, file_id: int, perm: Perm = Perm.FILES) -> PatientFile:
    file = (
        PatientFile.objects.select_related("profile", "profile__owner", "organisation")
        .filter(pk=file_id)
        .first()
    )
    if file is None or file.organisation_id not in staff_roles(user):
        raise Http404
    check_organisation(user, file.organisation_id, perm)
    return file


@dataclass
class FileView:
    file: PatientFile
    appointments: list[Appointment]
    no_shows: int
    online_booking_stopped: bool
    related: list[PatientFile]
    notes: list[tuple[FileNote, str]] | None  # None: this user may not read notes
    documents: list[tuple[FileDocument, str]] | None


@transaction.atomic
def open_file(*, user, file_id: int, ip: str | None = None) -> FileView:
    """Everything the user may see of a file; each part read leaves its audit event."""
    file = get_file(user=user, file_id=file_id)
    _audit(user, Action.READ, "patient_file", file.pk, file, ip)
    appointments = list(
        Appointment.objects.select_related("motive", "agenda")
        .filter(patient_id=file.profile_id, agenda__organisation_id=file.organisation_id)
        .exclude(status__in=[Appointment.Status.HELD, Appointment.Status.EXPIRED])
        .order_by("-start")[:200]
    )
    no_shows = sum(1 for a in appointments if a.status == Appointment.Status.NO_SHOW)
    notes = documents = None
    if allows(user, file.organisation_id, Perm.NOTES):
        notes = [
            (note, crypto.decrypt_text(note.body))
            for note in file.notes.select_related("author").all()
        ]
        if notes:
            _audit(user, Action.READ, "notes", file.pk, file, ip)
    if allows(user, file.organisation_id, Perm.DOCUMENTS):
        documents = [
            (document, crypto.decrypt_text(document.name))
            for document in file.documents.select_related("uploaded_by").all()
        ]
    return FileView(
        file=file,
        appointments=appointments,
        no_shows=no_shows,
        online_booking_stopped=online_booking_stopped(
            profile_id=file.profile_id, organisation_id=file.organisation_id
        ),
        related=related_files(file),
        notes=notes,
        documents=documents,
    )


def related_files(file: PatientFile) -> list[PatientFile]:
    """The files of the same account's other people (a parent and their children) here."""
    owner_id = file.profile.owner_id
    if owner_id is None:
        return []
    return list(
        PatientFile.objects.select_related("profile")
        .filter(organisation_id=file.organisation_id, profile__owner_id=owner_id)
        .exclude(pk=file.pk)
        .order_by("profile__birth_date")
    )


def search_files(*, user, organisation_id: int, query: str = "", limit: int = 50):
    """Files of the organisation matching a name, a phone number or a birth date (dd/mm/yyyy),
    each with ``online_booking_stopped``."""
    check_organisation(user, organisation_id, Perm.FILES)
    files = (
        PatientFile.objects.select_related("profile")
        .filter(organisation_id=organisation_id)
        .annotate(
            online_booking_stopped=Exists(
                OnlineBookingStop.objects.filter(
                    organisation_id=OuterRef("organisation_id"), profile_id=OuterRef("profile_id")
                )
            )
        )
    )
    for word in query.split()[:4]:
        birth = _parse_birth_date(word)
        digits = "".join(c for c in word if c.isdigit())
        condition = Q(profile__last_name__icontains=word) | Q(profile__first_name__icontains=word)
        if birth:
            condition |= Q(profile__birth_date=birth)
        if len(digits) >= 4 and not birth:
            condition |= Q(profile__phone__contains=digits[-8:])
        files = files.filter(condition)
    return list(files.order_by("profile__last_name", "profile__first_name", "pk")[:limit])


def _parse_birth_date(word: str) -> date | None:
    parts = word.replace("-", "/").split("/")
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() for p in parts):
        return None
    year, month, day = parts if len(parts[0]) == 4 else reversed(parts)
    return parse_date(f"{year:0>4}-{month:0>2}-{day:0>2}")


IDENTITY_FIELDS = ("first_name", "last_name", "birth_date", "phone", "email", "ins")
ADDRESS_FIELDS = ("address", "postcode", "city")


@transaction.atomic
def create_file(
    *, user, organisation_id: int, identity: dict, address: dict | None = None, ip=None
):
    """A file for a patient without an account (booked by phone, walked in)."""
    check_organisation(user, organisation_id, Perm.FILES)
    profile = PatientProfile.objects.create(
        owner=None, **{k: v for k, v in identity.items() if k in IDENTITY_FIELDS}
    )
    file = PatientFile.objects.create(
        organisation_id=organisation_id,
        profile=profile,
        created_by=user,
        **{k: v for k, v in (address or {}).items() if k in ADDRESS_FIELDS},
    )
    audit.record(
        actor=user,
        action=Action.CREATE,
        target_type="patient_file",
        target_id=file.pk,
        organisation_id=organisation_id,
        patient_file_id=file.pk,
        ip=ip,
    )
    events.file_opened(organisation_id=organisation_id, profile_id=profile.pk)
    return file


@transaction.atomic
def update_identity(
    *, user, file_id: int, identity: dict | None, address: dict | None = None, ip=None
):
    """Correct the identity and contact of a patient without an account, and the address the
    practice keeps (for every patient: one with an account manages the rest themself)."""
    file = get_file(user=user, file_id=file_id)
    if identity and file.profile.owner_id is not None:
        raise InvalidInput(
            _("This patient manages their identity from their own account."), field="last_name"
        )
    for name in IDENTITY_FIELDS:
        if identity and name in identity:
            setattr(file.profile, name, identity[name])
    if identity:
        file.profile.save()
    changed = [k for k in ADDRESS_FIELDS if address and k in address]
    for name in changed:
        setattr(file, name, address[name])
    if changed:
        file.save(update_fields=changed)
    _audit(user, Action.UPDATE, "patient_file", file.pk, file, ip)
    return file


@transaction.atomic
def set_online_booking(*, user, file_id: int, allowed: bool, ip: str | None = None):
    """Open or stop online booking for the file's patient here (the rule is scheduling's)."""
    file = get_file(user=user, file_id=file_id)
    rules.set_online_booking(
        organisation_id=file.organisation_id, profile_id=file.profile_id, allowed=allowed
    )
    _audit(user, Action.UPDATE, "patient_file", file.pk, file, ip)
    return file


def apply_no_show_policy(*, organisation_id: int, profile_id: int) -> bool:
    """After a no-show: stop online booking once the organisation's limit is reached."""
    limit = (
        PracticePolicy.objects.filter(organisation_id=organisation_id)
        .values_list("no_show_limit", flat=True)
        .first()
    )
    if not limit:
        return False
    count = Appointment.objects.filter(
        patient_id=profile_id,
        agenda__organisation_id=organisation_id,
        status=Appointment.Status.NO_SHOW,
    ).count()
    if count < limit:
        return False
    ensure_file(organisation_id=organisation_id, profile_id=profile_id)
    rules.set_online_booking(organisation_id=organisation_id, profile_id=profile_id, allowed=False)
    return True


def no_show_counts(*, organisation_id: int, profile_ids) -> dict[int, int]:
    rows = (
        Appointment.objects.filter(
            patient_id__in=list(profile_ids),
            agenda__organisation_id=organisation_id,
            status=Appointment.Status.NO_SHOW,
        )
        .values("patient_id")
        .annotate(n=Count("id"))
    )
    return {r["patient_id"]: r["n"] for r in rows}


# Notes and documents ----------------------------------------------------------------------------


@transaction.atomic
def add_note(*, user, file_id: int, text: str, ip: str | None = None) -> FileNote:
    file = get_file(user=user, file_id=file_id, perm=Perm.NOTES)
    text = text.strip()
    if not text:
        raise InvalidInput(_("Write the note first."), field="text")
    if len(text) > 20_000:
        raise InvalidInput(_("A note holds at most 20,000 characters."), field="text")
    note = FileNote.objects.create(file=file, author=user, body=crypto.encrypt_text(text))
    _audit(user, Action.CREATE, "note", note.pk, file, ip)
    return note


def add_document(*, user, file_id: int, name: str, content: bytes, ip: str | None = None):
    """Check the type by its first bytes and the size, encrypt, store; all or nothing."""
    file = get_file(user=user, file_id=file_id, perm=Perm.DOCUMENTS)
    return store_document(file=file, user=user, name=name, content=content, ip=ip)


def store_document(
    *, file: PatientFile, user, name: str, content: bytes, ip=None, on_behalf_of_id=None
) -> FileDocument:
    """The document checked, encrypted and stored in ``file``, audited; for callers that have
    already decided the user may (``add_document``; the practitioner of a video call)."""
    if not content:
        raise InvalidInput(_("The file is empty."), field="document")
    if len(content) > MAX_DOCUMENT_BYTES:
        raise InvalidInput(_("A document may be at most 10 MB."), field="document")
    kind = next(
        (k for k, marks in SIGNATURES.items() if any(content.startswith(m) for m in marks)), None
    )
    if kind is None:
        raise InvalidInput(_("Only PDF, JPEG and PNG documents are accepted."), field="document")
    clean_name = os.path.basename(name or "").strip()[:200] or "document"
    key = uuid.uuid4()
    path = documents_dir() / f"{key}.bin"
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(crypto.encrypt(content))
    try:
        with transaction.atomic():
            document = FileDocument.objects.create(
                file=file,
                uploaded_by=user,
                name=crypto.encrypt_text(clean_name),
                content_type=kind,
                size=len(content),
                storage_key=key,
            )
            _audit(user, Action.CREATE, "document", document.pk, file, ip, on_behalf_of_id)
            os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        path.unlink(missing_ok=True)
        raise
    return document


def document_name(document: FileDocument) -> str:
    return crypto.decrypt_text(document.name)


def document_content(document: FileDocument) -> tuple[str, str, bytes]:
    """(name, content type, content) decrypted, for callers that have checked who asks."""
    content = crypto.decrypt((documents_dir() / f"{document.storage_key}.bin").read_bytes())
    return crypto.decrypt_text(document.name), document.content_type, content


@transaction.atomic
def read_document(*, user, document_id: int, ip: str | None = None):
    """(name, content type, content) of a document, for authorised staff only; audited."""
    document = FileDocument.objects.select_related("file").filter(pk=document_id).first()
    if document is None or document.file.organisation_id not in staff_roles(user):
        raise Http404
    check_organisation(user, document.file.organisation_id, Perm.DOCUMENTS)
    _audit(user, Action.DOWNLOAD, "document", document.pk, document.file, ip)
    return document_content(document)


def rotate_keys(*, progress=None) -> tuple[int, int]:
    """Re-encrypt every note and document with the newest key; returns (notes, documents)."""
    notes = documents = 0
    for note in FileNote.objects.only("pk", "body").iterator(chunk_size=500):
        FileNote.objects.filter(pk=note.pk).update(
            body=crypto.rotate(note.body.encode()).decode("ascii")
        )
        notes += 1
    for document in FileDocument.objects.only("pk", "name", "storage_key").iterator(chunk_size=200):
        path = documents_dir() / f"{document.storage_key}.bin"
        temporary = path.with_suffix(".rotating")
        temporary.write_bytes(crypto.rotate(path.read_bytes()))
        os.replace(temporary, path)
        FileDocument.objects.filter(pk=document.pk).update(
            name=crypto.rotate(document.name.encode()).decode("ascii")
        )
        documents += 1
        if progress:
            progress(documents)
    return notes, documents


def organisations_of(user, perm: Perm = Perm.FILES) -> list[Organisation]:
    return list(Organisation.objects.filter(pk__in=organisations_with(user, perm)).order_by("name"))


def _audit(
    user, action, target_type, target_id, file: PatientFile, ip, on_behalf_of_id=None
) -> None:
    audit.record(
        actor=user,
        on_behalf_of_id=on_behalf_of_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        organisation_id=file.organisation_id,
        patient_file_id=file.pk,
        ip=ip,
    )
