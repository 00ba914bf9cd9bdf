"""Patient pages: search, a practitioner's page, the booking flow, my appointments, relatives.

Views parse input, call one selector or service, and render; rules live in the services.
"""

import re
import uuid
from datetime import date, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.text import capfirst
from django.utils.translation import get_language, get_language_info
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from consulto.core.errors import DomainError
from consulto.core.inputs import parse_id, query_date
from consulto.core.time import local_midnight, parse_instant
from consulto.directory.folding import fold
from consulto.directory.selectors import resolve_place, specialties
from consulto.notifications.ics import appointment_ics
from consulto.scheduling import booking, limits, rules
from consulto.scheduling.models import Appointment
from consulto.scheduling.search import search_practitioners
from consulto.teleconsultation import delegations, rooms

from . import selectors, services, waitlist
from .forms import RelativeForm, SearchForm, SelfForm, WaitlistForm, WhoForm

PAGE_SIZE = 20
DAYS_SHOWN = 5
SLOTS_PER_DAY = 4
RADIUS_KM = 25
SESSION_HOLD = selectors.SESSION_HOLD
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")


# Search -----------------------------------------------------------------------------------------


@require_GET
def home(request):
    form = SearchForm(request.GET or None)
    context = {"form": form, "searched": False, "specialties": _specialty_labels()}
    if form.is_bound and form.is_valid():
        context.update(_search(request, form.cleaned_data))
    return render(request, "patients/home.html", context)


def _specialty_labels() -> list[str]:
    return [s.label for s in specialties().order_by("label_fr")]


def _search(request, data) -> dict:
    where = data["where"]
    place = resolve_place(where) if where else None
    near = place.coordinates if place else None
    page_number = data["page"] or 1
    if place is not None and near is None:
        # Several communes start so ("Vitry"), or none is spelt so ("Parsi"): let them choose.
        choices = place.choices or place.suggestions
        links = [(c.label, _query_with(request, where=c.query)) for c in choices]
        if place.choices:
            problem = _("Several places match: which one do you mean?")
        elif place.suggestions:
            problem = _("We do not know “%(place)s”. Did you mean:") % {"place": where}
        else:
            problem = _("We do not know this place yet.")
        return {
            "searched": True,
            "hits": [],
            "radius": RADIUS_KM,
            "problem": problem,
            "places": links,
        }
    sort = data["sort"] or "earliest"
    result = search_practitioners(
        specialty=data["specialty_code"],
        q=data["name"],
        near=near,
        radius_km=RADIUS_KM if near else None,
        mode="video" if data["video"] else None,
        within_days=int(data["within"]) if data["within"] else None,
        language=data["language"] or None,
        sector=data["sector"] or None,
        sort=sort if (sort != "distance" or near) else "earliest",
        limit=PAGE_SIZE,
        offset=(page_number - 1) * PAGE_SIZE,
    )
    today = timezone.localdate()
    # Labels are formatted once per day, not per slot: 20 cards hold up to 400 slots.
    days = [today + timedelta(days=i) for i in range(DAYS_SHOWN)]
    headings = {d: (date_format(d, "D j M"), date_format(d, "l j F")) for d in days}
    cards = []
    for hit in result.hits:
        per_day: dict = {d: [] for d in days}
        for slot in hit.slots:
            starts = per_day.get(slot.start.date())
            if starts is not None and len(starts) < SLOTS_PER_DAY:
                clock = f"{slot.start.hour:02d}:{slot.start.minute:02d}"
                label = f"{headings[slot.start.date()][1]} {clock}"
                starts.append((slot.start.isoformat(), clock, label))
        columns = [(headings[d][0], starts) for d, starts in per_day.items()]
        cards.append({"hit": hit, "days": columns})
    pages = Paginator(range(result.count), PAGE_SIZE)
    page = pages.get_page(page_number)
    query = request.GET.copy()
    query.pop("page", None)
    understood = None
    if data["specialty_code"] and data["what"]:
        chosen = specialties().filter(code=data["specialty_code"]).first()
        if chosen and fold(chosen.label) != fold(data["what"]):
            understood = chosen.label  # "generaliste" was taken for "Médecin généraliste"
    return {
        "understood": understood,
        "homonyms": [
            (c.label, _query_with(request, where=c.query))
            for c in (place.homonyms if place else ())
        ],
        "approximate": result.approximate,
        "searched": True,
        "hits": cards,
        "count": result.count,
        "radius": RADIUS_KM,
        "page": page,
        "query": query.urlencode(),
        "filtered": any(data[k] for k in ("video", "within", "language", "sector")),
        "problem": None,
    }


