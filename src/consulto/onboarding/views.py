"""The self-onboarding wizard: six screens from the sign-up form to a published agenda.

Views are thin: they find the journey, parse the form, call one service, and go to the next
screen. Each screen records that it was reached (the funnel); the services record it finished.
"""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime
from functools import wraps
from urllib.parse import quote

import qrcode
from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.totp.internal.auth import generate_totp_secret
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth import login
from django.core import signing
from django.db.models import F
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_ratelimit.decorators import ratelimit
from qrcode.image.svg import SvgPathImage

from consulto.core.device_check import device_texts
from consulto.core.errors import DomainError
from consulto.core.language import current_language
from consulto.directory.models import Specialty
from consulto.directory.rpps import luhn_ok
from consulto.directory.selectors import directory_activities
from consulto.teleconsultation.rooms import ice_servers

from . import charts, selectors, services
from .forms import IdentityForm, ScheduleForm, SecurityForm, SignupForm, VideoForm
from .models import Journey, SignupPageVisits, Step
from .presets import DEFAULT_HOURS, HOURS_BY_CODE, HOURS_TEMPLATES, motive_presets

PENDING = "onboarding_journey"
LANDED = "consulto.onboarding.landed"
TOTP_SECRET = "onboarding_totp_secret"  # noqa: S105 (a session key, not a secret)


def _pending_journey(request) -> Journey | None:
    journey_id = request.session.get(PENDING)
    if not journey_id:
        return None
    return Journey.objects.filter(pk=journey_id, user__isnull=True).first()


def wizard_screen(step: str):
    """Find the journey for this screen, send the person to the right screen if this one is not
    theirs yet, and record that they reached it."""

    def decorate(view):
        @wraps(view)
        def screen(request, *args, **kwargs):
            if step == Step.SECURITY:
                journey = _pending_journey(request)
                if journey is None:
                    if selectors.journey_of(request.user) is not None:
                        return redirect("onboarding:resume")
                    return redirect("onboarding:join")
            else:
                if not request.user.is_authenticated:
                    return redirect(f"{reverse('account_login')}?next={quote(request.path)}")
                journey = selectors.journey_of(request.user)
                if journey is None:
                    return redirect("onboarding:join")
                finished = selectors.finished_steps(journey)
                if not selectors.may_open(journey, step, finished):
                    return redirect(selectors.step_url(services.resume_step(journey)))
            if request.method == "GET":
                services.reach(journey, step)
            return view(request, journey, *args, **kwargs)

        return never_cache(screen)

    return decorate


def log_in_with_second_factor(request, user) -> None:
    """Log in a user who has just given both factors on our own pages (not allauth's): the
    session is a full, MFA-checked login, as allauth's would be."""
    login(request, user, backend="allauth.account.auth_backends.AuthenticationBackend")
    record_authentication(request, user, method="password", email=user.email)
    record_authentication(request, user, method="mfa", type="totp")


def _progress(step: str, journey: Journey | None = None) -> dict:
    """Where the person is among the six screens; a screen is marked done when it was finished
    (an invited practitioner has screens ahead already done), else by its position."""
    order = list(Step.values)
    index = order.index(step)
    finished = selectors.finished_steps(journey) if journey is not None and journey.pk else set()
    return {
        "step": step,
        "step_number": index + 1,
        "step_count": len(order),
        "steps": [
            (value, label, value != step and (value in finished or i < index))
            for i, (value, label) in enumerate(Step.choices)
        ],
    }


def _error(form, error: DomainError) -> None:
    field = error.field if error.field in getattr(form, "fields", {}) else None
    form.add_error(field, str(error.message))


# 1. Sign up (the landing page) ---------------------------------------------------------------


