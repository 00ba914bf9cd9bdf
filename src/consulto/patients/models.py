"""The waiting list: patients who want an earlier slot with a practitioner, and the offers made."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from consulto.scheduling.models import Appointment, Motive, PatientProfile


class WaitlistEntry(models.Model):
    """ "Tell me if an earlier slot frees up" for one motive of one agenda."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        BOOKED = "booked", _("Booked from the waiting list")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="waitlist_entries"
    )
    patient = models.ForeignKey(
        PatientProfile, on_delete=models.CASCADE, related_name="+", verbose_name=_("patient")
    )
    motive = models.ForeignKey(
        Motive, on_delete=models.CASCADE, related_name="waitlist", verbose_name=_("motive")
    )
    # The appointment an earlier slot would replace, if the patient has one.
    appointment = models.ForeignKey(
        Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    before = models.DateTimeField(_("wants a slot before"))
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.WAITING)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("waiting list entry")
        verbose_name_plural = _("waiting list entries")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["motive", "status", "created_at"], name="waitlist_queue")]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "patient", "motive"],
                condition=Q(status="waiting"),
                name="waitlist_once_per_motive",
            )
        ]

    def __str__(self) -> str:
        return f"{self.patient} waits for {self.motive}"


class WaitlistOffer(models.Model):
    """A freed slot held exclusively for one waiting patient for a short while."""

    class Status(models.TextChoices):
        OFFERED = "offered", _("Offered")
        TAKEN = "taken", _("Taken")
        LAPSED = "lapsed", _("Lapsed")

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers")
    hold = models.OneToOneField(Appointment, on_delete=models.CASCADE, related_name="offer")
    start = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OFFERED)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("waiting list offer")
        verbose_name_plural = _("waiting list offers")
        indexes = [models.Index(fields=["entry", "start"], name="offer_entry_start")]

    def __str__(self) -> str:
        return f"offer {self.start:%Y-%m-%d %H:%M} to {self.entry.patient}"
