"""The only doors through which appointments change: hold, book, cancel, reschedule.

Each function is one transaction. The database has the last word on rule 1 of DOMAIN.md: the
exclusion constraint (PostgreSQL) or the triggers (SQLite) refuse an overlap on a capacity-1
agenda; capacity N is re-checked under the agenda's row lock (PostgreSQL) or inside an IMMEDIATE
transaction (SQLite, where writers are serialised). Whatever the database says no with (a
constraint violation, a deadlock, a serialization failure) reaches callers as ``SlotTaken``.
"""

import hashlib
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consulto.core import queue
from consulto.core.errors import DomainError, PermissionDenied
from consulto.core.time import is_plausible_instant, require_aware

from . import availability as engine
from . import booking_reads, events, limits, live, rules, visibility
from .models import Agenda, Appointment, Motive, PatientProfile, Referral, agendas_changed
from .rules import InvalidSlot
from .selectors import motive_rule

Status = Appointment.Status

# The task this module enqueues, by name (``core/queue.py``): tasks.py calls this module.
EXPIRE_LAPSED_HOLDS = "consulto.scheduling.tasks.expire_lapsed_holds"

# PostgreSQL SQLSTATEs that mean "someone else got there first".
RETRYABLE_SQLSTATES = {"40001", "40P01", "55P03"}


class SlotTaken(DomainError):
    code = "slot_taken"
    status = 409
    default_message = _("This slot has just been taken. Please choose another one.")


class HoldExpired(DomainError):
    code = "hold_expired"
    status = 409
    default_message = _("Your reservation of this slot has expired. Please choose a slot again.")


class CancellationTooLate(DomainError):
    code = "cancellation_deadline_passed"
    status = 409
    default_message = _(
        "It is too late to cancel this appointment online. Please call the practice."
    )


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    status = 422
    default_message = _("This idempotency key was already used for a different booking.")


class NotActive(DomainError):
    code = "not_active"
    status = 409
    default_message = _("This appointment is no longer active.")


@dataclass(frozen=True)
class PatientIdentity:
    """Who the appointment is for, when no patient profile is chosen yet."""

    first_name: str
    last_name: str
    birth_date: date
    phone: str = ""
    email: str = ""


def hold(
    *,
    agenda: Agenda,
    motive: Motive,
    start: datetime,
    held_by,
    visitor: limits.Visitor | None = None,
    now: datetime | None = None,
    minutes: int | None = None,
    audience: frozenset[str] = visibility.PUBLIC,
) -> Appointment:
    """Reserve a slot for a few minutes while the patient finishes the booking pages (an online
    door: the motive's rules for online booking apply, and the slot must be one ``audience``
    sees). A ``visitor`` (the patient pages) may keep ``CONSULTO_HOLDS_AT_ONCE`` holds at once;
    the waiting list holds for its patients."""
    now = now or timezone.now()
    minutes = minutes or settings.CONSULTO_HOLD_MINUTES
    _bookable_time(start)

    def write() -> Appointment:
        rules.check(agenda=agenda, motive=motive, as_staff=False, start=start, now=now)
        if visitor is not None:
            _check_holds_at_once(visitor, now=now)
        _reserve_check(agenda=agenda, motive=motive, start=start, now=now, audience=audience)
        return Appointment.objects.create(
            agenda=agenda,
            motive=motive,
            start=start,
            end=start + motive.duration,
            status=Status.HELD,
            channel=Appointment.Channel.ONLINE,
            booked_by=held_by,
            hold_expires_at=now + timedelta(minutes=minutes),
            held_from=visitor.address if visitor is not None else "",
            held_session=visitor.session if visitor is not None else "",
            exclusive=agenda.capacity == 1,
        )

    held = _run_reservation(write, agenda_ids=[agenda.pk])
    # The hold already stops counting at its expiry; this task only tidies its status (and the
    # worker's sweep does it anyway), so a busy database there must not fail the hold.
    queue.on_commit(EXPIRE_LAPSED_HOLDS, run_after=held.hold_expires_at)
    return held


