"""The room's WebSocket: the patient waits, the practitioner admits, offers and candidates go
across, chat is kept (encrypted), quality figures are stored and flagged, ending marks the
appointment seen; strangers, closed rooms and bad frames are refused."""

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from channels.routing import URLRouter
from channels.testing.websocket import WebsocketCommunicator
from django.db import connection
from django.urls import path

from consulto.scheduling.models import Appointment
from consulto.teleconsultation.consumers import RoomConsumer
from consulto.teleconsultation.models import ChatMessage, QualitySample, VideoRoom

pytestmark = pytest.mark.django_db(transaction=True)
APP = URLRouter([path("ws/visio/<int:room_id>/", RoomConsumer.as_asgi())])


def run(scenario) -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, scenario()).result()


async def _join(user, room_id):
    communicator = WebsocketCommunicator(APP, f"/ws/visio/{room_id}/")
    communicator.scope["user"] = user
    connected, code = await communicator.connect(timeout=3)
    return communicator, connected, code


async def _refusal(user, room_id, query=""):
    """The close code a refused connection gets: accepted first, so that the page hears why
    (a handshake refused outright is only a network failure to a browser)."""
    communicator = WebsocketCommunicator(APP, f"/ws/visio/{room_id}/{query}")
    if user is not None:
        communicator.scope["user"] = user
    connected, _code = await communicator.connect(timeout=3)
    assert connected
    closed = await communicator.receive_output(timeout=3)
    assert closed["type"] == "websocket.close"
    return closed["code"]


async def _next(communicator, kind):
    """The next message of that type (others, such as "joined", are skipped)."""
    for _ in range(10):
        message = await communicator.receive_json_from(timeout=3)
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind} message")


def test_a_whole_call(call):
    async def scenario():
        patient, ok, _ = await _join(call.patient_user, call.room.pk)
        assert ok
        hello = await _next(patient, "hello")
        assert hello["side"] == "patient" and hello["admitted"] is False
        doctor, ok, _ = await _join(call.gp, call.room.pk)
        assert ok
        assert (await _next(doctor, "hello"))["side"] == "practitioner"
        await doctor.send_json_to({"type": "admit"})
        assert (await _next(patient, "admitted"))["type"] == "admitted"
        await doctor.send_json_to({"type": "offer", "sdp": "v=0 offer"})
        assert (await _next(patient, "offer"))["sdp"] == "v=0 offer"
        await patient.send_json_to({"type": "answer", "sdp": "v=0 answer"})
        assert (await _next(doctor, "answer"))["sdp"] == "v=0 answer"
        await patient.send_json_to(
            {"type": "candidate", "candidate": "candidate:1", "sdpMid": "0", "sdpMLineIndex": 0}
        )
        assert (await _next(doctor, "candidate"))["candidate"] == "candidate:1"
        await patient.send_json_to({"type": "chat", "text": "Bonjour docteur"})
        assert (await _next(doctor, "chat"))["text"] == "Bonjour docteur"
        await patient.send_json_to({"type": "stats", "jitter_ms": 45, "frames_decoded": 300})
        quality = await _next(doctor, "quality")
        assert quality["flagged"] is True and quality["side"] == "patient"
        await doctor.send_json_to({"type": "end"})
        assert (await _next(patient, "ended"))["type"] == "ended"
        await patient.disconnect()
        await doctor.disconnect()

    run(scenario)
    appointment = Appointment.objects.get(pk=call.appointment.pk)
    assert appointment.status == Appointment.Status.SEEN
    room = VideoRoom.objects.get(pk=call.room.pk)
    assert room.waiting_since and room.admitted_at and room.ended_at
    sample = QualitySample.objects.get(room=room)
    assert sample.side == "patient" and sample.jitter_ms == 45 and sample.frames_decoded == 300
    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM teleconsultation_chatmessage")
        (raw,) = cursor.fetchone()
    assert "Bonjour" not in raw  # encrypted at rest
    assert ChatMessage.objects.count() == 1


