"""A video consultation to try right away: the demo patient with the demo GP, today.

Run on every ``manage.py demo`` (so on every ``make run``): when the demo patient has no video
appointment with the demo GP now or in the next quarter hour, one is booked at the next quarter
hour, so that its room is open at once (15 minutes before). The demo GP's agenda is full on
weekdays: an appointment in the way is moved, as a secretary would, to the same time on the
first day it is free (its patient, a fictitious one, gets the usual "moved" message). The GP gets
a video motive if they had none.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from consulto.directory.models import Practitioner
from consulto.scheduling import booking
from consulto.scheduling.models import Agenda, Appointment, Motive, PatientProfile

from .dataset import DEMO_LOGINS
from .dataset.motives import VIDEO_INSTRUCTIONS

QUARTER = timedelta(minutes=15)
TRIES = 16  # quarter hours looked at, from the next one, should making room fail
MOVE_DAYS = 28  # how far an appointment in the way may be moved


def ensure_demo_video_call(now: datetime | None = None) -> Appointment | None:
    """The demo patient's video appointment to try (booked if needed); None without demo.
    ``moved`` on the result counts the appointments moved to make room for it."""
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
    first = now.replace(second=0, microsecond=0) + timedelta(minutes=15 - now.minute % 15)
    coming = (
        Appointment.objects.active(now=now)
        .filter(
            agenda=agenda,
            patient=profile,
            motive__mode=Motive.Mode.VIDEO,
            status=Appointment.Status.BOOKED,
            end__gt=now,
            start__lte=first,
        )
        .order_by("start")
        .first()
    )
    if coming is not None:
        coming.moved = 0
        return coming
    motive = _video_motive(agenda)

    def book(start: datetime) -> Appointment:  # each try is its own transaction
        return booking.book(
            agenda=agenda,
            motive=motive,
            start=start,
            patient=profile,
            booked_by=patient_user,
            channel=Appointment.Channel.ONLINE,
            as_staff=True,
            now=now,
        )

    moved = 0
    try:
        call = book(first)
    except booking.SlotTaken:
        moved = _make_room(agenda, first, first + motive.duration, by=gp_user, now=now)
        call = None
        for step in range(TRIES):
            try:
                call = book(first + QUARTER * step)
                break
            except booking.SlotTaken:
                continue
    if call is not None:
        call.moved = moved
    return call


def _make_room(agenda: Agenda, start: datetime, end: datetime, *, by, now: datetime) -> int:
    """Move the booked appointments of ``agenda`` overlapping [start, end) to the same local
    time on the first later day it is free; how many were moved."""
    moved = 0
    in_the_way = Appointment.objects.active(now=now).filter(
        agenda=agenda, status=Appointment.Status.BOOKED, start__lt=end, end__gt=start
    )
    zone = agenda.site.zone
    for appointment in in_the_way:
        local = timezone.localtime(appointment.start, zone)
        for day in range(1, MOVE_DAYS + 1):
            try:
                # Aware arithmetic on a zone keeps the wall time across a DST change.
                booking.reschedule(
                    appointment=appointment,
                    new_start=local + timedelta(days=day),
                    by=by,
                    as_staff=True,
                    now=now,
                )
            except booking.SlotTaken:
                continue
            moved += 1
            break
    return moved


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
