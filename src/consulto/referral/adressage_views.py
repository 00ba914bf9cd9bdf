"""Referral pages of the practice space (/pro/adressage/): refer a patient to another
practitioner's slot, the referrals received, the referrals sent."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from consulto.core.audit import client_ip
from consulto.core.errors import DomainError
from consulto.core.inputs import parse_id
from consulto.core.time import parse_instant
from consulto.directory.selectors import resolve_place
from consulto.practice.access import staff_view

from . import adressage
from .adressage_forms import PatientSearchForm, ReferralForm, SlotSearchForm


def _require_referrer(request) -> None:
    if not adressage.may_refer(request.user):
        raise PermissionDenied


@require_GET
@staff_view
def new(request):
    """Step 1: the patient (one of the practitioner's files), then a slot open to
    professionals, by specialty and place."""
    _require_referrer(request)
    params = request.GET
    file = None
    file_id = parse_id(params.get("file", ""))
    if file_id is not None:
        file = adressage.patient_file(user=request.user, file_id=file_id)
    patient_form = PatientSearchForm(params if "q" in params else None)
    found_patients = None
    if file is None and patient_form.is_bound and patient_form.is_valid():
        query = patient_form.cleaned_data["q"]
        found_patients = adressage.patients(user=request.user, query=query) if query else None
    slot_form = SlotSearchForm(params if ("specialty" in params or "place" in params) else None)
    candidates = None
    if file is not None and slot_form.is_bound and slot_form.is_valid():
        near = None
        place = slot_form.cleaned_data["place"]
        if place:
            near = resolve_place(place).coordinates
            if near is None:
                slot_form.add_error("place", _("This place is unknown: type a city or a postcode."))
        if slot_form.is_valid():
            candidates = adressage.find_slots(
                user=request.user,
                specialty=slot_form.cleaned_data["specialty"],
                near=near,
                now=timezone.now(),
            )
    return render(
        request,
        "referral/adressage/new.html",
        {
            "section": "referrals_out",
            "file": file,
            "patient_form": patient_form,
            "found_patients": found_patients,
            "slot_form": slot_form,
            "candidates": candidates,
        },
    )


@require_http_methods(["GET", "POST"])
@staff_view
def confirm(request):
    """Step 2: the chosen slot, the urgency, the reason and the letter; one click books."""
    _require_referrer(request)
    if request.method == "POST":
        form = ReferralForm(request.POST, request.FILES)
    else:
        form = ReferralForm(initial={**request.GET.dict(), "token": uuid.uuid4().hex})
        # What the slot link carries is checked as the form will check it on sending.
        probe = ReferralForm({**request.GET.dict(), "reason": "-", "urgency": "routine"})
        if not probe.is_valid():
            raise Http404
    choice = _choice(request, form)
    if request.method == "POST" and form.is_valid() and choice is not None:
        data = form.cleaned_data
        letter = data.get("letter")
        try:
            referral = adressage.refer(
                user=request.user,
                file_id=data["file"],
                agenda_id=data["agenda"],
                motive_id=data["motive"],
                start=data["start"],
                urgency=data["urgency"],
                reason=data["reason"],
                letter=letter.read() if letter is not None else None,
                letter_name=letter.name if letter is not None else "",
                token=data["token"],
                ip=client_ip(request),
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(
                request,
                _("Referral sent: the appointment is booked and the patient is told."),
            )
            return redirect("adressage:referral_sent", pk=referral.pk)
    return render(
        request,
        "referral/adressage/confirm.html",
        {"section": "referrals_out", "form": form, "choice": choice},
    )


def _choice(request, form) -> dict | None:
    """The patient, agenda, motive and time the form names, when they can be read."""
    source = form.data if form.is_bound else form.initial
    file_id, agenda_id, motive_id = (
        parse_id(source.get(k, "")) for k in ("file", "agenda", "motive")
    )
    start = parse_instant(source.get("start", ""))
    if None in (file_id, agenda_id, motive_id, start):
        return None
    file = adressage.patient_file(user=request.user, file_id=file_id)
    agenda, motive = adressage.slot_choice(agenda_id=agenda_id, motive_id=motive_id)
    return {
        "file": file,
        "agenda": agenda,
        "motive": motive,
        "who": adressage.agenda_label(agenda),
        "start": start.astimezone(agenda.zone),
    }


@require_GET
@staff_view
def incoming(request):
    unread_only = request.GET.get("filtre") == "non-lus"
    rows = adressage.incoming(user=request.user, unread_only=unread_only)
    return render(
        request,
        "referral/adressage/incoming.html",
        {"section": "referrals_in", "rows": rows, "unread_only": unread_only},
    )


@require_GET
@staff_view
def incoming_detail(request, pk: int):
    view = adressage.open_incoming(user=request.user, referral_id=pk, ip=client_ip(request))
    return render(
        request,
        "referral/adressage/incoming_detail.html",
        {"section": "referrals_in", "view": view, "row": view.row},
    )


@require_GET
@staff_view
def sent(request):
    rows = adressage.sent(user=request.user)
    return render(
        request,
        "referral/adressage/sent.html",
        {
            "section": "referrals_out",
            "rows": rows,
            "may_refer": adressage.may_refer(request.user),
        },
    )


@require_GET
@staff_view
def sent_detail(request, pk: int):
    view = adressage.open_sent(user=request.user, referral_id=pk, ip=client_ip(request))
    return render(
        request,
        "referral/adressage/sent_detail.html",
        {"section": "referrals_out", "view": view, "row": view.row},
    )
