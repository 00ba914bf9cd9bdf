"""The waiting list: when a slot frees, the first patient waiting for it gets it held for a while.

A patient asks to be told of an earlier slot for one motive (optionally to replace an
appointment they have). When a slot frees (a cancellation, a move: ``scheduling.events``
announces it, ``receivers.py`` hears it), ``slot_freed`` queues ``offer``: the first waiting
patient for whom that slot is bookable and earlier than what they want gets an exclusive hold
of ``CONSULTO_WAITLIST_HOLD_MINUTES`` and a message with a link to take it. If they let it
lapse, ``lapse`` gives it to the next one.
"""

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from consulto.core import queue
from consulto.core.errors import InvalidInput, NotFound
from consulto.notifications import services as notify
from consulto.notifications.models import Message
from consulto.scheduling import booking, events, rules
from consulto.scheduling.models import Appointment, Motive, PatientProfile

from .models import WaitlistEntry, WaitlistOffer

CANDIDATES_PER_SLOT = 50
# The tasks this module enqueues, by name (``core/queue.py``): tasks.py calls this module.
OFFER_FREED_SLOT = "consulto.patients.tasks.offer_freed_slot"
OFFER_LAPSED = "consulto.patients.tasks.offer_lapsed"


@transaction.atomic
def join(
    *,
    user,
    patient: PatientProfile,
    motive: Motive,
    before: datetime,
    appointment: Appointment | None = None,
) -> WaitlistEntry:
    """Wait for a slot of ``motive`` earlier than ``before``; joining twice updates the wish."""
    if patient.owner_id != user.pk:
        raise NotFound()
    rules.check(
        agenda=motive.agenda, motive=motive, as_staff=False, patient=patient, now=timezone.now()
    )
    if before <= timezone.now():
        raise InvalidInput(_("Choose a date in the future."), field="before")
    entry, _created = WaitlistEntry.objects.update_or_create(
        user=user,
        patient=patient,
        motive=motive,
        status=WaitlistEntry.Status.WAITING,
        defaults={"before": before, "appointment": appointment},
    )
    return entry


@transaction.atomic
def withdraw(*, user, entry_id: int) -> None:
    updated = WaitlistEntry.objects.filter(
        pk=entry_id, user=user, status=WaitlistEntry.Status.WAITING
    ).update(status=WaitlistEntry.Status.WITHDRAWN)
    if not updated:
        raise NotFound()


def slot_freed(*, agenda_id: int, start: datetime, after: datetime | None = None) -> None:
    """In the transaction that frees a slot (``receivers.py`` hears it announced): the offer is
    made once it is committed (not before ``after``: a move the practice may still undo keeps
    its old slot free until then)."""
    queue.on_commit(OFFER_FREED_SLOT, agenda_id, start.isoformat(), run_after=after)


def offer(*, agenda_id: int, start: datetime, now: datetime | None = None) -> WaitlistOffer | None:
    """Hold ``start`` for the first waiting patient who can take it; None if nobody can."""
    now = now or timezone.now()
    entries = (
        WaitlistEntry.objects.filter(
            status=WaitlistEntry.Status.WAITING,
            motive__agenda_id=agenda_id,
            motive__is_active=True,
            before__gt=start,
        )
        .exclude(offers__start=start)
        .select_related("motive__agenda__site", "motive__agenda__practitioner", "patient", "user")
        .order_by("created_at", "pk")[:CANDIDATES_PER_SLOT]
    )
    for entry in entries:
        with transaction.atomic():
            try:
                # The patient may book this motive online (still known, motive still online...).
                rules.check(
                    agenda=entry.motive.agenda,
                    motive=entry.motive,
                    as_staff=False,
                    patient=entry.patient,
                    now=now,
                )
                held = booking.hold(
                    agenda=entry.motive.agenda,
                    motive=entry.motive,
                    start=start,
                    held_by=entry.user,
                    minutes=settings.CONSULTO_WAITLIST_HOLD_MINUTES,
                    now=now,
                )
            except booking.SlotTaken:
                return None  # booked meanwhile: nothing left to offer
            except (booking.InvalidSlot, rules.RuleBroken):
                continue  # not a slot this patient may take (too long, too soon, not known...)
            made = WaitlistOffer.objects.create(entry=entry, hold=held, start=start)
            _tell(made)
            queue.on_commit(OFFER_LAPSED, made.pk, run_after=held.hold_expires_at)
            return made
    return None