@never_cache
@ratelimit(key="ip", rate="10/h", method="POST", block=False)
def join(request):
    journey = selectors.journey_of(request.user)
    if journey is not None:
        return redirect("onboarding:resume")
    if request.method == "POST":
        form = SignupForm(request.POST)
        if getattr(request, "limited", False):
            form.add_error(None, _("Too many sign-ups from this connection: try again later."))
        elif form.is_valid():
            try:
                journey = services.start_signup(
                    email=form.cleaned_data["email"],
                    password=form.cleaned_data["password"],
                    rpps=form.cleaned_data["rpps"],
                    language=current_language(),
                    landed_at=_landed_at(request.POST.get("landed")),
                )
            except DomainError as error:
                _error(form, error)
            else:
                request.session[PENDING] = journey.pk
                request.session.pop(TOTP_SECRET, None)
                return redirect("onboarding:security")
    else:
        form = SignupForm()
        today = timezone.localdate()
        visits, _created = SignupPageVisits.objects.get_or_create(day=today)
        SignupPageVisits.objects.filter(pk=visits.pk).update(count=F("count") + 1)
    return render(
        request,
        "onboarding/join.html",
        {
            "form": form,
            "pending": _pending_journey(request),
            # When the page was first shown, signed: the funnel's time on this screen, with no
            # session for a visitor who only looks.
            "landed": request.POST.get("landed") or signing.dumps(time.time(), salt=LANDED),
            **_progress(Step.ACCOUNT),
        },
    )


def _landed_at(token: str | None):
    try:
        stamp = signing.loads(token or "", salt=LANDED, max_age=86_400)
    except signing.BadSignature:
        return None
    return datetime.fromtimestamp(float(stamp), tz=UTC)


# 2. E-mail and security ----------------------------------------------------------------------


def _qr_code(email: str, secret: str) -> str:
    label = quote(f"Consulto:{email}")
    url = f"otpauth://totp/{label}?secret={secret}&issuer=Consulto&digits=6&period=30"
    image = qrcode.make(url, image_factory=SvgPathImage)
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode()


@wizard_screen(Step.SECURITY)
def security(request, journey: Journey):
    secret = request.session.get(TOTP_SECRET)
    if not secret:
        secret = request.session[TOTP_SECRET] = generate_totp_secret()
    if request.method == "POST" and "resend" in request.POST:
        if services.resend_code(journey):
            messages.success(
                request, _("A new code is on its way to %(email)s.") % {"email": journey.email}
            )
        else:
            messages.info(request, _("A code was sent less than 30 seconds ago: check your inbox."))
        return redirect("onboarding:security")
    form = SecurityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.create_account(
                journey=journey,
                email_code=form.cleaned_data["email_code"],
                totp_secret=secret,
                totp_code=form.cleaned_data["totp_code"],
            )
        except DomainError as error:
            _error(form, error)
        else:
            request.session.pop(PENDING, None)
            request.session.pop(TOTP_SECRET, None)
            # The password was typed on the first screen and the second factor proved here.
            log_in_with_second_factor(request, user)
            return redirect("onboarding:identity")
    return render(
        request,
        "onboarding/security.html",
        {
            "form": form,
            "journey": journey,
            "secret": secret,
            "qr_code": _qr_code(journey.email, secret),
            **_progress(Step.SECURITY, journey),
        },
    )


# 3. You and your practice --------------------------------------------------------------------


def _identity_initial(journey: Journey, activities) -> dict:
    practitioner = journey.practitioner
    if practitioner is not None:
        site = journey.agenda.site
        return {
            "title": practitioner.title,
            "first_name": practitioner.first_name,
            "last_name": practitioner.last_name,
            "specialty": practitioner.specialty_id,
            "convention_sector": practitioner.convention_sector,
            "practice_name": site.name,
            "address": site.address,
            "postcode": site.postcode,
            "city": site.city,
            "phone": site.phone,
        }
    if not activities:
        return {"convention_sector": "1"}
    first = activities[0]
    return {
        "title": "Dr" if first.civility.upper().startswith(("DR", "DOCTEUR")) else "",
        "first_name": first.first_name.title(),
        "last_name": first.last_name.title(),
        "specialty": _specialty_id(first.specialty_code),
        "convention_sector": "1",
        "practice_name": first.site_name.title() if first.site_name else "",
        "address": first.address,
        "postcode": first.postcode,
        "city": first.city.title(),
        "phone": first.phone,
    }


