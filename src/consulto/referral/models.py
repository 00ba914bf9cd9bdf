"""Regulation cases: one call to a SAMU / SAS regulation centre, from the call to its outcome.

The booking a case makes is an ordinary appointment (``scheduling.booking``) annotated by a
``scheduling.Referral``; the case keeps who called, for whom, why, and what came of it. The
reason is health data: encrypted at rest (``core.crypto``), every read and write audited.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from consulto.directory.models import Organisation, Practitioner, Specialty
from consulto.scheduling.models import Appointment, PatientProfile


class RegulationCase(models.Model):
    class Need(models.TextChoices):
        GP_48H = "gp_48h", _("Unscheduled GP consultation within 48 h")
        COVID = "covid", _("COVID consultation")
        SCREENING = "screening", _("Screening test")
        SPECIALIST = "specialist", _("Specialist")
        VIDEO = "video", _("Video consultation")

    class Outcome(models.TextChoices):
        OPEN = "open", _("In progress")
        BOOKED = "booked", _("Appointment booked")
        EXTRA = "extra", _("Extra patient accepted by phone")
        EMERGENCY = "emergency", _("Sent to the emergency department")
        ADVICE = "advice", _("Advice only")

    class Caller(models.TextChoices):
        PATIENT = "patient", _("The patient")
        RELATIVE = "relative", _("A relative")
        PROFESSIONAL = "professional", _("A health professional")
        OTHER = "other", _("Someone else")

    centre = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="regulation_cases",
        verbose_name=_("regulation centre"),
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("opened by"),
    )
    opened_at = models.DateTimeField(_("opened at"))
    caller = models.CharField(
        _("caller"), max_length=16, choices=Caller.choices, default=Caller.PATIENT
    )
    caller_name = models.CharField(_("caller's name"), max_length=200, blank=True)
    # The patient, as told on the phone; ``patient`` is the profile found or made when booking.
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    birth_date = models.DateField(_("birth date"))
    phone = models.CharField(_("phone"), max_length=32)
    email = models.EmailField(_("e-mail"), blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    postcode = models.CharField(_("postcode"), max_length=10)
    need = models.CharField(_("need"), max_length=16, choices=Need.choices)
    specialty = models.ForeignKey(
        Specialty,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("specialty"),
    )
    reason = models.TextField(editable=False, blank=True, default="")  # encrypted
    patient = models.ForeignKey(
        PatientProfile,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="regulation_cases",
        verbose_name=_("patient"),
    )
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.OPEN
    )
    appointment = models.ForeignKey(
        Appointment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="regulation_cases",
        verbose_name=_("appointment"),
    )
    # An extra patient ("en surnuméraire") agreed with the practitioner on the phone.
    extra_practitioner = models.ForeignKey(
        Practitioner,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="extra_patient_cases",
        verbose_name=_("practitioner taking the extra patient"),
    )
    extra_at = models.DateTimeField(_("extra patient expected at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
    )

    class Meta:
        verbose_name = _("regulation case")
        verbose_name_plural = _("regulation cases")
        ordering = ["-opened_at"]
        indexes = [
            models.Index(fields=["centre", "opened_at"], name="case_centre_opened"),
            models.Index(
                fields=["extra_practitioner", "extra_at"],
                condition=Q(outcome="extra"),
                name="case_extra_week",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(outcome="extra") | Q(extra_practitioner__isnull=False),
                name="case_extra_has_practitioner",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.centre} #{self.pk}"
