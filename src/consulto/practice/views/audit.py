"""The audit trail: organisation admins browse who read or changed health data, and export it."""

import csv

from django import forms
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from consulto.core.fields import DateField, IdField
from consulto.core.models import AuditEvent

from ..access import staff_view
from ..audit_trail import AuditFilters, audit_trail

PAGE_SIZE = 50


class AuditFilterForm(forms.Form):
    org = IdField(required=False)
    actor = IdField(required=False, label=gettext_lazy("Who"))
    action = forms.ChoiceField(
        required=False,
        choices=[("", gettext_lazy("Any action")), *AuditEvent.Action.choices],
        label=gettext_lazy("Action"),
    )
    target_type = forms.CharField(required=False, max_length=32, label=gettext_lazy("What"))
    patient_file = IdField(required=False, label=gettext_lazy("Patient file number"))
    date_from = DateField(required=False, label=gettext_lazy("From"))
    date_to = DateField(required=False, label=gettext_lazy("To"))

    def filters(self) -> AuditFilters:
        """The valid fields' values; a field in error filters nothing (its error is shown)."""
        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        return AuditFilters(
            actor_id=data.get("actor"),
            action=data.get("action") or "",
            target_type=data.get("target_type") or "",
            patient_file_id=data.get("patient_file"),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )


@require_GET
@staff_view
def audit(request):
    form = AuditFilterForm(request.GET)
    form.is_valid()
    trail = audit_trail(
        user=request.user,
        organisation_id=form.cleaned_data.get("org"),
        filters=form.filters(),
    )
    if request.GET.get("format") == "csv":
        return _csv(trail)
    page = Paginator(trail.events, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "practice/audit.html",
        {"section": "audit", "trail": trail, "form": form, "page": page},
    )


class _Echo:
    def write(self, value):
        return value


def _cell(value) -> str:
    """Text as a spreadsheet shows it, never as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(trail) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    header = [
        _("When"),
        _("Who"),
        _("On behalf of"),
        _("Action"),
        _("What"),
        _("Item"),
        _("Patient file"),
        _("IP address"),
    ]

    def rows():
        yield writer.writerow(header)
        for event in trail.events.iterator(chunk_size=2000):
            yield writer.writerow(
                _cell(v)
                for v in (
                    timezone.localtime(event.at).isoformat(timespec="seconds"),
                    event.actor.email if event.actor else "",
                    event.on_behalf_of.email if event.on_behalf_of else "",
                    event.get_action_display(),
                    event.target_type,
                    event.target_id,
                    event.patient_file_id,
                    event.ip,
                )
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    day = timezone.localdate().isoformat()
    response["Content-Disposition"] = (
        f'attachment; filename="audit-{trail.organisation.pk}-{day}.csv"'
    )
    response["Cache-Control"] = "private, no-store"
    return response


urlpatterns = [path("journal/", audit, name="audit")]
