"""An organisation admin's webhooks: list, create (the secret shown once), change the events,
turn off or on, delete, see the deliveries and send one again, send a test event."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from consulto.core.errors import InvalidInput
from consulto.core.inputs import parse_id
from consulto.practice.access import staff_view
from consulto.practice.files import organisations_of
from consulto.practice.permissions import Perm, check_organisation, staff_roles

from .. import webhooks
from ..models import WebhookDelivery, WebhookEndpoint

PAGE_SIZE = 25
# Organisation admins only (as the team page): their organisation's software is theirs to wire.
ADMIN = Perm.POLICY


class EndpointForm(forms.Form):
    url = forms.CharField(
        label=gettext_lazy("Address (https://…)"),
        max_length=500,
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    events = forms.MultipleChoiceField(
        label=gettext_lazy("Events to send"),
        choices=WebhookEndpoint.Event.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Choose at least one event.")},
    )

    def clean_url(self) -> str:
        try:
            return webhooks.check_url(self.cleaned_data["url"])
        except InvalidInput as refused:
            raise forms.ValidationError(str(refused.message)) from None


def _organisation(request):
    """The organisation the admin works on (``org`` of the query or form), 403 when they
    administer none."""
    organisations = organisations_of(request.user, ADMIN)
    if not organisations:
        raise PermissionDenied
    wanted = parse_id(request.GET.get("org") or request.POST.get("org"))
    chosen = next((o for o in organisations if o.pk == wanted), organisations[0])
    return chosen, organisations


def _endpoint(request, endpoint_id: int) -> WebhookEndpoint:
    """The endpoint, 404 when it is of an organisation the user is not staff of, 403 when they
    are not its admin."""
    endpoint = WebhookEndpoint.objects.select_related("organisation").filter(pk=endpoint_id).first()
    if endpoint is None or endpoint.organisation_id not in staff_roles(request.user):
        raise Http404
    check_organisation(request.user, endpoint.organisation_id, ADMIN)
    return endpoint


def _context(**values) -> dict:
    return {"section": "integrations", **values}


@staff_view
@require_http_methods(["GET"])
def endpoint_list(request):
    organisation, organisations = _organisation(request)
    endpoints = list(WebhookEndpoint.objects.filter(organisation=organisation).order_by("id"))
    labels = dict(WebhookEndpoint.Event.choices)
    for endpoint in endpoints:
        endpoint.event_labels = [labels.get(e, e) for e in sorted(endpoint.event_set)]
    return render(
        request,
        "fhir/webhooks/list.html",
        _context(
            organisation=organisation,
            organisations=organisations,
            endpoints=endpoints,
            most=webhooks.MAX_ENDPOINTS,
        ),
    )


@never_cache
@staff_view
@require_http_methods(["GET", "POST"])
def endpoint_new(request):
    organisation, organisations = _organisation(request)
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint, secret = webhooks.create_endpoint(
                organisation_id=organisation.pk,
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                by=request.user,
            )
        except InvalidInput as refused:
            form.add_error(None, str(refused.message))
        else:
            # Shown in this answer only (never stored in the session, never cached).
            return render(
                request,
                "fhir/webhooks/created.html",
                _context(organisation=organisation, endpoint=endpoint, secret=secret),
            )
    return render(
        request,
        "fhir/webhooks/form.html",
        _context(organisation=organisation, organisations=organisations, form=form, new=True),
        status=400 if form.is_bound else 200,
    )


@staff_view
@require_http_methods(["GET", "POST"])
def endpoint_edit(request, endpoint_id: int):
    endpoint = _endpoint(request, endpoint_id)
    initial = {"url": endpoint.url, "events": sorted(endpoint.event_set)}
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        webhooks.update_endpoint(
            endpoint=endpoint, url=form.cleaned_data["url"], events=form.cleaned_data["events"]
        )
        messages.success(request, _("Webhook saved."))
        return redirect(_list_url(endpoint))
    return render(
        request,
        "fhir/webhooks/form.html",
        _context(organisation=endpoint.organisation, endpoint=endpoint, form=form, new=False),
        status=400 if form.is_bound else 200,
    )


@staff_view
@require_POST
def endpoint_active(request, endpoint_id: int):
    endpoint = _endpoint(request, endpoint_id)
    active = request.POST.get("active") == "1"
    webhooks.set_active(
        endpoint=endpoint, active=active, reason="" if active else _("Turned off by an admin.")
    )
    messages.success(request, _("Webhook turned on.") if active else _("Webhook turned off."))
    return redirect(_list_url(endpoint))


@staff_view
@require_http_methods(["GET", "POST"])
def endpoint_delete(request, endpoint_id: int):
    endpoint = _endpoint(request, endpoint_id)
    if request.method == "POST":
        webhooks.delete_endpoint(endpoint=endpoint)
        messages.success(request, _("Webhook deleted."))
        return redirect(_list_url(endpoint))
    return render(
        request,
        "fhir/webhooks/delete.html",
        _context(organisation=endpoint.organisation, endpoint=endpoint),
    )


@staff_view
@require_POST
def endpoint_test(request, endpoint_id: int):
    endpoint = _endpoint(request, endpoint_id)
    webhooks.send_test_event(endpoint=endpoint)
    if endpoint.active:
        messages.success(request, _("Test event queued: it appears below once sent."))
    else:
        messages.warning(request, _("Test event queued: it will go once the webhook is on."))
    return redirect("fhir_webhooks:webhook_deliveries", endpoint_id=endpoint.pk)


@staff_view
@require_http_methods(["GET"])
def delivery_log(request, endpoint_id: int):
    endpoint = _endpoint(request, endpoint_id)
    deliveries = endpoint.deliveries.order_by("-created_at", "-id").only(
        "event_id",
        "event_type",
        "status",
        "attempts",
        "last_status_code",
        "last_error",
        "created_at",
        "delivered_at",
        "next_attempt_at",
        "endpoint_id",
    )
    page = Paginator(deliveries, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "fhir/webhooks/deliveries.html",
        _context(organisation=endpoint.organisation, endpoint=endpoint, page=page),
    )


@staff_view
@require_POST
def delivery_replay(request, endpoint_id: int, delivery_id: int):
    endpoint = _endpoint(request, endpoint_id)
    delivery = WebhookDelivery.objects.filter(pk=delivery_id, endpoint=endpoint).first()
    if delivery is None:
        raise Http404
    webhooks.replay(delivery=delivery)
    messages.success(request, _("The event will be sent again, with the same event id."))
    return redirect("fhir_webhooks:webhook_deliveries", endpoint_id=endpoint.pk)


def _list_url(endpoint: WebhookEndpoint) -> str:
    return reverse("fhir_webhooks:webhooks") + f"?org={endpoint.organisation_id}"
