"""The agendas' history and bookings: appointments over the two weeks before ``today`` (seen,
no-show, cancelled) and the two weeks from it (booked, a few cancelled), laid on each motive's
grid inside the openings, and the video rooms of the teleconsultations.

Each agenda's appointments come from that agenda's own random stream (``agendas.plan_agenda``
hands it over after drawing the motives, openings and absences).
"""

from __future__ import annotations

import random
from bisect import bisect
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate
from zoneinfo import ZoneInfo

from django.db import connection
from django.utils import timezone

from consulto.scheduling.models import Appointment, Motive

from .plans import (
    ROWS_PER_INSERT,
    AbsencePlan,
    AgendaContent,
    AppointmentPlan,
    DirectoryPlan,
    Ids,
    MotivePlan,
    OpeningPlan,
)

HISTORY_DAYS = 14  # days before ``today`` that get seen / no-show / cancelled appointments
HORIZON_DAYS = 14  # days from ``today`` that get booked appointments
CLIENTELE = 400  # distinct patients an agenda draws from

Status = Appointment.Status
Mode = Motive.Mode
# Plain strings, not enum members: rows are also written through raw COPY / executemany.
BOOKED, SEEN, NO_SHOW, CANCELLED = (
    Status.BOOKED.value, Status.SEEN.value, Status.NO_SHOW.value, Status.CANCELLED.value,
)  # fmt: skip
ONLINE, SECRETARY, PRACTITIONER = (
    Appointment.Channel.ONLINE.value, Appointment.Channel.SECRETARY.value,
    Appointment.Channel.PRACTITIONER.value,
)  # fmt: skip
CANCEL_REASONS = (
    "Empêchement personnel",
    "Rendez-vous pris ailleurs",
    "Annulé par le cabinet",
    "Patient malade",
    "Erreur de réservation",
)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _occurs(opening: OpeningPlan, day: date) -> bool:
    """Whether a weekly opening occurs on that date (the engine's rule)."""
    if day.weekday() != opening.weekday or day < opening.valid_from:
        return False
    if opening.valid_until is not None and day > opening.valid_until:
        return False
    if opening.every_weeks > 1:
        anchor = opening.valid_from.toordinal() - opening.valid_from.weekday()
        weeks = (day.toordinal() - day.weekday() - anchor) // 7
        return weeks % opening.every_weeks == 0
    return True


