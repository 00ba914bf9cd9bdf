"""Reads of the back office: the agendas a user may open, and what an agenda shows over a period.

The calendar speaks *wall-clock* time: each agenda's times are sent as the site's local time
written with a "Z" and the calendar runs in UTC mode, so a 09:00 appointment shows at 09:00
whatever the zone of the browser; times coming back are read as the site's local time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.http import Http404
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from consulto.core import audit
from consulto.core.crypto import decrypt_text
from consulto.core.errors import InvalidInput
from consulto.core.instants import EpochSeconds, WallClock, epoch
from consulto.core.time import parse_wall, wall_to_instant
from consulto.directory.models import Department
from consulto.notifications import services as notify
from consulto.scheduling import availability as engine
from consulto.scheduling import visibility
from consulto.scheduling.models import Absence, Agenda, Appointment, Motive, Opening
from consulto.scheduling.selectors import load_inputs

from .agenda_settings import occurs_on
from .permissions import (
    Perm,
    acting_for,
    agenda_condition,
    agenda_ids,
    allows,
    check_agenda,
    staff_roles,
)

Status = Appointment.Status
SHOWN = (Status.BOOKED, Status.ARRIVED, Status.IN_PROGRESS, Status.SEEN, Status.NO_SHOW)


def visible_agendas(user, perm: Perm = Perm.AGENDA) -> list[Agenda]:
    return list(
        Agenda.objects.select_related("site", "organisation", "practitioner")
        .filter(agenda_condition(user, perm), is_active=True)
        .order_by("organisation__name", "name", "pk")
    )


def chosen_agendas(
    user, requested: list[int], *, visible: list[Agenda] | None = None
) -> list[Agenda]:
    """The requested agendas, each checked (404 elsewhere, 403 not yours); all yours if none.
    ``visible``: the user's ``visible_agendas``, when the caller has them already."""
    if not requested:
        agendas = visible if visible is not None else visible_agendas(user)
        return agendas[:1] if len(agendas) > 6 else agendas
    wanted = list(dict.fromkeys(requested))
    if visible is not None:
        by_id = {a.pk: a for a in visible}
    else:
        # The permission and the agendas in one query; the refusals below only when it fails.
        by_id = (
            Agenda.objects.select_related("site")
            .filter(agenda_condition(user), is_active=True)
            .in_bulk(wanted)
        )
    if all(a in by_id for a in wanted):
        return [by_id[a] for a in wanted]
    allowed = agenda_ids(user)
    for agenda_id in wanted:
        if agenda_id not in allowed:
            check_agenda(user, agenda_id)  # raises 404 or 403
            raise PermissionDenied
    by_id = Agenda.objects.select_related("site").filter(is_active=True).in_bulk(wanted)
    if len(by_id) != len(wanted):
        raise Http404
    return [by_id[a] for a in wanted]


def visible_departments(user, *, visible: list[Agenda] | None = None) -> list[Department]:
    """The departments (a hospital's "services") holding at least one agenda the user sees.
    ``visible``: the user's ``visible_agendas``, when the caller has them already (no query
    when none of them is in a department, as in most practices)."""
    if visible is not None:
        ids = {a.department_id for a in visible if a.department_id is not None}
        if not ids:
            return []
        found = Department.objects.filter(pk__in=ids)
    else:
        found = Department.objects.filter(
            agendas__pk__in=agenda_ids(user), agendas__is_active=True
        ).distinct()
    return list(
        found.select_related("organisation").order_by(
            "organisation__name", "position", "name", "pk"
        )
    )


# The agenda page shows at most this many agendas side by side.
MAX_SIDE_BY_SIDE = 8


def department_agendas(user, department_id: int) -> tuple[Department, list[Agenda]]:
    """A department and those of its active agendas the user sees (the first eight, by name):
    404 for a department of an organisation the user is not staff of, 403 when none is theirs."""
    department = Department.objects.filter(pk=department_id).first()
    if department is None or department.organisation_id not in staff_roles(user):
        raise Http404
    agendas = list(
        Agenda.objects.select_related("site")
        .filter(department=department, is_active=True, pk__in=agenda_ids(user))
        .order_by("name", "pk")[:MAX_SIDE_BY_SIDE]
    )
    if not agendas:
        raise PermissionDenied
    return department, agendas


def wall(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).replace(tzinfo=None).isoformat(timespec="minutes") + ":00Z"


