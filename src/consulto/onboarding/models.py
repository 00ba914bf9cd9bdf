"""A practitioner's way from the sign-up form to a published, bookable agenda.

A ``Journey`` exists from the first valid sign-up form (before the account: the e-mail must be
verified first, so nothing half-made is left if the person never comes back). Each screen records
when it was reached and finished (``StepRecord``): the funnel the platform team watches.
An ``Invitation`` is an organisation admin's way in for a practitioner listed in a CSV upload.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from consulto.directory.models import Organisation, Practitioner, Site
from consulto.scheduling.models import Agenda


class Step(models.TextChoices):
    """The wizard's screens, in order. Six: the goal is at most six screens to publish."""

    ACCOUNT = "account", _("Account")
    SECURITY = "security", _("E-mail and security")
    IDENTITY = "identity", _("You and your practice")
    SCHEDULE = "schedule", _("Hours and motives")
    VIDEO = "video", _("Video consultation")
    PUBLISH = "publish", _("Publish")


STEP_ORDER: tuple[str, ...] = tuple(Step.values)


class Invitation(models.Model):
    """An organisation's invitation to one practitioner, made by a CSV upload."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="invitations",
        verbose_name=_("organisation"),
    )
    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="+", verbose_name=_("site")
    )
    practitioner = models.OneToOneField(
        Practitioner,
        on_delete=models.CASCADE,
        related_name="invitation",
        verbose_name=_("practitioner"),
    )
    agenda = models.ForeignKey(
        Agenda, on_delete=models.CASCADE, related_name="+", verbose_name=_("agenda")
    )
    email = models.EmailField(_("e-mail"))
    department = models.CharField(_("department"), max_length=120, blank=True)
    hours_template = models.CharField(_("opening template"), max_length=32, blank=True)
    motives_preset = models.CharField(_("motives preset"), max_length=64, blank=True)
    # Only a hash: the token itself travels in the e-mail and nowhere else.
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        indexes = [models.Index(fields=["organisation", "created_at"], name="invitation_org")]

    def __str__(self) -> str:
        return f"{self.email} → {self.organisation}"


class Journey(models.Model):
    class Kind(models.TextChoices):
        SELF = "self", _("Self sign-up")
        INVITED = "invited", _("Invited by an organisation")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.SELF)
    email = models.EmailField(_("e-mail"))
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="onboarding",
        verbose_name=_("account"),
    )
    invitation = models.OneToOneField(
        Invitation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="journey",
        verbose_name=_("invitation"),
    )
    rpps = models.CharField(_("RPPS number"), max_length=11, blank=True)
    in_directory = models.BooleanField(_("found in the directory"), default=False)
    practitioner = models.OneToOneField(
        Practitioner,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="onboarding",
        verbose_name=_("practitioner"),
    )
    agenda = models.ForeignKey(
        Agenda, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    step = models.CharField(
        _("current screen"), max_length=16, choices=Step.choices, default=Step.ACCOUNT
    )
    language = models.CharField(_("language"), max_length=8, default="fr")
    hours_template = models.CharField(_("opening template"), max_length=32, blank=True)
    # The pending sign-up, until the e-mail is verified; emptied once the account exists.
    password_hash = models.CharField(max_length=128, blank=True)
    code_hash = models.CharField(max_length=64, blank=True)
    code_sent_at = models.DateTimeField(null=True, blank=True)
    code_attempts = models.PositiveSmallIntegerField(default=0)
    # The e-mail already has an account: the code mail says so, and no code is ever accepted,
    # so the form does not reveal which addresses have accounts.
    email_taken = models.BooleanField(default=False)
    # What the device test saw: {"camera": bool, "microphone": bool, "rtt_ms": int, ...}.
    device_check = models.JSONField(_("device test"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    class Meta:
        verbose_name = _("onboarding journey")
        verbose_name_plural = _("onboarding journeys")
        indexes = [models.Index(fields=["created_at"], name="journey_created")]

    def __str__(self) -> str:
        return f"{self.email} — {self.get_step_display()}"

    @property
    def done(self) -> bool:
        return self.published_at is not None


class StepRecord(models.Model):
    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="records")
    step = models.CharField(_("screen"), max_length=16, choices=Step.choices)
    reached_at = models.DateTimeField(_("reached at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("screen reached")
        verbose_name_plural = _("screens reached")
        constraints = [
            models.UniqueConstraint(fields=["journey", "step"], name="step_record_unique")
        ]
        indexes = [models.Index(fields=["step", "reached_at"], name="step_record_funnel")]

    def __str__(self) -> str:
        return f"{self.journey_id}: {self.step}"


class SignupPageVisits(models.Model):
    """Visits of the sign-up page per day: the top of the funnel, before any journey exists.
    A count only, nothing about the visitor."""

    day = models.DateField(unique=True)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("sign-up page visits")
        verbose_name_plural = _("sign-up page visits")

    def __str__(self) -> str:
        return f"{self.day}: {self.count}"
