"""Booking a slot: holding it while the patient logs in or signs up, saying who it is for, then
confirming; and the page that says to wait when a visitor goes past their limits."""

import re
import uuid

from django.contrib import messages
from django.core.exceptions import BadRequest
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from consulto.core.errors import DomainError
from consulto.core.inputs import parse_id
from consulto.core.time import parse_instant
from consulto.scheduling import booking, limits, rules
from consulto.scheduling.models import Appointment

from .. import selectors, services
from ..forms import RelativeForm, SelfForm, WhoForm
from .search import practitioner_url

SESSION_HOLD = selectors.SESSION_HOLD


IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")


@require_POST
def hold(request):
    motive = selectors.bookable_motive(
        agenda_id=_int(request.POST.get("agenda")), motive_id=_int(request.POST.get("motive"))
    )
    if motive is None:
        raise Http404
    start = parse_instant(request.POST.get("start"))
    if start is None:
        raise BadRequest("start: not an instant")
    try:
        held = services.hold_slot(
            motive=motive,
            start=start,
            user=request.user,
            visitor=limits.visitor_of(request, with_session=True),
            replacing=request.session.get(SESSION_HOLD),
        )
    except limits.TooManyRequests as error:
        return rate_limited(request, error)
    except booking.SlotTaken:
        messages.error(
            request,
            _("Sorry, this slot has just been taken by someone else. Here are the free slots now."),
        )
        return redirect(practitioner_url(motive, week=start.date()))
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect(practitioner_url(motive, week=start.date()))
    request.session[SESSION_HOLD] = held.pk
    return redirect("booking", hold_id=held.pk)


def _int(value) -> int:
    return parse_id(value) or 0


def _my_hold(request, hold_id: int) -> Appointment:
    """The hold of this visitor: the one in their session, or one their account made."""
    held = (
        Appointment.objects.select_related(
            "agenda__site", "agenda__practitioner__specialty", "motive"
        )
        .filter(pk=hold_id, status__in=(Appointment.Status.HELD, Appointment.Status.EXPIRED))
        .first()
    )
    if held is None:
        raise Http404
    in_session = request.session.get(SESSION_HOLD) == held.pk
    owned = request.user.is_authenticated and held.booked_by_id == request.user.pk
    if not (in_session or owned) or (held.booked_by_id and not owned):
        raise Http404
    return held


