"""Secret calendar feeds: a practitioner subscribes their calendar app to their agenda.

The address holds a random token; only its SHA-256 is stored, so the address is shown once, when
made. Making a new one revokes the old one. The feed answers for the practitioner who made it
only while they still may use the agenda's feed (a practitioner who left stops it at once).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from consulto.core.audit import Action, record
from consulto.core.time import now as current_time
from consulto.scheduling.models import Agenda, Appointment, Motive

from .models import AgendaFeed
from .permissions import Perm, agenda_ids, check_agenda

PAST = timedelta(days=30)
AHEAD = timedelta(days=365)
TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often
Status = Appointment.Status
SHOWN = (Status.BOOKED, Status.ARRIVED, Status.IN_PROGRESS, Status.SEEN, Status.NO_SHOW)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_url(token: str) -> str:
    return settings.CONSULTO_SITE_URL.rstrip("/") + reverse("agenda_feed", args=[token])


# Services ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewFeed:
    feed: AgendaFeed
    token: str  # never stored: shown to the practitioner once

    @property
    def url(self) -> str:
        return feed_url(self.token)


def create_feed(
    *, user, agenda: Agenda, with_patient_names: bool = False, ip: str | None = None
) -> NewFeed:
    """A new secret address for the user's agenda; their previous one stops working."""
    check_agenda(user, agenda, Perm.FEED)
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        _revoke(user=user, agenda=agenda)
        feed = AgendaFeed.objects.create(
            agenda=agenda,
            created_by=user,
            token_hash=hash_token(token),
            with_patient_names=with_patient_names,
        )
        record(
            actor=user,
            action=Action.CREATE,
            target_type="agenda_feed",
            target_id=feed.pk,
            organisation_id=agenda.organisation_id,
            ip=ip,
        )
    return NewFeed(feed=feed, token=token)


def set_patient_names(
    *, user, agenda: Agenda, with_patient_names: bool, ip: str | None = None
) -> AgendaFeed | None:
    """Show or hide patient names in the user's active feed, keeping its address."""
    check_agenda(user, agenda, Perm.FEED)
    with transaction.atomic():
        feed = _active(user=user, agenda=agenda).select_for_update().first()
        if feed is None or feed.with_patient_names == with_patient_names:
            return feed
        feed.with_patient_names = with_patient_names
        feed.save(update_fields=["with_patient_names"])
        record(
            actor=user,
            action=Action.UPDATE,
            target_type="agenda_feed",
            target_id=feed.pk,
            organisation_id=agenda.organisation_id,
            ip=ip,
        )
    return feed


def revoke_feed(*, user, agenda: Agenda, ip: str | None = None) -> bool:
    """Stop the user's feed of this agenda. False when there was none."""
    check_agenda(user, agenda, Perm.FEED)
    with transaction.atomic():
        revoked = _revoke(user=user, agenda=agenda)
        for pk in revoked:
            record(
                actor=user,
                action=Action.DELETE,
                target_type="agenda_feed",
                target_id=pk,
                organisation_id=agenda.organisation_id,
                ip=ip,
            )
    return bool(revoked)


def _revoke(*, user, agenda: Agenda) -> list[int]:
    active = _active(user=user, agenda=agenda)
    ids = list(active.values_list("pk", flat=True))
    active.filter(pk__in=ids).update(revoked_at=current_time())
    return ids


def _active(*, user, agenda: Agenda):
    return AgendaFeed.objects.filter(agenda=agenda, created_by=user, revoked_at__isnull=True)


def touch(feed: AgendaFeed, *, now: datetime | None = None) -> None:
    """Note that the feed was read; calendar apps poll often, so write at most once a minute."""
    now = now or current_time()
    if feed.last_used_at is not None and now - feed.last_used_at < TOUCH_EVERY:
        return
    AgendaFeed.objects.filter(pk=feed.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - TOUCH_EVERY)
    ).update(last_used_at=now)
    feed.last_used_at = now


# Selectors --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedPage:
    agenda: Agenda
    feed: AgendaFeed | None  # the user's active feed of this agenda


def feed_page(*, user, agenda_id: int) -> FeedPage:
    """404 for an agenda of another organisation, 403 for one that is not the user's own."""
    check_agenda(user, agenda_id, Perm.FEED)
    agenda = Agenda.objects.select_related("organisation").get(pk=agenda_id)
    return FeedPage(agenda=agenda, feed=_active(user=user, agenda=agenda).first())


def resolve(token: str) -> AgendaFeed | None:
    """The active feed this token opens, or None (unknown, revoked, or its maker may no longer
    see the agenda's feed)."""
    feed = (
        AgendaFeed.objects.filter(token_hash=hash_token(token), revoked_at__isnull=True)
        .select_related("agenda__site", "agenda__practitioner", "created_by")
        .first()
    )
    if feed is None or not feed.created_by.is_active:
        return None
    if feed.agenda_id not in agenda_ids(feed.created_by, Perm.FEED):
        return None
    return feed


