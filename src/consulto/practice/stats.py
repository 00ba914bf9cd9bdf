"""Dashboard figures: appointments per week, online share and no-show rate, for the agendas a
user may watch (an admin: their organisation's; a practitioner: their own).

One grouped query counts a whole period: each appointment is put into its week by comparing its
start with the weeks' first instants, computed here in the site's zone, so a week that holds a
change to or from summer time still runs from Monday 00:00 to Monday 00:00 local time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, IntegerField, Q, Value, When

from consulto.core.time import PARIS, local_midnight
from consulto.core.time import now as current_time
from consulto.directory.models import Organisation
from consulto.scheduling.models import Agenda, Appointment, Referral

from .permissions import Perm, agenda_ids, check_agenda, check_organisation, organisations_with

PAST_WEEKS = 12  # the current week and the eleven before it
AHEAD_WEEKS = 4

Status = Appointment.Status
COUNTED = (Status.BOOKED, Status.ARRIVED, Status.IN_PROGRESS, Status.SEEN, Status.NO_SHOW)
# Appointments whose outcome is known: the no-show rate is taken over these only.
CAME_OR_NOT = (Status.ARRIVED, Status.IN_PROGRESS, Status.SEEN, Status.NO_SHOW)


@dataclass
class Week:
    start: date  # a Monday, in the site's zone
    begins_at: datetime
    ends_at: datetime
    is_future: bool = False  # not started yet: what is booked ahead
    is_current: bool = False
    by_status: dict[str, int] = field(default_factory=dict)
    online: int = 0

    @property
    def appointments(self) -> int:
        return sum(self.by_status.values())

    @property
    def no_shows(self) -> int:
        return self.by_status.get(Status.NO_SHOW, 0)

    @property
    def concluded(self) -> int:
        return sum(self.by_status.get(s, 0) for s in CAME_OR_NOT)

    @property
    def came(self) -> int:
        return self.concluded - self.no_shows

    @property
    def online_share(self) -> float | None:
        return self.online / self.appointments if self.appointments else None

    @property
    def no_show_rate(self) -> float | None:
        if self.is_future or not self.concluded:
            return None
        return self.no_shows / self.concluded


# The SAS pays a supplement for up to this many consultations taken through regulation a week.
SAS_PAID_CEILING = 20
# A consultation taken through regulation: booked by a regulator, or sent with a regulation
# referral (the regulator's console, another door).
THROUGH_REGULATION = Q(referral__kind=Referral.Kind.REGULATION) | Q(
    channel=Appointment.Channel.REGULATOR
)


@dataclass
class SasWeek:
    start: date
    begins_at: datetime
    ends_at: datetime
    is_current: bool = False
    is_future: bool = False  # never: the SAS weeks are the past ones; for the charts
    consultations: int = 0

    @property
    def paid(self) -> int:
        return min(self.consultations, SAS_PAID_CEILING)

    @property
    def beyond_ceiling(self) -> int:
        return max(self.consultations - SAS_PAID_CEILING, 0)


@dataclass
class Dashboard:
    organisation: Organisation
    organisations: list[Organisation]  # those the user may choose from
    agendas: list[Agenda]  # those the user may filter on
    agenda: Agenda | None  # the one chosen, or None for all of ``agendas``
    zone: ZoneInfo
    weeks: list[Week]
    sas_weeks: list[SasWeek] = field(default_factory=list)
    watched_ids: list[int] = field(default_factory=list)

    @property
    def sas_total(self) -> int:
        return sum(w.consultations for w in self.sas_weeks)

    @property
    def past_weeks(self) -> list[Week]:
        return [w for w in self.weeks if not w.is_future]

    @property
    def ahead_weeks(self) -> list[Week]:
        return [w for w in self.weeks if w.is_future]

    @property
    def past_total(self) -> int:
        return sum(w.appointments for w in self.past_weeks)

    @property
    def ahead_total(self) -> int:
        return sum(w.appointments for w in self.ahead_weeks)

    @property
    def online_share(self) -> float | None:
        total = self.past_total
        return sum(w.online for w in self.past_weeks) / total if total else None

    @property
    def no_show_rate(self) -> float | None:
        concluded = sum(w.concluded for w in self.past_weeks)
        return sum(w.no_shows for w in self.past_weeks) / concluded if concluded else None


def dashboard(
    *,
    user,
    organisation_id: int | None = None,
    agenda_id: int | None = None,
    now: datetime | None = None,
) -> Dashboard:
    """The figures of the user's agendas in one organisation, or of one agenda.

    403 for a user who may not see any dashboard (a secretary); 404 for an organisation or an
    agenda outside theirs.
    """
    now = now or current_time()
    allowed_orgs = organisations_with(user, Perm.DASHBOARD)
    if not allowed_orgs:
        raise PermissionDenied
    if organisation_id is not None:
        check_organisation(user, organisation_id, Perm.DASHBOARD)
    agenda = None
    if agenda_id is not None:
        check_agenda(user, agenda_id, Perm.DASHBOARD)
        agenda = Agenda.objects.select_related("site").get(pk=agenda_id)
        if organisation_id is None:
            organisation_id = agenda.organisation_id
        elif agenda.organisation_id != organisation_id:
            agenda = None  # the organisation was just switched: show all of its agendas
    if organisation_id is None:
        organisation_id = allowed_orgs[0]

    organisations = list(Organisation.objects.filter(pk__in=allowed_orgs).order_by("name"))
    agendas = list(
        Agenda.objects.filter(
            organisation_id=organisation_id, pk__in=agenda_ids(user, Perm.DASHBOARD)
        )
        .select_related("site")
        .order_by("name", "pk")
    )
    watched = [agenda] if agenda else agendas
    zones = {a.site.timezone for a in watched}
    zone = ZoneInfo(zones.pop()) if len(zones) == 1 else PARIS
    weeks = _weeks(now, zone)
    watched_ids = [a.pk for a in watched]
    _count(weeks, watched_ids)
    sas_weeks = [
        SasWeek(start=w.start, begins_at=w.begins_at, ends_at=w.ends_at, is_current=w.is_current)
        for w in weeks
        if not w.is_future
    ]
    _count_sas(sas_weeks, watched_ids)
    return Dashboard(
        organisation=next(o for o in organisations if o.pk == organisation_id),
        organisations=organisations,
        agendas=agendas,
        agenda=agenda,
        zone=zone,
        weeks=weeks,
        sas_weeks=sas_weeks,
        watched_ids=watched_ids,
    )


def _weeks(now: datetime, zone: ZoneInfo) -> list[Week]:
    today = now.astimezone(zone).date()
    this_monday = today - timedelta(days=today.weekday())
    mondays = [this_monday + timedelta(weeks=n) for n in range(-(PAST_WEEKS - 1), AHEAD_WEEKS + 2)]
    bounds = [local_midnight(monday, zone) for monday in mondays]
    return [
        Week(
            start=mondays[i],
            begins_at=bounds[i],
            ends_at=bounds[i + 1],
            is_future=mondays[i] > this_monday,
            is_current=mondays[i] == this_monday,
        )
        for i in range(len(mondays) - 1)
    ]


def _count(weeks: list[Week], agenda_ids_: list[int]) -> None:
    """Fill the weeks in with one query grouped by week, status and channel."""
    if not weeks or not agenda_ids_:
        return
    week_index = Case(
        *[When(start__lt=week.ends_at, then=Value(i)) for i, week in enumerate(weeks)],
        output_field=IntegerField(),
    )
    rows = (
        Appointment.objects.filter(
            agenda_id__in=agenda_ids_,
            start__gte=weeks[0].begins_at,
            start__lt=weeks[-1].ends_at,
            status__in=COUNTED,
        )
        .annotate(week=week_index)
        .values("week", "status", "channel")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        week = weeks[row["week"]]
        week.by_status[row["status"]] = week.by_status.get(row["status"], 0) + row["n"]
        if row["channel"] == Appointment.Channel.ONLINE:
            week.online += row["n"]


def _sas_appointments(weeks: list[SasWeek], agenda_ids_: list[int]):
    return Appointment.objects.filter(
        THROUGH_REGULATION,
        agenda_id__in=agenda_ids_,
        start__gte=weeks[0].begins_at,
        start__lt=weeks[-1].ends_at,
        status__in=COUNTED,
    )


def _count_sas(weeks: list[SasWeek], agenda_ids_: list[int]) -> None:
    """The consultations taken through regulation per week, in one grouped query (cancelled
    ones are not counted: the SAS pays for consultations that took place or are due)."""
    if not weeks or not agenda_ids_:
        return
    week_index = Case(
        *[When(start__lt=week.ends_at, then=Value(i)) for i, week in enumerate(weeks)],
        output_field=IntegerField(),
    )
    rows = (
        _sas_appointments(weeks, agenda_ids_)
        .annotate(week=week_index)
        .values("week")
        .annotate(n=Count("pk", distinct=True))
        .order_by()
    )
    for row in rows:
        weeks[row["week"]].consultations += row["n"]


@dataclass(frozen=True)
class SasRow:
    start: datetime  # in the dashboard's zone
    patient: str
    motive: str
    referred_by: str
    status: str


def sas_consultations(board: Dashboard) -> list[SasRow]:
    """One row per consultation taken through regulation over the dashboard's past weeks, in
    the order they took place (for the CSV export)."""
    if not board.sas_weeks or not board.watched_ids:
        return []
    found = (
        _sas_appointments(board.sas_weeks, board.watched_ids)
        .select_related("patient", "motive", "referral")
        .order_by("start", "pk")
    )
    rows = []
    for appointment in found:
        patient = appointment.patient
        try:
            referrer = appointment.referral.referrer_label
        except Referral.DoesNotExist:
            referrer = str(Appointment.Channel.REGULATOR.label)
        rows.append(
            SasRow(
                start=appointment.start.astimezone(board.zone),
                patient=f"{patient.first_name} {patient.last_name}" if patient else "",
                motive=appointment.motive.label,
                referred_by=referrer,
                status=appointment.get_status_display(),
            )
        )
    return rows
