"""Read queries of the agenda settings pages: what the user may configure, an agenda's motives,
openings and absences, and the preview of what patients are offered.

The preview goes through ``scheduling.cache.slots_for_many``, the very function the patient
pages read slots from, so it shows what a patient sees, booking window included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Prefetch, Q
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from consulto.directory.models import Membership, Organisation
from consulto.notifications.models import ReminderSettings
from consulto.scheduling import availability as engine
from consulto.scheduling import visibility
from consulto.scheduling.cache import slots_for_many
from consulto.scheduling.models import Absence, Agenda, Appointment, Motive, Opening

from .agenda_settings import occurs_on
from .models import PracticePolicy
from .permissions import Perm, agenda_ids, check_agenda, staff_roles

PREVIEW_DAYS = 14

# The audiences the preview shows the agenda to, in the order of the selector.
PREVIEW_AUDIENCES = ("public", "known", "pro", "cpts", "regulator")


def audience_choices() -> list[tuple[str, str]]:
    return [
        ("public", _("The public (a patient new to you, online)")),
        ("known", _("A patient you have already seen")),
        ("pro", _("A practitioner of another organisation")),
        ("cpts", _("A member of a CPTS you belong to")),
        ("regulator", _("A regulator (SAMU / SAS)")),
    ]


def configurable_agendas(user) -> list[Agenda]:
    """The agendas whose settings the user may change, with their figures for the list."""
    return list(
        Agenda.objects.filter(pk__in=agenda_ids(user, Perm.SETTINGS))
        .select_related("site", "practitioner", "organisation")
        .annotate(
            active_motives=Count("motives", filter=Q(motives__is_active=True), distinct=True),
            opening_count=Count("openings", distinct=True),
        )
        .order_by("organisation__name", "name", "pk")
    )


@dataclass
class Policy:
    organisation: Organisation
    policy: PracticePolicy


def admin_policies(user) -> list[Policy]:
    """The practice policy of every organisation the user administers (unsaved when none yet)."""
    org_ids = [o for o, roles in staff_roles(user).items() if Membership.Role.ADMIN in roles]
    found = {p.organisation_id: p for p in PracticePolicy.objects.filter(organisation__in=org_ids)}
    return [
        Policy(organisation=o, policy=found.get(o.pk) or PracticePolicy(organisation=o))
        for o in Organisation.objects.filter(pk__in=org_ids).order_by("name")
    ]


def agenda_for_settings(user, agenda_id: int) -> Agenda:
    return _agenda_for(user, agenda_id, Perm.SETTINGS)


def agenda_for_absences(user, agenda_id: int) -> Agenda:
    """An agenda whose absences the user manages (its settings, or the secretary's right)."""
    return _agenda_for(user, agenda_id, Perm.ABSENCES)


def _agenda_for(user, agenda_id: int, perm: Perm) -> Agenda:
    agenda = (
        Agenda.objects.select_related("site", "practitioner", "organisation")
        .filter(pk=agenda_id)
        .first()
    )
    if agenda is None:
        raise Http404
    check_agenda(user, agenda, perm)
    return agenda


def absence_only_agendas(user) -> list[Agenda]:
    """The agendas whose absences, and nothing else of their settings, the user manages."""
    ids = agenda_ids(user, Perm.ABSENCES) - agenda_ids(user, Perm.SETTINGS)
    return list(
        Agenda.objects.filter(pk__in=ids)
        .select_related("site", "organisation")
        .order_by("organisation__name", "name", "pk")
    )


def configures(user, agenda: Agenda) -> bool:
    """Whether the user opens the agenda's whole settings page (else only its absences)."""
    return agenda.pk in agenda_ids(user, Perm.SETTINGS)


def motive_of(agenda: Agenda, pk: int) -> Motive:
    motive = Motive.objects.filter(agenda=agenda, pk=pk).first()
    if motive is None:
        raise Http404
    motive.agenda = agenda
    return motive


def opening_of(agenda: Agenda, pk: int) -> Opening:
    opening = (
        Opening.objects.filter(agenda=agenda, pk=pk)
        .select_related("site")
        .prefetch_related("motives")
        .first()
    )
    if opening is None:
        raise Http404
    opening.agenda = agenda
    return opening


def absence_of(agenda: Agenda, pk: int) -> Absence:
    absence = Absence.objects.filter(agenda=agenda, pk=pk).first()
    if absence is None:
        raise Http404
    absence.agenda = agenda
    absence.label = absence_label(absence, zone=agenda.zone)
    return absence


def motives(agenda: Agenda) -> list[Motive]:
    """The agenda's motives in the patients' order, each with how many openings offer it."""
    found = list(
        Motive.objects.filter(agenda=agenda)
        .annotate(opening_count=Count("openings"))
        .order_by("-is_active", "position", "id")
    )
    for motive in found:
        values = {
            "notice": notice_label(motive.min_notice_minutes),
            "advance": advance_label(motive.max_advance_days),
            "deadline": cancellation_label(motive.cancellation_deadline_hours).lower(),
        }
        if motive.min_notice_minutes:
            text = _(
                "Booked online from %(notice)s to %(advance)s ahead; cancelled online: %(deadline)s"
            )
        else:
            text = _("Booked online up to %(advance)s ahead; cancelled online: %(deadline)s")
        motive.window_text = text % values
    return found


def notice_label(minutes: int) -> str:
    if minutes == 0:
        return str(_("No minimum"))
    if minutes % 1440 == 0:
        days = minutes // 1440
        return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}


