"""Settings of the practice space: each agenda's motives, openings, absences and reminders, the
preview of what patients are offered, and the organisation's policy.

Views parse, call one selector or service of ``agenda_settings`` and render; the permission is
checked when the agenda is loaded, before any form is even read.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from consulto.core.errors import InvalidInput
from consulto.core.inputs import query_date

from .. import agenda_settings as services
from .. import settings_selectors as selectors
from ..access import staff_view
from ..settings_forms import (
    MOTIVE_PALETTE,
    AbsenceForm,
    ExtraPatientsForm,
    MotiveForm,
    OpeningForm,
    PolicyForm,
    ReminderForm,
)

GET_POST = require_http_methods(["GET", "HEAD", "POST"])


def _render(request, template: str, context: dict, status: int = 200):
    return render(
        request, f"practice/settings/{template}", {"section": "settings", **context}, status=status
    )


def _agenda_url(agenda, anchor: str = "") -> str:
    url = reverse("practice:settings_agenda", args=[agenda.pk])
    return f"{url}#{anchor}" if anchor else url


def _apply_error(form, error: InvalidInput) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, str(error.message))


# The list of agendas and the policy -------------------------------------------------------------


@staff_view
@require_GET
def home(request):
    agendas = selectors.configurable_agendas(request.user)
    absence_agendas = selectors.absence_only_agendas(request.user)
    policies = selectors.admin_policies(request.user)
    if not agendas and not policies and not absence_agendas:
        raise PermissionDenied
    for item in policies:
        item.form = PolicyForm(instance=item.policy, prefix=f"org{item.organisation.pk}")
    return _render(
        request,
        "home.html",
        {
            "agendas": agendas,
            "absence_agendas": absence_agendas,
            "policies": policies,
            "several_organisations": len({a.organisation_id for a in agendas}) > 1,
        },
    )


@staff_view
@require_POST
def policy(request, organisation_id: int):
    services.check_admin(request.user, organisation_id)
    found = next(
        p for p in selectors.admin_policies(request.user) if p.organisation.pk == organisation_id
    )
    form = PolicyForm(request.POST, instance=found.policy, prefix=f"org{organisation_id}")
    if form.is_valid():
        services.set_policy(
            user=request.user,
            organisation_id=organisation_id,
            no_show_limit=form.cleaned_data["no_show_limit"],
            secretaries_manage_absences=form.cleaned_data["secretaries_manage_absences"],
        )
        messages.success(request, _("Practice policy saved."))
        return redirect(reverse("practice:settings_home") + "#policy")
    found.form = form
    return _render(
        request,
        "home.html",
        {"agendas": selectors.configurable_agendas(request.user), "policies": [found]},
    )


# One agenda -------------------------------------------------------------------------------------


@staff_view
@require_GET
def agenda(request, agenda_id: int):
    found = selectors.agenda_for_settings(request.user, agenda_id)
    return _render(request, "agenda.html", _agenda_context(found))


def _agenda_context(agenda, *, reminder_form=None, extra_form=None, audience="public") -> dict:
    now = timezone.now()
    today = now.astimezone(agenda.zone).date()
    coming, past = selectors.absences(agenda, now=now)
    reminders = selectors.reminder_settings(agenda)
    if reminder_form is None and reminders is not None:
        reminder_form = ReminderForm(instance=reminders)
    if extra_form is None and agenda.practitioner_id is not None:
        extra_form = ExtraPatientsForm(instance=agenda.practitioner, prefix="sas")
    return {
        "agenda": agenda,
        "motives": selectors.motives(agenda),
        "weekdays": selectors.openings_by_weekday(agenda, today=today),
        "absences": coming,
        "past_absences": past,
        "reminder_form": reminder_form,
        "extra_form": extra_form,
        "preview": selectors.preview(agenda=agenda, now=now, audience=audience),
    }


@staff_view
@require_POST
def reminders(request, agenda_id: int):
    found = selectors.agenda_for_settings(request.user, agenda_id)
    current = selectors.reminder_settings(found)
    if current is None:
        raise PermissionDenied
    form = ReminderForm(request.POST, instance=current)
    if form.is_valid():
        services.set_reminders(user=request.user, agenda=found, **form.cleaned_data)
        messages.success(request, _("Reminders saved."))
        return redirect(_agenda_url(found, "reminders"))
    return _render(request, "agenda.html", _agenda_context(found, reminder_form=form))


@staff_view
@require_POST
def regulation(request, agenda_id: int):
    """The practitioner's SAS participation: extra patients sent by regulation."""
    found = selectors.agenda_for_settings(request.user, agenda_id)
    if found.practitioner_id is None:
        raise PermissionDenied
    practitioner = type(found.practitioner).objects.get(pk=found.practitioner_id)
    form = ExtraPatientsForm(request.POST, instance=practitioner, prefix="sas")
    if form.is_valid():
        try:
            services.set_extra_patients(
                user=request.user,
                agenda=found,
                takes_extra_patients=form.cleaned_data["takes_extra_patients"],
                regulation_phone=form.cleaned_data["regulation_phone"],
                weekly_cap=form.cleaned_data["extra_patients_weekly_cap"],
            )
        except InvalidInput as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("Regulation settings saved."))
            return redirect(_agenda_url(found, "regulation"))
    return _render(request, "agenda.html", _agenda_context(found, extra_form=form))


