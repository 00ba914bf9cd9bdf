"""Messages to patients about their appointments: the only public door of notifications.

Each ``appointment_*`` function writes outbox rows in the caller's transaction (so a booking and
its confirmation commit together) and enqueues their delivery once that transaction commits.
Delivery (``send_message``) claims a row with a conditional update, sends it outside any
transaction, and retries with exponential backoff. Reminders are outbox rows written when the
appointment is booked, due at their time; a reminder is re-checked just before it goes out and
skipped unless the appointment is still booked at the time it was scheduled for.

Whatever door booked or moved it (patient pages, API, practice space), nothing announces an
appointment whose start has passed: no confirmation, no "moved" message, no reminder. The rule
is checked when the message is written and again when it goes out (a worker may be late).
"""

import logging
import re
import uuid
from datetime import UTC, datetime, timedelta
from email.mime.text import MIMEText

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from consulto.core import crypto, queue, rows
from consulto.scheduling.models import Appointment, Motive, PatientProfile

from . import links, sms
from .ics import CANCEL, appointment_ics, location_text, my_appointments_url
from .models import Message, ReminderSettings

logger = logging.getLogger(__name__)

# The tasks this module enqueues, by name (``core/queue.py``): tasks.py calls this module.
DELIVER = "consulto.notifications.tasks.deliver"
SEND_REMINDER = "consulto.notifications.tasks.send_reminder"

Channel, Purpose, Status = Message.Channel, Message.Purpose, Message.Status
# Kept encrypted while waiting, erased once sent or given up.
SECRET_TEXTS = (Purpose.ACCOUNT, Purpose.SUPPORT)

MAX_ATTEMPTS = 5
# A claimed message whose sender died is claimed again once this lease has run out.
LEASE = timedelta(minutes=10)
REMINDERS = (
    (Purpose.REMINDER_7D, Channel.EMAIL),
    (Purpose.REMINDER_1D, Channel.EMAIL),
    (Purpose.REMINDER_1D, Channel.SMS),
)
BEFORE = {Purpose.REMINDER_7D: timedelta(days=7), Purpose.REMINDER_1D: timedelta(days=1)}
# A reminder that could not go out near its time (worker down) is dropped, not sent late:
# "your appointment is in one week" must not arrive the day before.
STALE_AFTER = timedelta(hours=12)


# Appointment events ---------------------------------------------------------------------------


def appointment_booked(*, appointment: Appointment, just_booked: bool = False) -> list[Message]:
    """Confirm a booking by e-mail (with an .ics) and SMS, and schedule its reminders.

    Call it in the transaction that booked. Calling it again for the same appointment (a
    replayed request) writes nothing more.

    ``just_booked``: the caller made ``appointment`` in this very transaction and passes it
    as ``booking.book`` returned it (its agenda with its site, its motive, patient and booker
    in memory), once: it is not read again, and as no message about it can exist yet, its
    confirmations and reminders are written in one INSERT, their tasks enqueued in another.
    """
    if just_booked:
        return _announce_new_booking(appointment)
    with transaction.atomic():
        appointment = _load(appointment.pk)
        if appointment.status != Appointment.Status.BOOKED or _started(appointment):
            return []
        written = [
            _queue(appointment, Purpose.CONFIRMATION, channel, recipient)
            for channel, recipient in _recipients(appointment)
        ]
        written += schedule_reminders(appointment=appointment)
    return [m for m in written if m is not None]


def appointment_cancelled(*, appointment: Appointment) -> list[Message]:
    """Tell the patient by e-mail (with a CANCEL .ics), and by SMS too, with its reason, when
    the practice cancelled (the patient did not see it coming); the appointment's reminders
    are skipped. Who cancelled is the appointment's record (``cancelled_by_practice``), not a
    guess from who booked it."""
    with transaction.atomic():
        appointment = _load(appointment.pk)
        _skip_reminders(appointment, reason="appointment cancelled")
        moved = Appointment.objects.filter(rescheduled_from=appointment).exists()
        # A hold has no patient yet; a move is told by appointment_rescheduled.
        if appointment.status != Appointment.Status.CANCELLED or moved or not appointment.patient:
            return []
        written = [
            _queue(appointment, Purpose.CANCELLATION, channel, recipient)
            for channel, recipient in _recipients(appointment)
            if appointment.cancelled_by_practice or channel == Channel.EMAIL
        ]
    return [m for m in written if m]