def _specialty_id(code: str):
    return (
        Specialty.objects.filter(code=code).values_list("pk", flat=True).first() if code else None
    )


PRACTICE_FIELDS = ("practice_name", "address", "postcode", "city", "phone")


@wizard_screen(Step.IDENTITY)
def identity(request, journey: Journey):
    invited = journey.kind == Journey.Kind.INVITED
    fresh = journey.practitioner is None and not invited
    activities = directory_activities(journey.rpps) if fresh else []
    form = IdentityForm(request.POST or None, initial=_identity_initial(journey, activities))
    if invited:
        # The site is the organisation's: an invited practitioner edits only who they are.
        for name in PRACTICE_FIELDS:
            del form.fields[name]
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.save_identity(
                journey=journey,
                identity=services.Identity(
                    title=data["title"],
                    first_name=data["first_name"].strip(),
                    last_name=data["last_name"].strip(),
                    specialty=data["specialty"],
                    convention_sector=data["convention_sector"],
                    practice_name=data.get("practice_name", "").strip(),
                    address=data.get("address", "").strip(),
                    postcode=data.get("postcode", ""),
                    city=data.get("city", "").strip(),
                    phone=data.get("phone", "").strip(),
                ),
            )
        except DomainError as error:
            _error(form, error)
        else:
            return redirect("onboarding:schedule")
    return render(
        request,
        "onboarding/identity.html",
        {
            "form": form,
            "journey": journey,
            "activities": activities,
            "to_verify": not journey.in_directory,
            "check_digit_wrong": not luhn_ok(journey.rpps),
            "invited": invited,
            "site": journey.agenda.site if invited and journey.agenda_id else None,
            **_progress(Step.IDENTITY, journey),
        },
    )


# 4. Hours and motives ------------------------------------------------------------------------


def _schedule_state(journey: Journey):
    """The template, periods and motive rows to show: what is saved, else the presets."""
    agenda = journey.agenda
    language = journey.language
    openings = list(agenda.openings.all())
    saved_motives = list(agenda.motives.filter(is_active=True).order_by("position", "id"))
    if openings and saved_motives:
        periods = [services.Period(o.weekday, o.start_time, o.end_time) for o in openings]
        rows = [
            {
                "offered": True,
                "label": m.label,
                "duration": m.duration_minutes,
                "video": m.mode == m.Mode.VIDEO,
                "new_patients": m.open_to_new_patients,
                "colour": m.colour,
            }
            for m in saved_motives
        ]
        return journey.hours_template or "custom", periods, rows
    template = HOURS_BY_CODE[journey.hours_template or DEFAULT_HOURS]
    specialty = journey.practitioner.specialty.code if journey.practitioner else None
    rows = ScheduleForm.rows_from_presets(motive_presets(specialty), language)
    return template.code, list(template.periods), rows


@wizard_screen(Step.SCHEDULE)
def schedule(request, journey: Journey):
    template, periods, rows = _schedule_state(journey)
    if request.method == "POST":
        form = ScheduleForm(request.POST)
        chosen = request.POST.get("template", "")
        if "apply" in request.POST and chosen in HOURS_BY_CODE:
            # Without JavaScript, "Use these hours" fills the grid from the template.
            form = ScheduleForm(periods=HOURS_BY_CODE[chosen].periods, template=chosen)
            rows = ScheduleForm(request.POST).motive_rows([])
        elif form.is_valid():
            try:
                services.save_schedule(
                    journey=journey,
                    hours_template=form.template,
                    periods=form.periods,
                    motives=form.motives,
                )
            except DomainError as error:
                form.errors.append(str(error.message))
            else:
                return redirect("onboarding:video")
        if request.POST and "apply" not in request.POST:
            rows = form.motive_rows([])
    else:
        form = ScheduleForm(periods=periods, template=template)
        rows = form.motive_rows(rows)
    return render(
        request,
        "onboarding/schedule.html",
        {
            "form": form,
            "journey": journey,
            "grid": form.grid(),
            "templates": [
                {
                    "code": t.code,
                    "label": t.label(current_language()),
                    "periods": json.dumps(
                        [[p.weekday, f"{p.start:%H:%M}", f"{p.end:%H:%M}"] for p in t.periods]
                    ),
                }
                for t in HOURS_TEMPLATES
            ],
            "template": form.template or template,
            "motive_rows": rows,
            **_progress(Step.SCHEDULE, journey),
        },
    )