def from_wall(text: str, zone: ZoneInfo, *, field: str = "start") -> datetime:
    """A calendar time (local wall clock written as UTC) back to an aware instant, by the rule
    of ``core.time.wall_to_instant`` (a time skipped in spring is refused)."""
    naive = parse_wall(text)
    if naive is None:
        raise InvalidInput(_("This date and time is not valid."), field=field)
    return wall_to_instant(naive.date(), naive.time(), zone, field=field)


# The calendar shows 07:00-21:00; a time outside is "at night" for the practice.
DAY_STARTS, DAY_ENDS = time(7), time(21)


def cautions(*, agenda: Agenda, motive: Motive, start: datetime, now: datetime) -> list[str]:
    """What staff should know before booking or moving an appointment to ``start``: in the past,
    at night, outside the openings that offer the motive, during an absence. Staff may go ahead,
    once they have confirmed."""
    zone = agenda.site.zone
    end = start + motive.duration
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    found = []
    if start < now:
        found.append(
            _("This time has already passed (%(when)s): no confirmation or reminder is sent.")
            % {"when": date_format(local_start, "l j F Y, H:i")}
        )
    last_minute = (local_end - timedelta(minutes=1)).time()
    if (
        local_start.time() < DAY_STARTS
        or last_minute >= DAY_ENDS
        or local_end.date() != local_start.date()
    ):
        found.append(
            _("At night (%(times)s): outside the usual hours.")
            % {"times": f"{local_start:%H:%M}–{local_end:%H:%M}"}
        )
    if not _within_openings(agenda, motive, local_start, local_end):
        found.append(
            _("Outside the openings of this agenda for “%(motive)s”: patients could not book it.")
            % {"motive": motive.label}
        )
    elif Absence.objects.filter(agenda=agenda, start__lt=end, end__gt=start).exists():
        found.append(_("During an absence or a blocked period of this agenda."))
    return found


def _within_openings(agenda: Agenda, motive: Motive, local_start, local_end) -> bool:
    day = local_start.date()
    if local_end.date() != day:
        return False
    return any(
        occurs_on(opening, day)
        and opening.start_time <= local_start.time()
        and local_end.time() <= opening.end_time
        for opening in Opening.objects.filter(agenda=agenda, weekday=day.weekday(), motives=motive)
    )


def free_slots(
    *, agenda: Agenda, motive: Motive, day: date, now: datetime, days: int = 1, limit=None
) -> list[engine.Slot]:
    """The free slots of ``motive`` from ``day`` as staff may book them: in the openings that
    offer it, outside absences and appointments, not yet begun; whatever the online booking
    window (that is for patients)."""
    inputs = load_inputs([agenda], start=day, days=days, now=now, audience=visibility.EVERYONE)[
        agenda.pk
    ]
    return engine.compute_slots(
        openings=inputs.openings,
        absences=inputs.absences,
        busy=inputs.busy,
        motive=engine.MotiveRule(id=motive.pk, duration=motive.duration),
        capacity=inputs.capacity,
        start=day,
        days=days,
        zone=inputs.zone,
        now=now,
        limit=limit,
    )


def next_free_slot(*, agenda: Agenda, motive: Motive, after: date, now: datetime):
    """The first free slot (for staff) on a day after ``after``, within eight weeks; or None."""
    found = free_slots(
        agenda=agenda, motive=motive, day=after + timedelta(days=1), now=now, days=56, limit=1
    )
    return found[0] if found else None