def _query_with(request, **values) -> str:
    """The search's query string with ``values`` changed, back to its first page."""
    query = request.GET.copy()
    query.pop("page", None)
    for key, value in values.items():
        query[key] = value
    return query.urlencode()


# A practitioner's page --------------------------------------------------------------------------


@require_GET
def practitioner(request, pk: int):
    """A practitioner's page. Answering "already consulted?" or choosing a motive reloads only
    what follows (htmx asks for ``HX-Target``); without JavaScript the form's button does."""
    found = selectors.published_practitioner(pk)
    if found is None:
        raise Http404
    agendas = [a for a in found.bookable_agendas if a.online_motives]
    known = request.GET.get("known")  # "yes" / "no": has the patient consulted before?
    known = known if known in ("yes", "no") else None
    chosen_agenda = _pick(agendas, request.GET.get("agenda"))
    offered = chosen_agenda.online_motives if chosen_agenda else []
    motives = offered
    if known == "no":
        motives = [m for m in motives if m.open_to_new_patients]
    motive = _pick(motives, request.GET.get("motive"))
    week = waitlist_form = None
    if motive is not None:
        motive.agenda = chosen_agenda
        week = selectors.week_of_slots(motive=motive, week=query_date(request.GET, "week"))
        if request.user.is_authenticated:
            waitlist_form = WaitlistForm(
                profiles=selectors.profiles_of(request.user),
                initial={"before": timezone.localdate() + timedelta(days=14)},
            )
    context = {
        "practitioner": found,
        "agendas": agendas,
        "agenda": chosen_agenda,
        "motives": motives,
        "motive": motive,
        "known": known,
        "asks_known": any(not m.open_to_new_patients for m in offered),
        "known_choices": (("yes", _("Yes")), ("no", _("No"))),
        "week": week,
        "waitlist_form": waitlist_form,
    }
    target = request.headers.get("HX-Target")
    if target == "week":
        return render(request, "patients/_week.html", context)
    if target in ("motive-step", "slots-step"):
        return render(request, "patients/_booking_step.html", context | {"target": target})
    context |= {
        "initials": "".join(part[:1] for part in (found.first_name, found.last_name)).upper(),
        "languages": _language_names(found.languages),
        "priced": [m for m in offered if m.price is not None],
        "hours": [
            {"name": _weekday_name(day.weekday), "spans": day.spans}
            for day in (selectors.opening_hours(chosen_agenda) if chosen_agenda else [])
        ],
    }
    return render(request, "patients/practitioner.html", context)


def _language_names(codes: str) -> list[str]:
    """ "Français, anglais" in French, "French, English" in English."""
    names = []
    for code in [c.strip() for c in codes.split(",") if c.strip()] or ["fr"]:
        try:
            names.append(str(get_language_info(code)["name_translated"]))
        except KeyError:
            names.append(code)
    if not (get_language() or "fr").startswith("en"):
        names = [name.lower() for name in names]
    return [capfirst(names[0]), *names[1:]]


def _weekday_name(weekday: int) -> str:
    # 2024-01-01 was a Monday.
    return capfirst(date_format(date(2024, 1, 1 + weekday), "l"))


