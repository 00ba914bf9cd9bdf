"""An organisation's API clients as its admins see them on /pro/integrations/: which
organisations they manage, their partners and each partner's calls.

Only an organisation admin manages its API clients (``Perm.POLICY``, the practice's own rules):
another member of the organisation is refused (403), anyone else does not learn that the client
exists (404), as everywhere in the back office (``practice/permissions.py``).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404

from consulto.core import audit
from consulto.directory.models import Organisation
from consulto.practice.permissions import Perm, check_organisation, organisations_with

from .models import ApiCall, Partner
from .partners import create_partner, revoke_partner

# The classes of answer the call log filters on: "2" for 2xx...
STATUS_CLASSES = ("2", "3", "4", "5")


def administered(user) -> list[Organisation]:
    """The organisations whose API clients ``user`` manages, by name."""
    return list(
        Organisation.objects.filter(pk__in=organisations_with(user, Perm.POLICY)).order_by("name")
    )


def check_admin(user, organisation_id: int) -> None:
    """404 outside the user's organisations, 403 for a member who is not its admin."""
    check_organisation(user, organisation_id, Perm.POLICY)


def partners_of(*, user, organisation_id: int) -> list[Partner]:
    """The organisation's API clients, active ones first, then by name."""
    check_admin(user, organisation_id)
    found = Partner.objects.filter(
        organisation_id=organisation_id, kind=Partner.Kind.ORGANISATION
    ).select_related("application")
    return sorted(found, key=lambda p: (not p.is_active, p.name.casefold(), p.pk))


def partner_for(*, user, partner_id: int) -> Partner:
    """One API client of an organisation the user administers (the SAS platform's is no
    organisation's: managed by an operator with ``manage.py fhir_partner``)."""
    partner = (
        Partner.objects.filter(pk=partner_id, kind=Partner.Kind.ORGANISATION)
        .select_related("application", "organisation")
        .first()
    )
    if partner is None:
        raise Http404
    check_admin(user, partner.organisation_id)
    return partner


def calls_of(partner: Partner, *, status_class: str = "") -> QuerySet[ApiCall]:
    """The partner's calls, newest first; ``status_class`` "4" keeps the 4xx answers."""
    calls = ApiCall.objects.filter(partner=partner)
    if status_class in STATUS_CLASSES:
        low = int(status_class) * 100
        calls = calls.filter(status__gte=low, status__lt=low + 100)
    return calls.order_by("-at", "-id")


@transaction.atomic
def create_client(
    *, user, organisation_id: int, name: str, scopes, rate_per_minute: int, ip=None
) -> tuple[Partner, str]:
    """A new API client of the organisation; returns it and its secret (shown once)."""
    check_admin(user, organisation_id)
    partner, secret = create_partner(
        name=name,
        kind=Partner.Kind.ORGANISATION,
        organisation=Organisation.objects.get(pk=organisation_id),
        scopes=scopes,
        rate_per_minute=rate_per_minute,
        created_by=user,
    )
    audit.record(
        actor=user,
        action=audit.Action.CREATE,
        target_type="api_client",
        target_id=partner.pk,
        organisation_id=organisation_id,
        ip=ip,
    )
    return partner, secret


@transaction.atomic
def revoke_client(*, user, partner: Partner, ip=None) -> bool:
    """Stop the client at once (its tokens die); False when it was already revoked."""
    check_admin(user, partner.organisation_id)
    if not partner.is_active:
        return False
    revoke_partner(partner)
    audit.record(
        actor=user,
        action=audit.Action.DELETE,
        target_type="api_client",
        target_id=partner.pk,
        organisation_id=partner.organisation_id,
        ip=ip,
    )
    return True