def appointment_rescheduled(
    *, old: Appointment, new: Appointment, send_after: datetime | None = None
) -> list[Message]:
    """Tell the new time by e-mail (and SMS when the practice moved it), skip the old
    appointment's reminders, schedule the new ones. ``send_after`` holds the message back for
    a while (the practice may still undo the move: see ``appointment_move_undone``).

    The .ics keeps the UID of the first appointment of the chain with a higher SEQUENCE, so the
    patient's calendar moves the event it has; no separate CANCEL is sent for the old one.
    """
    with transaction.atomic():
        old, new = _load(old.pk), _load(new.pk)
        _skip_reminders(old, reason="appointment moved")
        if new.status != Appointment.Status.BOOKED or _started(new):
            return []
        written = [
            _queue(new, Purpose.RESCHEDULED, channel, recipient, send_after=send_after)
            for channel, recipient in _recipients(new)
            if old.cancelled_by_practice or channel == Channel.EMAIL
        ]
        written += schedule_reminders(appointment=new)
    return [m for m in written if m]


def appointment_move_undone(*, moved: Appointment, back: Appointment) -> list[Message]:
    """A move taken back (the practice's "Undo"). If the patient has not been told of the move
    yet, its messages are dropped and nothing is sent: their appointment is where they know it.
    Otherwise they are told of the time it is back at, as of any move."""
    with transaction.atomic():
        # Pending rows first: once skipped, no sender can claim them any more.
        Message.objects.filter(
            appointment_id=moved.pk, purpose=Purpose.RESCHEDULED, status=Status.PENDING
        ).update(status=Status.SKIPPED, last_error="move undone")
        told = Message.objects.filter(
            appointment_id=moved.pk,
            purpose=Purpose.RESCHEDULED,
            status__in=(Status.SENDING, Status.SENT),
        ).exists()
        if told:
            return appointment_rescheduled(old=moved, new=back)
        _skip_reminders(_load(moved.pk), reason="appointment moved")
        return schedule_reminders(appointment=back)


def contact_channels(*, appointment: Appointment) -> list[str]:
    """The channels the patient can be told on about ``appointment`` (e-mail, SMS), as the
    messages would go: for a page that says what the patient will receive."""
    return [channel for channel, _recipient in _recipients(_load(appointment.pk))]


def schedule_reminders(*, appointment: Appointment, now: datetime | None = None) -> list[Message]:
    """Write the appointment's reminders and enqueue each for its time.

    7 days and 1 day before, at the same wall-clock time in the site's zone; those already in
    the past are left out, as are those the practitioner's ReminderSettings turn off.
    """
    now = now or timezone.now()
    written = []
    with transaction.atomic():
        appointment = _load(appointment.pk)
        if appointment.status != Appointment.Status.BOOKED or _started(appointment, now=now):
            return []
        preferences = _reminder_settings(appointment)
        recipients = dict(_recipients(appointment))
        for purpose, channel in REMINDERS:
            when = reminder_time(appointment, purpose)
            if when <= now or not preferences.allows(purpose, channel):
                continue
            if channel not in recipients:
                continue
            message = _queue(
                appointment,
                purpose,
                channel,
                recipients[channel],
                due=when,
                expected_start=appointment.start,
            )
            if message is not None and message.status == Status.PENDING:
                queue.on_commit(
                    SEND_REMINDER,
                    appointment.pk,
                    purpose,
                    channel,
                    appointment.start.isoformat(),
                    run_after=when,
                )
                written.append(message)
    return written


def _announce_new_booking(appointment: Appointment) -> list[Message]:
    """``appointment_booked`` of an appointment booked in this transaction: the same rows,
    written at once (see there)."""
    now = timezone.now()
    if appointment.status != Appointment.Status.BOOKED or _started(appointment, now=now):
        return []
    recipients = _recipients(appointment)
    confirmations = [
        _message(appointment, Purpose.CONFIRMATION, channel, recipient, now=now)
        for channel, recipient in recipients
    ]
    reminders = []
    preferences = _reminder_settings(appointment)
    addresses = dict(recipients)
    for purpose, channel in REMINDERS:
        when = reminder_time(appointment, purpose)
        if when <= now or not preferences.allows(purpose, channel) or channel not in addresses:
            continue
        reminders.append(
            _message(
                appointment,
                purpose,
                channel,
                addresses[channel],
                due=when,
                expected_start=appointment.start,
                now=now,
            )
        )
    rows.insert(confirmations + reminders)
    tasks = [(DELIVER, (m.pk,), None) for m in confirmations if m.status == Status.PENDING]
    reminders = [m for m in reminders if m.status == Status.PENDING]
    start = appointment.start.astimezone(UTC).isoformat()  # as read from the database
    tasks += [
        (SEND_REMINDER, (appointment.pk, m.purpose, m.channel, start), m.next_attempt_at)
        for m in reminders
    ]
    queue.enqueue_with_commit(tasks)
    return confirmations + reminders