def advance_label(days: int) -> str:
    if days == 365:
        return str(_("1 year"))
    if days % 30 == 0:
        months = days // 30
        return ngettext("%(n)d month", "%(n)d months", months) % {"n": months}
    if days % 7 == 0:
        weeks = days // 7
        return ngettext("%(n)d week", "%(n)d weeks", weeks) % {"n": weeks}
    return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}


def cancellation_label(hours: int) -> str:
    if hours == 0:
        return str(_("Until the appointment"))
    return _("%(delay)s before") % {"delay": notice_label(hours * 60)}


@dataclass
class Weekday:
    label: str
    openings: list[Opening]


def openings_by_weekday(agenda: Agenda, *, today: date) -> list[Weekday]:
    """Every weekday with its openings. Each opening carries ``state`` (current, future or
    ended) and ``next_dates``: its next two dates, to see at a glance which weeks it falls on."""
    found = list(
        Opening.objects.filter(agenda=agenda)
        .select_related("site")
        .prefetch_related(Prefetch("motives", queryset=Motive.objects.order_by("position", "id")))
        .order_by("weekday", "start_time", "valid_from")
    )
    days = [Weekday(label=str(label), openings=[]) for _value, label in Opening.Weekday.choices]
    for opening in found:
        if opening.valid_until is not None and opening.valid_until < today:
            opening.state = "ended"
        elif opening.valid_from > today:
            opening.state = "future"
        else:
            opening.state = "current"
        opening.next_dates = next_dates(opening, today=today)
        days[opening.weekday].openings.append(opening)
    return days


def next_dates(opening: Opening, *, today: date, count: int = 2) -> list[date]:
    day = max(today, opening.valid_from)
    day += timedelta(days=(opening.weekday - day.weekday()) % 7)
    dates = []
    while len(dates) < count and (opening.valid_until is None or day <= opening.valid_until):
        if occurs_on(opening, day):
            dates.append(day)
        day += timedelta(days=7)
    return dates


def absences(agenda: Agenda, *, now: datetime) -> tuple[list[Absence], list[Absence]]:
    """(current and coming absences, the ten last past ones)."""
    coming = list(Absence.objects.filter(agenda=agenda, end__gt=now).order_by("start"))
    past = list(Absence.objects.filter(agenda=agenda, end__lte=now).order_by("-start")[:10])
    for absence in (*coming, *past):
        absence.label = absence_label(absence, zone=agenda.zone)
    return coming, past


def absence_label(absence: Absence, *, zone) -> str:
    """The period as people say it: whole days when it runs from midnight to midnight."""
    start, end = absence.start.astimezone(zone), absence.end.astimezone(zone)
    if start.time() == time(0) and end.time() == time(0):
        last = end.date() - timedelta(days=1)
        if last == start.date():
            return capfirst(_("%(day)s (whole day)") % {"day": date_format(start, "l j F Y")})
        return _("From %(start)s to %(end)s (whole days)") % {
            "start": date_format(start, "l j F Y"),
            "end": date_format(last, "l j F Y"),
        }
    if start.date() == end.date():
        return capfirst(
            _("%(day)s, %(start)s–%(end)s")
            % {
                "day": date_format(start, "l j F Y"),
                "start": date_format(start, "H:i"),
                "end": date_format(end, "H:i"),
            }
        )
    return _("From %(start)s to %(end)s") % {
        "start": date_format(start, "l j F Y, H:i"),
        "end": date_format(end, "l j F Y, H:i"),
    }


