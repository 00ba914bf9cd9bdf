"""Calendar sync: the practitioner's secret feed of one agenda, and the feed itself (.ics)."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from consulto.core.audit import client_ip

from .. import feeds
from ..access import staff_view

# Session key: the address is shown once, on the page the form redirects to.
NEW_TOKEN = "consulto_new_feed"  # noqa: S105


@require_http_methods(["GET", "POST"])
@staff_view
def feed_settings(request, agenda_id: int):
    page = feeds.feed_page(user=request.user, agenda_id=agenda_id)
    if request.method == "POST":
        return _act(request, page.agenda)
    token = request.session.pop(NEW_TOKEN, {}).get(str(agenda_id))
    new_url = (
        feeds.feed_url(token)
        if token and page.feed and page.feed.token_hash == feeds.hash_token(token)
        else None
    )
    return render(
        request,
        "practice/feed.html",
        {"section": "settings", "agenda": page.agenda, "feed": page.feed, "new_url": new_url},
    )


def _act(request, agenda):
    action, ip = request.POST.get("action"), client_ip(request)
    with_names = request.POST.get("with_patient_names") == "on"
    if action in ("create", "regenerate"):
        new = feeds.create_feed(
            user=request.user, agenda=agenda, with_patient_names=with_names, ip=ip
        )
        request.session[NEW_TOKEN] = {str(agenda.pk): new.token}
        messages.success(
            request,
            _("Your new calendar address is ready; the previous one no longer works.")
            if action == "regenerate"
            else _("Your calendar address is ready."),
        )
    elif action == "names":
        feeds.set_patient_names(
            user=request.user, agenda=agenda, with_patient_names=with_names, ip=ip
        )
        messages.success(
            request,
            _("Patient names will appear in your calendar.")
            if with_names
            else _("Patient names will no longer appear in your calendar."),
        )
    elif action == "revoke" and feeds.revoke_feed(user=request.user, agenda=agenda, ip=ip):
        messages.success(request, _("The calendar address no longer works."))
    return redirect("practice:feed", agenda_id=agenda.pk)


@require_GET
def agenda_feed(request, token: str):
    """Public, no login: the secret token is the key. Unknown or revoked: not found."""
    feed = feeds.resolve(token)
    if feed is None:
        raise Http404
    body = feeds.feed_calendar(feed)
    feeds.touch(feed)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="agenda.ics"'
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


urlpatterns = [
    path("agenda/<id:agenda_id>/synchronisation/", feed_settings, name="feed"),
]