def queue_message(
    *,
    channel: str,
    purpose: str,
    recipient: str,
    body: str,
    dedupe_key: str,
    subject: str = "",
    html_body: str = "",
    appointment: Appointment | None = None,
    send_after: datetime | None = None,
    headers: dict | None = None,
    language: str | None = None,
) -> Message | None:
    """Write a message whose text the caller made (e.g. a waiting-list offer); None if a
    message with ``dedupe_key`` exists already."""
    with transaction.atomic():
        message = _insert(
            Message(
                channel=channel,
                purpose=purpose,
                appointment=appointment,
                language=language or translation.get_language() or settings.LANGUAGE_CODE,
                recipient=recipient,
                subject=subject,
                body=body,
                html_body=html_body,
                headers=headers or {},
                dedupe_key=dedupe_key,
                next_attempt_at=send_after or timezone.now(),
            )
        )
        if message is not None:
            queue.on_commit(DELIVER, message.pk, run_after=send_after)
    return message


def queue_account_email(
    *, recipient: str, subject: str, body: str, html_body: str = "", dedupe_key: str = ""
) -> Message | None:
    """An account e-mail (a code, a password reset link, an invitation) through the outbox:
    the request that asks for it only writes a row, the task worker sends it and retries while
    the SMTP server is down. Its texts are encrypted at rest and erased once it is sent."""
    return queue_message(
        channel=Channel.EMAIL,
        purpose=Purpose.ACCOUNT,
        recipient=recipient,
        subject=subject,
        body=crypto.encrypt_text(body),
        html_body=crypto.encrypt_text(html_body) if html_body else "",
        dedupe_key=dedupe_key or f"account:{uuid.uuid4().hex}",
    )


def statuses(dedupe_keys) -> dict[str, str]:
    """The status of the messages written under these keys (absent keys are left out)."""
    return dict(
        Message.objects.filter(dedupe_key__in=list(dedupe_keys)).values_list("dedupe_key", "status")
    )


def set_reminder_settings(
    *, practitioner, email_7d: bool, email_1d: bool, sms_1d: bool
) -> ReminderSettings:
    """Which reminders the practitioner's patients get. A reminder turned off is also skipped
    when already scheduled (it is checked again before it goes out); one turned on applies to
    appointments booked from now on."""
    with transaction.atomic():
        found, _created = ReminderSettings.objects.update_or_create(
            practitioner=practitioner,
            defaults={"email_7d": email_7d, "email_1d": email_1d, "sms_1d": sms_1d},
        )
    return found


def reminder_time(appointment: Appointment, purpose: str) -> datetime:
    """When a reminder is due: the same wall-clock time at the site, 7 days or 1 day before,
    whatever DST change lies between."""
    local_start = appointment.start.astimezone(appointment.agenda.site.zone)
    return local_start - BEFORE[purpose]  # aware arithmetic in one zone keeps the wall clock


# Delivery -------------------------------------------------------------------------------------


