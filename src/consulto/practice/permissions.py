"""Who may do what in the back office: the one place the role rules live.

Services and selectors call these checks; views never decide by themselves. An object of an
organisation the user does not belong to is *not found* (404, its existence is not leaked); one
of their organisation that their role does not allow is *forbidden* (403).

| permission      | organisation admin | department admin    | practitioner | secretary        |
|-----------------|--------------------|---------------------|--------------|------------------|
| agenda view/act | all agendas        | its department's ** | their own    | those assigned   |
| agenda settings | all agendas        | its department's    | their own    | —                |
| absences        | all agendas        | its department's    | their own    | those assigned * |
| calendar feed   | —                  | —                   | their own    | —                |
| patient files   | yes                | yes                 | yes          | yes              |
| notes           | —                  | —                   | yes          | —                |
| documents       | —                  | —                   | yes          | yes              |
| audit trail     | yes                | —                   | —            | —                |
| practice policy | yes                | —                   | —            | —                |
| dashboard       | all agendas        | its department's    | their own    | —                |

* Absences are an agenda's absences and blocked periods (the same rows): whether secretaries
manage them is the organisation's choice, a setting of its practice policy (allowed by default).

** A department admin is a membership with the admin role and a ``department`` (a hospital's
"service"): an organisation admin for the agendas of that department only, and nothing that
spans the organisation (its audit trail, policy and team stay the organisation admin's). In
``staff_roles`` the role reads ``DEPARTMENT_ADMIN``, never ``Role.ADMIN``.

Notes are medical: only practitioners read or write them. A person who is both admin and
practitioner holds two memberships and gets the union.

A substitute (remplaçant) holding a whole-agenda delegation that runs now also gets "agenda
view/act" on the titular's agendas, whatever organisation they belong to, and only for the
appointments inside the delegation's period (``acting_for``); nothing else of that organisation
(no patient file, no settings, no absence: when the titular works is the titular's). What they
do there is audited on the titular's behalf.
"""

from __future__ import annotations

from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404

from consulto.directory.models import Membership
from consulto.scheduling.models import Agenda

from .models import AgendaAssignment, PracticePolicy

Role = Membership.Role
STAFF_ROLES = (Role.ADMIN, Role.PRACTITIONER, Role.SECRETARY)
# Not a stored role: an admin membership limited to one department reads so in ``staff_roles``.
DEPARTMENT_ADMIN = "department_admin"


class Perm(StrEnum):
    AGENDA = "agenda"  # see it and act on its appointments: book, move, cancel, block, status
    SETTINGS = "settings"
    ABSENCES = "absences"  # absences and blocked periods of an agenda
    FEED = "feed"
    FILES = "files"
    NOTES = "notes"
    DOCUMENTS = "documents"
    AUDIT = "audit"
    POLICY = "policy"  # the practice's own rules (no-show limit)
    DASHBOARD = "dashboard"


_ORG_PERMS = {
    Perm.FILES: {Role.ADMIN, DEPARTMENT_ADMIN, Role.PRACTITIONER, Role.SECRETARY},
    Perm.NOTES: {Role.PRACTITIONER},
    Perm.DOCUMENTS: {Role.PRACTITIONER, Role.SECRETARY},
    Perm.AUDIT: {Role.ADMIN},
    Perm.POLICY: {Role.ADMIN},
    Perm.DASHBOARD: {Role.ADMIN, DEPARTMENT_ADMIN, Role.PRACTITIONER},
}


def staff_roles(user) -> dict[int, set[str]]:
    """{organisation id: roles} for the user's back-office memberships (cached on the user);
    an admin of one department reads ``DEPARTMENT_ADMIN``."""
    if not getattr(user, "is_authenticated", False):
        return {}
    cached = getattr(user, "_consulto_staff_roles", None)
    if cached is None:
        cached, departments = {}, {}
        for org_id, role, department_id in Membership.objects.filter(
            user=user, role__in=STAFF_ROLES
        ).values_list("organisation_id", "role", "department_id"):
            if role == Role.ADMIN and department_id is not None:
                role = DEPARTMENT_ADMIN
                departments.setdefault(org_id, set()).add(department_id)
            cached.setdefault(org_id, set()).add(role)
        user._consulto_staff_roles = cached
        user._consulto_admin_departments = departments
    return cached


def administered_departments(user) -> dict[int, set[int]]:
    """{organisation id: department ids} the user administers as a department admin."""
    staff_roles(user)
    return getattr(user, "_consulto_admin_departments", {})


def is_staff_member(user) -> bool:
    return bool(staff_roles(user))


def organisations_with(user, perm: Perm) -> list[int]:
    roles = staff_roles(user)
    if perm in _ORG_PERMS:
        return sorted(o for o, r in roles.items() if r & _ORG_PERMS[perm])
    return sorted(roles)


def allows(user, organisation_id: int, perm: Perm) -> bool:
    """Whether the user's roles in that organisation open ``perm`` (no exception)."""
    return bool(staff_roles(user).get(organisation_id, set()) & _ORG_PERMS[perm])


def check_organisation(user, organisation_id: int, perm: Perm) -> None:
    roles = staff_roles(user).get(organisation_id)
    if not roles:
        raise Http404
    if not roles & _ORG_PERMS[perm]:
        raise PermissionDenied