def _luminance(colour: str) -> float:
    """WCAG relative luminance of ``#rrggbb``."""
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(first: str, second: str) -> float:
    """The WCAG contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    high, low = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def text_colour(background: str) -> str:
    """Black or white, whichever reads better on ``background``. Pure black and white: on any
    colour one of them reaches at least 4.58:1 (WCAG AA asks 4.5:1); a dark grey such as #111
    falls short on mid-tones (4.23:1 on #8d5fd3)."""
    try:
        on_black = contrast(background, "#000000")
    except (ValueError, IndexError):
        return "#ffffff"
    return "#000000" if on_black >= contrast(background, "#ffffff") else "#ffffff"


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
    # Times are read as epoch seconds and written by one wall clock per zone: no aware datetime
    # per row (a busy week is hundreds of appointments, on every navigation and live update).
    by_zone: dict[str, WallClock] = {}
    for zone in zones.values():
        if zone.key not in by_zone:
            by_zone[zone.key] = WallClock(zone, epoch(low), epoch(high))
    clocks = {pk: by_zone[zone.key] for pk, zone in zones.items()}
    result = {str(a.pk): {"events": [], "businessHours": []} for a in agendas}
    events = {pk: result[str(pk)]["events"] for pk in zones}
    # Plain rows, not models.
    rows = (
        Appointment.objects.filter(
            agenda_id__in=list(zones), status__in=SHOWN, start__lt=high, end__gt=low
        )
        .order_by("start")
        .values_list(
            "id", "agenda_id", EpochSeconds("start"), EpochSeconds("end"), "status",
            "motive__label", "motive__colour", "patient__first_name", "patient__last_name",
            "referral__referrer_label",
        )
    )  # fmt: skip
    labels = {value: str(label) for value, label in Status.choices}
    detail = reverse("practice:appointment", args=[0])[:-2]
    someone = _("Patient")
    colours: dict[str, str] = {}
    booked = Status.BOOKED
    for pk, agenda_id, begin, finish, status, motive, colour, first, last, referrer in rows:
        clock = clocks[agenda_id]
        name = f"{first} {last}" if last else someone
        mark = referral_mark(referrer)
        parts = [name, motive, mark] if mark else [name, motive]
        if status != booked:
            parts.append(labels[status])
        colour = colour or "#2e6fd8"
        text = colours.get(colour)
        if text is None:
            text = colours[colour] = text_colour(colour)
        events[agenda_id].append(
            {
                "id": str(pk),
                "title": " · ".join(parts),
                "start": f"{clock.minutes(begin)}:00Z",
                "end": f"{clock.minutes(finish)}:00Z",
                "url": f"{detail}{pk}/",
                "backgroundColor": colour,
                "borderColor": colour,
                "textColor": text,
                "classNames": [f"status-{status}", "referred"] if mark else [f"status-{status}"],
                "editable": status == booked,
                # The parts, for a narrow column to show the patient's name first.
                "extendedProps": {
                    "patient": name,
                    "motive": motive,
                    "status": labels[status] if status != booked else "",
                    "referral": mark,
                },
            }
        )
    for pk, agenda_id, begin, finish, reason in (
        Absence.objects.filter(agenda_id__in=list(zones), start__lt=high, end__gt=low)
        .order_by("start")
        .values_list("id", "agenda_id", EpochSeconds("start"), EpochSeconds("end"), "reason")
    ):
        clock = clocks[agenda_id]
        events[agenda_id].append(
            {
                "id": f"absence-{pk}",
                "title": reason or _("Blocked"),
                "start": f"{clock.minutes(begin)}:00Z",
                "end": f"{clock.minutes(finish)}:00Z",
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


def referral_mark(referrer_label: str | None) -> str:
    """What the agenda writes on an appointment booked from outside the practice: "Adressé par
    SAMU 75", "Adressé par Dr Anne Martin" ("" for any other appointment)."""
    if not referrer_label:
        return ""
    return _("Referred by %(who)s") % {"who": referrer_label}


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
    referral: str = ""  # "Adressé par SAMU 75": booked by regulation or another practitioner


def day_appointments(*, agendas: list[Agenda], day: date) -> list[tuple[Agenda, list[DayRow]]]:
    """The day's appointments of each agenda, for the list under the calendar (and without JS):
    plain rows, ready to print, in each agenda's own zone."""
    if not agendas:
        return []
    zones = {a.pk: a.site.zone for a in agendas}
    lows = {a.pk: datetime.combine(day, time(), tzinfo=zones[a.pk]) for a in agendas}
    highs = {
        a.pk: datetime.combine(day + timedelta(days=1), time(), tzinfo=zones[a.pk]) for a in agendas
    }
    bounds = {pk: (epoch(lows[pk]), epoch(highs[pk])) for pk in zones}
    clocks = {pk: WallClock(zones[pk], *bounds[pk]) for pk in zones}
    rows: dict[int, list[DayRow]] = {a.pk: [] for a in agendas}
    labels = {value: str(label) for value, label in Status.choices}
    detail = reverse("practice:appointment", args=[0])[:-2]
    someone = _("Patient")
    room = reverse("visio_practitioner", args=[0])[:-2]
    # The video room read by a subquery per appointment, through its unique index: a join let
    # PostgreSQL hash the whole room table for a day's few dozen appointments (2.3 of 2.8 ms).
    same = Appointment.objects.filter(pk=OuterRef("pk")).order_by()
    for (
        pk, agenda_id, begin, finish, status, motive, first, last, room_id, waiting, referrer,
    ) in (
        Appointment.objects.filter(
            agenda_id__in=list(zones),
            status__in=SHOWN,
            start__lt=max(highs.values()),
            end__gt=min(lows.values()),
        )
        .order_by("start")
        .values_list(
            "id", "agenda_id", EpochSeconds("start"), EpochSeconds("end"), "status",
            "motive__label", "patient__first_name", "patient__last_name",
            Subquery(same.values("video_room__id")),
            # In the virtual waiting room, not yet let in.
            Subquery(
                same.filter(video_room__admitted_at__isnull=True).values("video_room__waiting_since")
            ),
            "referral__referrer_label",
        )
    ):  # fmt: skip
        low, high = bounds[agenda_id]
        if not low <= begin < high:
            continue
        clock = clocks[agenda_id]
        rows[agenda_id].append(
            DayRow(
                times=f"{clock.minutes(begin)[11:]}–{clock.minutes(finish)[11:]}",
                url=f"{detail}{pk}/",
                patient=f"{first} {last}" if last else someone,
                motive=motive,
                status=status,
                status_label=labels[status],
                room_url=f"{room}{room_id}/" if room_id else "",
                waiting_since=f"{waiting.astimezone(zones[agenda_id]):%H:%M}" if waiting else "",
                referral=referral_mark(referrer),
            )
        )
    return [(a, rows[a.pk]) for a in agendas]


def contact_channels(appointment: Appointment) -> str:
    """How the patient hears of a change made by the practice, in words ("by e-mail and SMS")."""
    found = set(notify.contact_channels(appointment=appointment))
    if found >= {"email", "sms"}:
        return _("The patient is told by e-mail and SMS, with the reason.")
    if "email" in found:
        return _("The patient is told by e-mail, with the reason.")
    if "sms" in found:
        return _("The patient is told by SMS, with the reason.")
    return _("The patient has no e-mail address or mobile number: call them.")


def appointment_for_staff(*, user, appointment_id: int) -> Appointment:

    appointment = (
        Appointment.objects.select_related(
            "agenda__site",
            "agenda__organisation",
            "motive",
            "patient",
            "booked_by",
            "rescheduled_from",
            "referral",
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


@dataclass(frozen=True)
class ReferralView:
    """A referral as the receiving practice reads it beside the appointment."""

    mark: str  # "Adressé par SAMU 75"
    kind: str
    kind_label: str
    referrer: str
    urgency: str
    urgency_label: str
    reason: str  # decrypted; "" when none was given
    letter_document_id: int | None
    created_at: datetime


def referral_for_staff(*, user, appointment: Appointment, ip: str | None = None):
    """The referral of an appointment loaded by ``appointment_for_staff`` (so its agenda is one
    the user may see), its reason decrypted; the read is audited like a patient file's, on the
    titular's behalf for a substitute. None for an appointment nobody referred."""
    try:
        referral = appointment.referral
    except ObjectDoesNotExist:
        return None
    reason = decrypt_text(referral.reason) if referral.reason else ""
    organisation_id = appointment.agenda.organisation_id
    file_id = None
    if appointment.patient_id and allows(user, organisation_id, Perm.FILES):
        from .models import PatientFile

        file_id = (
            PatientFile.objects.filter(
                organisation_id=organisation_id, profile_id=appointment.patient_id
            )
            .values_list("pk", flat=True)
            .first()
        )
    on_behalf = getattr(appointment, "acting_for", None)
    with transaction.atomic():
        audit.record(
            actor=user,
            on_behalf_of=on_behalf,
            action=audit.Action.READ,
            target_type="referral",
            target_id=referral.pk,
            organisation_id=organisation_id,
            patient_file_id=file_id,
            ip=ip,
        )
    return ReferralView(
        mark=referral_mark(referral.referrer_label),
        kind=referral.kind,
        kind_label=referral.get_kind_display(),
        referrer=referral.referrer_label,
        urgency=referral.urgency,
        urgency_label=referral.get_urgency_display(),
        reason=reason,
        letter_document_id=referral.letter_document_id if file_id else None,
        created_at=referral.created_at,
    )
