"""Rooms: made for video bookings, entered by the right people only, joined by a signed link
valid around the appointment, ICE servers with short-lived TURN credentials."""

import base64
import hashlib
import hmac
import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from consulto.scheduling import booking
from consulto.scheduling.models import Appointment
from consulto.teleconsultation import rooms
from consulto.teleconsultation.models import Delegation, VideoRoom
from tests.conftest import at

pytestmark = pytest.mark.django_db


def test_a_video_booking_gets_a_room_and_an_in_person_one_none(world, patient):
    video = booking.book(
        agenda=world.agenda, motive=world.video, start=at(world.monday, 9), patient=patient,
        booked_by=patient.owner,
    )  # fmt: skip
    in_person = booking.book(
        agenda=world.agenda, motive=world.first, start=at(world.monday, 10), patient=patient,
        booked_by=patient.owner,
    )  # fmt: skip
    assert VideoRoom.objects.filter(appointment=video).exists()
    assert not VideoRoom.objects.filter(appointment=in_person).exists()


def test_the_patient_and_the_practitioner_enter_nobody_else(call):
    assert rooms.side_of(call.patient_user, call.room) == "patient"
    assert rooms.side_of(call.gp, call.room) == "practitioner"
    for stranger in (call.w.gp2_user, call.w.secretary, call.w.admin, call.w.outsider):
        assert rooms.side_of(stranger, call.room) is None


def _substitute(call, scope, starts, ends, revoked=False):
    substitute = call.w.gp2  # another practitioner of Consulto
    return Delegation.objects.create(
        titular=call.w.gp, substitute=substitute, scope=scope, starts_at=starts, ends_at=ends,
        revoked_at=timezone.now() if revoked else None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("scope", "offset_start", "offset_end", "revoked", "enters"),
    [
        ("video", -1, 1, False, True),
        ("agenda", -1, 1, False, True),
        ("video", 1, 2, False, False),  # the delegation starts after the appointment
        ("video", -2, -1, False, False),  # and this one ended before
        ("video", -1, 1, True, False),  # revoked
    ],
)
def test_a_substitute_enters_within_the_delegation_only(
    call, scope, offset_start, offset_end, revoked, enters
):
    start = call.appointment.start
    _substitute(
        call, scope, start + timedelta(days=offset_start), start + timedelta(days=offset_end),
        revoked,
    )  # fmt: skip
    assert (rooms.side_of(call.w.gp2_user, call.room) == "practitioner") is enters


def test_the_signed_link_works_around_the_appointment_only(call):
    token = rooms.join_link_token(call.room)
    start, end = call.appointment.start, call.appointment.end
    assert rooms.check_link(token, now=start - timedelta(minutes=10)).reason == ""
    assert rooms.check_link(token, now=start - timedelta(minutes=20)).reason == "too_early"
    assert rooms.check_link(token, now=end + timedelta(minutes=31)).reason == "expired"
    assert rooms.check_link(token[:-2] + "xx").reason == "invalid"
    other = VideoRoom.objects.create(
        appointment=Appointment.objects.create(
            agenda=call.w.agenda, motive=call.w.video, patient=call.appointment.patient,
            start=start + timedelta(days=1), end=end + timedelta(days=1),
        )
    )  # fmt: skip
    assert rooms.check_link(rooms.join_link_token(other)).room == other
    Appointment.objects.filter(pk=call.appointment.pk).update(
        start=start + timedelta(hours=1), end=end + timedelta(hours=1)
    )
    assert rooms.check_link(token).reason == "moved"


def test_a_cancelled_appointment_closes_its_link(call):
    token = rooms.join_link_token(call.room)
    # The practice cancels (a patient may not, this close to the time).
    Appointment.objects.filter(pk=call.appointment.pk).update(status=Appointment.Status.CANCELLED)
    assert rooms.check_link(token).reason == "cancelled"