# 5. Video ------------------------------------------------------------------------------------


@wizard_screen(Step.VIDEO)
def video(request, journey: Journey):
    form = VideoForm(request.POST or None, initial={"enabled": True})
    if request.method == "POST" and form.is_valid():
        try:
            services.save_video(
                journey=journey,
                enabled=form.cleaned_data["enabled"],
                device_check=form.cleaned_data,
            )
        except DomainError as error:
            _error(form, error)
        else:
            return redirect("onboarding:publish")
    return render(
        request,
        "onboarding/video.html",
        {
            "form": form,
            "journey": journey,
            "ping_url": reverse("onboarding:ping"),
            "device_texts": device_texts(),
            "ice_servers": ice_servers(f"u{request.user.pk}"),
            **_progress(Step.VIDEO, journey),
        },
    )


@require_GET
@never_cache
def ping(request):
    """The network check's round trip: an empty answer, as fast as the server gives one."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": "login_required"}, status=401)
    return JsonResponse({"ok": True, "t": time.time()})


# 6. Publish ----------------------------------------------------------------------------------


@wizard_screen(Step.PUBLISH)
def publish(request, journey: Journey):
    from consulto.practice.settings_selectors import preview

    if request.method == "POST":
        try:
            practitioner = services.publish(journey=journey)
        except DomainError as error:
            messages.error(request, str(error.message))
            return redirect("onboarding:publish")
        messages.success(
            request,
            _("Your profile is online: patients can find you and book from now on."),
        )
        request.session["onboarding_published"] = practitioner.pk
        return redirect("practice:agenda")
    agenda = journey.agenda
    return render(
        request,
        "onboarding/publish.html",
        {
            "journey": journey,
            "practitioner": journey.practitioner,
            "agenda": agenda,
            "site": agenda.site,
            "motives": agenda.motives.filter(is_active=True, online=True).order_by(
                "position", "id"
            ),
            "preview": preview(agenda=agenda, days=7),
            "obstacles": services.obstacles(journey),
            **_progress(Step.PUBLISH, journey),
        },
    )


def resume(request):
    if not request.user.is_authenticated:
        pending = _pending_journey(request)
        return redirect("onboarding:security" if pending else "onboarding:join")
    journey = selectors.journey_of(request.user)
    if journey is None:
        return redirect("onboarding:join")
    if journey.done:
        return redirect("practice:agenda")
    return redirect(selectors.step_url(services.resume_step(journey)))


# The funnel (platform staff) -----------------------------------------------------------------

PERIODS = {"30": 30, "90": 90, "365": 365}


@staff_member_required
@require_GET
def funnel(request):
    days = PERIODS.get(request.GET.get("jours", "90"), 90)
    kind = request.GET.get("type") or None
    if kind not in (None, *Journey.Kind.values):
        raise Http404
    since = timezone.now() - timezone.timedelta(days=days)
    figures = selectors.funnel(since=since, kind=kind)
    visits = sum(
        SignupPageVisits.objects.filter(day__gte=since.date()).values_list("count", flat=True)
    )
    return render(
        request,
        "onboarding/funnel.html",
        {
            "figures": figures,
            "visits": visits,
            "chart": charts.funnel_chart(figures, visits=visits if not kind else None),
            "days": days,
            "kind": kind or "",
            "periods": PERIODS,
            "kinds": Journey.Kind.choices,
            "title": _("Onboarding funnel"),
        },
    )
