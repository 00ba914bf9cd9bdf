"""Video consultations: a room per video appointment, its chat, its call-quality figures, and the
delegations that let a substitute consult for a titular practitioner."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from consulto.directory.models import Practitioner
from consulto.scheduling.models import Appointment


class VideoRoom(models.Model):
    """One per video appointment. The waiting room is the state between the patient's arrival
    and the practitioner's admission."""

    appointment = models.OneToOneField(
        Appointment, on_delete=models.CASCADE, related_name="video_room"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    waiting_since = models.DateTimeField(_("waiting since"), null=True, blank=True)
    admitted_at = models.DateTimeField(_("admitted at"), null=True, blank=True)
    admitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("video room")
        verbose_name_plural = _("video rooms")

    def __str__(self) -> str:
        return f"room {self.pk} ({self.appointment_id})"


class ChatMessage(models.Model):
    """A line of the in-call chat, kept with the room; its text is encrypted at rest."""

    room = models.ForeignKey(VideoRoom, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    body = models.TextField()  # core.crypto token
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("chat message")
        verbose_name_plural = _("chat messages")

    def __str__(self) -> str:
        return f"message {self.pk} in room {self.room_id}"


class QualitySample(models.Model):
    """One side's getStats summary, sent every few seconds during a call."""

    class Side(models.TextChoices):
        PATIENT = "patient", _("Patient")
        PRACTITIONER = "practitioner", _("Practitioner")

    room = models.ForeignKey(VideoRoom, on_delete=models.CASCADE, related_name="samples")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    side = models.CharField(max_length=16, choices=Side.choices)
    at = models.DateTimeField(auto_now_add=True)
    rtt_ms = models.FloatField(null=True)
    jitter_ms = models.FloatField(null=True)
    loss_percent = models.FloatField(null=True)
    bitrate_kbps = models.FloatField(null=True)
    frames_decoded = models.PositiveIntegerField(null=True)
    freeze_count = models.PositiveIntegerField(null=True)
    freeze_seconds = models.FloatField(null=True)

    class Meta:
        verbose_name = _("call quality sample")
        verbose_name_plural = _("call quality samples")
        indexes = [
            models.Index(fields=["room", "side", "at"], name="sample_room_side"),
            models.Index(fields=["user", "at"], name="sample_user"),
        ]

    def __str__(self) -> str:
        return f"{self.side} sample of room {self.room_id}"


class Delegation(models.Model):
    """A titular lets a substitute work on their agenda for a period, within a scope."""

    class Scope(models.TextChoices):
        VIDEO = "video", _("Video consultations only")
        AGENDA = "agenda", _("The whole agenda")

    titular = models.ForeignKey(
        Practitioner, on_delete=models.CASCADE, related_name="delegations_given"
    )
    substitute = models.ForeignKey(
        Practitioner, on_delete=models.CASCADE, related_name="delegations_received"
    )
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    scope = models.CharField(_("scope"), max_length=16, choices=Scope.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("delegation")
        verbose_name_plural = _("delegations")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="delegation_order"
            ),
            models.CheckConstraint(
                condition=~Q(titular=F("substitute")), name="delegation_not_self"
            ),
        ]
        indexes = [models.Index(fields=["substitute", "ends_at"], name="delegation_substitute")]

    def __str__(self) -> str:
        return f"{self.substitute} for {self.titular}"


class CallSummary(models.Model):
    """One side's figures for a whole call, computed when it ends: what support agents and the
    practitioner look at (per user, per period), without reading every sample."""

    room = models.ForeignKey(VideoRoom, on_delete=models.CASCADE, related_name="summaries")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    side = models.CharField(max_length=16, choices=QualitySample.Side.choices)
    samples = models.PositiveIntegerField(default=0)
    rtt_ms_median = models.FloatField(null=True)
    jitter_ms_p95 = models.FloatField(null=True)
    loss_percent_max = models.FloatField(null=True)
    bitrate_kbps_median = models.FloatField(null=True)
    frames_decoded = models.PositiveIntegerField(null=True)
    freeze_count = models.PositiveIntegerField(null=True)
    freeze_seconds = models.FloatField(null=True)
    flagged = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("call summary")
        verbose_name_plural = _("call summaries")
        constraints = [models.UniqueConstraint(fields=["room", "side"], name="call_summary_side")]
        indexes = [models.Index(fields=["user", "created_at"], name="call_summary_user")]

    def __str__(self) -> str:
        return f"{self.side} summary of room {self.room_id}"


class SharedDocument(models.Model):
    """A document the practitioner sent during a call: kept (encrypted) in the patient's file at
    the practice, and downloadable by the patient."""

    room = models.ForeignKey(VideoRoom, on_delete=models.CASCADE, related_name="documents")
    document = models.OneToOneField(
        "practice.FileDocument", on_delete=models.CASCADE, related_name="shared_in_call"
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sent_at", "id"]
        verbose_name = _("document sent in a call")
        verbose_name_plural = _("documents sent in calls")

    def __str__(self) -> str:
        return f"document {self.document_id} of room {self.room_id}"
