"""A titular grants a substitute a delegation for a period and a scope; refusals are clear,
every change is audited, and a revoked delegation lets nobody in."""

from datetime import timedelta

import pytest
from django.utils import timezone

from consulto.core.errors import PermissionDenied
from consulto.core.models import AuditEvent
from consulto.directory.models import Practitioner
from consulto.teleconsultation import delegations, rooms
from consulto.teleconsultation.delegations import DelegationRefused

pytestmark = pytest.mark.django_db


def _grant(call, **changes):
    start = call.appointment.start
    options = {
        "titular": call.w.gp,
        "by": call.gp,
        "substitute_query": call.w.gp2.rpps,
        "starts_at": start - timedelta(days=1),
        "ends_at": start + timedelta(days=1),
        "scope": "video",
    }
    options.update(changes)
    return delegations.grant(**options)


def test_a_titular_grants_by_rpps_or_email_and_it_is_audited(call):
    by_rpps = _grant(call)
    assert by_rpps.substitute == call.w.gp2
    assert rooms.side_of(call.w.gp2_user, call.room) == "practitioner"
    delegations.revoke(delegation=by_rpps, by=call.gp)
    assert rooms.side_of(call.w.gp2_user, call.room) is None
    by_email = _grant(call, substitute_query=call.w.gp2_user.email.upper(), scope="agenda")
    assert by_email.scope == "agenda"
    actions = list(
        AuditEvent.objects.filter(target_type="delegation").values_list("action", flat=True)
    )
    assert actions == ["create", "update", "create"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"substitute_query": "nobody@example.org"}, "substitute"),
        ({"substitute_query": "10000000000"}, "substitute"),
        ({"scope": "everything"}, "scope"),
        ({"ends_at": timezone.now() - timedelta(days=400)}, "ends_at"),
    ],
)
def test_bad_requests_are_refused_with_a_field(call, changes, field):
    with pytest.raises(DelegationRefused) as refused:
        _grant(call, **changes)
    assert refused.value.field == field


def test_a_practitioner_is_not_their_own_substitute(call):
    with pytest.raises(DelegationRefused):
        _grant(call, substitute_query=call.w.gp.rpps)


def test_a_number_to_verify_cannot_substitute(call):
    Practitioner.objects.filter(pk=call.w.gp2.pk).update(rpps_status="to_verify")
    with pytest.raises(DelegationRefused):
        _grant(call)


def test_only_the_titular_grants_and_revokes(call):
    with pytest.raises(PermissionDenied):
        _grant(call, by=call.w.admin)
    delegation = _grant(call)
    with pytest.raises(PermissionDenied):
        delegations.revoke(delegation=delegation, by=call.w.gp2_user)


def test_overlapping_periods_for_the_same_substitute_are_refused(call):
    _grant(call)
    with pytest.raises(DelegationRefused) as refused:
        _grant(call, starts_at=call.appointment.start, scope="agenda")
    assert refused.value.field == "starts_at"


def test_a_year_at_most(call):
    start = call.appointment.start
    with pytest.raises(DelegationRefused):
        _grant(call, starts_at=start, ends_at=start + timedelta(days=400))


def test_both_sides_list_their_delegations(call):
    delegation = _grant(call)
    given, received = delegations.delegations_of(call.w.gp)
    assert given == [delegation] and received == []
    given, received = delegations.delegations_of(call.w.gp2)
    assert given == [] and received == [delegation]
