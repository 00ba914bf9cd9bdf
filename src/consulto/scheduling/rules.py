"""Who may book a motive, and through which door: the rules of a motive, in one place.

``booking.py`` (hold, book, reschedule) and the waiting list call ``check``; the doors (the
patient pages, the API, the practice space) never test a motive's flags themselves.

Two doors. ONLINE is a patient booking for themself or a relative (the patient pages, the API,
the waiting list). STAFF is a practitioner or a secretary booking for a patient by phone or at
the desk. As on Doctolib, the rules that restrict online self-booking do not bind staff:
"bookable online" (a staff-only motive), "open to new patients", the agenda's online switch,
online booking stopped for this patient, the booking window (not sooner than / not later than)
and the openings. An inactive agenda or motive binds everyone, and so does overlap (the database
refuses it whoever books).

Online booking stopped for a patient: the practice decides it (by hand from the patient's file,
or its no-show policy, both in ``practice``), scheduling keeps it (``OnlineBookingStop``, one
row per organisation and patient) and applies it here with the other rules. Scheduling may not
import ``practice`` (dependencies point one way: core <- directory <- scheduling <- the rest), so
the flag lives in the lower app, as the agenda's and the motive's online flags do, and the
practice writes it through ``set_online_booking``: one query, no hook to register, and the rule
holds on every online door even where the practice app is not involved.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from consulto.core.errors import DomainError

from .models import Agenda, Motive, OnlineBookingStop, PatientProfile
from .selectors import is_known_patient, online_booking_stopped


class InvalidSlot(DomainError):
    code = "invalid_slot"
    status = 422
    default_message = _("This time is not an available slot for this motive.")


class OutsideBookingWindow(InvalidSlot):
    code = "outside_booking_window"


class RuleBroken(DomainError):
    """A rule of the motive or its agenda forbids this booking through this door."""


class MotiveNotOffered(RuleBroken):
    code = "motive_not_offered"
    status = 422
    default_message = _("This motive is not offered by this agenda.")


class AgendaClosed(RuleBroken):
    code = "agenda_closed"
    status = 422
    default_message = _("This agenda no longer takes appointments.")


class NotBookableOnline(RuleBroken):
    code = "not_bookable_online"
    status = 403
    default_message = _("This motive is booked by the practice only: please call them.")


class NewPatientsNotAccepted(RuleBroken):
    code = "closed_to_new_patients"
    status = 403
    default_message = _(
        "This motive is kept for patients the practitioner has already seen. Choose another "
        "motive, or call the practice."
    )


class OnlineBookingClosed(RuleBroken):
    code = "online_booking_closed"
    status = 403
    default_message = _(
        "This practice no longer takes online bookings for this patient: please call them."
    )


def check(
    *,
    agenda: Agenda,
    motive: Motive,
    as_staff: bool,
    professional: bool = False,
    start: datetime | None = None,
    patient: PatientProfile | None = None,
    new_patient: bool = False,
    now: datetime,
) -> None:
    """Raise the first rule of ``motive`` that forbids this booking through this door.

    ``professional``: a regulator or a practitioner of another organisation booking for a
    patient, in the slots they are shown (``visibility.py``): bound by the booking window, not
    by the flags that restrict patients' self-booking online.

    ``start`` is checked against the booking window when given; ``patient`` (a profile that
    exists) against online booking stopped for them, and ``patient`` or ``new_patient`` (a
    person no profile names yet) against "open to new patients".
    """
    if motive.agenda_id != agenda.pk or not motive.is_active:
        raise MotiveNotOffered(field="motive")
    if not agenda.is_active:
        raise AgendaClosed(field="agenda")
    if as_staff:
        return
    if professional:
        if start is not None:
            check_window(motive=motive, start=start, now=now)
        return
    if not agenda.online_booking:
        raise NotBookableOnline(
            _("This agenda does not take appointments online: please call the practice."),
            field="agenda",
        )
    if not motive.online:
        raise NotBookableOnline(field="motive")
    if patient is not None and online_booking_stopped(
        profile_id=patient.pk, organisation_id=agenda.organisation_id
    ):
        raise OnlineBookingClosed()
    if start is not None:
        check_window(motive=motive, start=start, now=now)
    if not motive.open_to_new_patients and (
        new_patient
        or (
            patient is not None and not is_known_patient(patient.pk, agenda, motive=motive, now=now)
        )
    ):
        raise NewPatientsNotAccepted(field="motive")


def set_online_booking(*, organisation_id: int, profile_id: int, allowed: bool) -> bool:
    """Open or stop online booking for a patient at an organisation (the practice's decision,
    in the caller's transaction); returns whether it changed."""
    if allowed:
        deleted, _by_model = OnlineBookingStop.objects.filter(
            organisation_id=organisation_id, profile_id=profile_id
        ).delete()
        return bool(deleted)
    _stop, created = OnlineBookingStop.objects.get_or_create(
        organisation_id=organisation_id, profile_id=profile_id
    )
    return created


def check_window(*, motive: Motive, start: datetime, now: datetime) -> None:
    """Not in the past, not sooner than the motive's notice, not later than its advance."""
    if start < now:
        raise OutsideBookingWindow(_("This time has passed."), field="start")
    notice = timedelta(minutes=motive.min_notice_minutes)
    if start < now + notice:
        hours, minutes = divmod(motive.min_notice_minutes, 60)
        raise OutsideBookingWindow(_too_soon(hours, minutes), field="start")
    if start > now + timedelta(days=motive.max_advance_days):
        raise OutsideBookingWindow(
            ngettext(
                "This motive is booked at most %(days)d day ahead.",
                "This motive is booked at most %(days)d days ahead.",
                motive.max_advance_days,
            )
            % {"days": motive.max_advance_days},
            field="start",
        )


def _too_soon(hours: int, minutes: int) -> str:
    if minutes:
        return ngettext(
            "This motive is booked at least %(minutes)d minute ahead.",
            "This motive is booked at least %(minutes)d minutes ahead.",
            hours * 60 + minutes,
        ) % {"minutes": hours * 60 + minutes}
    return ngettext(
        "This motive is booked at least %(hours)d hour ahead.",
        "This motive is booked at least %(hours)d hours ahead.",
        hours,
    ) % {"hours": hours}