def claim_hold(*, hold_id: int, by, now: datetime | None = None) -> Appointment:
    """Give an anonymous hold to the account that just logged in (the session proved it held it).

    Raises ``HoldExpired`` when the hold lapsed or belongs to another account.
    """
    now = now or timezone.now()
    with transaction.atomic():
        claimed = Appointment.objects.filter(
            Q(booked_by__isnull=True) | Q(booked_by=by),
            pk=hold_id,
            status=Status.HELD,
            hold_expires_at__gt=now,
        ).update(booked_by=by, updated_at=now)
        if not claimed:
            raise HoldExpired()
        return Appointment.objects.select_related("agenda__site", "motive").get(pk=hold_id)


def release_hold(*, hold_id: int, by=None) -> None:
    """Give a held slot back at once (the patient chose another one or left)."""
    with transaction.atomic():
        held = Appointment.objects.filter(pk=hold_id, status=Status.HELD).first()
        owner = held.booked_by_id if held else None
        if held is None or (owner is not None and owner != getattr(by, "pk", None)):
            return
        _lock_agendas([held.agenda_id])
        Appointment.objects.filter(pk=hold_id, status=Status.HELD).update(
            status=Status.EXPIRED, updated_at=timezone.now()
        )


def _check_holds_at_once(visitor: limits.Visitor, *, now: datetime) -> None:
    """Inside the hold's transaction: the visitor's live holds stay under the caps of
    ``scheduling/limits.py`` (their account's, else their session's, and their address's)."""
    # Serialise one visitor's holds across agendas (SQLite's IMMEDIATE transactions already do).
    _lock_key(f"holds:{visitor.account_id or visitor.address}")
    live = Appointment.objects.filter(status=Status.HELD, hold_expires_at__gt=now)
    if visitor.account_id is not None:
        caps = [(live.filter(booked_by_id=visitor.account_id), settings.CONSULTO_HOLDS_AT_ONCE)]
    else:
        anonymous = live.filter(booked_by__isnull=True)
        caps = [
            (
                anonymous.filter(held_from=visitor.address),
                settings.CONSULTO_ANONYMOUS_HOLDS_PER_ADDRESS,
            )
        ]
        if visitor.session:
            caps.append(
                (anonymous.filter(held_session=visitor.session), settings.CONSULTO_HOLDS_AT_ONCE)
            )
    for holds, cap in caps:
        if not cap:
            continue
        expiries = list(
            holds.order_by("hold_expires_at").values_list("hold_expires_at", flat=True)[:cap]
        )
        if len(expiries) >= cap:
            raise limits.TooManyHolds(retry_after=(expiries[0] - now).total_seconds())


def _lock_key(key: str) -> None:
    """A transaction-scoped PostgreSQL advisory lock on ``key`` (pretix's way); SQLite needs
    none, its writers being serialised."""
    if connection.vendor != "postgresql":
        return
    number = int.from_bytes(
        hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [number])