def _pick(items, wanted):
    if not items:
        return None
    if len(items) == 1 and wanted is None:
        return items[0]
    wanted_id = parse_id(wanted)
    if wanted_id is None:
        return None if len(items) > 1 else items[0]
    return next((i for i in items if i.pk == wanted_id), None)


def practitioner_url(motive, *, week: date | None = None, fragment: str = "slots") -> str:
    params = {"agenda": motive.agenda_id, "motive": motive.pk}
    if week:
        params["week"] = week.isoformat()
    url = reverse("practitioner", args=[motive.agenda.practitioner_id])
    return f"{url}?{urlencode(params)}#{fragment}"


# The booking flow -------------------------------------------------------------------------------


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
    context |= {
        "who": who,
        "relative_form": relative_form,
        "lapsed": lapsed,
        "idempotency_key": _idempotency_key(request) or uuid.uuid4().hex,
    }
    if request.method != "POST" or not who.is_valid():
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
        )
    except limits.TooManyRequests as error:
        return rate_limited(request, error)
    except rules.NewPatientsNotAccepted as error:
        # Someone else of the family may be known here: let the patient choose again.
        who.add_error("patient", str(error.message))
        return render(request, "patients/booking.html", context)
    except booking.SlotTaken:
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
    messages.success(
        request, _("Your appointment is booked. A confirmation has been sent by e-mail.")
    )
    return redirect("appointment", pk=appointment.pk)


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


# My appointments --------------------------------------------------------------------------------


@login_required
@require_GET
def appointments(request):
    upcoming, past = selectors.my_appointments(request.user)
    return render(
        request,
        "patients/appointments.html",
        {"upcoming": upcoming, "past": past, "waiting": selectors.my_waitlist(request.user)},
    )


@login_required
@require_GET
def appointment(request, pk: int):
    found = _mine(request, pk)
    now = timezone.now()
    deadline = found.start - timedelta(hours=found.motive.cancellation_deadline_hours)
    return render(
        request,
        "patients/appointment.html",
        {
            "appointment": found,
            "now": now,
            "visio": _visio_state(found, now),
            **delegations.who_consults(found),
            "call_documents": rooms.documents_of(found),
            "upcoming": found.status == Appointment.Status.BOOKED and found.end > now,
            "deadline": deadline,
            "too_late": now > deadline,
        },
    )


def _visio_state(appointment: Appointment, now) -> rooms.RoomState | None:
    """Where the appointment's video room stands: the page offers to join only while one can."""
    room = rooms.room_of(appointment)
    return rooms.room_state(room, now=now) if room is not None else None


def _mine(request, pk: int) -> Appointment:
    found = selectors.my_appointment(request.user, pk)
    if found is None:
        raise Http404
    return found


@login_required
@require_http_methods(["GET", "POST"])
def cancel(request, pk: int):
    """GET asks to confirm with a summary of the appointment; POST cancels."""
    found = _mine(request, pk)
    if request.method == "GET":
        if found.status != Appointment.Status.BOOKED:
            return redirect("appointment", pk=pk)
        return render(request, "patients/cancel.html", {"appointment": found})
    try:
        services.cancel_appointment(user=request.user, appointment=found)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("Your appointment is cancelled; the slot is free for others."))
    return redirect("appointment", pk=pk)