def send_message(*, message_id: int, now: datetime | None = None) -> str:
    """Deliver one outbox message if it is due; return its status afterwards.

    Safe to run any number of times, concurrently: only the run whose update moves the row from
    pending to sending sends it. A failure is retried after 1, 4, 16 and 64 minutes, then the
    message is marked failed.
    """
    now = now or timezone.now()
    claimed = (
        Message.objects.filter(pk=message_id, next_attempt_at__lte=now, attempts__lt=MAX_ATTEMPTS)
        .filter(Q(status=Status.PENDING) | Q(status=Status.SENDING))
        .update(status=Status.SENDING, attempts=F("attempts") + 1, next_attempt_at=now + LEASE)
    )
    if not claimed:
        return Message.objects.filter(pk=message_id).values_list("status", flat=True).first()
    message = Message.objects.get(pk=message_id)
    try:
        if message.is_reminder:
            appointment = _load(message.appointment_id) if message.appointment_id else None
            obstacle = _reminder_obstacle(message, appointment, now=now)
            if obstacle:
                return _finish(message, Status.SKIPPED, error=obstacle)
            # Written days ago: tell what holds now, to whom the patient's details say now.
            message.recipient = dict(_recipients(appointment)).get(message.channel, "")
            _compose(message, appointment)
            if not message.recipient:
                return _finish(message, Status.SKIPPED, error="no recipient")
            message.save(update_fields=["recipient", "subject", "body", "html_body", "ics"])
        elif not message.body and message.appointment_id:
            appointment = _load(message.appointment_id)
            obstacle = _announcement_obstacle(message, appointment, now=now)
            if obstacle:
                return _finish(message, Status.SKIPPED, error=obstacle)
            _compose(message, appointment)
            message.save(update_fields=["subject", "body", "html_body", "ics"])
        _transmit(message)
    except Exception as error:
        logger.warning("Message %s: attempt %s failed: %r", message.pk, message.attempts, error)
        if message.attempts >= MAX_ATTEMPTS:
            return _finish(message, Status.FAILED, error=repr(error), **_erased(message))
        retry_at = now + timedelta(minutes=4 ** (message.attempts - 1))
        status = _finish(message, Status.PENDING, error=repr(error), next_attempt_at=retry_at)
        queue.on_commit(DELIVER, message.pk, run_after=retry_at)
        return status
    return _finish(message, Status.SENT, sent_at=now, **_erased(message))


def _erased(message: Message) -> dict:
    """What to blank in a finished message: the texts of an account e-mail (a code or a link
    that must not outlive its use) and of a support e-mail (its ticket keeps them, encrypted)."""
    return {"body": "", "html_body": ""} if message.purpose in SECRET_TEXTS else {}


def send_reminder(
    *,
    appointment_id: int,
    purpose: str,
    channel: str,
    expected_start: datetime,
    now: datetime | None = None,
) -> str:
    """Send one reminder, writing its outbox row first if it is missing."""
    now = now or timezone.now()
    key = _dedupe_key(appointment_id, purpose, channel)
    message = Message.objects.filter(dedupe_key=key).first()
    if message is None:
        try:
            appointment = _load(appointment_id)
        except Appointment.DoesNotExist:
            return Status.SKIPPED
        recipient = dict(_recipients(appointment)).get(channel, "")
        message = _queue(
            appointment, purpose, channel, recipient, due=now, expected_start=expected_start
        )
        message = message or Message.objects.get(dedupe_key=key)
    elif message.expected_start != expected_start:
        return message.status  # a task left over from an earlier schedule of this row
    return send_message(message_id=message.pk, now=now)


def deliver_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Send the messages that are due, whatever became of their tasks; return how many were
    tried. Run it now and then (e.g. every few minutes) as a safety net."""
    now = now or timezone.now()
    # A sender that died during the last allowed attempt: nobody will try again.
    Message.objects.filter(
        status=Status.SENDING, next_attempt_at__lte=now, attempts__gte=MAX_ATTEMPTS
    ).update(status=Status.FAILED, last_error="the last attempt did not finish")
    due = list(
        Message.objects.filter(
            status__in=(Status.PENDING, Status.SENDING),
            next_attempt_at__lte=now,
            attempts__lt=MAX_ATTEMPTS,
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for message_id in due:
        send_message(message_id=message_id, now=now)
    return len(due)


# Internals ------------------------------------------------------------------------------------


def _load(appointment_id: int) -> Appointment:
    return Appointment.objects.select_related(
        "agenda__site",
        "agenda__organisation",
        "agenda__practitioner",
        "motive",
        "patient__owner",
        "booked_by",
        "rescheduled_from",
    ).get(pk=appointment_id)


def _dedupe_key(appointment_id: int, purpose: str, channel: str) -> str:
    return f"appointment:{appointment_id}:{purpose}:{channel}"


def _patient_side_booker(appointment: Appointment):
    """The account that booked, when it booked as the patient (online); never a secretary, a
    practitioner or a regulator who booked for them: their address is not the patient's."""
    if appointment.channel == Appointment.Channel.ONLINE:
        return appointment.booked_by
    return None