def book(
    *,
    agenda: Agenda,
    motive: Motive,
    start: datetime,
    patient: PatientProfile | PatientIdentity,
    booked_by,
    channel: str = Appointment.Channel.ONLINE,
    idempotency_key: str | None = None,
    from_hold: Appointment | None = None,
    as_staff: bool = False,
    audience: frozenset[str] | None = None,
    now: datetime | None = None,
    also=None,
) -> Appointment:
    """Book ``start`` for ``patient``; retried with the same key, return the first booking.

    A patient books online (the patient pages, the API): every rule of the motive applies
    (``rules.py``), in the openings the public sees (and the known patients', when the practice
    knows them). Staff booking for a patient (``as_staff``) are exempt from those that restrict
    online booking, the openings included, never from overlap. A professional from outside the
    organisation (a regulator, a referring practitioner) gives their ``audience``
    (``visibility.py``): the slot must be one of the openings it sees, inside the booking
    window; the motive's online flags do not bind them.

    ``also(appointment)``, called inside the transaction for a new booking (not a replay),
    writes what must commit with it (its confirmation): one transaction, no savepoint. The
    returned appointment carries its agenda, motive, patient and booker as given or made here.

    The returned appointment's ``replayed`` attribute says whether it is that first booking.
    """
    now = now or timezone.now()
    _bookable_time(start)
    # The openings the slot must be one of: staff book outside the openings too.
    seen_by = None if as_staff else (visibility.PUBLIC if audience is None else audience)

    def check_rules(existing: PatientProfile | None, held: Appointment | None) -> None:
        rules.check(
            agenda=agenda,
            motive=motive,
            as_staff=as_staff,
            professional=audience is not None and not as_staff,
            # A live hold already passed the booking window when it was made.
            start=None if held is not None else start,
            patient=existing,
            new_patient=existing is None,
            now=now,
        )

    def check_offered(existing: PatientProfile | None) -> None:
        _check_offered(
            agenda=agenda,
            motive=motive,
            start=start,
            now=now,
            audience=seen_by,
            # A patient's own door: the known patients' slots too, when the practice knows them.
            known_profile_id=existing.pk if existing is not None and audience is None else None,
        )

    def write() -> Appointment:
        if idempotency_key:
            previous = _previous_booking(booked_by, idempotency_key)
            if previous is not None:
                _same_request_or_raise(previous, agenda=agenda, motive=motive, start=start)
                previous.replayed = True
                return previous
        held = _usable_hold(from_hold, booked_by=booked_by, agenda=agenda, start=start, now=now)
        existing, has_self = _existing_profile(patient, owner=booked_by)
        check_rules(existing, held)
        if held is not None:
            held.status = Status.BOOKED
            held.patient = _resolve_patient(
                patient, owner=booked_by, existing=existing, has_self=has_self
            )
            held.motive = motive
            held.channel = channel
            held.hold_expires_at = None
            held.held_from = ""
            held.idempotency_key = idempotency_key
            held.save(
                update_fields=[
                    "status",
                    "patient",
                    "motive",
                    "channel",
                    "hold_expires_at",
                    "held_from",
                    "idempotency_key",
                    "updated_at",
                ]
            )
            events.appointment_booked.send(sender=Appointment, appointment=held)
            events.changed(held, "booked")
            if also is not None:
                also(held)
            return held
        # The slot first: a refused request writes nothing (no patient profile either).
        check_offered(existing)
        _check_room(agenda=agenda, motive=motive, start=start, now=now)
        created = Appointment.objects.create(
            agenda=agenda,
            motive=motive,
            patient=_resolve_patient(
                patient, owner=booked_by, existing=existing, has_self=has_self
            ),
            start=start,
            end=start + motive.duration,
            status=Status.BOOKED,
            channel=channel,
            booked_by=booked_by,
            idempotency_key=idempotency_key,
            exclusive=agenda.capacity == 1,
        )
        events.appointment_booked.send(sender=Appointment, appointment=created)
        events.changed(created, "booked")
        if also is not None:
            also(created)
        return created

    if (
        from_hold is None
        and not _room_left(agenda=agenda, motive=motive, start=start, now=now)
        and not _key_used(booked_by, idempotency_key)
    ):
        # Already full before the lock is taken (a rush on one slot): refuse as the locked path
        # would, in its order, without queueing on the agenda's lock. (A replay goes on below.)
        existing, _has_self = _existing_profile(patient, owner=booked_by)
        check_rules(existing, None)
        check_offered(existing)
        raise SlotTaken()
    try:
        appointment = _run_reservation(write, agenda_ids=[agenda.pk])
    except SlotTaken:
        # Two retries of one request may race: the loser finds the winner's booking.
        previous = _previous_booking(booked_by, idempotency_key) if idempotency_key else None
        if previous is None:
            raise
        _same_request_or_raise(previous, agenda=agenda, motive=motive, start=start)
        appointment, appointment.replayed = previous, True
    appointment.replayed = getattr(appointment, "replayed", False)
    if not appointment.replayed:
        live.announce([appointment.agenda_id], kind="booked")
    return appointment


class NoFollowUp(DomainError):
    code = "no_follow_up"
    status = 422
    default_message = _("This motive has no follow-up to book with it.")


class FollowUpOutsideWindow(InvalidSlot):
    code = "follow_up_outside_window"
    default_message = _("This time is not one offered for the follow-up of this appointment.")


# A follow-up is booked on its due day (the first appointment's day + ``follow_up_after_days``)
# or on one of the days after it, at most this many: never sooner than the practice said (a
# second dose, a results consultation), a little later when the due day is full.
FOLLOW_UP_LATE_DAYS = 7


