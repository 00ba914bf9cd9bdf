"""The signed link a patient without an account receives: their appointment's own page.

A regulator (or a practice) books for someone who has no Consulto account; the SMS and e-mail
carry a link that opens that appointment's page, where the patient sees the place, the time and
what to bring, cancels it, or joins the video. The token names the appointment and the patient
profile and is valid until the appointment ends; it is signed with the site's secret, so a link
cannot be forged or pointed at another appointment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from consulto.scheduling.models import Appointment

SALT = "consulto.referral.appointment-page"


@dataclass(frozen=True)
class LinkCheck:
    appointment: Appointment | None
    problem: str = ""  # "", "invalid", "expired"


def token_for(appointment: Appointment) -> str:
    return signing.dumps(
        {"a": appointment.pk, "p": appointment.patient_id, "e": int(appointment.end.timestamp())},
        salt=SALT,
        compress=True,
    )


def page_link(appointment: Appointment) -> str:
    """The absolute link to the appointment's page (the language prefix of the default one)."""
    path = reverse("appointment_page", kwargs={"token": token_for(appointment)})
    return settings.CONSULTO_SITE_URL.rstrip("/") + path


def check(token: str, *, now: datetime | None = None) -> LinkCheck:
    """The appointment a token opens, or why it opens nothing."""
    now = now or timezone.now()
    try:
        data = signing.loads(token, salt=SALT)
        appointment_id, profile_id, ends = int(data["a"]), int(data["p"]), int(data["e"])
    except (signing.BadSignature, KeyError, TypeError, ValueError, OverflowError):
        return LinkCheck(None, "invalid")
    if now.timestamp() > ends:
        return LinkCheck(None, "expired")
    appointment = (
        Appointment.objects.select_related(
            "agenda__site", "agenda__organisation", "agenda__practitioner", "motive", "patient"
        )
        .filter(pk=appointment_id, patient_id=profile_id)
        .first()
    )
    if appointment is None:
        return LinkCheck(None, "invalid")
    return LinkCheck(appointment)
