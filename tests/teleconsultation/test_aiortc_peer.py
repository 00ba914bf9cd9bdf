"""Two real WebRTC peers (aiortc), a patient and a practitioner, negotiate a call through nothing
but our signaling consumer and get connected: the protocol carries a genuine offer, answer and
trickled ICE candidates (end-of-candidates included) unchanged and refuses none of them, and a
data channel message from the patient then reaches the practitioner peer to peer.

No STUN or TURN server and no network beyond loopback: ICE only gathers 127.0.0.1 host
candidates. The answerer strips its candidates from the answer and sends them one by one as
``candidate`` messages, which must reach the practitioner intact and in order. (ICE would still
connect without them, through peer-reflexive candidates learnt from the patient's checks, so the
test checks their delivery rather than relying on the connection for it.)
"""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import aioice.ice
import pytest
from aiortc import (
    AudioStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.sdp import candidate_from_sdp
from channels.routing import URLRouter
from channels.testing.websocket import WebsocketCommunicator
from django.urls import path

from consulto.teleconsultation.consumers import RoomConsumer

pytestmark = pytest.mark.django_db(transaction=True)
APP = URLRouter([path("ws/visio/<int:room_id>/", RoomConsumer.as_asgi())])
CONNECT_SECONDS = 10


def run(scenario) -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, scenario()).result()


@pytest.fixture
def loopback_only(monkeypatch):
    """ICE host candidates on 127.0.0.1 only (aioice leaves loopback out by default)."""
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


class Side:
    """One end of the call: its WebSocket, its peer connection, every frame it received."""

    def __init__(self, communicator):
        self.socket = communicator
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.received: list[dict] = []

    @classmethod
    async def join(cls, user, room_id):
        communicator = WebsocketCommunicator(APP, f"/ws/visio/{room_id}/")
        communicator.scope["user"] = user
        connected, code = await communicator.connect(timeout=3)
        assert connected, code
        return cls(communicator)

    async def next(self, kind):
        """The next message of that type (others, such as "joined", are kept and skipped)."""
        for _ in range(20):
            message = await self.socket.receive_json_from(timeout=5)
            self.received.append(message)
            if message["type"] == kind:
                return message
        raise AssertionError(f"no {kind} message")

    async def drain(self) -> list[dict]:
        while not await self.socket.receive_nothing(timeout=0.2):
            self.received.append(await self.socket.receive_json_from(timeout=1))
        return self.received


def trickle(sdp: str) -> tuple[str, str, list[str]]:
    """The SDP without its candidates, the mid of its first section and those candidates."""
    lines = sdp.splitlines()
    mid = next(line.split(":", 1)[1] for line in lines if line.startswith("a=mid:"))
    candidates = [line[2:] for line in lines if line.startswith("a=candidate:")]
    bare = [line for line in lines if not line.startswith(("a=candidate:", "a=end-of-candidates"))]
    return "\r\n".join(bare) + "\r\n", mid, list(dict.fromkeys(candidates))


async def _connected(*pcs) -> None:
    async def wait():
        while not all(pc.connectionState == "connected" for pc in pcs):
            assert not any(pc.connectionState == "failed" for pc in pcs)
            await asyncio.sleep(0.05)

    await asyncio.wait_for(wait(), CONNECT_SECONDS)


def test_two_aiortc_peers_connect_through_the_room(call, loopback_only):
    async def scenario():
        patient = await Side.join(call.patient_user, call.room.pk)
        await patient.next("hello")
        doctor = await Side.join(call.gp, call.room.pk)
        await doctor.next("hello")
        await doctor.socket.send_json_to({"type": "admit"})
        await patient.next("admitted")

        # The practitioner offers audio and a data channel; aiortc puts its candidates in the SDP.
        heard = asyncio.get_running_loop().create_future()
        doctor.pc.addTrack(AudioStreamTrack())
        channel = doctor.pc.createDataChannel("consultation")
        channel.on("message", lambda text: heard.done() or heard.set_result(text))
        await doctor.pc.setLocalDescription(await doctor.pc.createOffer())
        await doctor.socket.send_json_to({"type": "offer", "sdp": doctor.pc.localDescription.sdp})

        @patient.pc.on("datachannel")
        def greet(incoming):
            if incoming.readyState == "open":
                incoming.send("Bonjour docteur")
            else:
                incoming.on("open", lambda: incoming.send("Bonjour docteur"))

        offer = await patient.next("offer")
        await patient.pc.setRemoteDescription(RTCSessionDescription(offer["sdp"], "offer"))
        await patient.pc.setLocalDescription(await patient.pc.createAnswer())

        # The patient answers without candidates, then trickles them and their end.
        bare, mid, candidates = trickle(patient.pc.localDescription.sdp)
        assert candidates and all(" 127.0.0.1 " in c for c in candidates)
        await patient.socket.send_json_to({"type": "answer", "sdp": bare})
        for line in [*candidates, ""]:
            await patient.socket.send_json_to(
                {"type": "candidate", "candidate": line, "sdpMid": mid, "sdpMLineIndex": 0}
            )

        answer = await doctor.next("answer")
        assert "a=candidate:" not in answer["sdp"]
        await doctor.pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
        trickled = []
        for _ in range(len(candidates) + 1):
            message = await doctor.next("candidate")
            if message["candidate"]:
                found = candidate_from_sdp(message["candidate"].split(":", 1)[1])
                found.sdpMid, found.sdpMLineIndex = message["sdpMid"], message["sdpMLineIndex"]
                await doctor.pc.addIceCandidate(found)
                trickled.append(message["candidate"])
            else:
                await doctor.pc.addIceCandidate(None)
        assert trickled == candidates

        await _connected(doctor.pc, patient.pc)
        assert doctor.pc.iceConnectionState in ("connected", "completed")
        assert patient.pc.iceConnectionState in ("connected", "completed")
        assert await asyncio.wait_for(heard, CONNECT_SECONDS) == "Bonjour docteur"

        await patient.pc.close()
        await doctor.pc.close()
        assert doctor.pc.connectionState == patient.pc.connectionState == "closed"
        for side in (patient, doctor):
            received = await side.drain()
            assert not [m for m in received if m["type"] == "error"], received
        await patient.socket.disconnect()
        await doctor.socket.disconnect()

    run(scenario)