@dataclass(frozen=True)
class FollowUpWindow:
    """The days a follow-up may be booked on, in its agenda's zone: ``first_day`` (the due day)
    to ``last_day``, and never before ``not_before`` (the first appointment's end)."""

    due: date
    first_day: date
    last_day: date
    not_before: datetime

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1


def follow_up_window(*, motive: Motive, start: datetime) -> FollowUpWindow:
    """When the follow-up of ``motive`` booked at ``start`` may be: see ``FOLLOW_UP_LATE_DAYS``.
    ``motive.follow_up`` comes with its agenda and site."""
    follow = motive.follow_up
    if follow is None:
        raise NoFollowUp()
    zone = follow.agenda.site.zone
    due = start.astimezone(zone).date() + timedelta(days=motive.follow_up_after_days or 0)
    return FollowUpWindow(
        due=due,
        first_day=due,
        last_day=due + timedelta(days=FOLLOW_UP_LATE_DAYS),
        not_before=start + motive.duration,
    )


def book_with_follow_up(
    *,
    agenda: Agenda,
    motive: Motive,
    start: datetime,
    follow_up_start: datetime,
    patient: PatientProfile | PatientIdentity,
    booked_by,
    channel: str = Appointment.Channel.ONLINE,
    idempotency_key: str | None = None,
    from_hold: Appointment | None = None,
    as_staff: bool = False,
    audience: frozenset[str] | None = None,
    now: datetime | None = None,
    also=None,
) -> tuple[Appointment, Appointment]:
    """Book ``start`` for ``motive`` and ``follow_up_start`` for its follow-up (``motive.
    follow_up``, maybe on another agenda), both or neither, in one transaction.

    Both agendas are locked first (in id order, so two such bookings never wait crosswise),
    then each appointment goes through ``book`` with its own rules; any refusal (a slot taken,
    a slot not offered) undoes the whole. The follow-up must fall in ``follow_up_window`` and be
    a slot of its motive in the openings the same door sees (staff: anywhere free). Its motive's
    online flags ("bookable online", "open to new patients") do not bind it: the practice
    offered it as the follow-up of a motive the patient may book; its booking window does.

    ``also(first, follow_up)``, called inside the transaction, writes what must be written with
    them (their confirmations). With ``idempotency_key`` K the follow-up's key is K + ":suivi";
    a retry returns both first bookings (``replayed``)."""
    now = now or timezone.now()
    _bookable_time(start)
    _bookable_time(follow_up_start)
    if motive.follow_up_id is None:
        raise NoFollowUp()
    follow = Motive.objects.select_related("agenda__site").filter(pk=motive.follow_up_id).first()
    if follow is None:
        raise NoFollowUp()
    motive.follow_up = follow
    window = follow_up_window(motive=motive, start=start)
    local_day = follow_up_start.astimezone(follow.agenda.site.zone).date()
    if not (window.first_day <= local_day <= window.last_day) or (
        follow_up_start < window.not_before
    ):
        raise FollowUpOutsideWindow(field="follow_up_start")
    with reservation():
        _lock_agendas([agenda.pk, follow.agenda_id])
        first = book(
            agenda=agenda,
            motive=motive,
            start=start,
            patient=patient,
            booked_by=booked_by,
            channel=channel,
            idempotency_key=idempotency_key,
            from_hold=from_hold,
            as_staff=as_staff,
            audience=audience,
            now=now,
        )
        seen_by = audience
        if not as_staff and seen_by is None:
            # A patient's own door: the public's slots, and the known patients' where known.
            seen_by = visibility.PUBLIC
            if visibility.knows(first.patient_id, follow.agenda, now=now):
                seen_by = visibility.KNOWN_PATIENT
        second = book(
            agenda=follow.agenda,
            motive=follow,
            start=follow_up_start,
            patient=first.patient,
            booked_by=booked_by,
            channel=channel,
            idempotency_key=f"{idempotency_key}:suivi" if idempotency_key else None,
            as_staff=as_staff,
            audience=seen_by,
            now=now,
        )
        if first.replayed != second.replayed:
            raise IdempotencyKeyReused()
        if also is not None and not first.replayed:
            also(first, second)
    return first, second