def _email_of(appointment: Appointment) -> str:
    """The account that booked online, else the patient's own address, else their account's."""
    patient, booker = appointment.patient, _patient_side_booker(appointment)
    if booker and booker.email:
        return booker.email
    if patient and patient.email:
        return patient.email
    if patient and patient.owner and patient.owner.email:
        return patient.owner.email
    return ""


def _phone_of(appointment: Appointment) -> str:
    patient, booker = appointment.patient, _patient_side_booker(appointment)
    candidates = [patient.phone if patient else ""]
    candidates.append(patient.owner.phone if patient and patient.owner else "")
    if booker:
        candidates.append(booker.phone)
    return next((c for c in candidates if c), "")


def _recipients(appointment: Appointment) -> list[tuple[str, str]]:
    found = [(Channel.EMAIL, _email_of(appointment)), (Channel.SMS, _phone_of(appointment))]
    return [(channel, recipient) for channel, recipient in found if recipient]


def _language_of(appointment: Appointment) -> str:
    """The patient's language when one is recorded somewhere, else the site's default."""
    known = dict(settings.LANGUAGES)
    patient = appointment.patient
    for holder in (patient, patient and patient.owner, _patient_side_booker(appointment)):
        language = getattr(holder, "language", "") or ""
        if language in known:
            return language
    return settings.LANGUAGE_CODE


def _reminder_settings(appointment: Appointment) -> ReminderSettings:
    practitioner_id = appointment.agenda.practitioner_id
    if not practitioner_id:
        return ReminderSettings()
    # Read for every booking: plain SQL (``core/rows.py``).
    found = rows.columns(ReminderSettings, "r")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {found.sql} FROM {ReminderSettings._meta.db_table} r"  # noqa: S608
            " WHERE r.practitioner_id = %s",
            [practitioner_id],
        )
        row = cursor.fetchone()
    return found.load(row) if row else ReminderSettings()


def _queue(
    appointment: Appointment,
    purpose: str,
    channel: str,
    recipient: str,
    *,
    due: datetime | None = None,
    expected_start: datetime | None = None,
    send_after: datetime | None = None,
) -> Message | None:
    """Write one message about ``appointment``; enqueue it now (or at ``send_after``) unless
    it has a due time (a reminder, enqueued by its caller)."""
    message = _message(
        appointment,
        purpose,
        channel,
        recipient,
        due=due,
        expected_start=expected_start,
        send_after=send_after,
    )
    written = _insert(message)
    if written is not None and written.status == Status.PENDING and due is None:
        queue.on_commit(DELIVER, written.pk, run_after=send_after)
    return written


def _message(
    appointment: Appointment,
    purpose: str,
    channel: str,
    recipient: str,
    *,
    due: datetime | None = None,
    expected_start: datetime | None = None,
    send_after: datetime | None = None,
    now: datetime | None = None,
) -> Message:
    """One message about ``appointment``, not written yet: skipped from the start when it has
    no usable recipient."""
    message = Message(
        channel=channel,
        purpose=purpose,
        appointment=appointment,
        language=_language_of(appointment),
        recipient=recipient,
        dedupe_key=_dedupe_key(appointment.pk, purpose, channel),
        expected_start=expected_start,
        next_attempt_at=due or send_after or now or timezone.now(),
    )
    # The text is composed when the message is sent, not here: the booking's transaction (and,
    # on SQLite, the database's write lock) stays short.
    if channel == Channel.SMS and recipient:
        try:
            message.recipient = sms.normalise_phone(recipient)
        except sms.InvalidPhoneNumber:
            message.recipient = ""
    if not message.recipient:
        message.status, message.last_error = Status.SKIPPED, "invalid or missing recipient"
    return message


def _insert(message: Message) -> Message | None:
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:
        return None  # written meanwhile by a concurrent call
    return message


def _skip_reminders(appointment: Appointment, *, reason: str) -> int:
    return Message.objects.filter(
        appointment=appointment, purpose__in=Message.REMINDERS, status=Status.PENDING
    ).update(status=Status.SKIPPED, last_error=reason)


def _started(appointment: Appointment, *, now: datetime | None = None) -> bool:
    """Whether the appointment's start has passed: too late to announce or remind it."""
    return appointment.start <= (now or timezone.now())


ANNOUNCEMENTS = (Purpose.CONFIRMATION, Purpose.RESCHEDULED)


