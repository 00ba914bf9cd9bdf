"""The organisation's team: who holds which role, and which agendas each secretary works on.

Only organisation admins change assignments (Perm.POLICY); each change leaves an audit event.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.http import Http404

from consulto.core import audit
from consulto.directory.models import Membership, Organisation
from consulto.scheduling.models import Agenda

from .models import AgendaAssignment
from .permissions import Perm, check_organisation


@dataclass
class Member:
    user: object
    roles: list[str]
    assigned: set[int]


def team(*, user, organisation_id: int) -> tuple[Organisation, list[Member], list[Agenda]]:
    check_organisation(user, organisation_id, Perm.POLICY)
    organisation = Organisation.objects.get(pk=organisation_id)
    members: dict[int, Member] = {}
    for membership in (
        Membership.objects.filter(organisation_id=organisation_id)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__email")
    ):
        member = members.setdefault(
            membership.user_id, Member(user=membership.user, roles=[], assigned=set())
        )
        member.roles.append(membership.get_role_display())
    agendas = list(
        Agenda.objects.filter(organisation_id=organisation_id, is_active=True).order_by("name")
    )
    for user_id, agenda_id in AgendaAssignment.objects.filter(
        agenda__organisation_id=organisation_id
    ).values_list("user_id", "agenda_id"):
        if user_id in members:
            members[user_id].assigned.add(agenda_id)
    return organisation, list(members.values()), agendas


@transaction.atomic
def set_assignments(*, user, organisation_id: int, secretary_id: int, agenda_ids, ip=None):
    """The secretary works on exactly these agendas of the organisation from now on."""
    check_organisation(user, organisation_id, Perm.POLICY)
    if not Membership.objects.filter(
        organisation_id=organisation_id, user_id=secretary_id, role=Membership.Role.SECRETARY
    ).exists():
        raise Http404
    wanted = set(
        Agenda.objects.filter(organisation_id=organisation_id, pk__in=list(agenda_ids)).values_list(
            "pk", flat=True
        )
    )
    current = AgendaAssignment.objects.filter(
        user_id=secretary_id, agenda__organisation_id=organisation_id
    )
    current.exclude(agenda_id__in=wanted).delete()
    have = set(current.values_list("agenda_id", flat=True))
    AgendaAssignment.objects.bulk_create(
        [AgendaAssignment(user_id=secretary_id, agenda_id=a) for a in sorted(wanted - have)]
    )
    audit.record(
        actor=user,
        action=audit.Action.UPDATE,
        target_type="agenda_assignment",
        target_id=secretary_id,
        organisation_id=organisation_id,
        ip=ip,
    )
    return wanted