@login_required
def move(request, pk: int):
    found = _mine(request, pk)
    if request.method == "POST":
        new_start = parse_instant(request.POST.get("start"))
        if new_start is None:
            raise BadRequest("start: not an instant")
        try:
            moved = services.move_appointment(
                user=request.user, appointment=found, new_start=new_start
            )
        except DomainError as error:
            messages.error(request, str(error.message))
            return redirect(reverse("move", args=[pk]) + f"?week={new_start.date().isoformat()}")
        messages.success(request, _("Your appointment is moved. The former time is free again."))
        return redirect("appointment", pk=moved.pk)
    if found.status != Appointment.Status.BOOKED:
        return redirect("appointment", pk=pk)
    if "start" in request.GET:
        # A time was chosen: say what changes and ask to confirm, nothing is moved yet.
        new_start = parse_instant(request.GET["start"])
        if new_start is None:
            raise Http404
        return render(
            request, "patients/move_confirm.html", {"appointment": found, "new_start": new_start}
        )
    found.motive.agenda = found.agenda
    week = selectors.week_of_slots(motive=found.motive, week=query_date(request.GET, "week"))
    return render(request, "patients/move.html", {"appointment": found, "week": week})


@login_required
@require_GET
def calendar_file(request, pk: int):
    found = _mine(request, pk)
    response = HttpResponse(
        appointment_ics(found, method="PUBLISH"), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="consulto-{found.pk}.ics"'
    return response


# The waiting list -------------------------------------------------------------------------------


@login_required
@require_POST
def waitlist_join(request):
    if request.POST.get("appointment"):
        # Wait for an earlier slot than an appointment one has: it would replace it.
        found = _mine(request, _int(request.POST["appointment"]))
        motive, patient, before = found.motive, found.patient, found.start
        back = reverse("appointment", args=[found.pk])
    else:
        motive = selectors.bookable_motive(
            agenda_id=_int(request.POST.get("agenda")), motive_id=_int(request.POST.get("motive"))
        )
        if motive is None:
            raise Http404
        profiles = list(selectors.profiles_of(request.user))
        form = WaitlistForm(request.POST, profiles=profiles)
        back = practitioner_url(motive)
        if not form.is_valid():
            for errors in form.errors.values():
                messages.error(request, " ".join(errors))
            return redirect(back)
        patient = next(p for p in profiles if str(p.pk) == form.cleaned_data["patient"])
        before = local_midnight(form.cleaned_data["before"], motive.agenda.site.zone)
        found = None
    try:
        waitlist.join(
            user=request.user, patient=patient, motive=motive, before=before, appointment=found
        )
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request,
            _(
                "You are on the waiting list. If an earlier slot frees up, we keep it for you "
                "for %(minutes)s minutes and tell you by e-mail and SMS."
            )
            % {"minutes": settings.CONSULTO_WAITLIST_HOLD_MINUTES},
        )
    return redirect(back)


@login_required
@require_POST
def waitlist_leave(request, pk: int):
    try:
        waitlist.withdraw(user=request.user, entry_id=pk)
    except DomainError:
        raise Http404 from None
    messages.success(request, _("You are no longer on this waiting list."))
    return redirect("appointments")


# Relatives --------------------------------------------------------------------------------------


@login_required
def relatives(request):
    form = RelativeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.save_relative(user=request.user, data=form.cleaned_data)
        messages.success(request, _("Relative added."))
        return redirect("relatives")
    profiles = selectors.profiles_of(request.user)
    return render(request, "patients/relatives.html", {"profiles": profiles, "form": form})


@login_required
def relative(request, pk: int):
    found = selectors.relative_of(request.user, pk)
    if found is None:
        raise Http404
    form = RelativeForm(request.POST or None, instance=found)
    if request.method == "POST" and form.is_valid():
        services.save_relative(user=request.user, data=form.cleaned_data, relative=found)
        messages.success(request, _("Saved."))
        return redirect("relatives")
    return render(request, "patients/relative.html", {"relative": found, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def remove_relative(request, pk: int):
    """GET asks to confirm; POST removes."""
    found = selectors.relative_of(request.user, pk)
    if found is None:
        raise Http404
    if request.method == "GET":
        return render(request, "patients/relative_remove.html", {"relative": found})
    try:
        services.remove_relative(user=request.user, relative=found)
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect("relative", pk=pk)
    messages.success(request, _("%(name)s is no longer in your relatives.") % {"name": found})
    return redirect("relatives")


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