def _announcement_obstacle(message: Message, appointment: Appointment, *, now: datetime) -> str:
    """Why a confirmation or a "moved" message must not go out any more, or "" if it may."""
    if message.purpose not in ANNOUNCEMENTS:
        return ""
    if _started(appointment, now=now):
        return "appointment already started"
    return ""


def _reminder_obstacle(message: Message, appointment: Appointment | None, *, now: datetime) -> str:
    """Why this reminder must not go out any more, or "" if it may."""
    if appointment is None:
        return "appointment deleted"
    if appointment.status != Appointment.Status.BOOKED:
        return f"appointment {appointment.status}"
    if appointment.start != message.expected_start:
        return "appointment moved"
    if _started(appointment, now=now):
        return "appointment already started"
    if now > reminder_time(appointment, message.purpose) + STALE_AFTER:
        return "too late"
    if not _reminder_settings(appointment).allows(message.purpose, message.channel):
        return "reminder turned off"
    return ""


def _finish(message: Message, status: str, *, error: str = "", **fields) -> str:
    """Record the outcome of a claimed message (only while it is still ours)."""
    Message.objects.filter(pk=message.pk, status=Status.SENDING).update(
        status=status, last_error=error[:2000], **fields
    )
    return status


def _transmit(message: Message) -> None:
    if message.channel == Channel.SMS:
        sms.send_sms(message.recipient, message.body)
        return
    body, html_body = message.body, message.html_body
    if message.purpose in SECRET_TEXTS:
        body = crypto.decrypt_text(body)
        html_body = crypto.decrypt_text(html_body) if html_body else ""
    headers = dict(message.headers or {})
    reply_to = headers.pop("Reply-To", "")
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.recipient],
        reply_to=[reply_to] if reply_to else None,
        headers=headers or None,
    )
    if html_body:
        email.attach_alternative(html_body, "text/html")
    if message.ics:
        # A text/calendar part with its METHOD lets mail clients offer "add to calendar".
        part = MIMEText(message.ics, "calendar", "utf-8")
        method = re.search(r"^METHOD:(\w+)", message.ics, re.MULTILINE)
        if method:
            part.set_param("method", method.group(1))
        part.add_header("Content-Disposition", "attachment", filename="rendez-vous.ics")
        email.attach(part)
    email.send(fail_silently=False)


# Content --------------------------------------------------------------------------------------


def _compose(message: Message, appointment: Appointment) -> None:
    """Fill the message's text from the appointment, in the message's language."""
    if message.channel == Channel.SMS and message.recipient:
        try:
            message.recipient = sms.normalise_phone(message.recipient)
        except sms.InvalidPhoneNumber:
            message.recipient = ""
    with translation.override(message.language):
        context = _context(appointment, message.purpose)
        if message.channel == Channel.SMS:
            message.subject = ""
            message.body = _sms_text(message.purpose) % context
            if context["cancel_reason"]:
                message.body += " " + _("Reason: %(cancel_reason)s") % context
            if context["visio_url"]:
                message.body += " " + _("Video: %(visio_url)s") % context
            return
        message.subject = _subject(message.purpose) % context
        message.body = re.sub(
            r"\n{3,}",
            "\n\n",
            render_to_string("notifications/email/appointment.txt", context),
        ).strip()
        message.html_body = render_to_string("notifications/email/appointment.html", context)
        if message.purpose in (Purpose.CONFIRMATION, Purpose.RESCHEDULED, Purpose.CANCELLATION):
            method = CANCEL if message.purpose == Purpose.CANCELLATION else None
            message.ics = appointment_ics(appointment, method=method, attendee=message.recipient)


