"""Booking a patient from the practice space: a known patient (found by name, phone or birth
date) or a new one, the chosen agenda's free slots to pick, and a confirmation before an unusual
time (past, night, outside the openings)."""

from __future__ import annotations

from contextlib import suppress
from datetime import date

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from consulto.core.audit import client_ip
from consulto.core.errors import DomainError
from consulto.core.inputs import has_nul, parse_id
from consulto.core.time import parse_date, parse_instant, wall_to_instant
from consulto.scheduling.models import Motive

from .. import files, selectors, services
from ..access import staff_view
from ..forms import NewAppointmentForm
from ..models import PatientFile
from .agenda import _agenda_url, _ids


def _new_form(request, *, data=None, initial=None, allowed=None) -> NewAppointmentForm:
    allowed = allowed if allowed is not None else selectors.visible_agendas(request.user)
    motives = list(
        Motive.objects.filter(agenda__in=allowed, is_active=True).order_by("agenda_id", "position")
    )
    return NewAppointmentForm(data, agendas=allowed, motives=motives, initial=initial or {})


def _when(form: NewAppointmentForm) -> dict:
    """The free slots of the form's agenda and motive on its date, to pick from; the next free
    one after that date when there is none."""
    agenda = form.current_agenda
    if agenda is None:
        return {}
    motive = form.motives.get(str(_value(form, "motive"))) or next(
        iter(form.motives.values()), None
    )
    zone = agenda.site.zone
    now = timezone.now()
    day = _date_value(form) or now.astimezone(zone).date()
    context = {"when_day": day, "slots": [], "next_free": None, "motive": motive}
    if motive is None:
        return context
    with suppress(ValueError, OverflowError):
        context["slots"] = [
            s.start.astimezone(zone).strftime("%H:%M")
            for s in selectors.free_slots(agenda=agenda, motive=motive, day=day, now=now)
        ]
        if not context["slots"]:
            found = selectors.next_free_slot(agenda=agenda, motive=motive, after=day, now=now)
            context["next_free"] = found.start.astimezone(zone) if found else None
    return context


def _value(form, name: str):
    return form.data.get(name) if form.is_bound else form.initial.get(name)


def _date_value(form) -> date | None:
    value = _value(form, "date")
    return value if isinstance(value, date) else _parse_day(str(value or ""))


@staff_view
def appointment_new(request):
    """Book by phone or at the desk. ``?agenda=&start=`` (a click in the calendar) or ``?file=``
    ("book for this patient") fill part of the form."""
    allowed = selectors.visible_agendas(request.user)
    if not allowed:
        raise Http404
    if request.method != "POST":
        return _new_page(request, allowed, *_new_initial(request, allowed))
    post = request.POST
    if "search" in post or "show_slots" in post or "show_day" in post:
        # Not a booking yet: the form comes back as it was typed, without errors.
        initial = post.dict()
        day = _parse_day(post.get("show_day", ""))
        if day is not None:
            initial.update(date=day, time="")
        found = None
        if "search" in post:
            found = _find_files(request, post.get("agenda"), post.get("query", ""))
        form = _new_form(request, initial=initial, allowed=allowed)
        return _new_page(request, allowed, form.initial, _posted_file(form), found=found)
    form = _new_form(request, data=post, allowed=allowed)
    cautions, confirm_value = None, ""
    if form.is_valid():
        data = form.cleaned_data
        agenda = data["agenda"]
        try:
            start = wall_to_instant(data["date"], data["time"], agenda.site.zone, field="time")
            confirm_value = start.isoformat()
            services.book_for_patient(
                user=request.user,
                agenda_id=agenda.pk,
                motive_id=data["motive"].pk,
                start=start,
                file_id=data["file"].pk if data.get("file") else None,
                new_patient=data.get("new_patient"),
                ip=client_ip(request),
                confirmed=parse_instant(data.get("confirmed")) == start,
            )
        except services.NeedsConfirmation as needed:
            cautions = needed.cautions
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, _("Appointment booked."))
            return redirect(_agenda_url(agenda.pk, data["date"]))
    return _new_page(
        request,
        allowed,
        None,
        form.chosen_file or _posted_file(form),
        form=form,
        cautions=cautions,
        confirm_value=confirm_value,
    )