def cancel(
    *,
    appointment: Appointment,
    by,
    reason: str = "",
    as_staff: bool = False,
    by_practice: bool = False,
    now: datetime | None = None,
) -> Appointment:
    """Cancel and free the slot at once; the appointment stays in history.

    ``as_staff`` lifts the patient's deadline (the practice, or the waiting list acting for the
    patient); ``by_practice`` records that the practice cancelled, so the patient is told why.
    """
    now = now or timezone.now()
    with transaction.atomic():
        _lock_agendas([appointment.agenda_id])
        current = Appointment.objects.select_related("motive").get(pk=appointment.pk)
        if current.status == Status.CANCELLED:
            return current
        if current.status not in (Status.BOOKED, Status.HELD):
            raise NotActive()
        if not as_staff:
            _check_patient_may_change(current, by=by, now=now)
        _mark_cancelled(current, by=by, reason=reason, by_practice=by_practice, now=now)
        events.changed(current, "cancelled")
        live.announce([current.agenda_id], kind="cancelled")
        return current


def _mark_cancelled(appointment: Appointment, *, by, reason: str, by_practice: bool, now) -> None:
    appointment.status = Status.CANCELLED
    appointment.cancelled_at = now
    appointment.cancelled_by = by
    appointment.cancel_reason = reason[:255]
    appointment.cancelled_by_practice = by_practice
    appointment.save(
        update_fields=[
            "status",
            "cancelled_at",
            "cancelled_by",
            "cancel_reason",
            "cancelled_by_practice",
            "updated_at",
        ]
    )


def reschedule(
    *,
    appointment: Appointment,
    new_start: datetime,
    by,
    new_agenda: Agenda | None = None,
    as_staff: bool = False,
    audience: frozenset[str] | None = None,
    now: datetime | None = None,
) -> Appointment:
    """Book the new time and free the old one in one transaction; return the new appointment.

    The patient moves within what a known patient sees; a professional from outside the
    organisation (``audience``: the regulator who booked it) within what they see; staff
    anywhere free."""
    now = now or timezone.now()
    _bookable_time(new_start)
    agenda = new_agenda or appointment.agenda

    def write() -> Appointment:
        old = Appointment.objects.select_related("motive", "agenda").get(pk=appointment.pk)
        if old.status != Status.BOOKED:
            raise NotActive()
        professional = audience is not None and not as_staff
        if not as_staff and not professional:
            _check_patient_may_change(old, by=by, now=now)
        motive = old.motive
        if agenda.pk != old.agenda_id:
            raise InvalidSlot(_("A motive can only be moved within its own agenda."))
        _mark_cancelled(old, by=by, reason=Appointment.REASON_MOVED, by_practice=as_staff, now=now)
        # The patient already has this motive: "open to new patients" is not asked again.
        rules.check(
            agenda=agenda,
            motive=motive,
            as_staff=as_staff,
            professional=professional,
            start=new_start,
            now=now,
        )
        seen_by = None if as_staff else (audience or visibility.KNOWN_PATIENT)
        _reserve_check(agenda=agenda, motive=motive, start=new_start, now=now, audience=seen_by)
        new = Appointment.objects.create(
            agenda=agenda,
            motive=motive,
            patient_id=old.patient_id,
            start=new_start,
            end=new_start + motive.duration,
            status=Status.BOOKED,
            channel=old.channel,
            booked_by=old.booked_by,
            exclusive=agenda.capacity == 1,
            rescheduled_from=old,
        )
        # Who sent the patient, and why, follows the appointment to its new time (whoever moves it).
        Referral.objects.filter(appointment=old).update(appointment=new)
        events.changed(new, "moved", previous=old)
        return new

    moved = _run_reservation(write, agenda_ids=[appointment.agenda_id, agenda.pk])
    live.announce([appointment.agenda_id, agenda.pk], kind="moved")
    return moved


# The practice's day: booked -> arrived (waiting room) -> in progress -> seen; or no-show. A step
# taken by mistake can be undone back to the one before.
STATUS_STEPS = {
    Status.BOOKED: {Status.ARRIVED, Status.IN_PROGRESS, Status.SEEN, Status.NO_SHOW},
    Status.ARRIVED: {Status.IN_PROGRESS, Status.SEEN, Status.NO_SHOW, Status.BOOKED},
    Status.IN_PROGRESS: {Status.SEEN, Status.ARRIVED},
    Status.SEEN: {Status.IN_PROGRESS, Status.ARRIVED},
    Status.NO_SHOW: {Status.BOOKED},
}


