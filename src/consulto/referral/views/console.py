"""The regulator's console, under /regulation/: a call becomes a case, the case finds a slot
near the patient and books it, or ends another way. Views parse input, call one service or
selector, and render; a refused request is a message on the page, never an error page."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from consulto.core.audit import client_ip
from consulto.core.errors import DomainError
from consulto.scheduling import booking

from .. import selectors, services
from ..access import regulation_view
from ..forms import (
    BookForm,
    CallForm,
    CancelForm,
    CaseFilter,
    CloseForm,
    ExtraForm,
    MoveForm,
    SearchOptions,
)
from ..models import RegulationCase
from .presenters import extra_rows, local_text, offer_rows

Outcome = RegulationCase.Outcome


@regulation_view
@require_http_methods(["GET", "POST"])
def new_case(request):
    seat = request.seat
    form = CallForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        case = services.open_case(
            centre=seat.centre, by=request.user, call=form.call_details(), ip=client_ip(request)
        )
        return redirect("regulation:case", pk=case.pk)
    status = 400 if request.method == "POST" else 200
    today = selectors.cases_of(centre=seat.centre, days=1)[:10]
    return render(
        request,
        "referral/new_case.html",
        {"form": form, "seat": seat, "today": today, "section": "new"},
        status=status,
    )


@regulation_view
@require_GET
def case_list(request):
    seat = request.seat
    filters = CaseFilter(request.GET or None)
    outcome, days = "", 7
    if filters.is_bound and filters.is_valid():
        outcome, days = filters.cleaned_data["outcome"], filters.cleaned_data["days"] or 7
    cases = list(selectors.cases_of(centre=seat.centre, outcome=outcome, days=days)[:200])
    rows = [(case, local_text(case.opened_at)) for case in cases]
    return render(
        request,
        "referral/case_list.html",
        {"filters": filters, "rows": rows, "seat": seat, "section": "cases"},
    )


@regulation_view
@require_GET
def case_page(request, pk):
    case = selectors.case_of(centre=request.seat.centre, case_id=pk)
    options = SearchOptions(request.GET or None)
    return _render_case(request, case, options=options)


def _render_case(request, case, *, options=None, status=200, **forms):
    options = options or SearchOptions()
    wide = in_person = False
    if options.is_bound and options.is_valid():
        wide = options.cleaned_data["wide"]
        in_person = options.cleaned_data["in_person"]
    appointment = case.appointment
    booked = appointment is not None and appointment.status == appointment.Status.BOOKED
    results = None
    if case.closed_at is None or booked:
        results = selectors.offers_for(case, wide=wide, in_person_only=in_person)
    offers = offer_rows(results.offers) if results else []
    if booked:
        # Moving: only the slots of the same agenda and motive.
        offers = [
            row
            for row in offers
            if row.offer.agenda.pk == appointment.agenda_id
            and row.offer.motive.pk == appointment.motive_id
        ]
    context = {
        "case": case,
        "seat": request.seat,
        "section": "cases",
        "reason": services.read_reason(case=case, by=request.user, ip=client_ip(request)),
        "opened": local_text(case.opened_at),
        "closed": local_text(case.closed_at) if case.closed_at else "",
        "appointment": appointment,
        "booked": booked,
        "appointment_when": (
            local_text(appointment.start, appointment.agenda.site.zone, "l j F Y H:i")
            if appointment
            else ""
        ),
        "extra_when": local_text(case.extra_at) if case.extra_at else "",
        "results": results,
        "offers": offers,
        "extras": extra_rows(results.extras) if results and not booked else [],
        "until": local_text(results.until) if results else "",
        "options": options,
        "wide": wide,
        "in_person": in_person,
        "close_form": forms.get("close_form") or CloseForm(),
        "cancel_form": forms.get("cancel_form") or CancelForm(),
        "extra_form": forms.get("extra_form")
        or ExtraForm(initial={"expected_at": timezone.localtime() + timedelta(hours=1)}),
        "Outcome": Outcome,
    }
    return render(request, "referral/case.html", context, status=status)


def _refused(request, case, error: DomainError, status: int | None = None):
    messages.error(request, str(error.message))
    case = selectors.case_of(centre=request.seat.centre, case_id=case.pk)
    return _render_case(request, case, status=status or error.status)


@regulation_view
@require_POST
def book(request, pk):
    case = selectors.case_of(centre=request.seat.centre, case_id=pk)
    form = BookForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("This slot is not valid: choose one in the list."))
        return _render_case(request, case, status=400)
    try:
        appointment = services.book_for_case(
            case=case,
            agenda_id=form.cleaned_data["agenda"],
            motive_id=form.cleaned_data["motive"],
            start=form.cleaned_data["start"],
            by=request.user,
            ip=client_ip(request),
        )
    except booking.SlotTaken as error:
        return _refused(request, case, error, status=409)
    except DomainError as error:
        return _refused(request, case, error)
    messages.success(
        request,
        _("Booked: %(when)s. The patient receives an SMS with the details.")
        % {"when": local_text(appointment.start, appointment.agenda.site.zone, "l j F H:i")},
    )
    return redirect("regulation:case", pk=case.pk)


@regulation_view
@require_POST
def extra(request, pk):
    case = selectors.case_of(centre=request.seat.centre, case_id=pk)
    form = ExtraForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the time agreed with the practitioner."))
        return _render_case(request, case, status=400, extra_form=form)
    try:
        services.record_extra(
            case=case,
            practitioner_id=form.cleaned_data["practitioner"],
            expected_at=form.cleaned_data["expected_at"],
            by=request.user,
            ip=client_ip(request),
        )
    except DomainError as error:
        return _refused(request, case, error)
    messages.success(request, _("Recorded: extra patient accepted by phone."))
    return redirect("regulation:case", pk=case.pk)


@regulation_view
@require_POST
def close(request, pk):
    case = selectors.case_of(centre=request.seat.centre, case_id=pk)
    form = CloseForm(request.POST)
    if not form.is_valid():
        return _render_case(request, case, status=400, close_form=form)
    try:
        services.close_case(
            case=case, outcome=form.cleaned_data["outcome"], by=request.user, ip=client_ip(request)
        )
    except DomainError as error:
        return _refused(request, case, error)
    messages.success(request, _("Case closed."))
    return redirect("regulation:case", pk=case.pk)


@regulation_view
@require_POST
def cancel(request, pk):
    case = selectors.case_of(centre=request.seat.centre, case_id=pk)
    form = CancelForm(request.POST)
    if not form.is_valid():
        return _render_case(request, case, status=400, cancel_form=form)
    try:
        services.cancel_booking(
            case=case, reason=form.cleaned_data["reason"], by=request.user, ip=client_ip(request)
        )
    except DomainError as error:
        return _refused(request, case, error)
    messages.success(
        request, _("Appointment cancelled; the patient is told. The case is open again.")
    )
    return redirect("regulation:case", pk=case.pk)


@regulation_view
@require_POST
def move(request, pk):
    case = selectors.case_of(centre=request.seat.centre, case_id=pk)
    form = MoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("This slot is not valid: choose one in the list."))
        return _render_case(request, case, status=400)
    try:
        moved = services.move_booking(
            case=case, new_start=form.cleaned_data["start"], by=request.user, ip=client_ip(request)
        )
    except booking.SlotTaken as error:
        return _refused(request, case, error, status=409)
    except DomainError as error:
        return _refused(request, case, error)
    messages.success(
        request,
        _("Moved to %(when)s; the patient is told.")
        % {"when": local_text(moved.start, moved.agenda.site.zone, "l j F H:i")},
    )
    return redirect(reverse("regulation:case", kwargs={"pk": case.pk}))


urlpatterns = [
    path("", new_case, name="new_case"),
    path("dossiers/", case_list, name="cases"),
    path("dossiers/<str:pk>/", case_page, name="case"),
    path("dossiers/<str:pk>/reserver/", book, name="book"),
    path("dossiers/<str:pk>/surnumeraire/", extra, name="extra"),
    path("dossiers/<str:pk>/cloturer/", close, name="close"),
    path("dossiers/<str:pk>/annuler/", cancel, name="cancel"),
    path("dossiers/<str:pk>/deplacer/", move, name="move"),
]