def test_turn_credentials_follow_coturns_rest_scheme(settings):
    settings.CONSULTO_TURN_SECRET = "s3cret"
    settings.CONSULTO_TURN_TTL = 600
    settings.CONSULTO_TURN_URLS = ["turn:turn.example.org:3478"]
    settings.CONSULTO_STUN_URLS = ["stun:turn.example.org:3478"]
    username, credential = rooms.turn_credentials("42", now=1_000_000)
    assert username == "1000600:42"
    expected = hmac.new(b"s3cret", b"1000600:42", hashlib.sha1).digest()
    assert base64.b64decode(credential) == expected
    servers = rooms.ice_servers("42")
    assert servers[0] == {"urls": ["stun:turn.example.org:3478"]}
    assert servers[1]["urls"] == ["turn:turn.example.org:3478"]
    assert int(servers[1]["username"].split(":")[0]) > timezone.now().timestamp()


def test_no_ice_server_is_offered_unless_configured(settings):
    settings.CONSULTO_STUN_URLS, settings.CONSULTO_TURN_URLS = [], []
    assert rooms.ice_servers("1") == []


def _device_ice_servers(page: str) -> list[dict]:
    found = re.search(
        r'<script id="device-ice-servers" type="application/json">(.*?)</script>', page
    )
    return json.loads(found.group(1))


def test_the_call_page_gives_the_device_test_fresh_turn_credentials(call, client, settings):
    settings.CONSULTO_TURN_SECRET = "s3cret"
    settings.CONSULTO_TURN_TTL = 600
    settings.CONSULTO_TURN_URLS = ["turn:turn.example.org:3478?transport=udp"]
    settings.CONSULTO_STUN_URLS = ["stun:turn.example.org:3478"]

    def turn_user(page: str) -> str:
        stun, turn = _device_ice_servers(page)
        assert stun == {"urls": ["stun:turn.example.org:3478"]}
        assert turn["urls"] == ["turn:turn.example.org:3478?transport=udp"]
        expected = hmac.new(b"s3cret", turn["username"].encode(), hashlib.sha1).digest()
        assert base64.b64decode(turn["credential"]) == expected
        expires, user_key = turn["username"].split(":")
        assert 0 < int(expires) - timezone.now().timestamp() <= 600
        return user_key

    client.force_login(call.patient_user)
    patient_page = client.get(f"/visio/{call.room.pk}/")
    assert "no-cache" in patient_page["Cache-Control"]  # credentials never come from a cache
    assert turn_user(patient_page.content.decode()) == f"u{call.patient_user.pk}"
    client.force_login(call.gp)
    doctor_page = client.get(f"/pro/visio/{call.room.pk}/").content.decode()
    assert turn_user(doctor_page) == f"u{call.gp.pk}"
    client.logout()  # the signed link, without an account: the room's key, as on the WebSocket
    link_page = client.get(f"/visio/lien/{rooms.join_link_token(call.room)}/").content.decode()
    assert turn_user(link_page) == f"r{call.room.pk}"


def test_the_call_page_gives_no_ice_server_unless_configured(call, client, settings):
    settings.CONSULTO_STUN_URLS, settings.CONSULTO_TURN_URLS = [], []
    client.force_login(call.patient_user)
    page = client.get(f"/visio/{call.room.pk}/").content.decode()
    assert _device_ice_servers(page) == []
    assert 'id="check-relay"' in page


def test_ending_a_call_sums_up_each_sides_quality_per_user(call):
    from consulto.teleconsultation import quality
    from consulto.teleconsultation.models import CallSummary

    for jitter, loss, frames in ((10, 0.0, 100), (12, 0.5, 250), (40, 2.0, 400)):
        rooms.record_stats(
            call.room, user=call.patient_user, side="patient",
            stats={"jitter_ms": jitter, "loss_percent": loss, "rtt_ms": 20,
                   "frames_decoded": frames},
        )  # fmt: skip
    rooms.record_stats(
        call.room, user=call.gp, side="practitioner", stats={"jitter_ms": 5.0, "rtt_ms": 18.0}
    )
    rooms.admit(call.room, by=call.gp)
    rooms.end_call(call.room, by=call.gp)
    patient = CallSummary.objects.get(room=call.room, side="patient")
    assert patient.samples == 3 and patient.frames_decoded == 400
    assert patient.jitter_ms_p95 == 40 and patient.loss_percent_max == 2.0
    assert patient.rtt_ms_median == 20 and patient.flagged
    doctor = CallSummary.objects.get(room=call.room, side="practitioner")
    assert not doctor.flagged and doctor.jitter_ms_p95 == 5.0
    assert list(quality.summaries_of_user(call.patient_user)) == [patient]
    assert Appointment.objects.get(pk=call.appointment.pk).status == "seen"


