"""The gate in front of every back-office page: logged in, staff, second factor set up; the
session lapses after CONSULTO_STAFF_SESSION_MINUTES without a request."""

from __future__ import annotations

import time
from functools import wraps

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from .permissions import is_staff_member

CHECKED = "consulto_staff_checked"
RECHECK_SECONDS = 60


def has_second_factor(user) -> bool:
    return Authenticator.objects.filter(
        user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
    ).exists()


def staff_view(view):
    @wraps(view)
    def gate(request, *args, **kwargs):
        if not request.user.is_authenticated:
            messages.info(
                request,
                _(
                    "The practice space is for health professionals and their staff: log in "
                    "with your professional account. Patients: log in to see your "
                    "appointments, or find a practitioner from the home page."
                ),
            )
            return redirect_to_login(request.get_full_path())
        if not is_staff_member(request.user):
            # A patient who typed /pro/ learns what the space is for and where to go instead.
            return render(request, "practice/staff_only.html", status=403)
        refused = second_factor_gate(
            request,
            _(
                "Health data is behind a second factor: set up an authenticator app to "
                "open the practice space."
            ),
        )
        return refused or view(request, *args, **kwargs)

    return gate


def second_factor_gate(request, message: str):
    """For a staff space (the practice's, the regulation console): a redirect to set up a
    second factor when the user has none (``message`` says why), else None. The session has a
    sliding expiry, renewed once a minute (not a session write per request): a quiet spell ends
    it. The second factor is checked again at the same pace."""
    session = request.session
    now = int(time.time())
    if now - session.get(CHECKED, 0) < RECHECK_SECONDS:
        return None
    if not has_second_factor(request.user):
        messages.info(request, message)
        return redirect("mfa_activate_totp")
    session[CHECKED] = now
    session.set_expiry(settings.CONSULTO_STAFF_SESSION_MINUTES * 60)
    return None
