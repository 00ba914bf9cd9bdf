"""Secret calendar feeds: a practitioner subscribes their calendar app to their agenda.

The address holds a random token; only its SHA-256 is stored, so the address is shown once, when
made. Making a new one revokes the old one. The feed answers for the practitioner who made it
only while they still may use the agenda's feed (a practitioner who left stops it at once).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from consulto.core.audit import Action, record
from consulto.core.time import now as current_time
from consulto.notifications.ics import location_text
from consulto.scheduling.models import Agenda, Appointment

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
    """The agenda's appointments from 30 days ago to a year ahead, as an iCalendar file."""
    now = now or current_time()
    agenda = feed.agenda
    appointments = list(
        Appointment.objects.filter(
            agenda=agenda, status__in=SHOWN, start__gte=now - PAST, start__lt=now + AHEAD
        )
        .select_related("motive", "patient", "agenda__site")
        .order_by("start", "pk")
    )
    roots = _chain_roots(appointments)
    host = urlsplit(settings.CONSULTO_SITE_URL).hostname or "consulto.local"

    calendar = Calendar()
    calendar.add("prodid", "-//Consulto//Consulto//FR")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", agenda.name)
    calendar.add("x-wr-timezone", agenda.site.timezone)
    # Calendar apps poll at their own pace; suggest one that keeps the agenda fresh.
    calendar.add("refresh-interval", timedelta(minutes=15), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", timedelta(minutes=15))
    with translation.override(settings.LANGUAGE_CODE):
        for appointment in appointments:
            root_id, moves = roots[appointment.pk]
            event = Event.new(
                # The scheme of notifications/ics.py: one UID for a reschedule chain.
                uid=f"appointment-{root_id}@{host}",
                sequence=moves,
                stamp=now,
                start=appointment.start,
                end=appointment.end,
                summary=_summary(appointment, with_names=feed.with_patient_names),
                location=location_text(appointment),
                status="CONFIRMED",
                last_modified=appointment.updated_at,
            )
            if appointment.status not in (Status.BOOKED, Status.ARRIVED):
                event.add("description", appointment.get_status_display())
            event.add("class", "PRIVATE" if feed.with_patient_names else "CONFIDENTIAL")
            calendar.add_component(event)
    return calendar.to_ical()


def _summary(appointment: Appointment, *, with_names: bool) -> str:
    motive = appointment.motive.label
    if with_names and appointment.patient_id:
        return _("%(patient)s — %(motive)s") % {"patient": appointment.patient, "motive": motive}
    return _("Appointment — %(motive)s") % {"motive": motive}


def _chain_roots(appointments: list[Appointment]) -> dict[int, tuple[int, int]]:
    """{appointment id: (id of the first appointment of its reschedule chain, moves since)},
    walking every chain one level per query rather than one query per appointment."""
    previous = {a.pk: a.rescheduled_from_id for a in appointments}
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
    for appointment in appointments:
        root, moves, step = appointment.pk, 0, previous.get(appointment.pk)
        while step is not None and moves < 100:
            root, moves, step = step, moves + 1, previous.get(step)
        roots[appointment.pk] = (root, moves)
    return roots