def _audience(request) -> str:
    wanted = request.GET.get("pour", "")
    return wanted if wanted in selectors.PREVIEW_AUDIENCES else "public"


@staff_view
@require_GET
def preview(request, agenda_id: int):
    found = selectors.agenda_for_settings(request.user, agenda_id)
    start = query_date(request.GET, "du")
    context = {
        "agenda": found,
        "preview": selectors.preview(agenda=found, start=start, audience=_audience(request)),
    }
    if request.headers.get("HX-Request"):
        return _render(request, "_preview.html", context)
    return _render(request, "preview.html", context)


# Motives ----------------------------------------------------------------------------------------


@staff_view
@GET_POST
def motive_new(request, agenda_id: int):
    found = selectors.agenda_for_settings(request.user, agenda_id)
    position = max((m.position for m in selectors.motives(found)), default=-1) + 1
    form = MotiveForm(request.POST or None, initial={"position": position})
    if request.method == "POST" and form.is_valid():
        try:
            motive = services.create_motive(
                user=request.user, agenda=found, fields=form.cleaned_data
            )
        except InvalidInput as error:
            _apply_error(form, error)
        else:
            messages.success(
                request,
                _("Motive “%(label)s” created. The preview shows what patients are now offered.")
                % {"label": motive.label},
            )
            return redirect(_agenda_url(found, "preview"))
    return _render(
        request,
        "motive_form.html",
        {"agenda": found, "form": form, "motive": None, "palette": MOTIVE_PALETTE},
    )


@staff_view
@GET_POST
def motive_edit(request, agenda_id: int, pk: int):
    found = selectors.agenda_for_settings(request.user, agenda_id)
    motive = selectors.motive_of(found, pk)
    title = motive.label  # the form changes the instance as it validates
    form = MotiveForm(request.POST or None, instance=motive)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_motive(user=request.user, motive=motive, fields=form.cleaned_data)
        except InvalidInput as error:
            _apply_error(form, error)
        else:
            messages.success(
                request,
                _("Motive “%(label)s” saved. The preview shows what patients are now offered.")
                % {"label": motive.label},
            )
            return redirect(_agenda_url(found, "preview"))
    coming, ever = selectors.appointments_of_motive(motive)
    return _render(
        request,
        "motive_form.html",
        {
            "agenda": found,
            "form": form,
            "motive": motive,
            "title": title,
            "coming": coming,
            "ever": ever,
            "palette": MOTIVE_PALETTE,
        },
    )


@staff_view
@GET_POST
def motive_delete(request, agenda_id: int, pk: int):
    found = selectors.agenda_for_settings(request.user, agenda_id)
    motive = selectors.motive_of(found, pk)
    if request.method == "POST":
        label = motive.label
        outcome = services.remove_motive(user=request.user, motive=motive)
        if outcome == "deleted":
            messages.success(request, _("Motive “%(label)s” deleted.") % {"label": label})
        else:
            messages.success(
                request,
                _(
                    "Motive “%(label)s” deactivated: appointments were booked with it, so it is "
                    "kept for them. Patients no longer see it."
                )
                % {"label": label},
            )
        return redirect(_agenda_url(found, "motives"))
    coming, ever = selectors.appointments_of_motive(motive)
    return _render(
        request,
        "confirm_delete.html",
        {"agenda": found, "kind": "motive", "object": motive, "coming": coming, "ever": ever},
    )


# Openings ---------------------------------------------------------------------------------------


