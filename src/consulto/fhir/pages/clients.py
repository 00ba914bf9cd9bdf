"""``/pro/integrations/``: an organisation admin's API clients (partners of the FHIR facade):
the list, a new client (its secret shown once), revoking one, and each client's call log."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.hashers import check_password
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from consulto.core.audit import client_ip
from consulto.core.fields import IdField
from consulto.practice.access import staff_view

from .. import clients
from ..access import SCOPES
from ..refs import base_url
from ..views.discovery import oauth_urls

# Session key: the new client's secret, shown once on the page the form redirects to.
NEW_SECRET = "consulto_new_api_client"  # noqa: S105
MAX_RATE = 6000
PAGE_SIZE = 50


class ClientForm(forms.Form):
    org = IdField(widget=forms.HiddenInput)
    name = forms.CharField(
        label=gettext_lazy("Name of the software"),
        max_length=200,
        help_text=gettext_lazy("As your team will recognise it, e.g. “SIH of the clinic”."),
    )
    scopes = forms.MultipleChoiceField(
        label=gettext_lazy("What it may do"),
        choices=list(SCOPES.items()),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Choose at least one permission.")},
    )
    rate_per_minute = forms.IntegerField(
        label=gettext_lazy("Requests per minute"),
        min_value=1,
        max_value=MAX_RATE,
        initial=600,
        help_text=gettext_lazy("Past this rate, the software is asked to wait (HTTP 429)."),
    )


class CallFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Answer"),
        required=False,
        choices=[
            ("", gettext_lazy("All")),
            ("2", gettext_lazy("Successes (2xx)")),
            ("4", gettext_lazy("Refusals and errors of the caller (4xx)")),
            ("5", gettext_lazy("Errors of the server (5xx)")),
        ],
    )


def _render(request, template: str, context: dict, status: int = 200):
    return render(
        request, f"fhir/{template}", {"section": "integrations", **context}, status=status
    )


def _chosen(organisations, wanted):
    return next((o for o in organisations if str(o.pk) == str(wanted)), organisations[0])


def _webhooks_url(request) -> str | None:
    """The organisation's webhooks page, when it is served (built by its own feature)."""
    url = reverse("integrations") + "webhooks/"
    try:
        resolve(url)
    except Resolver404:
        return None
    return url


@require_GET
@staff_view
def home(request):
    organisations = clients.administered(request.user)
    if not organisations:
        raise PermissionDenied
    organisation = _chosen(organisations, request.GET.get("org"))
    return _render(
        request,
        "integrations.html",
        {
            "organisation": organisation,
            "organisations": organisations,
            "partners": clients.partners_of(user=request.user, organisation_id=organisation.pk),
            "webhooks_url": _webhooks_url(request),
            "base_url": base_url(),
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
@staff_view
def client_new(request):
    organisations = clients.administered(request.user)
    if not organisations:
        raise PermissionDenied
    if request.method == "POST":
        form = ClientForm(request.POST)
        if form.is_valid():
            partner, secret = clients.create_client(
                user=request.user,
                organisation_id=form.cleaned_data["org"],
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                rate_per_minute=form.cleaned_data["rate_per_minute"],
                ip=client_ip(request),
            )
            request.session[NEW_SECRET] = {str(partner.pk): secret}
            messages.success(request, _("The API client is created."))
            return redirect("integrations_client", partner_id=partner.pk)
        organisation = _chosen(organisations, form.cleaned_data.get("org"))
    else:
        organisation = _chosen(organisations, request.GET.get("org"))
        form = ClientForm(initial={"org": organisation.pk, "rate_per_minute": 600})
    clients.check_admin(request.user, organisation.pk)
    return _render(request, "client_new.html", {"form": form, "organisation": organisation})


@require_GET
@staff_view
def client(request, partner_id: int):
    partner = clients.partner_for(user=request.user, partner_id=partner_id)
    secret = request.session.pop(NEW_SECRET, {}).get(str(partner.pk))
    if secret and not (
        partner.is_active and check_password(secret, partner.application.client_secret)
    ):
        secret = None
    response = _render(
        request,
        "client.html",
        {
            "partner": partner,
            "scopes": [(name, SCOPES[name]) for name in sorted(partner.scope_set & set(SCOPES))],
            "secret": secret,
            "token_url": oauth_urls()["token"],
            "base_url": base_url(),
        },
    )
    if secret:
        response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "HEAD", "POST"])
@staff_view
def client_revoke(request, partner_id: int):
    partner = clients.partner_for(user=request.user, partner_id=partner_id)
    if request.method == "POST":
        if clients.revoke_client(user=request.user, partner=partner, ip=client_ip(request)):
            messages.success(
                request,
                _("%(name)s is revoked: its tokens no longer work.") % {"name": partner.name},
            )
        return redirect(reverse("integrations") + f"?org={partner.organisation_id}")
    return _render(request, "client_revoke.html", {"partner": partner})


@require_GET
@staff_view
def client_calls(request, partner_id: int):
    partner = clients.partner_for(user=request.user, partner_id=partner_id)
    form = CallFilterForm(request.GET)
    status_class = form.cleaned_data["status"] if form.is_valid() else ""
    calls = clients.calls_of(partner, status_class=status_class)
    page = Paginator(calls, PAGE_SIZE).get_page(request.GET.get("page"))
    return _render(request, "client_calls.html", {"partner": partner, "form": form, "page": page})
