"""The gate in front of every back-office page: logged in, staff, second factor set up; the
session lapses after CONSULTO_STAFF_SESSION_MINUTES without a request."""

from __future__ import annotations

from functools import wraps

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from .permissions import is_staff_member


def has_second_factor(user) -> bool:
    return Authenticator.objects.filter(
        user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
    ).exists()


def staff_view(view):
    @wraps(view)
    def gate(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_staff_member(request.user):
            raise PermissionDenied
        if not has_second_factor(request.user):
            messages.info(
                request,
                _(
                    "Health data is behind a second factor: set up an authenticator app to "
                    "open the practice space."
                ),
            )
            return redirect("mfa_activate_totp")
        # Sliding expiry: every request pushes it back, a quiet spell ends the session.
        request.session.set_expiry(settings.CONSULTO_STAFF_SESSION_MINUTES * 60)
        return view(request, *args, **kwargs)

    return gate
