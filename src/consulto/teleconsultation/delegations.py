"""Substitutes (remplaçants): a titular practitioner lets another practitioner of Consulto work
on their agenda for a period, for video consultations only or for the whole agenda.

Only the titular grants or revokes; each change is audited. Whether a delegation covers an
appointment is decided by ``covering``, always against the appointment's time; the back office
opens the titular's agendas to a whole-agenda substitute while the delegation runs
(``current_agendas``, used by practice/permissions.py), and whatever the substitute does there is
audited on the titular's behalf.
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
from consulto.scheduling.models import Agenda, Appointment, Motive

from .models import Delegation

LONGEST = timedelta(days=366)


class DelegationRefused(InvalidInput):
    code = "delegation_refused"


def _scopes(video: bool) -> list[str]:
    """A video appointment is covered by either scope, any other by the whole agenda only."""
    return [Delegation.Scope.AGENDA, Delegation.Scope.VIDEO] if video else [Delegation.Scope.AGENDA]


def covering(user, appointment, *, video: bool, at: datetime | None = None) -> Delegation | None:
    """The delegation letting ``user`` consult for the agenda's practitioner at the appointment's
    time (or ``at``, a time it is moved to): a video appointment needs either scope, any other
    the whole-agenda scope."""
    practitioner = getattr(user, "practitioner", None) if user is not None else None
    titular_id = appointment.agenda.practitioner_id
    if practitioner is None or titular_id is None or titular_id == practitioner.pk:
        return None
    at = at or appointment.start
    scopes = _scopes(video)
    return (
        Delegation.objects.select_related("titular__user")
        .filter(
            titular_id=titular_id,
            substitute=practitioner,
            scope__in=scopes,
            starts_at__lte=at,
            ends_at__gt=at,
            revoked_at__isnull=True,
        )
        .order_by("-starts_at")
        .first()
    )


def substitutes_for(appointment) -> list[Practitioner]:
    """Who may consult instead of the titular for this appointment (what the patient is told)."""
    titular_id = appointment.agenda.practitioner_id
    if titular_id is None:
        return []
    video = appointment.motive.mode == "video"
    scopes = _scopes(video)
    return [
        d.substitute
        for d in Delegation.objects.select_related("substitute")
        .filter(
            titular_id=titular_id,
            scope__in=scopes,
            starts_at__lte=appointment.start,
            ends_at__gt=appointment.start,
            revoked_at__isnull=True,
        )
        .order_by("starts_at", "pk")
    ]


def current_agendas(user, *, now: datetime | None = None) -> dict[int, int]:
    """{agenda id: titular's user id} of the agendas ``user`` runs as a whole-agenda substitute
    right now."""
    practitioner = getattr(user, "practitioner", None)
    if practitioner is None:
        return {}
    now = now or timezone.now()
    titulars = dict(
        Delegation.objects.filter(
            substitute=practitioner,
            scope=Delegation.Scope.AGENDA,
            starts_at__lte=now,
            ends_at__gt=now,
            revoked_at__isnull=True,
        ).values_list("titular_id", "titular__user_id")
    )
    if not titulars:
        return {}
    return {
        agenda_id: titulars[practitioner_id]
        for agenda_id, practitioner_id in Agenda.objects.filter(
            practitioner_id__in=list(titulars), is_active=True
        ).values_list("pk", "practitioner_id")
    }


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


def state_of(delegation: Delegation, now: datetime) -> str:
    """ "revoked", "ended", "current" or "upcoming"."""
    if delegation.revoked_at is not None:
        return "revoked"
    if delegation.ends_at <= now:
        return "ended"
    return "current" if delegation.starts_at <= now else "upcoming"


def consultations_to_run(delegation: Delegation, *, now: datetime | None = None, limit: int = 20):
    """The titular's coming appointments the substitute runs under this delegation (video ones
    only for a video delegation), with their rooms, soonest first."""
    now = now or timezone.now()
    if delegation.revoked_at is not None or delegation.ends_at <= now:
        return []
    found = (
        Appointment.objects.select_related("motive", "patient", "agenda__site", "video_room")
        .filter(
            agenda__practitioner_id=delegation.titular_id,
            start__gte=max(delegation.starts_at, now - timedelta(hours=1)),
            start__lt=delegation.ends_at,
            status__in=[
                Appointment.Status.BOOKED,
                Appointment.Status.ARRIVED,
                Appointment.Status.IN_PROGRESS,
            ],
        )
        .order_by("start")
    )
    if delegation.scope == Delegation.Scope.VIDEO:
        found = found.filter(motive__mode=Motive.Mode.VIDEO)
    return list(found[:limit])


def who_consults(appointment) -> dict:
    """What the patient is told: the substitutes who may see them instead of the titular, and,
    once a video call has begun, the substitute who let them in."""
    room = getattr(appointment, "video_room", None) if hasattr(appointment, "motive") else None
    admitted_by = getattr(room, "admitted_by", None) if room is not None else None
    titular = appointment.agenda.practitioner
    consulted_by = None
    if admitted_by is not None and titular is not None and admitted_by.pk != titular.user_id:
        consulted_by = Practitioner.objects.filter(user=admitted_by).first()
    return {"substitutes": substitutes_for(appointment), "consulted_by": consulted_by}
