"""A substitute from another practice runs the titular's agenda within the delegation's scope and
period, every act audited on the titular's behalf; the patient is told who consults; the titular
gives and revokes delegations from the Replacements page."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from consulto.core.models import AuditEvent
from consulto.scheduling.models import Appointment
from consulto.teleconsultation import delegations, rooms
from consulto.teleconsultation.models import Delegation

pytestmark = pytest.mark.django_db


def _delegate(call, substitute, scope, *, starts=None, ends=None):
    now = timezone.now()
    return delegations.grant(
        titular=call.w.gp,
        by=call.gp,
        substitute_query=substitute.rpps,
        starts_at=starts or now - timedelta(hours=1),
        ends_at=ends or now + timedelta(days=1),
        scope=scope,
    )


def _later_appointment(call, days: int) -> Appointment:
    start = call.appointment.start + timedelta(days=days)
    return Appointment.objects.create(
        agenda=call.w.agenda,
        motive=call.w.follow_up,
        patient=call.w.profile,
        start=start,
        end=start + timedelta(minutes=20),
    )


def test_without_a_delegation_the_titulars_agenda_is_closed(call, substitute, as_user):
    client = as_user(substitute.user)
    page = client.get(reverse("practice:appointment", args=[call.appointment.pk]))
    assert page.status_code == 404
    agenda = client.get(reverse("practice:agenda"), {"agendas": call.w.agenda.pk})
    assert agenda.status_code == 404


def test_a_whole_agenda_substitute_sees_and_runs_it_on_the_titulars_behalf(
    call, substitute, as_user
):
    _delegate(call, substitute, Delegation.Scope.AGENDA)
    client = as_user(substitute.user)
    agenda = client.get(reverse("practice:agenda"), {"agendas": call.w.agenda.pk})
    assert agenda.status_code == 200
    day = call.appointment.start.astimezone(call.w.site.zone).date()
    events = client.get(
        reverse("practice:events"),
        {"agendas": call.w.agenda.pk, "start": day, "end": day + timedelta(days=1)},
    ).json()
    shown = [e["id"] for e in events["agendas"][str(call.w.agenda.pk)]["events"]]
    assert str(call.appointment.pk) in shown
    page = client.get(reverse("practice:appointment", args=[call.appointment.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Vous remplacez" in text and call.w.gp.display_name in text
    assert "Ouvrir le dossier patient" not in text  # the centre's files stay the centre's
    response = client.post(
        reverse("practice:appointment_status", args=[call.appointment.pk]), {"status": "arrived"}
    )
    assert response.status_code in (200, 302)
    call.appointment.refresh_from_db()
    assert call.appointment.status == Appointment.Status.ARRIVED
    event = AuditEvent.objects.get(target_type="appointment", target_id=str(call.appointment.pk))
    assert (event.actor, event.on_behalf_of) == (substitute.user, call.gp)
    # Nothing else of the centre: no settings of that agenda, no patient file.
    assert client.get(reverse("practice:file", args=[call.w.file.pk])).status_code == 404


def test_outside_the_period_the_substitute_is_refused(call, substitute, as_user):
    now = timezone.now()
    _delegate(call, substitute, Delegation.Scope.AGENDA, ends=now + timedelta(hours=2))
    later = _later_appointment(call, days=3)
    client = as_user(substitute.user)
    assert client.get(reverse("practice:appointment", args=[later.pk])).status_code == 403
    moved = client.post(
        reverse("practice:appointment_move", args=[call.appointment.pk]),
        {"start": (call.appointment.start + timedelta(days=2)).isoformat()},
        headers={"accept": "application/json"},
    )
    assert moved.status_code >= 400
    call.appointment.refresh_from_db()
    assert call.appointment.status == Appointment.Status.BOOKED


def test_a_future_or_revoked_delegation_opens_nothing(call, substitute, as_user):
    now = timezone.now()
    future = _delegate(
        call,
        substitute,
        Delegation.Scope.AGENDA,
        starts=now + timedelta(days=2),
        ends=now + timedelta(days=3),
    )
    client = as_user(substitute.user)
    assert (
        client.get(reverse("practice:appointment", args=[call.appointment.pk])).status_code == 404
    )
    delegations.revoke(delegation=future, by=call.gp)
    current = _delegate(call, substitute, Delegation.Scope.AGENDA)
    assert (
        client.get(reverse("practice:appointment", args=[call.appointment.pk])).status_code == 200
    )
    delegations.revoke(delegation=current, by=call.gp)
    client = as_user(substitute.user)  # a new request, nothing cached
    assert (
        client.get(reverse("practice:appointment", args=[call.appointment.pk])).status_code == 404
    )


def test_a_video_only_substitute_runs_the_call_not_the_agenda(call, substitute, as_user):
    _delegate(call, substitute, Delegation.Scope.VIDEO)
    client = as_user(substitute.user)
    assert (
        client.get(reverse("practice:appointment", args=[call.appointment.pk])).status_code == 404
    )
    room_page = client.get(reverse("visio_practitioner", args=[call.room.pk]))
    assert room_page.status_code == 200
    rooms.admit(call.room, by=substitute.user)
    rooms.end_call(call.room, by=substitute.user)
    events = AuditEvent.objects.filter(target_type="appointment", actor=substitute.user)
    assert events.count() == 2
    assert {e.on_behalf_of_id for e in events} == {call.gp.pk}


def test_the_patient_is_told_who_consults(call, substitute, as_user):
    _delegate(call, substitute, Delegation.Scope.VIDEO)
    client = as_user(call.patient_user)
    page = client.get(reverse("appointment", args=[call.appointment.pk])).content.decode()
    assert f"<strong>{substitute.display_name}</strong> remplace {call.w.gp.display_name}" in page
    room = client.get(reverse("visio_patient", args=[call.room.pk])).content.decode()
    assert substitute.display_name in room
    rooms.admit(call.room, by=substitute.user)
    page = client.get(reverse("appointment", args=[call.appointment.pk])).content.decode()
    assert f"Consultation par {substitute.display_name}" in page


def test_the_titular_gives_and_revokes_from_the_replacements_page(call, substitute, as_user):
    client = as_user(call.gp)
    url = reverse("replacements")
    assert client.get(url).status_code == 200
    local = timezone.localtime(timezone.now() + timedelta(days=1))
    refused = client.post(
        url,
        {
            "action": "grant",
            "substitute": "personne@nulle-part.test",
            "starts_at": local.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (local + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"),
            "scope": "agenda",
        },
    )
    assert refused.status_code == 400
    assert "Aucun praticien" in refused.content.decode()
    assert not Delegation.objects.exists()
    backwards = client.post(
        url,
        {
            "action": "grant",
            "substitute": substitute.rpps,
            "starts_at": local.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (local - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            "scope": "agenda",
        },
    )
    assert backwards.status_code == 400 and not Delegation.objects.exists()
    given = client.post(
        url,
        {
            "action": "grant",
            "substitute": substitute.user.email,
            "starts_at": local.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (local + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"),
            "scope": "agenda",
        },
        follow=True,
    )
    delegation = Delegation.objects.get()
    assert delegation.substitute == substitute and delegation.scope == "agenda"
    assert delegation.starts_at == local.replace(second=0, microsecond=0)
    assert substitute.display_name in given.content.decode()
    # The substitute sees it coming on their own page.
    other = as_user(substitute.user).get(url).content.decode()
    assert call.w.gp.display_name in other and "à venir" in other
    client = as_user(call.gp)
    client.post(url, {"action": "revoke", "delegation": delegation.pk})
    delegation.refresh_from_db()
    assert delegation.revoked_at is not None
    # Nobody revokes another titular's delegation.
    mine = _delegate(call, substitute, Delegation.Scope.VIDEO)
    stranger = as_user(call.w.gp2_user).post(url, {"action": "revoke", "delegation": mine.pk})
    assert stranger.status_code == 404
    mine.refresh_from_db()
    assert mine.revoked_at is None