def feed_calendar(feed: AgendaFeed, *, now: datetime | None = None) -> bytes:
    """The agenda's appointments from 30 days ago to a year ahead, as an iCalendar file.

    Written line by line rather than through the icalendar library, which takes about half a
    millisecond an event: a busy agenda holds thousands a year, all sent at every poll.
    """
    now = now or current_time()
    agenda, names = feed.agenda, feed.with_patient_names
    fields = ["pk", "start", "end", "status", "updated_at", "rescheduled_from_id"]
    fields += ["motive__label", "motive__mode"]
    fields += ["patient__first_name", "patient__last_name"] if names else []
    rows = list(
        Appointment.objects.filter(
            agenda=agenda, status__in=SHOWN, start__gte=now - PAST, start__lt=now + AHEAD
        )
        .order_by("start", "pk")
        .values(*fields)
    )
    roots = _chain_roots({row["pk"]: row["rescheduled_from_id"] for row in rows})
    host = urlsplit(settings.CONSULTO_SITE_URL).hostname or "consulto.local"
    site = agenda.site
    stamp = _utc(now)

    with translation.override(settings.LANGUAGE_CODE):
        # The same words as notifications/ics.py's location_text.
        places = {
            Motive.Mode.VIDEO: _("Video consultation"),
            None: ", ".join(
                part
                for part in (site.name, site.address, f"{site.postcode} {site.city}".strip())
                if part
            ),
        }
        statuses = {value: str(label) for value, label in Status.choices}
        titles = (_("Appointment — %(motive)s"), _("%(patient)s — %(motive)s"))
        lines = [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//Consulto//Consulto//FR",
            "CALSCALE:GREGORIAN",
            "METHOD:PUBLISH",
            "X-WR-CALNAME:" + _text(agenda.name),
            "X-WR-TIMEZONE:" + _text(site.timezone),
            # Calendar apps poll at their own pace; suggest one that keeps the agenda fresh.
            "REFRESH-INTERVAL;VALUE=DURATION:PT15M",
            "X-PUBLISHED-TTL:PT15M",
        ]
        for row in rows:
            root_id, moves = roots[row["pk"]]
            lines += [
                "BEGIN:VEVENT",
                # The scheme of notifications/ics.py: one UID for a whole reschedule chain.
                f"UID:appointment-{root_id}@{host}",
                f"SEQUENCE:{moves}",
                "DTSTAMP:" + stamp,
                "DTSTART:" + _utc(row["start"]),
                "DTEND:" + _utc(row["end"]),
                "LAST-MODIFIED:" + _utc(row["updated_at"]),
                "SUMMARY:" + _text(_summary(row, titles, with_names=names)),
                "LOCATION:" + _text(places.get(row["motive__mode"], places[None])),
                "STATUS:CONFIRMED",
                "CLASS:" + ("PRIVATE" if names else "CONFIDENTIAL"),
            ]
            if row["status"] not in (Status.BOOKED, Status.ARRIVED):
                lines.append("DESCRIPTION:" + _text(statuses[row["status"]]))
            lines.append("END:VEVENT")
        lines.append("END:VCALENDAR")
    return ("\r\n".join(_fold(line) for line in lines) + "\r\n").encode()


def _summary(row: dict, titles: tuple[str, str], *, with_names: bool) -> str:
    """ "Appointment — motive", or "patient — motive" when the practitioner chose names."""
    without_name, with_name = titles
    motive = row["motive__label"]
    patient = " ".join(
        part for part in (row.get("patient__first_name"), row.get("patient__last_name")) if part
    )
    if with_names and patient:
        return with_name % {"patient": patient, "motive": motive}
    return without_name % {"motive": motive}


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


_CONTROL = dict.fromkeys(c for c in range(32) if c not in (9, 10))


def _text(value: str) -> str:
    """A TEXT value (RFC 5545, 3.3.11): backslash, semicolon, comma and newline escaped."""
    value = value.replace("\r\n", "\n").replace("\r", "\n").translate(_CONTROL)
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Lines longer than 75 octets go on over several, never splitting a UTF-8 character."""
    if len(line.encode()) <= 75:
        return line
    parts, current, size, limit = [], [], 0, 75
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            parts.append("".join(current))
            current, size, limit = [], 0, 74  # a continuation line starts with a space
        current.append(char)
        size += width
    parts.append("".join(current))
    return "\r\n ".join(parts)


def _chain_roots(previous: dict[int, int | None]) -> dict[int, tuple[int, int]]:
    """{appointment id: (id of the first appointment of its reschedule chain, moves since)},
    given {id: id it was moved from}, walking the chains one level per query, not one query
    per appointment."""
    asked = list(previous)
    previous = dict(previous)
    unknown = {p for p in previous.values() if p is not None and p not in previous}
    for _depth in range(100):
        if not unknown:
            break
        found = dict(
            Appointment.objects.filter(pk__in=unknown).values_list("pk", "rescheduled_from_id")
        )
        previous.update(found)
        previous.update({pk: None for pk in unknown - found.keys()})
        unknown = {p for p in found.values() if p is not None and p not in previous}
    roots = {}
    for pk in asked:
        root, moves, step = pk, 0, previous.get(pk)
        while step is not None and moves < 100:
            root, moves, step = step, moves + 1, previous.get(step)
        roots[pk] = (root, moves)
    return roots