def _context(appointment: Appointment, purpose: str) -> dict:
    agenda, motive, patient = appointment.agenda, appointment.motive, appointment.patient
    zone = agenda.site.zone
    deadline = appointment.start - timedelta(hours=motive.cancellation_deadline_hours)
    old = appointment.rescheduled_from
    site = agenda.site
    return {
        "purpose": purpose,
        "intro": _intro(purpose) % {"old_when": when_text(old.start, zone) if old else ""},
        # A parent booking for a child reads the mail: greet the child only in their own mail.
        "greeting_name": (
            patient.first_name
            if patient and patient.relationship == PatientProfile.Relationship.SELF
            else ""
        ),
        "patient_name": str(patient) if patient else "",
        "practitioner": agenda.practitioner.display_name if agenda.practitioner else agenda.name,
        "organisation": agenda.organisation.name,
        "when": when_text(appointment.start, zone),
        "time": date_format(appointment.start.astimezone(zone), "H:i"),
        "place": location_text(appointment),
        "short_place": (
            _("Video consultation")
            if motive.mode == Motive.Mode.VIDEO
            else f"{site.address}, {site.postcode} {site.city}"
        ),
        "access_details": site.access_details if motive.mode != Motive.Mode.VIDEO else "",
        "site_phone": site.phone,
        "motive": motive.label,
        "instructions": motive.instructions.strip(),
        "is_cancelled": purpose == Purpose.CANCELLATION,
        # The practice's reason, when it cancelled (a patient's own cancellation says nothing).
        "cancel_reason": (
            appointment.cancel_reason
            if purpose == Purpose.CANCELLATION
            and appointment.cancelled_by_practice
            and appointment.cancel_reason not in Appointment.PLATFORM_REASONS
            else ""
        ),
        "deadline": when_text(deadline, zone) if deadline > timezone.now() else "",
        "url": _details_url(appointment),
        "visio_url": _visio_url(appointment) if purpose != Purpose.CANCELLATION else "",
        "site_url": settings.CONSULTO_SITE_URL.rstrip("/") + "/",
        "language": translation.get_language(),
    }


def _details_url(appointment: Appointment) -> str:
    """Where the patient sees the appointment: their account's page, or, when they have no
    account (booked for them by a regulator or a practice), the appointment's signed page."""
    if appointment.patient and appointment.patient.owner_id is None:
        return links.appointment_page_link(appointment) or my_appointments_url()
    return my_appointments_url()


def _visio_url(appointment: Appointment) -> str:
    """For a video appointment, the signed link that opens the patient's room (no account
    needed, valid only around the appointment and only for this patient)."""
    if appointment.motive.mode != Motive.Mode.VIDEO:
        return ""
    return links.video_room_link(appointment)


def when_text(moment: datetime, zone) -> str:
    """``lundi 30 novembre 2026 à 09:00``: the wall-clock time at the site, in words."""
    local = moment.astimezone(zone)
    day = date_format(local, "l j F Y")
    if (translation.get_language() or "").startswith("fr"):
        day = day[:1].lower() + day[1:]  # Django's catalogue capitalises French weekdays
    return _("%(date)s at %(time)s") % {"date": day, "time": date_format(local, "H:i")}


def _subject(purpose: str) -> str:
    return {
        Purpose.CONFIRMATION: _("Appointment confirmed on %(when)s"),
        Purpose.CANCELLATION: _("Appointment cancelled: %(when)s"),
        Purpose.RESCHEDULED: _("Appointment moved to %(when)s"),
        Purpose.REMINDER_7D: _("Reminder: appointment on %(when)s"),
        Purpose.REMINDER_1D: _("Reminder: appointment tomorrow, %(when)s"),
    }.get(purpose, _("Your appointment on %(when)s"))


def _intro(purpose: str) -> str:
    return {
        Purpose.CONFIRMATION: _("Your appointment is confirmed."),
        Purpose.CANCELLATION: _("Your appointment has been cancelled."),
        Purpose.RESCHEDULED: _("Your appointment has been moved. It was on %(old_when)s."),
        Purpose.REMINDER_7D: _("A reminder: your appointment is in one week."),
        Purpose.REMINDER_1D: _("A reminder: your appointment is tomorrow."),
    }.get(purpose, "")


def _sms_text(purpose: str) -> str:
    return {
        Purpose.CONFIRMATION: _(
            "Consulto: appointment confirmed with %(practitioner)s on %(when)s, %(short_place)s."
            " Details: %(url)s"
        ),
        Purpose.CANCELLATION: _(
            "Consulto: your appointment with %(practitioner)s on %(when)s is cancelled."
        ),
        Purpose.RESCHEDULED: _(
            "Consulto: your appointment with %(practitioner)s is moved to %(when)s,"
            " %(short_place)s. Details: %(url)s"
        ),
        Purpose.REMINDER_7D: _(
            "Consulto reminder: appointment with %(practitioner)s on %(when)s,"
            " %(short_place)s. To cancel or move it: %(url)s"
        ),
        Purpose.REMINDER_1D: _(
            "Consulto reminder: appointment with %(practitioner)s tomorrow, %(when)s,"
            " %(short_place)s. To cancel or move it: %(url)s"
        ),
    }.get(purpose, _("Consulto: appointment with %(practitioner)s on %(when)s."))
