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
