"""iCalendar (.ics) for an appointment: e-mail attachments and the "add to my calendar" link.

Every appointment of one reschedule chain shares the UID of the first one, and SEQUENCE grows
with each move, so a calendar app updates (or, with METHOD:CANCEL, removes) the event it already
has instead of adding a second one.
"""

from datetime import timedelta
from email.utils import parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _
from icalendar import Alarm, Calendar, Event, vCalAddress, vText

from consulto.scheduling.models import Appointment, Motive

REQUEST, CANCEL, PUBLISH = "REQUEST", "CANCEL", "PUBLISH"


def appointment_ics(
    appointment: Appointment, *, method: str | None = None, attendee: str = ""
) -> str:
    """The appointment as a calendar with one VEVENT.

    ``method`` defaults to CANCEL for a cancelled appointment and REQUEST otherwise; use
    PUBLISH for a plain download. ``attendee`` is the e-mail address the invitation goes to.
    """
    cancelled = appointment.status == Appointment.Status.CANCELLED
    method = method or (CANCEL if cancelled else REQUEST)
    root_id, moves = _chain(appointment)
    agenda, motive, site = appointment.agenda, appointment.motive, appointment.agenda.site
    zone = site.zone
    start, end = appointment.start.astimezone(zone), appointment.end.astimezone(zone)
    who = agenda.practitioner.display_name if agenda.practitioner_id else agenda.name

    event = Event.new(
        uid=f"appointment-{root_id}@{_host()}",
        sequence=moves + (1 if method == CANCEL else 0),
        start=start,
        end=end,
        summary=f"{motive.label} – {who}",
        location=location_text(appointment),
        description="\n\n".join(
            part
            for part in (
                motive.instructions.strip(),
                _("My appointments: %(url)s") % {"url": my_appointments_url()},
            )
            if part
        ),
        status="CANCELLED" if method == CANCEL else "CONFIRMED",
        url=my_appointments_url(),
    )
    if method != PUBLISH:
        name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
        organizer = vCalAddress(f"mailto:{address}")
        organizer.params["cn"] = vText(name or agenda.organisation.name)
        event.add("organizer", organizer)
        if attendee:
            guest = vCalAddress(f"mailto:{attendee}")
            guest.params.update(
                {"role": "REQ-PARTICIPANT", "partstat": "ACCEPTED", "rsvp": "FALSE"}
            )
            event.add("attendee", guest)
    if method != CANCEL:
        alarm = Alarm.new(description=f"{motive.label} – {who}")
        alarm.add("action", "DISPLAY")
        alarm.add("trigger", timedelta(hours=-2))
        event.add_component(alarm)

    calendar = Calendar()
    calendar.add("prodid", "-//Consulto//Consulto//FR")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    calendar.add_component(event)
    # Only the transitions around the appointment: a whole zone history is kilobytes long.
    calendar.add_missing_timezones(
        first_date=start.date() - timedelta(days=366), last_date=end.date() + timedelta(days=366)
    )
    return calendar.to_ical().decode()


def location_text(appointment: Appointment) -> str:
    if appointment.motive.mode == Motive.Mode.VIDEO:
        return _("Video consultation")
    site = appointment.agenda.site
    return ", ".join(
        part for part in (site.name, site.address, f"{site.postcode} {site.city}".strip()) if part
    )


def my_appointments_url() -> str:
    return settings.CONSULTO_SITE_URL.rstrip("/") + "/rendez-vous/"


def _host() -> str:
    return urlsplit(settings.CONSULTO_SITE_URL).hostname or "consulto.local"


def _chain(appointment: Appointment) -> tuple[int, int]:
    """The id of the first appointment this one was moved from, and how many moves since."""
    root_id, moves, previous_id = appointment.pk, 0, appointment.rescheduled_from_id
    while previous_id is not None and moves < 100:
        root_id, moves = previous_id, moves + 1
        previous_id = (
            Appointment.objects.filter(pk=previous_id)
            .values_list("rescheduled_from_id", flat=True)
            .first()
        )
    return root_id, moves