JOIN = "Rejoindre la téléconsultation"


def test_the_appointment_pages_lead_to_the_room_when_it_is_open(call, client):
    client.force_login(call.patient_user)
    page = client.get(f"/rendez-vous/{call.appointment.pk}/").content.decode()
    assert f'href="/visio/{call.room.pk}/">{JOIN}' in page  # opens 15 minutes before: open
    later = call.appointment.start + timedelta(hours=2)
    Appointment.objects.filter(pk=call.appointment.pk).update(
        start=later, end=later + timedelta(minutes=15)
    )
    page = client.get(f"/rendez-vous/{call.appointment.pk}/").content.decode()
    opens = (later - timedelta(minutes=15)).astimezone(call.w.site.zone)
    assert JOIN not in page and f"{opens:%H:%M}, 15 minutes avant" in page
    client.force_login(call.gp)
    page = client.get(f"/pro/rendez-vous/{call.appointment.pk}/").content.decode()
    assert f"/pro/visio/{call.room.pk}/" in page and f"ouvre à {opens:%H:%M}" in page


def test_a_seen_appointment_no_longer_offers_to_join(call, client):
    rooms.end_call(call.room, by=call.gp)
    client.force_login(call.patient_user)
    page = client.get(f"/rendez-vous/{call.appointment.pk}/").content.decode()
    assert JOIN not in page and "La consultation est terminée." in page
    assert f'href="/visio/{call.room.pk}/">Lire les messages et documents' in page
    client.force_login(call.gp)
    page = client.get(f"/pro/rendez-vous/{call.appointment.pk}/").content.decode()
    assert "Ouvrir la téléconsultation" not in page
    assert "Messages et documents de la téléconsultation" in page


def test_a_secretary_is_not_offered_a_call_she_cannot_take(call, client):
    from consulto.practice.models import AgendaAssignment

    AgendaAssignment.objects.get_or_create(user=call.w.secretary, agenda=call.w.agenda)
    client.force_login(call.w.secretary)
    response = client.get(f"/pro/rendez-vous/{call.appointment.pk}/")
    assert response.status_code == 200
    assert f"/pro/visio/{call.room.pk}/" not in response.content.decode()


def test_the_day_list_shows_who_waits_and_since_when(call, client):
    from consulto.practice.selectors import day_appointments

    day = call.appointment.start.astimezone(call.w.site.zone).date()
    (_agenda, rows), *_ = day_appointments(agendas=[call.w.agenda], day=day)
    row = next(r for r in rows if r.url.endswith(f"/{call.appointment.pk}/"))
    assert row.room_url == f"/pro/visio/{call.room.pk}/" and row.waiting_since == ""
    rooms.patient_waiting(call.room)
    (_agenda, rows), *_ = day_appointments(agendas=[call.w.agenda], day=day)
    row = next(r for r in rows if r.url.endswith(f"/{call.appointment.pk}/"))
    since = VideoRoom.objects.get(pk=call.room.pk).waiting_since.astimezone(call.w.site.zone)
    assert row.waiting_since == f"{since:%H:%M}"
    rooms.admit(call.room, by=call.gp)
    (_agenda, rows), *_ = day_appointments(agendas=[call.w.agenda], day=day)
    assert next(r for r in rows if r.room_url).waiting_since == ""
