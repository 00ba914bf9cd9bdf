"""A video consultation to try right away: the demo patient with the demo GP, today.

Run on every ``manage.py demo`` (so on every ``make run``): when the demo patient has no coming
video appointment with the demo GP today, one is booked at the next free quarter hour, soon
enough for the room to be open (15 minutes before). The GP gets a video motive if they had none.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from consulto.directory.models import Practitioner
from consulto.scheduling import booking
from consulto.scheduling.models import Agenda, Appointment, Motive, PatientProfile

from .generator import DEMO_LOGINS, VIDEO_INSTRUCTIONS

TRIES = 16  # quarter hours looked at, from the next one


def ensure_demo_video_call(now: datetime | None = None) -> Appointment | None:
    """The demo patient's video appointment to try (booked if needed); None without demo."""
    now = now or timezone.now()
    users = get_user_model().objects.filter(email__in=[DEMO_LOGINS[0].email, DEMO_LOGINS[1].email])
    by_email = {u.email: u for u in users}
    patient_user, gp_user = by_email.get(DEMO_LOGINS[0].email), by_email.get(DEMO_LOGINS[1].email)
    gp = Practitioner.objects.filter(user=gp_user).first() if gp_user else None
    agenda = (
        Agenda.objects.select_related("site").filter(practitioner=gp).order_by("pk").first()
        if gp
        else None
    )
    profile = (
        PatientProfile.objects.filter(owner=patient_user, relationship="self").first()
        if patient_user
        else None
    )
    if agenda is None or profile is None:
        return None
    coming = (
        Appointment.objects.active()
        .filter(
            agenda=agenda,
            patient=profile,
            motive__mode=Motive.Mode.VIDEO,
            end__gt=now,
            start__lt=now + timedelta(hours=2),
        )
        .order_by("start")
        .first()
    )
    if coming is not None:
        return coming
    motive = _video_motive(agenda)
    first = now.replace(second=0, microsecond=0) + timedelta(minutes=15 - now.minute % 15)
    for step in range(TRIES):  # each try is its own transaction (booking.book)
        try:
            return booking.book(
                agenda=agenda,
                motive=motive,
                start=first + timedelta(minutes=15 * step),
                patient=profile,
                booked_by=patient_user,
                channel=Appointment.Channel.ONLINE,
                enforce_openings=False,
            )
        except booking.SlotTaken:
            continue
    return None


def _video_motive(agenda: Agenda) -> Motive:
    motive = (
        Motive.objects.filter(agenda=agenda, mode=Motive.Mode.VIDEO, is_active=True)
        .order_by("pk")
        .first()
    )
    if motive is None:
        motive = Motive.objects.create(
            agenda=agenda,
            label="Téléconsultation de suivi",
            duration_minutes=15,
            mode=Motive.Mode.VIDEO,
            instructions=VIDEO_INSTRUCTIONS,
        )
    return motive
