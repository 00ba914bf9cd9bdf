"""Substitutes (remplaçants): a titular practitioner lets another practitioner of Consulto work
on their agenda for a period, for video consultations only or for the whole agenda.

Only the titular grants or revokes; each change is audited. Whether a delegation lets someone
into a room is decided by ``rooms.active_delegation``, always against the appointment's time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from consulto.core import audit
from consulto.core.errors import InvalidInput, PermissionDenied
from consulto.directory.models import Practitioner
from consulto.directory.rpps import normalise_rpps

from .models import Delegation

LONGEST = timedelta(days=366)


class DelegationRefused(InvalidInput):
    code = "delegation_refused"


def find_substitute(query: str) -> Practitioner | None:
    """A practitioner with an account, by RPPS number or by their login e-mail."""
    query = query.strip()
    number = normalise_rpps(query)
    if len(number) == 11 and number.isdigit():
        return Practitioner.objects.filter(rpps=number, user__isnull=False).first()
    if "@" in query:
        user = get_user_model().objects.filter(email__iexact=query).first()
        return getattr(user, "practitioner", None) if user is not None else None
    return None


def grant(
    *,
    titular: Practitioner,
    by,
    substitute_query: str,
    starts_at: datetime,
    ends_at: datetime,
    scope: str,
    now: datetime | None = None,
) -> Delegation:
    now = now or timezone.now()
    if titular.user_id is None or titular.user_id != getattr(by, "pk", None):
        raise PermissionDenied(_("Only the titular practitioner grants a delegation."))
    substitute = find_substitute(substitute_query)
    if substitute is None:
        raise DelegationRefused(
            _("No practitioner on Consulto has this RPPS number or e-mail."), field="substitute"
        )
    if substitute.pk == titular.pk:
        raise DelegationRefused(_("You cannot be your own substitute."), field="substitute")
    if substitute.rpps_status == Practitioner.RppsStatus.TO_VERIFY:
        raise DelegationRefused(
            _("This practitioner's RPPS number is not checked yet."), field="substitute"
        )
    if scope not in Delegation.Scope.values:
        raise DelegationRefused(_("Choose what the substitute may do."), field="scope")
    if ends_at <= starts_at:
        raise DelegationRefused(_("The period must end after it starts."), field="ends_at")
    if ends_at <= now:
        raise DelegationRefused(_("This period is already over."), field="ends_at")
    if ends_at - starts_at > LONGEST:
        raise DelegationRefused(_("A delegation lasts one year at most."), field="ends_at")
    with transaction.atomic():
        Practitioner.objects.select_for_update().get(pk=titular.pk)
        overlapping = Delegation.objects.filter(
            titular=titular,
            substitute=substitute,
            revoked_at__isnull=True,
            starts_at__lt=ends_at,
            ends_at__gt=starts_at,
        ).exists()
        if overlapping:
            raise DelegationRefused(
                _("%(name)s already replaces you during part of this period.")
                % {"name": substitute.display_name},
                field="starts_at",
            )
        delegation = Delegation.objects.create(
            titular=titular,
            substitute=substitute,
            starts_at=starts_at,
            ends_at=ends_at,
            scope=scope,
            created_by=by,
        )
        audit.record(
            actor=by, action=audit.Action.CREATE, target_type="delegation", target_id=delegation.pk
        )
    return delegation


def revoke(*, delegation: Delegation, by, now: datetime | None = None) -> Delegation:
    """End a delegation now (it stays in the history)."""
    if delegation.titular.user_id != getattr(by, "pk", None):
        raise PermissionDenied(_("Only the titular practitioner revokes a delegation."))
    now = now or timezone.now()
    with transaction.atomic():
        Delegation.objects.filter(pk=delegation.pk, revoked_at__isnull=True).update(revoked_at=now)
        audit.record(
            actor=by, action=audit.Action.UPDATE, target_type="delegation", target_id=delegation.pk
        )
    delegation.refresh_from_db()
    return delegation


def delegations_of(practitioner: Practitioner, *, now: datetime | None = None):
    """Given and received, current and future first, then past ones."""
    now = now or timezone.now()
    given = Delegation.objects.filter(titular=practitioner).select_related("substitute")
    received = Delegation.objects.filter(substitute=practitioner).select_related("titular")
    return (
        sorted(given, key=lambda d: (d.ends_at < now, d.starts_at)),
        sorted(received, key=lambda d: (d.ends_at < now, d.starts_at)),
    )
