"""Read queries for scheduling: availability inputs in a fixed number of queries, slots.

``load_raw_inputs`` gathers everything the pure engine needs for any number of agendas in two
queries (openings with their motives; absences and busy periods), whatever the number of
agendas, with instants read as integers; ``load_inputs`` gives the same as datetimes.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import F, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from consulto.core import rows
from consulto.core.instants import EpochMicroseconds, IdList, Integer
from consulto.core.time import shift_date, shift_instant

from . import availability as engine
from .models import Absence, Agenda, Appointment, Motive, OnlineBookingStop, Opening


@dataclass
class AgendaInputs:
    zone: ZoneInfo
    capacity: int
    openings: list[engine.Opening] = field(default_factory=list)
    absences: list[engine.Interval] = field(default_factory=list)
    busy: list[engine.Interval] = field(default_factory=list)
    # When the first hold among ``busy`` lapses: results computed from these inputs are stale then.
    refresh_at: datetime | None = None


def motive_rule(motive: Motive) -> engine.MotiveRule:
    return engine.MotiveRule(
        id=motive.pk,
        duration=timedelta(minutes=motive.duration_minutes),
        min_notice=timedelta(minutes=motive.min_notice_minutes),
        max_advance=timedelta(days=motive.max_advance_days),
    )


_ZONE_MARGIN = timedelta(hours=15)


def utc_span(start: date, days: int) -> tuple[datetime, datetime]:
    """A UTC range that covers those local dates in every zone on Earth (cut at the ends of
    datetime's range rather than overflowing)."""
    # Local time is UTC-12:00 to UTC+14:00: 15 hours on each side cover every zone (a wider
    # range reads busy periods no slot of those dates can meet: 10 days of them for 7).
    midnight = datetime.combine(start, time(0), tzinfo=UTC)
    low = shift_instant(midnight, -_ZONE_MARGIN)
    return low, shift_instant(low, timedelta(days=days) + 2 * _ZONE_MARGIN)


def load_inputs(
    agendas: list[Agenda],
    *,
    start: date,
    days: int,
    now: datetime,
    with_busy: bool = True,
    exclude_ids: tuple[int, ...] = (),
    audience: frozenset[str],
) -> dict[int, AgendaInputs]:
    """Engine inputs per agenda id, from the openings ``audience`` may see
    (``visibility.py``), with instants as aware datetimes (UTC). ``agendas`` must come with
    ``site`` selected."""
    raw = load_raw_inputs(
        agendas,
        start=start,
        days=days,
        now=now,
        audience=audience,
        with_busy=with_busy,
        exclude_ids=exclude_ids,
    )
    inputs = {}
    for agenda_id, got in raw.items():
        inputs[agenda_id] = AgendaInputs(
            zone=got.zone,
            capacity=got.capacity,
            openings=got.openings,
            absences=[engine.Interval(_instant(a), _instant(b)) for a, b in got.absences],
            busy=[engine.Interval(_instant(a), _instant(b)) for a, b in got.busy],
            refresh_at=_instant(got.refresh_at) if got.refresh_at is not None else None,
        )
    return inputs


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NONE: frozenset[int] = frozenset()


def _instant(microseconds: int) -> datetime:
    return _EPOCH + timedelta(microseconds=microseconds)


@dataclass(slots=True)
class RawInputs:
    """An agenda's engine inputs with instants as integer microseconds since the epoch."""

    zone: ZoneInfo
    capacity: int
    openings: list[engine.Opening] = field(default_factory=list)
    absences: list[tuple[int, int]] = field(default_factory=list)
    busy: list[tuple[int, int]] = field(default_factory=list)
    # When the first hold among ``busy`` lapses (microseconds): results go stale then.
    refresh_at: int | None = None


def load_raw_inputs(
    agendas: list,
    *,
    start: date,
    days: int,
    now: datetime,
    audience: frozenset[str],
    with_busy: bool = True,
    exclude_ids: tuple[int, ...] = (),
) -> dict[int, RawInputs]:
    """The engine's inputs per agenda id in two round trips (openings with their motives;
    absences and busy periods together), instants read as integer microseconds (no datetime
    built per row). ``agendas`` need ``pk``, ``capacity`` and ``zone``."""
    inputs = {a.pk: RawInputs(zone=a.zone, capacity=a.capacity) for a in agendas}
    if not inputs:
        return inputs
    ids = list(inputs)
    low, high = utc_span(start, days)
    last_day = shift_date(start, days)

    openings = (
        Opening.objects.filter(agenda_id__in=ids, valid_from__lte=last_day)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=start))
        .filter(visibility__in=sorted(audience))
        .order_by()
        .values_list(
            "id",
            "agenda_id",
            "weekday",
            "start_time",
            "end_time",
            "valid_from",
            "valid_until",
            "every_weeks",
        )
        # The motives of each opening in the same row (one row per opening).
        .annotate(motive_ids=IdList("motives"))
    )
    for _id, agenda_id, weekday, t0, t1, v0, v1, every, motive_ids in openings:
        inputs[agenda_id].openings.append(
            engine.Opening(
                weekday=weekday,
                start=t0,
                end=t1,
                motive_ids=frozenset(map(int, motive_ids.split(","))) if motive_ids else _NONE,
                valid_from=v0,
                valid_until=v1,
                every_weeks=every,
            )
        )

    def columns(qs, kind: int, lapses):
        return qs.order_by().values_list(
            "agenda_id",
            EpochMicroseconds("start"),
            EpochMicroseconds("end"),
            lapses,
            Integer(kind),
        )

    absences = Absence.objects.filter(agenda_id__in=ids, start__lt=high, end__gt=low)
    both = columns(absences, 0, Integer(None))
    if with_busy:
        busy = (
            Appointment.objects.active(now=now)
            .filter(agenda_id__in=ids, start__lt=high, end__gt=low)
            .exclude(pk__in=exclude_ids)
        )
        both = both.union(columns(busy, 1, EpochMicroseconds("hold_expires_at")), all=True)
    # Thousands of rows of integers: read as the driver gives them (core/rows.py).
    for agenda_id, a, b, lapses, kind in rows.plain(both):
        agenda_inputs = inputs[agenda_id]
        if kind == 0:
            agenda_inputs.absences.append((a, b))
            continue
        agenda_inputs.busy.append((a, b))
        if lapses is not None and (
            agenda_inputs.refresh_at is None or lapses < agenda_inputs.refresh_at
        ):
            agenda_inputs.refresh_at = lapses
    return inputs


