"""The audit trail: admins browse and filter their organisation's audit events."""

from datetime import date, datetime

import pytest
from django.urls import reverse

from consulto.core.audit import record
from consulto.core.models import AuditEvent
from consulto.directory.models import Membership
from tests.conftest import PARIS

URL = reverse("practice:audit")
Action = AuditEvent.Action


def event(*, at: datetime, **fields) -> AuditEvent:
    created = record(**fields)
    AuditEvent.objects.filter(pk=created.pk).update(at=at)  # ``at`` is set on insert
    return created


@pytest.fixture
def trail(practice):
    w = practice
    f = w.file.pk
    w.read_note = event(
        at=datetime(2025, 3, 3, 9, 0, tzinfo=PARIS),
        actor=w.gp_user,
        action=Action.READ,
        target_type="note",
        target_id=7,
        organisation_id=w.organisation.pk,
        patient_file_id=f,
        ip="192.0.2.10",
    )
    w.uploaded = event(
        at=datetime(2025, 3, 4, 23, 30, tzinfo=PARIS),  # 22:30 UTC, still 4 March in Paris
        actor=w.secretary,
        on_behalf_of=w.gp_user,
        action=Action.CREATE,
        target_type="document",
        target_id=3,
        organisation_id=w.organisation.pk,
        patient_file_id=f,
        ip="2001:db8::1",
    )
    w.read_file = event(
        at=datetime(2025, 3, 5, 0, 30, tzinfo=PARIS),
        actor=w.admin,
        action=Action.READ,
        target_type="patient_file",
        target_id=f,
        organisation_id=w.organisation.pk,
        patient_file_id=f,
    )
    w.elsewhere = event(
        at=datetime(2025, 3, 4, 10, 0, tzinfo=PARIS),
        actor=w.outsider,
        action=Action.READ,
        target_type="note",
        target_id=99,
        organisation_id=w.other_org.pk,
        patient_file_id=w.other_file.pk,
    )
    return w


def shown(response) -> list[int]:
    return [e.pk for e in response.context["page"]]


def test_an_admin_sees_their_organisations_events_newest_first(trail, as_user):
    response = as_user(trail.admin).get(URL)

    assert response.status_code == 200
    assert shown(response) == [trail.read_file.pk, trail.uploaded.pk, trail.read_note.pk]
    html = response.content.decode()
    assert "192.0.2.10" in html and "2001:db8::1" in html
    assert "secretariat@centre.test" in html  # who
    assert '<th scope="col">' in html
    assert "4 Mar 2025, 23:30:00" in html  # Paris time, not UTC


def test_it_filters_by_who_action_what_and_patient_file(trail, as_user):
    client = as_user(trail.admin)
    w = trail

    assert shown(client.get(URL, {"actor": w.secretary.pk})) == [w.uploaded.pk]
    assert shown(client.get(URL, {"action": "read"})) == [w.read_file.pk, w.read_note.pk]
    assert shown(client.get(URL, {"target_type": "note"})) == [w.read_note.pk]
    assert len(shown(client.get(URL, {"patient_file": w.file.pk}))) == 3
    assert shown(client.get(URL, {"patient_file": w.other_file.pk})) == []


def test_the_date_range_is_in_local_days_both_ends_included(trail, as_user):
    client = as_user(trail.admin)

    response = client.get(URL, {"date_from": "2025-03-04", "date_to": "2025-03-04"})
    assert shown(response) == [trail.uploaded.pk]
    response = client.get(URL, {"date_from": "2025-03-05"})
    assert shown(response) == [trail.read_file.pk]


def test_a_wrong_filter_is_reported_and_ignored(trail, as_user):
    response = as_user(trail.admin).get(URL, {"date_from": "yesterday"})

    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.content.decode()
    assert len(shown(response)) == 3


def test_pages_hold_fifty_events(trail, as_user):
    w = trail
    for n in range(55):
        record(
            actor=w.gp_user,
            action=Action.READ,
            target_type="note",
            target_id=n,
            organisation_id=w.organisation.pk,
        )
    client = as_user(w.admin)

    first = client.get(URL)
    assert len(shown(first)) == 50
    assert first.context["page"].paginator.count == 58
    assert len(shown(client.get(URL, {"page": 2}))) == 8


def test_the_export_holds_the_filtered_events(trail, as_user):
    response = as_user(trail.admin).get(URL, {"format": "csv", "actor": trail.secretary.pk})

    assert response["Content-Type"].startswith("text/csv")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert len(lines) == 2
    assert "secretariat@centre.test" in lines[1] and "martin@centre.test" in lines[1]
    assert "2001:db8::1" in lines[1]


def test_an_admin_of_two_organisations_picks_one(trail, as_user):
    w = trail
    Membership.objects.create(user=w.admin, organisation=w.other_org, role=Membership.Role.ADMIN)
    client = as_user(w.admin)

    assert shown(client.get(URL, {"org": w.other_org.pk})) == [w.elsewhere.pk]
    offered = client.get(URL).context["trail"].organisations
    assert {o.pk for o in offered} == {w.organisation.pk, w.other_org.pk}


def test_practitioners_and_secretaries_may_not_open_it(trail, as_user):
    assert as_user(trail.secretary).get(URL).status_code == 403
    assert as_user(trail.gp_user).get(URL).status_code == 403


def test_an_outsider_cannot_filter_on_our_organisation(trail, as_user):
    client = as_user(trail.outsider)

    assert client.get(URL, {"org": trail.organisation.pk}).status_code == 404
    own = client.get(URL, {"patient_file": trail.file.pk})
    assert shown(own) == []
    assert shown(client.get(URL)) == [trail.elsewhere.pk]


def test_a_patient_is_refused(trail, as_user):
    assert as_user(trail.patient_user).get(URL).status_code == 403


def test_dates_are_not_shown_in_utc(trail, as_user):
    response = as_user(trail.admin).get(URL, {"date_from": date(2025, 3, 5).isoformat()})
    assert "5 Mar 2025, 00:30:00" in response.content.decode()