def test_a_reload_finds_the_chat_and_the_admission(call):
    async def scenario():
        doctor, _, _ = await _join(call.gp, call.room.pk)
        patient, _, _ = await _join(call.patient_user, call.room.pk)
        await doctor.send_json_to({"type": "admit"})
        await patient.send_json_to({"type": "chat", "text": "Je vous entends"})
        await _next(doctor, "chat")
        await patient.disconnect()
        again, ok, _ = await _join(call.patient_user, call.room.pk)
        hello = await _next(again, "hello")
        assert ok and hello["admitted"] is True
        assert [m["text"] for m in hello["chat"]] == ["Je vous entends"]
        await again.disconnect()
        await doctor.disconnect()

    run(scenario)


async def _next_but_joined(communicator):
    """The next message but the practitioner's "joined": on the Redis layer, their page's
    arrival may reach a patient who came in just after it."""
    while (message := await communicator.receive_json_from(timeout=3))["type"] == "joined":
        pass
    return message


async def _nothing_but_joined(communicator):
    while not await communicator.receive_nothing(timeout=0.3):
        message = await communicator.receive_json_from(timeout=3)
        assert message["type"] == "joined", message


def test_a_practitioner_ready_on_arrival_lets_the_patient_in_with_their_offer_at_once(call):
    """The practitioner's page leaves its offer with its connection ("arm"); the patient's
    arrival is then their admission, by that practitioner, with the offer, no trip through the
    practitioner's page; that page hears its offer went before it hears of the patient."""

    async def scenario():
        doctor, _, _ = await _join(call.gp, call.room.pk)
        await _next(doctor, "hello")
        await doctor.send_json_to({"type": "arm", "sdp": "v=0 made ahead", "id": 3})
        patient, _, _ = await _join(call.patient_user, call.room.pk)
        assert (await _next(patient, "hello"))["admitted"] is False
        assert await _next_but_joined(patient) == {"type": "admitted"}
        assert await _next_but_joined(patient) == {
            "type": "offer",
            "sdp": "v=0 made ahead",
            "restart": False,
        }
        told = await doctor.receive_json_from(timeout=3)
        assert told["type"] == "admitted" and told["offered"] == 3 and told["at"]
        assert await doctor.receive_json_from(timeout=3) == {"type": "joined", "side": "patient"}
        # Used once: a patient's page coming back gets no second admission nor offer from it.
        await patient.disconnect()
        again, _, _ = await _join(call.patient_user, call.room.pk)
        assert (await _next(again, "hello"))["admitted"] is True
        await _nothing_but_joined(again)
        await again.disconnect()
        await doctor.disconnect()

    run(scenario)
    room = VideoRoom.objects.get(pk=call.room.pk)
    assert room.admitted_at is not None and room.admitted_by == call.gp
    assert Appointment.objects.get(pk=call.appointment.pk).status == Appointment.Status.IN_PROGRESS


def test_only_the_practitioner_arms_and_a_disarmed_arrival_waits(call):
    async def scenario():
        patient, _, _ = await _join(call.patient_user, call.room.pk)
        await _next(patient, "hello")
        await patient.send_json_to({"type": "arm", "sdp": "v=0 mine", "id": 1})
        assert await _next(patient, "error") == {"type": "error", "code": "forbidden"}
        await patient.disconnect()
        doctor, _, _ = await _join(call.gp, call.room.pk)
        await _next(doctor, "hello")
        await doctor.send_json_to({"type": "arm", "sdp": "v=0 made ahead", "id": 3})
        await doctor.send_json_to({"type": "disarm"})
        patient, _, _ = await _join(call.patient_user, call.room.pk)
        await _next(patient, "hello")
        assert (await _next(doctor, "joined"))["side"] == "patient"  # not admitted
        await _nothing_but_joined(patient)
        await patient.disconnect()
        await doctor.disconnect()

    run(scenario)
    assert VideoRoom.objects.get(pk=call.room.pk).admitted_at is None


