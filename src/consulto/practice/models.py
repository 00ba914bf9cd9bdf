"""What a practice keeps: who works on which agenda, patient files with their encrypted notes and
documents, the practice's policy, and the secret calendar feeds of its agendas."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from consulto.directory.models import Organisation
from consulto.scheduling.models import Agenda, PatientProfile


class AgendaAssignment(models.Model):
    """A secretary works on the agendas she is assigned to, and on no other."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agenda_assignments"
    )
    agenda = models.ForeignKey(Agenda, on_delete=models.CASCADE, related_name="assignments")

    class Meta:
        verbose_name = _("agenda assignment")
        verbose_name_plural = _("agenda assignments")
        constraints = [models.UniqueConstraint(fields=["user", "agenda"], name="assignment_unique")]

    def __str__(self) -> str:
        return f"{self.user} → {self.agenda}"


class PracticePolicy(models.Model):
    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="practice_policy"
    )
    no_show_limit = models.PositiveSmallIntegerField(
        _("stop online booking after this many no-shows"),
        null=True,
        blank=True,
        help_text=_("Leave empty to never stop it."),
    )
    secretaries_manage_absences = models.BooleanField(
        _("secretaries manage absences and blocked periods"),
        default=True,
        db_default=True,
        help_text=_(
            "On the agendas they are assigned to. Unchecked: only the practitioner and the "
            "admins close an agenda for a period."
        ),
    )

    class Meta:
        verbose_name = _("practice policy")
        verbose_name_plural = _("practice policies")

    def __str__(self) -> str:
        return str(self.organisation)


class PatientFile(models.Model):
    """What one organisation keeps about one patient (dossier patient).

    The identity is the patient profile's: the patient's own when they booked online (only they
    change it), or one made by staff for a patient without an account (staff change it). The
    address is the practice's own, for every patient. Whether the patient may still book online
    here is a booking rule, kept by scheduling (``OnlineBookingStop``).
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="patient_files"
    )
    profile = models.ForeignKey(
        PatientProfile, on_delete=models.PROTECT, related_name="files", verbose_name=_("patient")
    )
    # The practice's record of where the patient lives (home visits, letters): kept here, for
    # every patient, with or without an account of their own.
    # (Defaults in the database too: rows written by raw SQL, as the demo does, get them.)
    address = models.CharField(_("address"), max_length=255, blank=True, default="", db_default="")
    postcode = models.CharField(_("postcode"), max_length=10, blank=True, default="", db_default="")
    city = models.CharField(_("city"), max_length=100, blank=True, default="", db_default="")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("patient file")
        verbose_name_plural = _("patient files")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "profile"], name="file_unique_patient")
        ]

    def __str__(self) -> str:
        return f"{self.profile} ({self.organisation})"


class FileNote(models.Model):
    """A practitioner's note. ``body`` is a Fernet token (core/crypto.py), never plain text."""

    file = models.ForeignKey(PatientFile, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"note {self.pk} of file {self.file_id}"


class FileDocument(models.Model):
    """A document in a patient file. Its name and content are encrypted; the content lives in
    the data directory (``documents/``) under a random name, never in a public folder."""

    class Kind(models.TextChoices):
        PDF = "application/pdf", "PDF"
        JPEG = "image/jpeg", "JPEG"
        PNG = "image/png", "PNG"

    file = models.ForeignKey(PatientFile, on_delete=models.CASCADE, related_name="documents")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    name = models.TextField(editable=False)  # encrypted file name
    content_type = models.CharField(max_length=32, choices=Kind.choices)
    size = models.PositiveIntegerField()
    storage_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"document {self.pk} of file {self.file_id}"


class AgendaFeed(models.Model):
    """A secret calendar address for one agenda. Only a hash of the token is kept; revoking it
    (or making a new one) stops the old address at once."""

    agenda = models.ForeignKey(Agenda, on_delete=models.CASCADE, related_name="feeds")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    with_patient_names = models.BooleanField(_("show patient names"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        constraints = [
            models.UniqueConstraint(
                fields=["agenda", "created_by"],
                condition=Q(revoked_at__isnull=True),
                name="feed_one_active_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"feed {self.pk} of {self.agenda}"
