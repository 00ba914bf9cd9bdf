"""The pages every part of the site shares: error pages (400, 403, 404, 500, a refused CSRF
check) in the site's layout and the visitor's language, and the terms of use and privacy notice.

The 400 and 500 pages render without the request's context: no context processor runs, so a
database that is down (the usual cause of a 500) cannot break the page that says so.
"""

from __future__ import annotations

from django.http import HttpResponseBadRequest, HttpResponseForbidden, HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token


@requires_csrf_token
def bad_request(request, exception=None):
    return HttpResponseBadRequest(loader.render_to_string("400.html"))


@requires_csrf_token
def server_error(request):
    return HttpResponseServerError(loader.render_to_string("500.html"))


def csrf_failure(request, reason=""):
    """A form sent from a page too old, from another site, or without cookies."""
    return HttpResponseForbidden(loader.render_to_string("403_csrf.html", request=request))


def terms(request):
    return render(request, "core/terms.html")


def privacy(request):
    return render(request, "core/privacy.html")