def _new_initial(request, allowed) -> tuple[dict, PatientFile | None]:
    initial = {}
    preset_file = _preset_file(request)
    if preset_file is not None:
        allowed[:] = [a for a in allowed if a.organisation_id == preset_file.organisation_id]
        if not allowed:
            raise Http404
        initial.update(patient_kind="file", file=preset_file.pk)
    agenda_id = request.GET.get("agenda", "")
    agenda = next((a for a in allowed if a.pk == parse_id(agenda_id)), None)
    initial["agenda"] = agenda.pk if agenda else allowed[0].pk
    start = request.GET.get("start", "")
    if agenda and start:
        # A time that cannot be read only leaves the fields empty.
        with suppress(DomainError):
            local = selectors.from_wall(start, agenda.site.zone).astimezone(agenda.site.zone)
            initial.update(date=local.date(), time=f"{local:%H:%M}")
    zone = (agenda or allowed[0]).site.zone
    initial.setdefault("date", timezone.now().astimezone(zone).date())
    return initial, preset_file


def _new_page(request, allowed, initial, chosen_file, *, form=None, found=None, **extra):
    form = form or _new_form(request, initial=initial, allowed=allowed)
    return render(
        request,
        "practice/appointment_new.html",
        {
            "section": "agenda",
            "form": form,
            "found": found,
            "chosen_file": chosen_file,
            **extra,
            **_when_with_choice(form),
        },
    )


def _when_with_choice(form) -> dict:
    """``_when`` and the time to show as picked: a time that is not a free slot (a click in
    the calendar outside the openings) goes to "another time"."""
    when = _when(form)
    picked = str(_value(form, "time") or "")
    if picked and picked != NewAppointmentForm.OTHER and picked not in when.get("slots", []):
        if not form.is_bound:
            form.initial["other_time"] = picked
        picked = NewAppointmentForm.OTHER
    if not picked and not when.get("slots"):
        picked = NewAppointmentForm.OTHER
    return {**when, "picked_time": picked}


def _parse_day(text: str) -> date | None:
    return parse_date(text or "")


@require_GET
@staff_view
def appointment_slots(request):
    """The motive, date and free slots part of the new-appointment form (htmx swaps it in)."""
    # The agenda asked for is checked like any other (404 elsewhere, 403 not yours).
    agendas = selectors.chosen_agendas(request.user, _ids(request.GET.get("agenda", ""))[:1])
    form = _new_form(request, initial=request.GET.dict() | {"agenda": agendas[0].pk})
    return render(request, "practice/_when.html", {"form": form, **_when_with_choice(form)})


def _preset_file(request) -> PatientFile | None:
    file_id = parse_id(request.GET.get("file", ""))
    if file_id is None:
        return None
    return files.get_file(user=request.user, file_id=file_id)


def _posted_file(form) -> PatientFile | None:
    """The file chosen in a form sent back (a search, an error): still shown as chosen."""
    value, kind = _value(form, "file") or "", _value(form, "patient_kind")
    agenda = form.current_agenda
    file_id = parse_id(value)
    if file_id is None or agenda is None or kind == "new":
        return None
    return (
        PatientFile.objects.select_related("profile")
        .filter(pk=file_id, organisation_id=agenda.organisation_id)
        .first()
    )


def _find_files(request, agenda_id, query: str):
    wanted = parse_id(agenda_id)
    agenda = next((a for a in selectors.visible_agendas(request.user) if a.pk == wanted), None)
    if agenda is None or not 2 <= len(query.strip()) <= 80 or has_nul(query):
        return []  # the form says what is wrong with the query
    return files.search_files(
        user=request.user, organisation_id=agenda.organisation_id, query=query, limit=20
    )


@require_GET
@staff_view
def file_picker(request):
    """The patients matching the search, as choices (htmx swaps them into the booking form)."""
    found = _find_files(request, request.GET.get("agenda"), request.GET.get("query", ""))
    return render(request, "practice/_file_choices.html", {"files": found, "chosen": None})


urlpatterns = [
    path("rendez-vous/nouveau/", appointment_new, name="appointment_new"),
    path("rendez-vous/nouveau/patients/", file_picker, name="file_picker"),
    path("rendez-vous/nouveau/creneaux/", appointment_slots, name="appointment_slots"),
]