def lapse(*, offer_id: int, now: datetime | None = None) -> WaitlistOffer | None:
    """The offer's time is up: if it was not taken, offer the slot to the next patient."""
    now = now or timezone.now()
    with transaction.atomic():
        made = WaitlistOffer.objects.select_related("hold").filter(pk=offer_id).first()
        if made is None or made.status != WaitlistOffer.Status.OFFERED:
            return None
        hold = made.hold
        if hold.status == Appointment.Status.HELD and hold.hold_expires_at > now:
            return None  # not yet: the task ran early
        made.status = WaitlistOffer.Status.LAPSED
        made.save(update_fields=["status"])
        booking.release_hold(hold_id=hold.pk, by=hold.booked_by)
        agenda_id, start = hold.agenda_id, made.start
    return offer(agenda_id=agenda_id, start=start, now=now)


def taken(*, hold: Appointment, appointment: Appointment, user) -> None:
    """Call in the booking's transaction: the offer is taken, and the later appointment it
    replaces is cancelled (its slot goes to the next patient waiting)."""
    made = WaitlistOffer.objects.select_related("entry__appointment").filter(hold=hold).first()
    if made is None:
        return
    made.status = WaitlistOffer.Status.TAKEN
    made.save(update_fields=["status"])
    entry = made.entry
    entry.status = WaitlistEntry.Status.BOOKED
    entry.save(update_fields=["status"])
    replaced = entry.appointment
    if (
        replaced is not None
        and replaced.status == Appointment.Status.BOOKED
        and replaced.start > appointment.start
    ):
        cancelled = booking.cancel(
            appointment=replaced, by=user, reason=Appointment.REASON_WAITLIST, as_staff=True
        )
        notify.appointment_cancelled(appointment=cancelled)
        events.free_slot(agenda_id=cancelled.agenda_id, start=cancelled.start)


def _tell(made: WaitlistOffer) -> None:
    entry, hold = made.entry, made.hold
    agenda = entry.motive.agenda
    zone = agenda.site.zone
    who = agenda.practitioner.display_name if agenda.practitioner else agenda.name
    link = f"{settings.CONSULTO_SITE_URL}/reserver/{hold.pk}/"
    values = {
        "who": who,
        "when": notify.when_text(made.start, zone),
        "until": timezone.localtime(hold.hold_expires_at, zone).strftime("%H:%M"),
        "link": link,
        "motive": entry.motive.label,
    }
    body = (
        _(
            "Good news: an earlier slot is free with %(who)s for “%(motive)s”: %(when)s.\n\n"
            "We keep it for you until %(until)s. To take it, open this link and confirm:\n"
            "%(link)s\n\n"
            "If you do not, it goes to the next patient waiting."
        )
        % values
    )
    key = f"waitlist-offer:{made.pk}"
    if entry.user.email:
        notify.queue_message(
            channel=Message.Channel.EMAIL,
            purpose=Message.Purpose.WAITLIST_OFFER,
            recipient=entry.user.email,
            subject=_("An earlier slot is free: %(when)s") % values,
            body=body,
            dedupe_key=f"{key}:email",
        )
    phone = entry.patient.phone or entry.user.phone
    if phone:
        notify.queue_message(
            channel=Message.Channel.SMS,
            purpose=Message.Purpose.WAITLIST_OFFER,
            recipient=phone,
            body=_(
                "Consulto: earlier slot with %(who)s, %(when)s, kept for you until %(until)s: "
                "%(link)s"
            )
            % values,
            dedupe_key=f"{key}:sms",
        )
