"""Reads of the back office: the agendas a user may open, and what an agenda shows over a period.

The calendar speaks *wall-clock* time: each agenda's times are sent as the site's local time
written with a "Z" and the calendar runs in UTC mode, so a 09:00 appointment shows at 09:00
whatever the zone of the browser; times coming back are read as the site's local time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _

from consulto.core.errors import InvalidInput
from consulto.core.time import parse_wall, wall_to_instant
from consulto.scheduling.models import Absence, Agenda, Appointment, Opening

from .permissions import Perm, acting_for, agenda_ids, check_agenda

Status = Appointment.Status
SHOWN = (Status.BOOKED, Status.ARRIVED, Status.IN_PROGRESS, Status.SEEN, Status.NO_SHOW)


def visible_agendas(user, perm: Perm = Perm.AGENDA) -> list[Agenda]:
    return list(
        Agenda.objects.select_related("site", "organisation", "practitioner")
        .filter(pk__in=agenda_ids(user, perm), is_active=True)
        .order_by("organisation__name", "name", "pk")
    )


def chosen_agendas(user, requested: list[int]) -> list[Agenda]:
    """The requested agendas, each checked (404 elsewhere, 403 not yours); all yours if none."""
    if not requested:
        agendas = visible_agendas(user)
        return agendas[:1] if len(agendas) > 6 else agendas
    allowed = agenda_ids(user)
    wanted = list(dict.fromkeys(requested))
    for agenda_id in wanted:
        if agenda_id not in allowed:
            check_agenda(user, agenda_id)  # raises 404 or 403
            raise PermissionDenied
    by_id = Agenda.objects.select_related("site").filter(is_active=True).in_bulk(wanted)
    if len(by_id) != len(wanted):
        raise Http404
    return [by_id[a] for a in wanted]


def wall(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).replace(tzinfo=None).isoformat(timespec="minutes") + ":00Z"


def from_wall(text: str, zone: ZoneInfo, *, field: str = "start") -> datetime:
    """A calendar time (local wall clock written as UTC) back to an aware instant, by the rule
    of ``core.time.wall_to_instant`` (a time skipped in spring is refused)."""
    naive = parse_wall(text)
    if naive is None:
        raise InvalidInput(_("This date and time is not valid."), field=field)
    return wall_to_instant(naive.date(), naive.time(), zone, field=field)


def text_colour(background: str) -> str:
    """Black or white, whichever reads better on ``background`` (WCAG relative luminance)."""
    try:
        r, g, b = (int(background[i : i + 2], 16) / 255 for i in (1, 3, 5))
    except (ValueError, IndexError):
        return "#ffffff"

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    luminance = 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    return "#111111" if (luminance + 0.05) / 0.05 > 1.05 / (luminance + 0.05) else "#ffffff"


def agenda_events(*, agendas: list[Agenda], start: date, end: date) -> dict:
    """{agenda id: {"events": [...], "businessHours": [...]}} for [start, end) in each agenda's
    zone: appointments (not cancelled), blocked periods, and the openings as business hours."""
    if end <= start or (end - start).days > 42:
        raise InvalidInput(_("Ask for at most six weeks at a time."), field="end")
    zones = {a.pk: a.site.zone for a in agendas}
    spans = {
        a.pk: (
            datetime.combine(start, time(), tzinfo=zones[a.pk]),
            datetime.combine(end, time(), tzinfo=zones[a.pk]),
        )
        for a in agendas
    }
    low = min(s for s, _e in spans.values())
    high = max(e for _s, e in spans.values())
    result = {str(a.pk): {"events": [], "businessHours": []} for a in agendas}
    # Plain rows, not models: a busy week is hundreds of appointments and this runs on every
    # navigation and live update.
    rows = (
        Appointment.objects.filter(
            agenda_id__in=list(zones), status__in=SHOWN, start__lt=high, end__gt=low
        )
        .order_by("start")
        .values_list(
            "id", "agenda_id", "start", "end", "status", "motive__label", "motive__colour",
            "patient__first_name", "patient__last_name",
        )
    )  # fmt: skip
    labels = {value: str(label) for value, label in Status.choices}
    detail = reverse("practice:appointment", args=[0])[:-2]
    someone = _("Patient")
    colours: dict[str, tuple[str, str]] = {}
    for pk, agenda_id, begin, finish, status, motive, colour, first, last in rows:
        zone = zones[agenda_id]
        parts = [f"{first} {last}" if last else someone, motive]
        if status != Status.BOOKED:
            parts.append(labels[status])
        colour = colour or "#2e6fd8"
        if colour not in colours:
            colours[colour] = (colour, text_colour(colour))
        result[str(agenda_id)]["events"].append(
            {
                "id": str(pk),
                "title": " · ".join(parts),
                "start": wall(begin, zone),
                "end": wall(finish, zone),
                "url": f"{detail}{pk}/",
                "backgroundColor": colour,
                "borderColor": colour,
                "textColor": colours[colour][1],
                "classNames": [f"status-{status}"],
                "editable": status == Status.BOOKED,
            }
        )
    for absence in Absence.objects.filter(
        agenda_id__in=list(zones), start__lt=high, end__gt=low
    ).order_by("start"):
        zone = zones[absence.agenda_id]
        result[str(absence.agenda_id)]["events"].append(
            {
                "id": f"absence-{absence.pk}",
                "title": absence.reason or _("Blocked"),
                "start": wall(absence.start, zone),
                "end": wall(absence.end, zone),
                "display": "background",
                "classNames": ["absence"],
            }
        )
    for opening in Opening.objects.filter(agenda_id__in=list(zones), valid_from__lt=end).exclude(
        valid_until__lt=start
    ):
        result[str(opening.agenda_id)]["businessHours"].append(
            {
                # FullCalendar counts Sunday as 0; Opening counts Monday as 0.
                "daysOfWeek": [(opening.weekday + 1) % 7],
                "startTime": opening.start_time.strftime("%H:%M"),
                "endTime": opening.end_time.strftime("%H:%M"),
            }
        )
    return result


@dataclass(frozen=True, slots=True)
class DayRow:
    times: str
    url: str
    patient: str
    motive: str
    status: str
    status_label: str
    room_url: str = ""  # a video appointment's call page
    waiting_since: str = ""  # "14:52": in the virtual waiting room since then, not yet let in


def day_appointments(*, agendas: list[Agenda], day: date) -> list[tuple[Agenda, list[DayRow]]]:
    """The day's appointments of each agenda, for the list under the calendar (and without JS):
    plain rows, ready to print, in each agenda's own zone."""
    if not agendas:
        return []
    zones = {a.pk: a.site.zone for a in agendas}
    lows = {a.pk: datetime.combine(day, time(), tzinfo=zones[a.pk]) for a in agendas}
    rows: dict[int, list[DayRow]] = {a.pk: [] for a in agendas}
    labels = {value: str(label) for value, label in Status.choices}
    detail = reverse("practice:appointment", args=[0])[:-2]
    someone = _("Patient")
    room = reverse("visio_practitioner", args=[0])[:-2]
    for pk, agenda_id, begin, finish, status, motive, first, last, room_id, waiting, admitted in (
        Appointment.objects.filter(
            agenda_id__in=list(zones),
            status__in=SHOWN,
            start__lt=max(lows.values()) + timedelta(days=1),
            end__gt=min(lows.values()),
        )
        .order_by("start")
        .values_list(
            "id", "agenda_id", "start", "end", "status", "motive__label",
            "patient__first_name", "patient__last_name",
            "video_room__id", "video_room__waiting_since", "video_room__admitted_at",
        )
    ):  # fmt: skip
        if not lows[agenda_id] <= begin < lows[agenda_id] + timedelta(days=1):
            continue
        zone = zones[agenda_id]
        rows[agenda_id].append(
            DayRow(
                times=f"{begin.astimezone(zone):%H:%M}–{finish.astimezone(zone):%H:%M}",
                url=f"{detail}{pk}/",
                patient=f"{first} {last}" if last else someone,
                motive=motive,
                status=status,
                status_label=labels[status],
                room_url=f"{room}{room_id}/" if room_id else "",
                waiting_since=(
                    f"{waiting.astimezone(zone):%H:%M}" if waiting and not admitted else ""
                ),
            )
        )
    return [(a, rows[a.pk]) for a in agendas]


def appointment_for_staff(*, user, appointment_id: int) -> Appointment:

    appointment = (
        Appointment.objects.select_related(
            "agenda__site", "agenda__organisation", "motive", "patient", "booked_by"
        )
        .filter(pk=appointment_id)
        .exclude(status__in=[Status.HELD, Status.EXPIRED])
        .first()
    )
    if appointment is None:
        raise Http404
    check_agenda(user, appointment.agenda, Perm.AGENDA)
    # A substitute: kept on the titular's behalf, refused outside the delegation's period.
    appointment.acting_for = acting_for(user, appointment)
    return appointment