def delegated_agendas(user) -> dict[int, int]:
    """{agenda id: titular's user id} of the agendas the user runs as a substitute right now
    (cached on the user for the request)."""
    if not getattr(user, "is_authenticated", False):
        return {}
    cached = user.__dict__.get("_consulto_delegated")
    if cached is None:
        from consulto.teleconsultation import delegations

        cached = user.__dict__["_consulto_delegated"] = delegations.current_agendas(user)
    return cached


# What an admin (of the organisation, or of one department) may do on the agendas they run.
ADMIN_AGENDA_PERMS = (Perm.AGENDA, Perm.SETTINGS, Perm.ABSENCES, Perm.DASHBOARD)


def agenda_ids(user, perm: Perm = Perm.AGENDA) -> set[int]:
    """Ids of every agenda the user may use with ``perm`` (AGENDA, SETTINGS, ABSENCES, FEED,
    DASHBOARD)."""
    delegated = set(delegated_agendas(user)) if perm == Perm.AGENDA else set()
    return own_agenda_ids(user, perm) | delegated


def agenda_condition(user, perm: Perm = Perm.AGENDA) -> Q:
    """The agendas of ``agenda_ids`` as a filter on ``Agenda``: to read them in the query that
    reads them, without a query for their ids first."""
    condition = _own_agenda_condition(user, perm)
    if perm == Perm.AGENDA and (delegated := list(delegated_agendas(user))):
        condition |= Q(pk__in=delegated)
    return condition


def own_agenda_ids(user, perm: Perm = Perm.AGENDA) -> set[int]:
    """The same, by the user's own memberships only (not as a substitute)."""
    if not staff_roles(user):
        return set()
    cache = user.__dict__.setdefault("_consulto_agenda_ids", {})
    if perm not in cache:
        # One query, whatever the roles; kept for the rest of the request, and shared by the
        # permissions of the same rule (an admin's settings and absences).
        condition = _own_agenda_condition(user, perm)
        rules = user.__dict__.setdefault("_consulto_agenda_rules", [])
        found = next((ids for rule, ids in rules if rule == condition), None)
        if found is None:
            found = frozenset(Agenda.objects.filter(condition).values_list("pk", flat=True))
            rules.append((condition, found))
        cache[perm] = found
    return set(cache[perm])


def _own_agenda_condition(user, perm: Perm) -> Q:
    roles = staff_roles(user)
    admin_orgs = [o for o, r in roles.items() if Role.ADMIN in r]
    practitioner_orgs = [o for o, r in roles.items() if Role.PRACTITIONER in r]
    secretary_orgs = [o for o, r in roles.items() if Role.SECRETARY in r]
    departments = [d for ids in administered_departments(user).values() for d in ids]
    condition = Q(pk__in=[])
    if admin_orgs and perm in ADMIN_AGENDA_PERMS:
        condition |= Q(organisation_id__in=admin_orgs)
    if departments and perm in ADMIN_AGENDA_PERMS:
        department_orgs = [o for o, r in roles.items() if DEPARTMENT_ADMIN in r]
        condition |= Q(organisation_id__in=department_orgs, department_id__in=departments)
    if practitioner_orgs:
        condition |= Q(organisation_id__in=practitioner_orgs, practitioner__user=user)
    if secretary_orgs and perm in (Perm.AGENDA, Perm.ABSENCES):
        assigned = Q(pk__in=AgendaAssignment.objects.filter(user=user).values("agenda_id"))
        if perm == Perm.ABSENCES:
            # Allowed unless the organisation's policy says otherwise (no policy: allowed).
            assigned &= ~Q(
                organisation_id__in=PracticePolicy.objects.filter(
                    organisation_id__in=secretary_orgs, secretaries_manage_absences=False
                ).values("organisation_id")
            )
        condition |= Q(organisation_id__in=secretary_orgs) & assigned
    return condition


def check_agenda(user, agenda: Agenda | int, perm: Perm = Perm.AGENDA) -> None:
    """Raise 404 for an agenda outside the user's organisations, 403 for one inside them that
    their role does not open to them."""
    organisation_id = (
        agenda.organisation_id
        if isinstance(agenda, Agenda)
        else Agenda.objects.filter(pk=agenda).values_list("organisation_id", flat=True).first()
    )
    agenda_id = agenda.pk if isinstance(agenda, Agenda) else agenda
    if perm == Perm.AGENDA and agenda_id in delegated_agendas(user):
        return
    if organisation_id is None or organisation_id not in staff_roles(user):
        raise Http404
    if agenda_id not in agenda_ids(user, perm):
        raise PermissionDenied


def acting_for(user, appointment):
    """The titular's user when ``user`` reaches this appointment only as their substitute (None
    when it is one of their own agendas); refused when the delegation does not cover its time."""
    agenda_id = appointment.agenda_id
    if agenda_id not in delegated_agendas(user) or agenda_id in own_agenda_ids(user):
        return None
    from consulto.teleconsultation import delegations

    delegation = delegations.covering(user, appointment, video=False)
    if delegation is None:
        raise PermissionDenied
    return delegation.titular.user


def covers(user, appointment, at) -> bool:
    """Whether the user's delegation also covers ``at`` (where a substitute moves it to)."""
    from consulto.teleconsultation import delegations

    return delegations.covering(user, appointment, video=False, at=at) is not None
