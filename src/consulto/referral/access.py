"""The gate in front of the regulator's console: logged in, a member of a regulation centre as a
regulating doctor, an operator (OSNP) or the centre's admin, a second factor set up (as the
practice space), and a session that lapses after a quiet spell."""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render
from django.utils.translation import gettext as _

from consulto.directory.models import Membership, Organisation
from consulto.practice.access import second_factor_gate

Role = Membership.Role
CONSOLE_ROLES = (Role.REGULATOR, Role.OPERATOR, Role.ADMIN)


@dataclass(frozen=True)
class Seat:
    """Where the user sits in the regulation room: their centre and role there."""

    centre: Organisation
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


def seat_of(user) -> Seat | None:
    """The user's regulation centre (the first by name when there are several)."""
    if not user.is_authenticated:
        return None
    membership = (
        Membership.objects.select_related("organisation")
        .filter(
            user=user,
            role__in=CONSOLE_ROLES,
            organisation__kind=Organisation.Kind.REGULATION_CENTRE,
        )
        .order_by("organisation__name", "organisation_id", "role")
        .first()
    )
    if membership is None:
        return None
    roles = set(
        Membership.objects.filter(
            user=user, organisation=membership.organisation, role__in=CONSOLE_ROLES
        ).values_list("role", flat=True)
    )
    role = Role.ADMIN if Role.ADMIN in roles else membership.role
    return Seat(centre=membership.organisation, role=role)


def regulation_view(view=None, *, admin_only: bool = False):
    def decorate(view):
        @wraps(view)
        def gate(request, *args, **kwargs):
            if not request.user.is_authenticated:
                messages.info(
                    request,
                    _("The regulation console is for regulation centres' staff: log in."),
                )
                return redirect_to_login(request.get_full_path())
            seat = seat_of(request.user)
            if seat is None or (admin_only and not seat.is_admin):
                return render(request, "referral/not_regulation.html", {"seat": seat}, status=403)
            refused = second_factor_gate(
                request,
                _(
                    "Health data is behind a second factor: set up an authenticator app "
                    "to open the regulation console."
                ),
            )
            if refused:
                return refused
            request.seat = seat
            return view(request, *args, **kwargs)

        return gate

    return decorate(view) if view is not None else decorate