class StatusNotAllowed(DomainError):
    code = "status_not_allowed"
    status = 409
    default_message = _("This appointment cannot take that status now.")


def set_status(*, appointment: Appointment, status: str, by, now: datetime | None = None):
    """Mark an appointment arrived, in progress, seen or no-show (or undo the last step)."""
    now = now or timezone.now()
    with transaction.atomic():
        current = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if current.status == status:
            return current
        if status not in STATUS_STEPS.get(current.status, set()):
            raise StatusNotAllowed()
        if status == Status.NO_SHOW and current.start > now:
            raise StatusNotAllowed(_("A patient can only be marked absent once the time has come."))
        current.status = status
        current.save(update_fields=["status", "updated_at"])
        events.changed(current, status)
        live.announce([current.agenda_id], kind="status")
        return current


def expire_holds(*, now: datetime | None = None) -> int:
    """Mark lapsed holds as expired. They already free their slot; this tidies them up."""
    now = now or timezone.now()
    with transaction.atomic():
        return Appointment.objects.filter(status=Status.HELD, hold_expires_at__lte=now).update(
            status=Status.EXPIRED
        )


# Internals --------------------------------------------------------------------------------------


def _run_reservation(write, *, agenda_ids: list[int]) -> Appointment:
    """Run ``write`` in one transaction under the agendas' locks; map database refusals."""
    try:
        with transaction.atomic():
            _lock_agendas(agenda_ids)
            return write()
    except IntegrityError as error:
        raise SlotTaken() from error
    except OperationalError as error:
        if _sqlstate(error) in RETRYABLE_SQLSTATES or _sqlite_busy(error):
            raise SlotTaken() from error
        raise


@contextmanager
def reservation():
    """A transaction around a booking and what must be written with it (its messages): the
    database's refusals there answer "slot taken" too."""
    try:
        with transaction.atomic():
            yield
    except OperationalError as error:
        if _sqlstate(error) in RETRYABLE_SQLSTATES or _sqlite_busy(error):
            raise SlotTaken() from error
        raise


def _sqlite_busy(error: Exception) -> bool:
    """SQLite gave up waiting for the write lock: as a serialization failure, the slot could
    not be taken now."""
    return "database is locked" in str(error) or "database table is locked" in str(error)


def _sqlstate(error: Exception) -> str | None:
    cause = error.__cause__
    return getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)


def _lock_agendas(agenda_ids: list[int]) -> None:
    # One UPDATE per agenda, in id order so that two transactions never wait on each other
    # crosswise. It takes the row lock for the rest of the transaction and bumps the version that
    # keys cached availability.
    for agenda_id in sorted(set(agenda_ids)):
        booking_reads.lock_agenda(agenda_id)
    agendas_changed(sorted(set(agenda_ids)), hot=True)


def _reserve_check(
    *,
    agenda: Agenda,
    motive: Motive,
    start: datetime,
    now: datetime,
    audience: frozenset[str] | None,
    known_profile_id: int | None = None,
) -> None:
    """Inside the locked transaction: is ``start`` a slot of the openings ``audience`` sees
    (``_check_offered``), and is there still room (``_check_room``)?"""
    _check_offered(
        agenda=agenda,
        motive=motive,
        start=start,
        now=now,
        audience=audience,
        known_profile_id=known_profile_id,
    )
    _check_room(agenda=agenda, motive=motive, start=start, now=now)


def _check_offered(
    *,
    agenda: Agenda,
    motive: Motive,
    start: datetime,
    now: datetime,
    audience: frozenset[str] | None,
    known_profile_id: int | None = None,
) -> None:
    """Is ``start`` a slot of the openings ``audience`` sees (None: staff, who book outside
    openings too), or of the known patients' ones when ``known_profile_id`` names a person the
    practice knows? Whether the practice knows them is asked only of a slot the public is not
    offered."""
    if audience is not None and not _offered(agenda, motive, start, now=now, audience=audience):
        known = (
            known_profile_id is not None
            and visibility.knows(known_profile_id, agenda, now=now)
            and _offered(
                agenda, motive, start, now=now, audience=audience | visibility.KNOWN_PATIENT
            )
        )
        if not known:
            raise InvalidSlot()


