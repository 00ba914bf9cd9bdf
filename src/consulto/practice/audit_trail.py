"""The audit trail an organisation admin browses: who read or changed which health data, when.

Only admins see it (practice.permissions, Perm.AUDIT), and only their organisations' events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from consulto.core.models import AuditEvent
from consulto.core.time import PARIS, local_midnight
from consulto.directory.models import Organisation

from .permissions import Perm, check_organisation, organisations_with


@dataclass(frozen=True)
class AuditFilters:
    actor_id: int | None = None
    action: str = ""
    target_type: str = ""
    patient_file_id: int | None = None
    date_from: date | None = None  # local dates, both included
    date_to: date | None = None


@dataclass
class AuditTrail:
    organisation: Organisation
    organisations: list[Organisation]  # those the admin may choose from
    actors: list  # the organisation's members, for the "who" filter
    target_types: list[str]
    events: QuerySet[AuditEvent]  # filtered, newest first


def audit_trail(
    *, user, organisation_id: int | None = None, filters: AuditFilters = AuditFilters()
) -> AuditTrail:
    """403 for staff who are not admins anywhere; 404 for an organisation they do not run."""
    allowed = organisations_with(user, Perm.AUDIT)
    if not allowed:
        raise PermissionDenied
    if organisation_id is None:
        organisation_id = allowed[0]
    check_organisation(user, organisation_id, Perm.AUDIT)

    of_organisation = AuditEvent.objects.filter(organisation_id=organisation_id)
    organisations = list(Organisation.objects.filter(pk__in=allowed).order_by("name"))
    return AuditTrail(
        organisation=next(o for o in organisations if o.pk == organisation_id),
        organisations=organisations,
        actors=list(
            get_user_model()
            .objects.filter(memberships__organisation_id=organisation_id)
            .distinct()
            .order_by("last_name", "first_name", "email")
        ),
        target_types=sorted(
            of_organisation.order_by().values_list("target_type", flat=True).distinct()
        ),
        events=_filtered(of_organisation, filters)
        .select_related("actor", "on_behalf_of")
        .order_by("-at", "-id"),
    )


def _filtered(events: QuerySet[AuditEvent], f: AuditFilters) -> QuerySet[AuditEvent]:
    if f.actor_id is not None:
        events = events.filter(actor_id=f.actor_id)
    if f.action:
        events = events.filter(action=f.action)
    if f.target_type:
        events = events.filter(target_type=f.target_type)
    if f.patient_file_id is not None:
        events = events.filter(patient_file_id=f.patient_file_id)
    if f.date_from:
        events = events.filter(at__gte=local_midnight(f.date_from, PARIS))
    if f.date_to:
        events = events.filter(at__lt=local_midnight(f.date_to + timedelta(days=1), PARIS))
    return events
