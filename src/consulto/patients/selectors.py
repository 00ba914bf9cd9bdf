"""Read queries of the patient pages."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Case, Prefetch, Q, QuerySet, When
from django.utils import timezone

from consulto.directory.models import Department, Organisation, Practitioner, Site
from consulto.scheduling import availability as engine
from consulto.scheduling import booking, visibility
from consulto.scheduling.cache import first_for_many, slots_for_many, slots_state
from consulto.scheduling.models import Agenda, Appointment, Motive, PatientProfile
from consulto.scheduling.selectors import appointments_of

from .models import WaitlistEntry, WaitlistOffer


def published_practitioner(practitioner_id: int) -> Practitioner | None:
    """A published practitioner with their bookable agendas and online motives."""
    motives = Motive.objects.filter(is_active=True, online=True).order_by("position", "id")
    agendas = (
        Agenda.objects.filter(is_active=True, online_booking=True)
        .select_related("site", "department__organisation")
        .prefetch_related(Prefetch("motives", queryset=motives, to_attr="online_motives"))
        .order_by("id")
    )
    return (
        Practitioner.objects.filter(pk=practitioner_id, is_published=True)
        .select_related("specialty")
        .prefetch_related(Prefetch("agendas", queryset=agendas, to_attr="bookable_agendas"))
        .first()
    )


@dataclass
class OpeningDay:
    """One weekday of an agenda's hours: ``spans`` as (start, end) wall-clock times, those
    held every second week only flagged."""

    weekday: int
    spans: list[tuple[time, time, bool]]


def opening_hours(agenda: Agenda, *, today: date | None = None) -> list[OpeningDay]:
    """The agenda's weekly hours in force today (from its openings), Monday first; touching
    or overlapping periods of a day are shown as one."""
    today = today or timezone.localdate()
    openings = (
        agenda.openings.filter(valid_from__lte=today)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .order_by("weekday", "start_time")
        .values_list("weekday", "start_time", "end_time", "every_weeks")
    )
    days: dict[int, list[tuple[time, time, bool]]] = {}
    for weekday, start, end, every in openings:
        spans = days.setdefault(weekday, [])
        fortnightly = every == 2
        if spans and start <= spans[-1][1] and spans[-1][2] == fortnightly:
            spans[-1] = (spans[-1][0], max(end, spans[-1][1]), fortnightly)
        else:
            spans.append((start, end, fortnightly))
    return [OpeningDay(weekday, spans) for weekday, spans in sorted(days.items())]


# An agenda patients reach: a published practitioner's, or a department's without one (the
# "Consultation cardiologie" of a hospital).
PUBLISHED_AGENDA = Q(practitioner__is_published=True) | Q(
    practitioner__isnull=True, department__isnull=False
)


def bookable_motive(*, agenda_id: int, motive_id: int) -> Motive | None:
    """A motive patients may book online, with its agenda and site."""
    return (
        Motive.objects.filter(
            pk=motive_id,
            agenda_id=agenda_id,
            is_active=True,
            online=True,
            agenda__is_active=True,
            agenda__online_booking=True,
        )
        .filter(agenda__in=Agenda.objects.filter(PUBLISHED_AGENDA))
        .select_related(
            "agenda__site", "agenda__practitioner__specialty", "agenda__department__organisation"
        )
        .first()
    )


def _online_motives() -> Prefetch:
    motives = Motive.objects.filter(is_active=True, online=True).order_by("position", "id")
    return Prefetch("motives", queryset=motives, to_attr="online_motives")


def _department_agendas() -> Prefetch:
    agendas = (
        Agenda.objects.filter(PUBLISHED_AGENDA, is_active=True, online_booking=True)
        .select_related("site", "practitioner__specialty")
        .prefetch_related(_online_motives())
        .order_by("name", "pk")
    )
    return Prefetch("agendas", queryset=agendas, to_attr="bookable_agendas")


def establishment(organisation_id: int) -> Organisation | None:
    """An organisation with departments (a hospital, a centre) as patients see it: its sites,
    and each department with its agendas open online and their online motives (``departments``,
    each with ``bookable_agendas``, each with ``online_motives``). None without departments."""
    departments = (
        Department.objects.select_related("specialty")
        .prefetch_related(_department_agendas())
        .order_by("position", "name", "pk")
    )
    found = (
        Organisation.objects.filter(pk=organisation_id, departments__isnull=False)
        .exclude(kind__in=HIDDEN_KINDS)
        .prefetch_related(
            Prefetch("departments", queryset=departments, to_attr="shown_departments"),
            Prefetch("sites", queryset=Site.objects.order_by("pk"), to_attr="all_sites"),
        )
        .distinct()
        .first()
    )
    return found


def department_with_organisation(department_id: int) -> Department:
    return Department.objects.select_related("organisation").get(pk=department_id)


# Organisations that are not care places patients book with.
HIDDEN_KINDS = (Organisation.Kind.REGULATION_CENTRE, Organisation.Kind.SUPPORT_PROVIDER)


def next_availabilities(
    agendas: list[Agenda], *, now: datetime | None = None, days: int = 28
) -> dict[int, datetime | None]:
    """{motive id: its first slot the public may book within ``days``} for the online motives
    of ``agendas``: one batch per rank of motive (each agenda's first motives, then the
    seconds...), not one per motive."""
    now = now or timezone.now()
    firsts: dict[int, datetime | None] = {}
    rank = 0
    while True:
        pairs = [(a, a.online_motives[rank]) for a in agendas if len(a.online_motives) > rank]
        if not pairs:
            return firsts
        today = now.astimezone(pairs[0][0].site.zone).date()
        found = first_for_many(pairs, start=today, days=days, now=now)
        for agenda, motive in pairs:
            firsts[motive.pk] = found.get(agenda.pk)
        rank += 1


# The session key of the slot a visitor holds while they log in and confirm.
SESSION_HOLD = "consulto_hold"


@dataclass
class HeldSlot:
    """A visitor's held slot as the booking pages recap it. ``seconds_left`` is measured here,
    by the server's clock: the page counts down from it, whatever the device's clock says."""

    held: Appointment
    lapsed: bool
    seconds_left: int

    @classmethod
    def of(cls, held: Appointment, *, now: datetime | None = None) -> "HeldSlot":
        now = now or timezone.now()
        left = 0
        if held.status == Appointment.Status.HELD and held.hold_expires_at:
            left = max(0, int((held.hold_expires_at - now).total_seconds()))
        return cls(held=held, lapsed=left == 0, seconds_left=left)


def held_slot_in_session(session) -> HeldSlot | None:
    """The slot this session holds (or held until a moment ago), if any."""
    hold_id = session.get(SESSION_HOLD)
    if not isinstance(hold_id, int):
        return None
    held = (
        Appointment.objects.select_related(
            "agenda__site", "agenda__practitioner__specialty", "motive"
        )
        .filter(pk=hold_id, status__in=(Appointment.Status.HELD, Appointment.Status.EXPIRED))
        .first()
    )
    return HeldSlot.of(held) if held is not None else None


@dataclass
class Week:
    start: date
    days: list[tuple[date, list[engine.Slot]]]
    previous: date | None
    next: date | None
    first_later: engine.Slot | None  # when the week is empty: the next slot after it


def patient_audience(user, agenda: Agenda, *, now: datetime) -> frozenset[str]:
    """What the patient pages offer this visitor of ``agenda``: the public's slots, and the
    known patients' too when the practice knows someone this account books for. Whatever the
    account is elsewhere (a practitioner, a regulator, the practice's own staff), these pages
    are a patient's door: the same rule ``booking.book`` applies to an online booking."""
    if (
        user is not None
        and user.is_authenticated
        and visibility.knows_account(user, agenda, now=now)
    ):
        return visibility.KNOWN_PATIENT
    return visibility.PUBLIC


def _week_bounds(motive: Motive, week: date | None, now: datetime) -> tuple[date, date, date]:
    """(today, the week's first day, the last day the motive may be booked), in the agenda's
    zone."""
    today = now.astimezone(motive.agenda.site.zone).date()
    last = today + timedelta(days=motive.max_advance_days)
    return today, min(max(week or today, today), last), last


def week_state(
    *, motive: Motive, week: date | None, now: datetime, audience: frozenset[str]
) -> str:
    """What ``week_of_slots`` answers depends on (``cache.slots_state``), without loading a
    slot: the week's first day, and through the booking window's minute, today."""
    _today, start, _last = _week_bounds(motive, week, now)
    return slots_state(motive.agenda, motive, start=start, days=7, now=now, audience=audience)


def week_of_slots(
    *,
    motive: Motive,
    week: date | None,
    now: datetime | None = None,
    audience: frozenset[str] = visibility.PUBLIC,
) -> Week:
    """A motive's free slots for the seven days from ``week`` (today by default), of the
    openings ``audience`` sees (``patient_audience``)."""
    now = now or timezone.now()
    agenda = motive.agenda
    today, start, last = _week_bounds(motive, week, now)
    slots = slots_for_many([(agenda, motive)], start=start, days=7, now=now, audience=audience)[
        agenda.pk
    ]
    by_day: dict[date, list[engine.Slot]] = {start + timedelta(days=i): [] for i in range(7)}
    for slot in slots:
        by_day.setdefault(slot.start.date(), []).append(slot)
    first_later = None
    if not slots and start + timedelta(days=7) <= last:
        later = slots_for_many(
            [(agenda, motive)],
            start=start + timedelta(days=7),
            days=28,
            now=now,
            audience=audience,
        )[agenda.pk]
        first_later = later[0] if later else None
    return Week(
        start=start,
        days=sorted(by_day.items())[:7],
        previous=start - timedelta(days=7) if start > today else None,
        next=start + timedelta(days=7) if start + timedelta(days=7) <= last else None,
        first_later=first_later,
    )


@dataclass
class FollowUpChoice:
    """The follow-up of a held slot's motive, and the times proposed for it around its due day
    (``booking.follow_up_window``), by day."""

    motive: Motive
    due: date
    days: list[tuple[date, list[engine.Slot]]]

    @property
    def starts(self) -> set[str]:
        return {slot.start.isoformat() for _day, slots in self.days for slot in slots}


def follow_up_choice(*, motive: Motive, start: datetime, now: datetime | None = None):
    """What the patient may choose for the follow-up of ``motive`` booked at ``start`` (None
    when the motive has none): the public's free slots of the follow-up motive in its window,
    after the first appointment's end."""
    if motive.follow_up_id is None:
        return None
    now = now or timezone.now()
    follow = Motive.objects.select_related("agenda__site").filter(pk=motive.follow_up_id).first()
    if follow is None or not follow.is_active or not follow.agenda.is_active:
        return None
    motive.follow_up = follow
    window = booking.follow_up_window(motive=motive, start=start)
    agenda = follow.agenda
    slots = slots_for_many([(agenda, follow)], start=window.first_day, days=window.days, now=now)[
        agenda.pk
    ]
    by_day: dict[date, list[engine.Slot]] = {}
    for slot in slots:
        if slot.start >= window.not_before:
            by_day.setdefault(slot.start.date(), []).append(slot)
    return FollowUpChoice(motive=follow, due=window.due, days=sorted(by_day.items()))


def profiles_of(user) -> QuerySet[PatientProfile]:
    """The account's own profile first, then its relatives."""
    me_first = Case(When(relationship=PatientProfile.Relationship.SELF, then=0), default=1)
    return PatientProfile.objects.filter(owner=user).order_by(me_first, "first_name", "pk")


def own_profile(user) -> PatientProfile | None:
    return profiles_of(user).filter(relationship=PatientProfile.Relationship.SELF).first()


def relative_of(user, profile_id: int) -> PatientProfile | None:
    return (
        PatientProfile.objects.filter(owner=user, pk=profile_id)
        .exclude(relationship=PatientProfile.Relationship.SELF)
        .first()
    )


def my_appointments(user, *, now: datetime | None = None) -> tuple[list, list]:
    """(upcoming, past) appointments of the account and its relatives; each cancelled one
    carries its ``cancellation`` (see ``Cancellation``)."""
    now = now or timezone.now()
    appointments = appointments_of(user).select_related("agenda__practitioner__specialty")
    upcoming = list(
        appointments.filter(end__gt=now, status=Appointment.Status.BOOKED).order_by("start")
    )
    past = list(appointments.exclude(pk__in=[a.pk for a in upcoming]).order_by("-start")[:50])
    explain_cancellations(user, past)
    return upcoming, past


def my_appointment(user, appointment_id: int) -> Appointment | None:
    found = (
        appointments_of(user)
        .select_related("agenda__practitioner__specialty")
        .filter(pk=appointment_id)
        .first()
    )
    if found is not None:
        explain_cancellations(user, [found])
    return found


@dataclass
class Cancellation:
    """What became of a cancelled appointment, in the patient's terms: ``moved`` (to
    ``replacement``), ``replaced`` by an earlier slot from the waiting list, cancelled ``by_you``
    or ``by_practice`` (with the reason the practice typed, if any). Never a raw reason code."""

    MOVED, REPLACED, BY_YOU, BY_PRACTICE = "moved", "replaced", "by_you", "by_practice"

    kind: str
    replacement: Appointment | None = None
    reason: str = ""


def explain_cancellations(user, appointments: list[Appointment]) -> None:
    """Set ``cancellation`` on each cancelled appointment of ``appointments`` (None on the
    others), in two queries whatever their number."""
    cancelled = {a.pk: a for a in appointments if a.status == Appointment.Status.CANCELLED}
    for a in appointments:
        a.cancellation = None
    if not cancelled:
        return
    mine = appointments_of(user).select_related("agenda__site")
    successors = {a.rescheduled_from_id: a for a in mine.filter(rescheduled_from__in=cancelled)}
    taken = (
        WaitlistOffer.objects.filter(
            status=WaitlistOffer.Status.TAKEN,
            entry__appointment__in=[
                pk for pk, a in cancelled.items() if a.cancel_reason == Appointment.REASON_WAITLIST
            ],
            hold__in=mine.exclude(status=Appointment.Status.EXPIRED),
        )
        .select_related("entry", "hold__agenda__site")
        .order_by("pk")
    )
    earlier = {offer.entry.appointment_id: offer.hold for offer in taken}
    for pk, a in cancelled.items():
        if pk in successors:
            a.cancellation = Cancellation(Cancellation.MOVED, successors[pk])
        elif a.cancel_reason == Appointment.REASON_WAITLIST:
            a.cancellation = Cancellation(Cancellation.REPLACED, earlier.get(pk))
        elif a.cancelled_by_id is not None and a.cancelled_by_id in (
            user.pk,
            a.patient.owner_id if a.patient else None,
        ):
            a.cancellation = Cancellation(Cancellation.BY_YOU)
        else:
            a.cancellation = Cancellation(Cancellation.BY_PRACTICE, reason=a.reason_in_words)


def my_waitlist(user) -> list:
    return list(
        WaitlistEntry.objects.filter(user=user, status=WaitlistEntry.Status.WAITING)
        .select_related("motive__agenda__practitioner", "motive__agenda__site", "patient")
        .order_by("created_at")
    )
