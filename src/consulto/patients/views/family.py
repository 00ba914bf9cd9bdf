"""The waiting list ("tell me if an earlier slot frees up") and the relatives an account books
for."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from consulto.core.errors import DomainError
from consulto.core.inputs import parse_id
from consulto.core.time import local_midnight

from .. import selectors, services, waitlist
from ..forms import RelativeForm, WaitlistForm
from .appointments import my_appointment_or_404
from .search import practitioner_url


@login_required
@require_POST
def waitlist_join(request):
    if request.POST.get("appointment"):
        # Wait for an earlier slot than an appointment one has: it would replace it.
        found = my_appointment_or_404(request, parse_id(request.POST["appointment"]) or 0)
        motive, patient, before = found.motive, found.patient, found.start
        back = reverse("appointment", args=[found.pk])
    else:
        motive = selectors.bookable_motive(
            agenda_id=parse_id(request.POST.get("agenda")) or 0,
            motive_id=parse_id(request.POST.get("motive")) or 0,
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