def plan_appointments(
    rng: random.Random,
    motives: list[MotivePlan],
    openings: list[OpeningPlan],
    absences: list[AbsencePlan],
    capacity: int,
    zone: ZoneInfo,
    today: date,
    clientele: tuple[int, ...],
) -> list[AppointmentPlan]:
    """Lay appointments on the motives' grids, about 40 % of the open time over the window.

    Each opening is walked from its start: pick a motive the opening allows, move to the next
    start on that motive's grid (opening start + k × duration), book it with the day's fill
    probability or leave it free. An agenda of capacity N is walked as N independent lanes.
    """
    fill = rng.uniform(0.25, 0.63)  # how popular this agenda is
    size = min(len(clientele), CLIENTELE)
    offset = rng.randrange(len(clientele))
    durations = [timedelta(minutes=m.duration) for m in motives]
    weights = [m.weight for m in motives]
    video = {i for i, m in enumerate(motives) if m.mode == Mode.VIDEO}
    blocked = [(a.start, a.end) for a in absences]
    lanes = max(1, capacity)
    lane_fill = fill * (0.8 if capacity > 1 else 1.0)
    midnight_today = local_midnight(today, zone)

    random = rng.random
    result: list[AppointmentPlan] = []
    for offset_days in range(-HISTORY_DAYS, HORIZON_DAYS):
        day = today + timedelta(days=offset_days)
        if offset_days < 0:
            chance = min(0.95, lane_fill * 1.05)
        else:  # the next days are fuller than the later ones
            chance = min(0.95, lane_fill * (1.3 - 0.6 * offset_days / (HORIZON_DAYS - 1)))
        for opening in openings:
            if not _occurs(opening, day):
                continue
            low = datetime.combine(day, opening.start, tzinfo=zone).astimezone(UTC)
            high = datetime.combine(day, opening.end, tzinfo=zone).astimezone(UTC)
            allowed = opening.motives
            cumulative = list(accumulate(weights[i] for i in allowed))
            total_weight = cumulative[-1]
            shortest = min(allowed, key=lambda i: motives[i].duration)
            for _lane in range(lanes):
                cursor = low
                while cursor < high:
                    motive = allowed[bisect(cumulative, random() * total_weight)]
                    step = durations[motive]
                    start = low + -((low - cursor) // step) * step  # next start on the grid
                    if start + step > high:
                        motive, step = shortest, durations[shortest]
                        start = low + -((low - cursor) // step) * step
                        if start + step > high:
                            break
                    end = start + step
                    clash = [b for a, b in blocked if a < end and b > start]
                    if clash:
                        cursor = max(clash)
                        continue
                    cursor = end
                    if random() >= chance:
                        continue
                    result.append(
                        _appointment(
                            rng, motive, start, end, offset_days, motive in video,
                            clientele[(offset + rng.randrange(size)) % len(clientele)],
                            midnight_today,
                        )
                    )  # fmt: skip
    return result


def _appointment(
    rng: random.Random,
    motive: int,
    start: datetime,
    end: datetime,
    offset_days: int,
    is_video: bool,
    patient: int,
    midnight_today: datetime,
) -> AppointmentPlan:
    # Booked between 2 hours and 3 weeks before the appointment (or before today).
    lead_hours = rng.randint(2, 24 * 21)
    horizon = start if start < midnight_today else midnight_today
    booked_at = horizon - timedelta(hours=lead_hours)
    roll = rng.random()
    cancelled_at = None
    reason = ""
    if offset_days < 0:
        status = SEEN if roll < 0.85 else NO_SHOW if roll < 0.90 else CANCELLED
    else:
        status = BOOKED if roll < 0.97 else CANCELLED
    if status == CANCELLED:
        cancelled_at = horizon - timedelta(hours=rng.randint(1, lead_hours - 1))
        reason = rng.choice(CANCEL_REASONS)
    channel_roll = rng.random()
    if is_video or channel_roll < 0.72:
        channel = ONLINE
    elif channel_roll < 0.87:
        channel = SECRETARY
    else:
        channel = PRACTITIONER
    return AppointmentPlan(
        motive, patient, start, end, status, channel, booked_at, cancelled_at, reason
    )


def insert_appointments(
    batch: list[tuple[int, AgendaContent]],
    ids: Ids,
    plan: DirectoryPlan,
    motive_ids: dict[int, list[int]],
    counts: dict[str, int],
) -> None:
    """Write the batch's appointments, on the motives just written (``motive_ids``)."""
    patient_ids = ids.patients
    demo_profiles = ids.demo_profiles
    rows: list[Appointment] = []
    upcoming = 0
    total = 0
    for index, content in batch:
        agenda_id = ids.agendas[index]
        exclusive = plan.agendas[index].capacity == 1
        own = motive_ids[index]
        # Latest first: the SQLite no-overlap trigger then scans almost nothing per row.
        for a in sorted(content.appointments, key=lambda a: a.start, reverse=True):
            rows.append(
                Appointment(
                    agenda_id=agenda_id,
                    motive_id=own[a.motive],
                    patient_id=patient_ids[a.patient]
                    if a.patient >= 0
                    else demo_profiles[a.patient],
                    start=a.start,
                    end=a.end,
                    status=a.status,
                    channel=a.channel,
                    exclusive=exclusive,
                    cancelled_at=a.cancelled_at,
                    cancel_reason=a.cancel_reason,
                )
            )
            upcoming += a.status == Status.BOOKED
        if len(rows) >= ROWS_PER_INSERT:
            Appointment.objects.bulk_create(rows, batch_size=ROWS_PER_INSERT)
            total += len(rows)
            rows = []
    if rows:
        Appointment.objects.bulk_create(rows, batch_size=ROWS_PER_INSERT)
        total += len(rows)

    counts["appointments"] = counts.get("appointments", 0) + total
    counts["appointments_booked"] = counts.get("appointments_booked", 0) + upcoming


def insert_video_rooms() -> None:
    """Video appointments get their room, as a booking would (teleconsultation/receivers.py)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO teleconsultation_videoroom (appointment_id, created_at)"
            " SELECT a.id, %s FROM scheduling_appointment a JOIN scheduling_motive m"
            " ON m.id = a.motive_id WHERE m.mode = %s",
            [timezone.now(), Motive.Mode.VIDEO],
        )