def _occupied(agenda: Agenda, start: datetime, end: datetime, *, now) -> tuple[list, bool]:
    """(start, end) of what occupies [start, end) on the agenda, and whether a lapsed hold,
    not counted, is still marked held there."""
    overlapping, lapsed = [], False
    for a, b, status, lapses in booking_reads.occupying(agenda_id=agenda.pk, start=start, end=end):
        if status == Status.HELD and lapses <= now:
            lapsed = True
        else:
            overlapping.append((a, b))
    return overlapping, lapsed


def _room_left(*, agenda: Agenda, motive: Motive, start: datetime, now: datetime) -> bool:
    """Is there room at ``start``, as far as a read without the lock can tell?"""
    end = start + motive.duration
    overlapping, _lapsed = _occupied(agenda, start, end, now=now)
    return _peak(overlapping, start, end) < agenda.capacity


def _check_room(*, agenda: Agenda, motive: Motive, start: datetime, now: datetime) -> None:
    """Inside the locked transaction: is there still room at ``start``? Lapsed holds there stop
    counting now (the database's constraint still sees them until they are marked expired)."""
    end = start + motive.duration
    overlapping, lapsed = _occupied(agenda, start, end, now=now)
    if lapsed:
        Appointment.objects.filter(
            agenda_id=agenda.pk, status=Status.HELD, hold_expires_at__lte=now
        ).overlapping(start, end).update(status=Status.EXPIRED)
    if _peak(overlapping, start, end) >= agenda.capacity:
        raise SlotTaken()


def _offered(agenda: Agenda, motive: Motive, start: datetime, *, now, audience) -> bool:
    """Is ``start`` a slot of ``motive`` in the openings ``audience`` sees (busy time aside)?

    The engine decides, on what can make or stop this one slot: the openings of its weekday
    that allow the motive, and whether an absence overlaps it (one query)."""
    zone = agenda.site.zone
    day = start.astimezone(zone).date()
    end = start + motive.duration
    rows = booking_reads.openings_allowing(
        agenda_id=agenda.pk, motive_id=motive.pk, day=day, audience=audience, start=start, end=end
    )
    if not rows:
        return False
    openings = [
        engine.Opening(
            weekday=day.weekday(),
            start=t0,
            end=t1,
            motive_ids=frozenset({motive.pk}),
            valid_from=v0,
            valid_until=v1,
            every_weeks=every,
        )
        for t0, t1, v0, v1, every, _absent in rows
    ]
    offered = engine.compute_slots(
        openings=openings,
        absences=[engine.Interval(start, end)] if rows[0][5] else [],
        busy=[],
        motive=motive_rule(motive),
        capacity=agenda.capacity,
        start=day,
        days=1,
        zone=zone,
        now=now,
    )
    # Compared in UTC: a local time that occurs twice (autumn) never equals a datetime of
    # another zone (PEP 495), though it is the same instant.
    wanted = start.astimezone(UTC)
    return any(slot.start.astimezone(UTC) == wanted for slot in offered)


def _peak(intervals: list[tuple[datetime, datetime]], start: datetime, end: datetime) -> int:
    """The largest number of ``intervals`` in progress at any instant of [start, end)."""
    edges = []
    for a, b in intervals:
        edges.append((max(a, start), 1))
        edges.append((min(b, end), -1))
    edges.sort(key=lambda e: (e[0], e[1]))  # an end at t frees its place before a start at t
    peak = current = 0
    for _instant, delta in edges:
        current += delta
        peak = max(peak, current)
    return peak


def _key_used(booked_by, key: str | None) -> bool:
    return (
        bool(key)
        and booked_by is not None
        and booking_reads.key_used(booked_by_id=booked_by.pk, key=key)
    )


def _previous_booking(booked_by, key: str) -> Appointment | None:
    # A light look first: a new key (the usual case) finds nothing.
    if not _key_used(booked_by, key):
        return None
    return (
        Appointment.objects.select_related("agenda", "motive", "patient")
        .filter(booked_by=booked_by, idempotency_key=key)
        .first()
    )