@ratelimit(key="user_or_ip", rate="30/10m", method="POST")
def booking_page(request, hold_id: int):
    held = _my_hold(request, hold_id)
    recap = selectors.HeldSlot.of(held)
    lapsed = recap.lapsed
    context = {
        "held": held,
        "motive": held.motive,
        "practitioner": held.agenda.practitioner,
        "seconds_left": recap.seconds_left,
    }
    if not request.user.is_authenticated:
        return render(request, "patients/booking_login.html", context | {"lapsed": lapsed})
    if held.booked_by_id is None and not lapsed:
        try:
            held = booking.claim_hold(hold_id=held.pk, by=request.user)
        except booking.HoldExpired:
            lapsed = True
    own = selectors.own_profile(request.user)
    if own is None:
        return _ask_own_identity(request, context)
    profiles = list(selectors.profiles_of(request.user))
    needs_instructions = bool(held.motive.instructions.strip())
    who = WhoForm(
        request.POST if request.method == "POST" else None,
        profiles=profiles,
        needs_instructions=needs_instructions,
    )
    offered = getattr(held, "offer", None)  # a slot the waiting list keeps for this patient
    if offered is not None and not who.is_bound:
        who.initial["patient"] = str(offered.entry.patient_id)
    relative_form = RelativeForm(request.POST if request.method == "POST" else None, prefix="new")
    follow = selectors.follow_up_choice(motive=held.motive, start=held.start)
    follow_up_start, follow_error = None, ""
    if follow is not None and follow.days and request.method == "POST":
        chosen = request.POST.get("follow_up_start", "")
        if chosen in follow.starts:
            follow_up_start = parse_instant(chosen)
        else:
            follow_error = _("Choose a time for the follow-up appointment.")
    context |= {
        "who": who,
        "relative_form": relative_form,
        "lapsed": lapsed,
        "idempotency_key": _idempotency_key(request) or uuid.uuid4().hex,
        "follow": follow,
        "follow_chosen": request.POST.get("follow_up_start", ""),
        "follow_error": follow_error,
    }
    if request.method != "POST" or not who.is_valid() or follow_error:
        return render(request, "patients/booking.html", context)
    if who.cleaned_data["patient"] == WhoForm.NEW:
        if not relative_form.is_valid():
            return render(request, "patients/booking.html", context)
        patient = services.save_relative(user=request.user, data=relative_form.cleaned_data)
    else:
        patient = next((p for p in profiles if str(p.pk) == who.cleaned_data["patient"]), None)
        if patient is None:
            raise Http404
    try:
        appointment = services.confirm_booking(
            hold_id=held.pk,
            user=request.user,
            patient=patient,
            idempotency_key=f"web:{_idempotency_key(request) or uuid.uuid4().hex}",
            visitor=limits.visitor_of(request),
            follow_up_start=follow_up_start,
        )
    except limits.TooManyRequests as error:
        return rate_limited(request, error)
    except rules.NewPatientsNotAccepted as error:
        # Someone else of the family may be known here: let the patient choose again.
        who.add_error("patient", str(error.message))
        return render(request, "patients/booking.html", context)
    except booking.SlotTaken:
        if follow_up_start is not None:
            # Neither is booked: the first slot is still held, another follow-up time may do.
            context["follow"] = selectors.follow_up_choice(motive=held.motive, start=held.start)
            context["follow_error"] = _(
                "Sorry, this follow-up time or your appointment has just been taken: nothing "
                "was booked. Choose the follow-up time again."
            )
            context["follow_chosen"] = ""
            return render(request, "patients/booking.html", context, status=409)
        messages.error(
            request,
            _(
                "Sorry, your reservation lapsed and this slot has been taken meanwhile. "
                "Here are the free slots now."
            ),
        )
        return redirect(practitioner_url(held.motive, week=held.start.date()))
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect(practitioner_url(held.motive, week=held.start.date()))
    request.session.pop(SESSION_HOLD, None)
    second = getattr(appointment, "follow_up_appointment", None)
    if second is not None:
        messages.success(
            request,
            _(
                "Your appointment of %(first)s and its follow-up of %(second)s are booked. "
                "A confirmation of each has been sent by e-mail."
            )
            % {"first": _when(appointment), "second": _when(second)},
        )
    else:
        messages.success(
            request, _("Your appointment is booked. A confirmation has been sent by e-mail.")
        )
    return redirect("appointment", pk=appointment.pk)


def _when(appointment: Appointment) -> str:
    """ "lundi 21 décembre à 10:00", in the site's zone."""
    local = appointment.start.astimezone(appointment.agenda.site.zone)
    return _("%(day)s at %(time)s") % {
        "day": date_format(local, "l j F"),
        "time": f"{local:%H:%M}",
    }


def _idempotency_key(request) -> str:
    """The key the booking page generated (hex), or "" for anything else."""
    key = request.POST.get("idempotency_key", "")
    return key if IDEMPOTENCY_KEY.fullmatch(key) else ""


def _ask_own_identity(request, context):
    form = SelfForm(request.POST if request.method == "POST" else None, prefix="me")
    if request.method == "POST" and form.is_valid():
        services.save_own_profile(user=request.user, data=form.cleaned_data)
        return redirect(request.path)
    return render(request, "patients/booking_identity.html", context | {"form": form})


# django-ratelimit's decorators (RATELIMIT_VIEW) count over windows of at most ten minutes.
DECORATOR_WINDOW_SECONDS = 600


def rate_limited(request, exception=None):
    """429, in the visitor's language, saying how long to wait (also in ``Retry-After``)."""
    if isinstance(exception, limits.TooManyRequests):
        message, wait = str(exception.message), exception.retry_after
    else:
        message, wait = None, DECORATOR_WINDOW_SECONDS
    minutes = max(1, -(-wait // 60))
    held = None
    if isinstance(exception, limits.TooManyHolds) and request.session.get(SESSION_HOLD):
        held = request.session[SESSION_HOLD]
    response = render(
        request,
        "patients/rate_limited.html",
        {"message": message, "minutes": minutes, "held": held},
        status=429,
    )
    response["Retry-After"] = str(wait)
    return response