def test_a_page_that_offers_itself_is_not_offered_for(call):
    """Once the practitioner's page lets the patient in itself (or offers), what it left ahead
    is not sent: one offer reaches the patient."""

    async def scenario():
        doctor, _, _ = await _join(call.gp, call.room.pk)
        await _next(doctor, "hello")
        await doctor.send_json_to({"type": "arm", "sdp": "v=0 made ahead", "id": 3})
        await doctor.send_json_to({"type": "admit"})
        await _next(doctor, "admitted")
        patient, _, _ = await _join(call.patient_user, call.room.pk)
        assert (await _next(patient, "hello"))["admitted"] is True
        assert await doctor.receive_json_from(timeout=3) == {"type": "joined", "side": "patient"}
        await _nothing_but_joined(patient)
        await patient.disconnect()
        await doctor.disconnect()

    run(scenario)


def test_a_stranger_is_refused(call):
    async def scenario():
        for user in (call.w.gp2_user, call.w.secretary, call.w.outsider):
            assert await _refusal(user, call.room.pk) == 4403

    run(scenario)


def test_a_closed_room_is_refused(call):
    start = call.appointment.start + timedelta(hours=3)
    Appointment.objects.filter(pk=call.appointment.pk).update(
        start=start, end=start + timedelta(minutes=15)
    )

    async def scenario():
        assert await _refusal(call.patient_user, call.room.pk) == 4410

    run(scenario)


def test_an_ended_or_cancelled_room_is_refused_as_closed(call):
    """Not "unsteady, reconnecting" forever: the page hears the room is closed."""
    from consulto.teleconsultation import rooms

    async def scenario():
        doctor, _, _ = await _join(call.gp, call.room.pk)
        await doctor.send_json_to({"type": "end"})
        await _next(doctor, "ended")
        await doctor.disconnect()
        assert await _refusal(call.patient_user, call.room.pk) == 4410
        assert await _refusal(call.gp, call.room.pk) == 4410

    run(scenario)
    other = rooms.ensure_room(
        Appointment.objects.create(
            agenda=call.w.agenda, motive=call.w.video, patient=call.appointment.patient,
            start=call.appointment.start + timedelta(minutes=20),
            end=call.appointment.end + timedelta(minutes=20), status=Appointment.Status.CANCELLED,
        )
    )  # fmt: skip

    async def cancelled():
        assert await _refusal(call.patient_user, other.pk) == 4410

    run(cancelled)


def test_bad_frames_get_an_error_and_a_huge_one_closes(call):
    async def scenario():
        patient, _, _ = await _join(call.patient_user, call.room.pk)
        await _next(patient, "hello")
        await patient.send_to(text_data="{nope")
        assert (await _next(patient, "error"))["code"] == "not_json"
        await patient.send_json_to({"type": "admit"})
        assert (await _next(patient, "error"))["code"] == "forbidden"
        await patient.send_to(text_data=json.dumps({"type": "chat", "text": "x" * 70_000}))
        closed = await patient.receive_output(timeout=3)
        assert closed == {"type": "websocket.close", "code": 1009}

    run(scenario)
    assert not ChatMessage.objects.exists()
    assert VideoRoom.objects.get(pk=call.room.pk).admitted_at is None


async def _join_with_link(room_id, token, user=None):
    communicator = WebsocketCommunicator(APP, f"/ws/visio/{room_id}/?t={token}")
    if user is not None:
        communicator.scope["user"] = user
    connected, code = await communicator.connect(timeout=3)
    return communicator, connected, code