def _same_request_or_raise(previous: Appointment, *, agenda, motive, start) -> None:
    if (previous.agenda_id, previous.motive_id, previous.start) != (agenda.pk, motive.pk, start):
        raise IdempotencyKeyReused()


def _bookable_time(start: datetime) -> None:
    require_aware(start, "start")
    if not is_plausible_instant(start):
        # Year 0001 or 9999: not a slot, and too near datetime's limits to compute with.
        raise InvalidSlot(_("This date is out of range."), field="start")


def _existing_profile(
    patient: PatientProfile | PatientIdentity, *, owner
) -> tuple[PatientProfile | None, bool | None]:
    """The profile an identity names among the account's own (None: a new person), and
    whether the account has its own "self" profile (None when not asked: a profile given, or
    no account), read together."""
    if isinstance(patient, PatientProfile):
        return patient, None
    if owner is None:
        return None, None
    existing, has_self = booking_reads.own_profiles(
        owner_id=owner.pk,
        first_name=patient.first_name,
        last_name=patient.last_name,
        birth_date=patient.birth_date,
    )
    if existing is not None:
        existing.owner = owner
    return existing, has_self


def _resolve_patient(
    patient: PatientProfile | PatientIdentity,
    *,
    owner,
    existing: PatientProfile | None,
    has_self: bool | None = None,
) -> PatientProfile:
    """``existing`` and ``has_self``: what ``_existing_profile`` found for ``patient`` in this
    transaction."""
    if isinstance(patient, PatientProfile):
        return patient
    profile = existing
    if profile is None:
        if has_self is None:
            has_self = (
                owner is not None and owner.patient_profiles.filter(relationship="self").exists()
            )
        return PatientProfile.objects.create(
            owner=owner,
            relationship=PatientProfile.Relationship.OTHER
            if has_self
            else PatientProfile.Relationship.SELF,
            first_name=patient.first_name,
            last_name=patient.last_name,
            birth_date=patient.birth_date,
            phone=patient.phone,
            email=patient.email,
        )
    changed = [
        name
        for name in ("phone", "email")
        if getattr(patient, name) and getattr(profile, name) != getattr(patient, name)
    ]
    for name in changed:
        setattr(profile, name, getattr(patient, name))
    if changed:
        profile.save(update_fields=changed)
    return profile


def _usable_hold(hold_, *, booked_by, agenda, start, now) -> Appointment | None:
    if hold_ is None:
        return None
    current = Appointment.objects.filter(pk=hold_.pk).first()
    if (
        current is None
        or current.booked_by_id != getattr(booked_by, "pk", None)
        or current.agenda_id != agenda.pk
        or current.start != start
    ):
        raise HoldExpired()
    if current.status == Status.HELD and current.hold_expires_at > now:
        return current
    if current.status == Status.HELD:
        current.status = Status.EXPIRED
        current.save(update_fields=["status", "updated_at"])
    # The hold lapsed: book the slot afresh if it is still free.
    return None


def _check_patient_may_change(appointment: Appointment, *, by, now: datetime) -> None:
    """The patient side changes only the appointments of profiles the account owns: having
    booked it (staff by phone, a former relative's account) gives no right to it."""
    owner_id = appointment.patient.owner_id if appointment.patient_id else None
    if by is None or owner_id is None or by.pk != owner_id:
        raise PermissionDenied()
    deadline = appointment.start - timedelta(hours=appointment.motive.cancellation_deadline_hours)
    if appointment.status == Status.BOOKED and now > deadline:
        raise CancellationTooLate()


__all__ = [
    "FOLLOW_UP_LATE_DAYS",
    "CancellationTooLate",
    "FollowUpOutsideWindow",
    "FollowUpWindow",
    "HoldExpired",
    "IdempotencyKeyReused",
    "InvalidSlot",
    "NoFollowUp",
    "NotActive",
    "PatientIdentity",
    "SlotTaken",
    "StatusNotAllowed",
    "book",
    "book_with_follow_up",
    "cancel",
    "claim_hold",
    "engine",
    "expire_holds",
    "follow_up_window",
    "hold",
    "release_hold",
    "reschedule",
    "reservation",
    "set_status",
]