@staff_view
@GET_POST
def opening_new(request, agenda_id: int):
    found = selectors.agenda_for_settings(request.user, agenda_id)
    initial = {}
    weekday = request.GET.get("jour", "")
    if request.method == "GET" and weekday in {str(day) for day in range(7)}:
        initial["weekday"] = int(weekday)
    form = OpeningForm(request.POST or None, agenda=found, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        motives = list(data.pop("motives"))
        try:
            opening = services.create_opening(
                user=request.user, agenda=found, fields=data, motives=motives
            )
        except InvalidInput as error:
            _apply_error(form, error)
        else:
            messages.success(
                request,
                _("Opening %(opening)s created. The preview shows what patients are now offered.")
                % {"opening": opening},
            )
            return redirect(_agenda_url(found, "preview"))
    return _render(request, "opening_form.html", {"agenda": found, "form": form, "opening": None})


@staff_view
@GET_POST
def opening_edit(request, agenda_id: int, pk: int):
    found = selectors.agenda_for_settings(request.user, agenda_id)
    opening = selectors.opening_of(found, pk)
    title = str(opening)  # the form changes the instance as it validates
    form = OpeningForm(request.POST or None, agenda=found, instance=opening)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        motives = list(data.pop("motives"))
        try:
            services.update_opening(
                user=request.user, opening=opening, fields=data, motives=motives
            )
        except InvalidInput as error:
            _apply_error(form, error)
        else:
            messages.success(
                request,
                _("Opening %(opening)s saved. The preview shows what patients are now offered.")
                % {"opening": opening},
            )
            return redirect(_agenda_url(found, "preview"))
    return _render(
        request,
        "opening_form.html",
        {"agenda": found, "form": form, "opening": opening, "title": title},
    )


@staff_view
@GET_POST
def opening_delete(request, agenda_id: int, pk: int):
    found = selectors.agenda_for_settings(request.user, agenda_id)
    opening = selectors.opening_of(found, pk)
    coming = selectors.future_appointments_in(opening)
    if request.method == "POST":
        label = str(opening)
        services.delete_opening(user=request.user, opening=opening)
        text = _("Opening %(opening)s deleted.") % {"opening": label}
        if coming:
            text += " " + ngettext(
                "The appointment already booked in it stays booked.",
                "The %(count)d appointments already booked in it stay booked.",
                coming,
            ) % {"count": coming}
        messages.success(request, text)
        return redirect(_agenda_url(found, "openings"))
    return _render(
        request,
        "confirm_delete.html",
        {"agenda": found, "kind": "opening", "object": opening, "coming": coming},
    )


# Absences ---------------------------------------------------------------------------------------
# Those who manage an agenda's absences without its other settings (a secretary, when the
# organisation allows it) have a page of their own for them.


def _absences_url(request, agenda) -> str:
    if selectors.configures(request.user, agenda):
        return _agenda_url(agenda, "absences")
    return reverse("practice:settings_absences", args=[agenda.pk])


@staff_view
@require_GET
def absences(request, agenda_id: int):
    found = selectors.agenda_for_absences(request.user, agenda_id)
    if selectors.configures(request.user, found):
        return redirect(_agenda_url(found, "absences"))
    coming, past = selectors.absences(found, now=timezone.now())
    return _render(
        request,
        "absences.html",
        {"agenda": found, "absences": coming, "past_absences": past, "back": request.path},
    )


@staff_view
@GET_POST
def absence_new(request, agenda_id: int):
    found = selectors.agenda_for_absences(request.user, agenda_id)
    form = AbsenceForm(request.POST or None, zone=found.zone)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = services.create_absence(
                user=request.user,
                agenda=found,
                start=data["start"],
                end=data["end"],
                reason=data["reason"],
            )
        except InvalidInput as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("Absence saved: no slot is offered during it."))
            if result.booked_during:
                messages.warning(
                    request,
                    ngettext(
                        "%(count)d appointment is already booked during this absence: it stays "
                        "booked until you move or cancel it in the agenda.",
                        "%(count)d appointments are already booked during this absence: they "
                        "stay booked until you move or cancel them in the agenda.",
                        result.booked_during,
                    )
                    % {"count": result.booked_during},
                )
            return redirect(_absences_url(request, found))
    return _render(
        request,
        "absence_form.html",
        {"agenda": found, "form": form, "back": _absences_url(request, found)},
    )


@staff_view
@GET_POST
def absence_delete(request, agenda_id: int, pk: int):
    found = selectors.agenda_for_absences(request.user, agenda_id)
    absence = selectors.absence_of(found, pk)
    if request.method == "POST":
        services.delete_absence(user=request.user, absence=absence)
        messages.success(request, _("Absence deleted: its slots are offered again."))
        return redirect(_absences_url(request, found))
    return _render(
        request,
        "confirm_delete.html",
        {
            "agenda": found,
            "kind": "absence",
            "object": absence,
            "back": _absences_url(request, found),
        },
    )


_AGENDA = "reglages/agenda/<id:agenda_id>/"

urlpatterns: list = [
    path("reglages/", home, name="settings_home"),
    path("reglages/politique/<id:organisation_id>/", policy, name="settings_policy"),
    path(_AGENDA, agenda, name="settings_agenda"),
    path(_AGENDA + "rappels/", reminders, name="settings_reminders"),
    path(_AGENDA + "regulation/", regulation, name="settings_regulation"),
    path(_AGENDA + "apercu/", preview, name="settings_preview"),
    path(_AGENDA + "motifs/nouveau/", motive_new, name="settings_motive_new"),
    path(_AGENDA + "motifs/<id:pk>/", motive_edit, name="settings_motive"),
    path(_AGENDA + "motifs/<id:pk>/supprimer/", motive_delete, name="settings_motive_delete"),
    path(_AGENDA + "plages/nouveau/", opening_new, name="settings_opening_new"),
    path(_AGENDA + "plages/<id:pk>/", opening_edit, name="settings_opening"),
    path(_AGENDA + "plages/<id:pk>/supprimer/", opening_delete, name="settings_opening_delete"),
    path(_AGENDA + "absences/", absences, name="settings_absences"),
    path(_AGENDA + "absences/nouveau/", absence_new, name="settings_absence_new"),
    path(_AGENDA + "absences/<id:pk>/supprimer/", absence_delete, name="settings_absence_delete"),
]