def test_the_signed_link_lets_the_patient_in_without_an_account(call):
    from django.contrib.auth.models import AnonymousUser

    from consulto.teleconsultation import rooms

    token = rooms.join_link_token(call.room)
    other = rooms.ensure_room(
        Appointment.objects.create(
            agenda=call.w.agenda, motive=call.w.video, patient=call.appointment.patient,
            start=call.appointment.start + timedelta(minutes=20),
            end=call.appointment.end + timedelta(minutes=20),
        )
    )  # fmt: skip

    async def scenario():
        patient, ok, _ = await _join_with_link(call.room.pk, token, AnonymousUser())
        assert ok and (await _next(patient, "hello"))["side"] == "patient"
        await patient.disconnect()
        # The same link does not open another room, nor a forged one anything.
        assert await _refusal(AnonymousUser(), other.pk, f"?t={token}") == 4403
        forged = f"?t={token[:-3]}abc"
        assert await _refusal(AnonymousUser(), call.room.pk, forged) == 4403
        # Nobody without an account nor a link.
        assert await _refusal(AnonymousUser(), call.room.pk, "?t=") == 4401

    run(scenario)
    assert VideoRoom.objects.get(pk=call.room.pk).waiting_since is not None


async def _members(layer, group: str) -> set[str]:
    """This process's channels in a group, on the in-memory layer or on the Redis Pub/Sub one
    (CI's second pass), whose groups are the process's own subscriptions."""
    if hasattr(layer, "_get_group_channel_name"):
        return set(layer.groups.get(layer._get_group_channel_name(group), ()))
    return set(layer.groups.get(group, {}))


def test_a_closed_page_leaves_the_room_even_when_its_goodbye_cannot_be_sent(call, monkeypatch):
    """Closing the page takes its socket out of the room's group, even when the "left" message
    to the other side fails (Redis unreachable, its pool full as many sockets close at once):
    otherwise the room would keep delivering offers and chat to a page nobody reads."""
    from channels.layers import get_channel_layer

    from consulto.teleconsultation import rooms

    layer = get_channel_layer()
    group = rooms.group_of(call.room.pk)

    async def scenario():
        patient, _, _ = await _join(call.patient_user, call.room.pk)
        doctor, _, _ = await _join(call.gp, call.room.pk)
        await _next(doctor, "hello")
        assert len(await _members(layer, group)) == 2
        # The patient's page closes normally: the practitioner is told.
        await patient.disconnect()
        assert (await _next(doctor, "left"))["side"] == "patient"
        assert len(await _members(layer, group)) == 1

        # The practitioner's page closes while the layer refuses to broadcast.
        real_send = layer.group_send

        async def failing_send(name, message):
            if message["message"]["type"] == "left":
                raise ConnectionError("Redis went away")
            await real_send(name, message)

        monkeypatch.setattr(layer, "group_send", failing_send)
        with pytest.raises(ConnectionError):
            await doctor.disconnect()
        assert await _members(layer, group) == set()

    run(scenario)


def test_a_flood_of_stats_is_refused_before_the_database_and_a_flooder_is_cut_off(call):
    """A page (or a script holding the link) sending figures as fast as it can gets three
    stored, then "too_fast"; the call goes on; a connection that keeps at it is closed."""
    from consulto.teleconsultation import protocol

    async def scenario():
        patient, _, _ = await _join(call.patient_user, call.room.pk)
        await _next(patient, "hello")
        for n in range(6):
            await patient.send_json_to({"type": "stats", "jitter_ms": 2, "frames_decoded": n})
        codes = []
        for _ in range(20):
            message = await patient.receive_json_from(timeout=3)
            if message["type"] == "error":
                codes.append(message["code"])
            if len(codes) == 3:
                break
        assert codes == ["too_fast"] * 3
        # Still in the call: a chat goes through.
        await patient.send_json_to({"type": "chat", "text": "Vous m'entendez ?"})
        assert (await _next(patient, "chat"))["text"] == "Vous m'entendez ?"
        for _ in range(protocol.REFUSALS_BEFORE_CLOSE + 5):
            await patient.send_json_to({"type": "stats", "jitter_ms": 2})
        for _ in range(protocol.REFUSALS_BEFORE_CLOSE + 10):
            output = await patient.receive_output(timeout=3)
            if output["type"] == "websocket.close":
                assert output["code"] == 1008
                break
        else:
            raise AssertionError("the flooding connection was not closed")

    run(scenario)
    assert QualitySample.objects.filter(room=call.room).count() == 3
    assert ChatMessage.objects.filter(room=call.room).count() == 1
