"""The outbox of messages to patients, and each practitioner's reminder settings.

Every e-mail or SMS is first a ``Message`` row, written in the transaction of the change it
reports; a task delivers it after commit. ``dedupe_key`` is unique, so a message is written at
most once however often its cause is replayed, and the pending → sending update is the lock that
makes delivery happen at most once however often the task runs.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from consulto.directory.models import Practitioner
from consulto.scheduling.models import Appointment


class Message(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")

    class Purpose(models.TextChoices):
        CONFIRMATION = "confirmation", _("Confirmation")
        CANCELLATION = "cancellation", _("Cancellation")
        RESCHEDULED = "rescheduled", _("Appointment moved")
        REMINDER_7D = "reminder_7d", _("Reminder 7 days before")
        REMINDER_1D = "reminder_1d", _("Reminder 1 day before")
        WAITLIST_OFFER = "waitlist_offer", _("Waiting list offer")
        # Sign-up and login codes, password resets, invitations: their text holds a secret, so
        # it is kept encrypted while waiting and erased once the message is sent or given up.
        ACCOUNT = "account", _("Account e-mail")
        SUPPORT = "support", _("Support e-mail")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    REMINDERS = (Purpose.REMINDER_7D, Purpose.REMINDER_1D)

    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    appointment = models.ForeignKey(
        Appointment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("appointment"),
    )
    language = models.CharField(_("language"), max_length=8, default="fr")
    recipient = models.CharField(_("recipient"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body = models.TextField(_("text"), blank=True)
    html_body = models.TextField(_("HTML"), blank=True)
    ics = models.TextField(_("calendar attachment"), blank=True)
    # Support e-mails: Reply-To (the ticket's address) and Message-ID, so that replies thread.
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    dedupe_key = models.CharField(_("deduplication key"), max_length=200, unique=True)
    # For reminders: the start the appointment had when the reminder was scheduled. A reminder
    # is only sent while the appointment is still booked at that time.
    expected_start = models.DateTimeField(_("expected start"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # When pending: not before this time. When sending: the claim's lease ends at this time.
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="message_due",
            ),
            models.Index(fields=["appointment", "status"], name="message_appointment"),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} ({self.get_channel_display()}) → {self.recipient}"

    @property
    def is_reminder(self) -> bool:
        return self.purpose in self.REMINDERS


class ReminderSettings(models.Model):
    """Which reminders a practitioner's patients get. No row means every reminder is on."""

    practitioner = models.OneToOneField(
        Practitioner,
        on_delete=models.CASCADE,
        related_name="reminder_settings",
        verbose_name=_("practitioner"),
    )
    email_7d = models.BooleanField(_("e-mail reminder 7 days before"), default=True)
    email_1d = models.BooleanField(_("e-mail reminder 1 day before"), default=True)
    sms_1d = models.BooleanField(_("SMS reminder 1 day before"), default=True)

    class Meta:
        verbose_name = _("reminder settings")
        verbose_name_plural = _("reminder settings")

    def __str__(self) -> str:
        return str(self.practitioner)

    def allows(self, purpose: str, channel: str) -> bool:
        return {
            (Message.Purpose.REMINDER_7D, Message.Channel.EMAIL): self.email_7d,
            (Message.Purpose.REMINDER_1D, Message.Channel.EMAIL): self.email_1d,
            (Message.Purpose.REMINDER_1D, Message.Channel.SMS): self.sms_1d,
        }.get((purpose, channel), False)