def agenda_slots(
    *,
    agenda: Agenda,
    motive: Motive,
    start: date,
    days: int,
    now: datetime,
    limit: int | None = None,
    audience: frozenset[str],
) -> list[engine.Slot]:
    inputs = load_inputs([agenda], start=start, days=days, now=now, audience=audience)[agenda.pk]
    return compute(inputs, motive=motive, start=start, days=days, now=now, limit=limit)


def compute(
    inputs: AgendaInputs,
    *,
    motive: Motive,
    start: date,
    days: int,
    now: datetime,
    limit: int | None = None,
) -> list[engine.Slot]:
    return engine.compute_slots(
        openings=inputs.openings,
        absences=inputs.absences,
        busy=inputs.busy,
        motive=motive_rule(motive),
        capacity=inputs.capacity,
        start=start,
        days=days,
        zone=inputs.zone,
        now=now,
        limit=limit,
    )


def get_agenda(agenda_id: int) -> Agenda | None:
    return Agenda.objects.select_related("site").filter(pk=agenda_id, is_active=True).first()


def appointments_of(user) -> "QuerySet[Appointment]":
    """Appointments a patient account may see: those of the profiles it owns (itself and its
    relatives), whoever booked them. Who booked is no key: staff who booked by phone reach the
    appointment through the practice space and its permissions, not through the patient side."""
    return (
        Appointment.objects.filter(patient__owner=user)
        .exclude(status__in=(Appointment.Status.HELD, Appointment.Status.EXPIRED))
        .select_related("agenda__site", "agenda__practitioner", "motive", "patient")
    )


def appointment_of(user, appointment_id: int) -> Appointment | None:
    return appointments_of(user).filter(pk=appointment_id).first()


# Statuses of an appointment that took place, or was due to and was not called off.
KNOWN_STATUSES = (
    Appointment.Status.BOOKED,
    Appointment.Status.ARRIVED,
    Appointment.Status.IN_PROGRESS,
    Appointment.Status.SEEN,
)


def is_known_patient(profile_id: int, agenda: Agenda, *, motive: Motive, now: datetime) -> bool:
    """May this person book a motive kept for known patients? Yes if they have already
    consulted here (an appointment that has begun, not cancelled nor missed, with the agenda's
    practitioner in its organisation, or on the agenda itself when it is a resource's), or if
    the practice already gave them an appointment of this very motive that is still to come
    (they may take an earlier one from the waiting list). Another appointment still to come does
    not make a patient known."""
    return (
        Appointment.objects.filter(patient_id=profile_id, status__in=KNOWN_STATUSES)
        .filter(
            (seen_here(agenda) & Q(start__lte=now))
            | Q(motive=motive, status=Appointment.Status.BOOKED)
        )
        .exists()
    )


def seen_here(agenda: Agenda) -> Q:
    """Appointments "here" for knowing a patient: with the agenda's practitioner in its
    organisation, or on the agenda itself when it is a resource's."""
    where = Q(agenda__organisation_id=agenda.organisation_id)
    if agenda.practitioner_id is not None:
        return where & Q(agenda__practitioner_id=agenda.practitioner_id)
    return where & Q(agenda_id=agenda.pk)


def online_booking_stopped(*, profile_id: int, organisation_id: int) -> bool:
    """Has the organisation stopped online booking for this patient (``rules.py``)?"""
    return OnlineBookingStop.objects.filter(
        organisation_id=organisation_id, profile_id=profile_id
    ).exists()


@dataclass(slots=True)
class MotiveRef:
    """What availability needs of a motive, read as a plain row."""

    pk: int
    agenda_id: int
    duration_minutes: int
    min_notice_minutes: int
    max_advance_days: int

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)


def default_motives(agenda_ids, *, video: bool) -> dict[int, MotiveRef]:
    """Per agenda, the motive a new patient would book first (video ones for a video search):
    one row per agenda, chosen by the database."""
    online = Motive.objects.filter(agenda_id__in=agenda_ids, is_active=True, online=True)
    online = (
        online.filter(mode=Motive.Mode.VIDEO) if video else online.exclude(mode=Motive.Mode.VIDEO)
    )
    rank = Window(
        RowNumber(),
        partition_by=[F("agenda_id")],
        order_by=[F("open_to_new_patients").desc(), F("position").asc(), F("id").asc()],
    )
    chosen = (
        online.annotate(rank=rank)
        .filter(rank=1)
        .values_list(
            "pk", "agenda_id", "duration_minutes", "min_notice_minutes", "max_advance_days"
        )
    )
    return {row[1]: MotiveRef(*row) for row in chosen}
