"""Who may call the FHIR facade from outside, and a record of every call they make.

A ``Partner`` is a program, not a person: an organisation's own software (a hospital's
information system, a centre's regulation software) or the SAS national platform. It holds an
OAuth2 application (django-oauth-toolkit, client credentials) and the scopes it was granted; its
calls are made under the application's service account, so the audit trail names it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from oauth2_provider.models import Application

from consulto.directory.models import Organisation


class Partner(models.Model):
    class Kind(models.TextChoices):
        ORGANISATION = "organisation", _("An organisation's software")
        SAS = "sas", _("The SAS national platform")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="partners",
        verbose_name=_("organisation"),
    )
    application = models.OneToOneField(
        Application, on_delete=models.CASCADE, related_name="partner", editable=False
    )
    # Space-separated, among ``access.SCOPES``: what its tokens may carry.
    scopes = models.CharField(_("scopes"), max_length=500)
    rate_per_minute = models.PositiveIntegerField(_("requests per minute"), default=600)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ["name", "id"]
        constraints = [
            # An organisation's software belongs to it; the SAS platform to no organisation.
            models.CheckConstraint(
                condition=(Q(kind="organisation") & Q(organisation__isnull=False))
                | (Q(kind="sas") & Q(organisation__isnull=True)),
                name="partner_kind_organisation",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ApiCall(models.Model):
    """One call to the FHIR facade: who, what, the answer and how long it took. The query's
    parameter names are kept, never their values (a search may name a patient)."""

    at = models.DateTimeField(_("when"), db_index=True)
    partner = models.ForeignKey(
        Partner,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="calls",
        verbose_name=_("partner"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("account"),
    )
    method = models.CharField(_("method"), max_length=8)
    path = models.CharField(_("path"), max_length=255)
    parameters = models.CharField(_("parameters"), max_length=500, blank=True)
    status = models.PositiveSmallIntegerField(_("status"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = _("API call")
        verbose_name_plural = _("API calls")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["partner", "-at"], name="apicall_partner")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} → {self.status}"


class WebhookEndpoint(models.Model):
    """Where an organisation wants its events POSTed, signed with a secret shown once."""

    class Event(models.TextChoices):
        APPOINTMENT_BOOKED = "appointment.booked", _("Appointment booked")
        APPOINTMENT_MOVED = "appointment.moved", _("Appointment moved")
        APPOINTMENT_CANCELLED = "appointment.cancelled", _("Appointment cancelled")
        APPOINTMENT_ARRIVED = "appointment.arrived", _("Patient in the waiting room")
        APPOINTMENT_NO_SHOW = "appointment.no_show", _("Patient did not come")
        PATIENT_FILE_OPENED = "patient_file.opened", _("Patient file opened")

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="webhook_endpoints",
        verbose_name=_("organisation"),
    )
    url = models.URLField(_("address"), max_length=500)
    # Encrypted at rest (core/crypto.py); needed in clear to sign, shown once, at creation.
    secret = models.CharField(_("signing secret"), max_length=500, editable=False)  # encrypted
    # Space-separated, among ``Event``.
    events = models.CharField(_("events"), max_length=500)
    active = models.BooleanField(_("active"), default=True)
    disabled_reason = models.CharField(_("why it was disabled"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        ordering = ["organisation", "id"]

    def __str__(self) -> str:
        return self.url

    @property
    def event_set(self) -> frozenset[str]:
        return frozenset(self.events.split())


class WebhookDelivery(models.Model):
    """One event to POST to one endpoint: the outbox row, written in the transaction of the
    change it tells, then sent (and retried) by the task worker."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed, will retry")
        GAVE_UP = "gave_up", _("Given up")

    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("webhook"),
    )
    event_id = models.UUIDField(_("event id"))
    event_type = models.CharField(_("event"), max_length=40)
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # When pending or failed: not before this time; while being sent: the claim's lease.
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    last_status_code = models.PositiveSmallIntegerField(_("last answer"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="webhook_event_once")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "failed"]),
                name="webhook_due",
            ),
            models.Index(fields=["endpoint", "-created_at"], name="webhook_log"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id} ({self.status})"


class SasReport(models.Model):
    """An appointment a regulator booked, to report to the SAS platform (FrAppointmentSAS):
    the outbox row written with the change; what is sent is the appointment as it stands when
    it goes out, so reports of one appointment may go in any order."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed, will retry")
        GAVE_UP = "gave_up", _("Given up")

    # The first appointment of the chain its moves make: its id is the identifier the SAS
    # platform knows, whatever it was moved to since.
    chain = models.ForeignKey(
        "scheduling.Appointment",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("appointment reported"),
    )
    # The appointment as it is now (the last of the chain when the report was written).
    appointment = models.ForeignKey(
        "scheduling.Appointment",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("appointment"),
    )
    change = models.CharField(_("change"), max_length=20)
    event_id = models.UUIDField(_("event id"), unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    method = models.CharField(_("method"), max_length=4, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last answer"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    # The OperationOutcome of a refusal (400, 422), as the platform sent it.
    outcome = models.JSONField(_("answer"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("SAS report")
        verbose_name_plural = _("SAS reports")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "failed"]),
                name="sas_report_due",
            ),
            models.Index(fields=["chain", "status"], name="sas_report_chain"),
        ]

    def __str__(self) -> str:
        return f"{self.change} {self.chain_id} ({self.status})"