def reminder_settings(agenda: Agenda) -> ReminderSettings | None:
    """The reminders of the agenda's practitioner (unsaved defaults when never set), or None
    for an agenda without a practitioner."""
    if agenda.practitioner_id is None:
        return None
    found = ReminderSettings.objects.filter(practitioner_id=agenda.practitioner_id).first()
    return found or ReminderSettings(practitioner=agenda.practitioner)


def future_appointments_in(opening: Opening, *, now: datetime | None = None) -> int:
    """Appointments to come that fall within the opening's hours on its dates."""
    now = now or timezone.now()
    agenda = opening.agenda
    zone = agenda.zone
    starts = (
        Appointment.objects.active(now=now)
        .filter(agenda=agenda, start__gte=now)
        .values_list("start", flat=True)
    )
    count = 0
    for start in starts:
        local = start.astimezone(zone)
        if occurs_on(opening, local.date()) and (
            opening.start_time <= local.time() < opening.end_time
        ):
            count += 1
    return count


def appointments_of_motive(motive: Motive, *, now: datetime | None = None) -> tuple[int, int]:
    """(appointments to come, all appointments ever) booked with the motive."""
    now = now or timezone.now()
    booked = Appointment.objects.filter(motive=motive)
    return booked.active(now=now).filter(start__gte=now).count(), booked.count()


# The preview ------------------------------------------------------------------------------------


@dataclass
class MotivePreview:
    motive: Motive
    days: list[tuple[date, list[engine.Slot]]]
    count: int
    first: engine.Slot | None


@dataclass
class Preview:
    start: date
    end: date  # the last day shown
    previous: date | None
    next: date
    motives: list[MotivePreview]
    # Motives patients never see here (staff only or deactivated).
    hidden: list[Motive] = field(default_factory=list)
    # Why patients may see nothing at all, whatever the motives say.
    obstacles: list[str] = field(default_factory=list)
    audience: str = "public"
    audience_label: str = ""
    audiences: list[tuple[str, str]] = field(default_factory=list)

    @property
    def professional(self) -> bool:
        return self.audience in ("pro", "cpts", "regulator")


def preview(
    *,
    agenda: Agenda,
    start: date | None = None,
    now: datetime | None = None,
    days=PREVIEW_DAYS,
    audience: str = "public",
) -> Preview:
    """The slots of each motive for ``days`` days from ``start`` (today by default, never
    before), as ``audience`` would be offered them now: the public and known patients the
    online motives in the openings they see; a practitioner of another organisation and a
    regulator every active motive (the online flags bind patients only) in theirs."""
    if audience not in PREVIEW_AUDIENCES:
        audience = "public"
    seen_by = visibility.AUDIENCES[audience]
    professional = audience in ("pro", "cpts", "regulator")
    now = now or timezone.now()
    today = now.astimezone(agenda.zone).date()
    start = max(start or today, today)
    all_motives = list(
        Motive.objects.filter(agenda=agenda)
        .annotate(opening_count=Count("openings"))
        .order_by("position", "id")
    )
    shown = [m for m in all_motives if m.is_active and (m.online or professional)]
    choices = audience_choices()
    result = Preview(
        start=start,
        end=start + timedelta(days=days - 1),
        previous=max(start - timedelta(days=days), today) if start > today else None,
        next=start + timedelta(days=days),
        motives=[],
        hidden=[m for m in all_motives if m not in shown],
        audience=audience,
        audience_label=dict(choices)[audience],
        audiences=choices,
    )
    if not agenda.is_active:
        result.obstacles.append(_("This agenda is deactivated."))
    if not professional and not agenda.online_booking:
        result.obstacles.append(_("Online booking is turned off for this agenda."))
    if (
        not professional
        and agenda.practitioner is not None
        and not agenda.practitioner.is_published
    ):
        result.obstacles.append(_("The practitioner's page is not published."))
    for motive in shown:
        motive.agenda = agenda
        slots = slots_for_many(
            [(agenda, motive)], start=start, days=days, now=now, audience=seen_by
        )[agenda.pk]
        by_day: dict[date, list[engine.Slot]] = {start + timedelta(days=i): [] for i in range(days)}
        for slot in slots:
            if slot.start.date() in by_day:
                by_day[slot.start.date()].append(slot)
        result.motives.append(
            MotivePreview(
                motive=motive,
                days=sorted(by_day.items()),
                count=len(slots),
                first=slots[0] if slots else None,
            )
        )
    return result
