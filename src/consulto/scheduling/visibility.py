"""Who is offered which slots: each opening's visibility, and the audiences that see them.

An opening (and so each of its slots) is visible to one audience (``Opening.Visibility``):
everyone, professionals (practitioners of other organisations and regulators, never the public),
regulation only (SAS "soins non programmés"), a CPTS (the members of a territorial community the
agenda's practitioner belongs to, and regulation: the SAS kind of slot "CPTS"), or the
practice's known patients. A reader of availability belongs to an audience, a set of
visibilities; the availability of an agenda is computed from the openings that audience may see
(``selectors.load_inputs``), so a slot outside them is neither shown nor bookable, on every door.

| reader                                        | sees                                   |
|-----------------------------------------------|----------------------------------------|
| the public, a patient new to the practice     | public                                 |
| a patient the practice knows                  | public, known patients                 |
| a practitioner of another organisation        | public, professionals                  |
| a member of a CPTS the agenda's practitioner  | public, professionals, CPTS            |
| is a member of too (not its staff)            |                                        |
| a regulator (SAMU / SAS)                      | public, professionals, regulation, CPTS|
| staff of the agenda's organisation            | all                                    |
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Q

from consulto.directory.models import Membership, Organisation, Practitioner

from .models import Agenda, Appointment, Opening
from .selectors import KNOWN_STATUSES, seen_here

V = Opening.Visibility

PUBLIC = frozenset({V.PUBLIC.value})
KNOWN_PATIENT = frozenset({V.PUBLIC.value, V.KNOWN_PATIENTS.value})
PROFESSIONAL = frozenset({V.PUBLIC.value, V.PROFESSIONALS.value})
CPTS_MEMBER = frozenset({V.PUBLIC.value, V.PROFESSIONALS.value, V.CPTS.value})
REGULATOR = frozenset({V.PUBLIC.value, V.PROFESSIONALS.value, V.REGULATION.value, V.CPTS.value})
EVERYONE = frozenset(V.values)

AUDIENCES = {
    "public": PUBLIC,
    "known": KNOWN_PATIENT,
    "pro": PROFESSIONAL,
    "cpts": CPTS_MEMBER,
    "regulator": REGULATOR,
    "staff": EVERYONE,
}

REGULATION_ROLES = (Membership.Role.REGULATOR, Membership.Role.OPERATOR)
STAFF_ROLES = (Membership.Role.ADMIN, Membership.Role.PRACTITIONER, Membership.Role.SECRETARY)


def key(audience: frozenset[str]) -> str:
    """A short stable name of an audience, for cache keys."""
    return "-".join(sorted(audience))


def audience_of(user) -> frozenset[str]:
    """What a user sees of other organisations' agendas: regulators the regulation slots,
    practitioners and their staff the professionals' ones, anyone else the public's."""
    if user is None or not user.is_authenticated:
        return PUBLIC
    roles = set(Membership.objects.filter(user=user).values_list("role", flat=True))
    if roles & set(REGULATION_ROLES):
        return REGULATOR
    if roles & set(STAFF_ROLES) or hasattr(user, "practitioner"):
        return PROFESSIONAL
    return PUBLIC


def audience_for(user, agenda: Agenda, *, now) -> frozenset[str]:
    """What ``user`` sees of ``agenda``: everything for its organisation's staff, the known
    patients' slots too for a patient the practice knows, else ``audience_of(user)``."""
    if user is None or not user.is_authenticated:
        return PUBLIC
    if Membership.objects.filter(
        user=user, organisation_id=agenda.organisation_id, role__in=STAFF_ROLES
    ).exists():
        return EVERYONE
    audience = audience_of(user)
    if audience == PUBLIC and knows_account(user, agenda, now=now):
        return KNOWN_PATIENT
    if audience == PROFESSIONAL and shares_cpts(user, agenda):
        return CPTS_MEMBER
    return audience


def shares_cpts(user, agenda: Agenda) -> bool:
    """Is ``user`` a member of an organisation of kind CPTS that ``agenda``'s practitioner
    (through their account) is a member of too?"""
    if agenda.practitioner_id is None:
        return False
    return Membership.objects.filter(
        user=user,
        organisation__kind=Organisation.Kind.CPTS,
        organisation__memberships__user__practitioner=agenda.practitioner_id,
    ).exists()


_SHARED_CPTS = "+cpts"  # a row of ``professional_audience``'s query, never a role


def professional_audience(user, agenda: Agenda) -> frozenset[str] | None:
    """The audience of a professional from outside ``agenda``'s organisation (``REGULATOR``,
    ``CPTS_MEMBER``, ``PROFESSIONAL``), None for anyone else (the public, a patient, the
    organisation's staff): what ``audience_for`` answers for those, in one query, without asking
    whether the practice knows a patient (which changes nothing here)."""
    if user is None or not user.is_authenticated:
        return None
    membership = Membership._meta.db_table
    # Read on every booking and slot request: plain SQL, without the ORM's cost of compiling.
    sql = (
        f"SELECT role, organisation_id FROM {membership} WHERE user_id = %s"  # noqa: S608
        f" UNION ALL SELECT '', NULL FROM {Practitioner._meta.db_table} WHERE user_id = %s"
    )
    params = [user.pk, user.pk]
    if agenda.practitioner_id is not None:
        # A CPTS both the reader and the agenda's practitioner are members of.
        sql += (
            f" UNION ALL SELECT '{_SHARED_CPTS}', mine.organisation_id"  # noqa: S608
            f" FROM {membership} mine"
            f" JOIN {Organisation._meta.db_table} o ON o.id = mine.organisation_id"
            f" JOIN {membership} theirs ON theirs.organisation_id = mine.organisation_id"
            f" JOIN {Practitioner._meta.db_table} p ON p.user_id = theirs.user_id"
            " WHERE mine.user_id = %s AND o.kind = %s AND p.id = %s"
        )
        params += [user.pk, Organisation.Kind.CPTS.value, agenda.practitioner_id]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    roles = {role for role, _organisation in rows}
    if any(o == agenda.organisation_id and r in STAFF_ROLES for r, o in rows):
        return None  # EVERYONE: the agenda's own staff book in the practice space
    if roles & set(REGULATION_ROLES):
        return REGULATOR
    if roles & set(STAFF_ROLES) or "" in roles:  # "": the account is a practitioner's
        return CPTS_MEMBER if _SHARED_CPTS in roles else PROFESSIONAL
    return None


def knows(profile_id: int, agenda: Agenda, *, now) -> bool:
    """Has this person consulted here before (an appointment begun, not cancelled nor missed,
    with the agenda's practitioner in its organisation, or on the agenda itself for a
    resource)?"""
    return _known(Q(patient_id=profile_id), agenda, now=now)


def knows_account(user, agenda: Agenda, *, now) -> bool:
    """Does the practice know one of the people this account books for?"""
    return _known(Q(patient__owner=user), agenda, now=now)


def _known(who: Q, agenda: Agenda, *, now) -> bool:
    return (
        Appointment.objects.filter(who & seen_here(agenda), start__lte=now)
        .filter(status__in=KNOWN_STATUSES)
        .exists()
    )
