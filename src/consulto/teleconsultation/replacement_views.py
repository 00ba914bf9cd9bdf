"""The practitioner's "Replacements" page: give, follow and revoke delegations, and, as a
substitute, reach the agendas and consultations one runs for a titular."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from consulto.core.errors import DomainError
from consulto.core.inputs import parse_id
from consulto.directory.models import Practitioner
from consulto.practice.access import staff_view
from consulto.scheduling.models import Agenda

from . import delegations
from .forms import DelegationForm
from .models import Delegation


def _zone(practitioner: Practitioner):
    """The titular's wall clock: the zone of their first agenda's site (Paris by default)."""
    agenda = (
        Agenda.objects.select_related("site")
        .filter(practitioner=practitioner)
        .order_by("pk")
        .first()
    )
    return agenda.site.zone if agenda is not None else timezone.get_default_timezone()


@staff_view
@require_http_methods(["GET", "HEAD", "POST"])
def replacements(request):
    practitioner = Practitioner.objects.filter(user=request.user).first()
    if practitioner is None:
        raise Http404
    zone = _zone(practitioner)
    form = DelegationForm()
    with timezone.override(zone):  # the form's times are the titular's wall clock
        if request.method == "POST" and request.POST.get("action") == "revoke":
            delegation = Delegation.objects.filter(
                pk=parse_id(request.POST.get("delegation")) or 0, titular=practitioner
            ).first()
            if delegation is None:
                raise Http404
            delegations.revoke(delegation=delegation, by=request.user)
            messages.success(request, _("The delegation is revoked."))
            return redirect(reverse("replacements"))
        if request.method == "POST":
            form = DelegationForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    given = delegations.grant(
                        titular=practitioner,
                        by=request.user,
                        substitute_query=data["substitute"],
                        starts_at=data["starts_at"],
                        ends_at=data["ends_at"],
                        scope=data["scope"],
                    )
                except DomainError as error:
                    field = error.field if error.field in form.fields else None
                    form.add_error(field, str(error.message))
                else:
                    messages.success(
                        request,
                        _("%(name)s can now replace you during this period.")
                        % {"name": given.substitute.display_name},
                    )
                    return redirect(reverse("replacements"))
        now = timezone.now()
        given, received = delegations.delegations_of(practitioner, now=now)
        received_rows = []
        for delegation in received:
            state = delegations.state_of(delegation, now)
            agenda_ids = []
            if state == "current" and delegation.scope == Delegation.Scope.AGENDA:
                agenda_ids = list(
                    Agenda.objects.filter(
                        practitioner_id=delegation.titular_id, is_active=True
                    ).values_list("pk", flat=True)
                )
            received_rows.append(
                {
                    "delegation": delegation,
                    "state": state,
                    "agenda_query": ",".join(str(a) for a in agenda_ids),
                    "consultations": delegations.consultations_to_run(delegation, now=now),
                }
            )
        return render(
            request,
            "teleconsultation/replacements.html",
            {
                "section": "replacements",
                "form": form,
                "given": [(d, delegations.state_of(d, now)) for d in given],
                "received": received_rows,
                "zone": zone,
            },
            status=400 if form.is_bound and form.errors else 200,
        )
