"""The support call's WebSocket: the agent who took the callback and the ticket's customer get
in and their offers, answers and candidates go across; anybody else is refused, and so are
frames the video protocol refuses."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from channels.routing import URLRouter
from channels.testing.websocket import WebsocketCommunicator
from django.urls import path

from consulto.support import services
from consulto.support.consumers import CallConsumer

pytestmark = pytest.mark.django_db(transaction=True)
APP = URLRouter([path("ws/support/appel/<int:contact_id>/", CallConsumer.as_asgi())])


def run(scenario) -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, scenario()).result()


async def _join(user, contact_id):
    communicator = WebsocketCommunicator(APP, f"/ws/support/appel/{contact_id}/")
    if user is not None:
        communicator.scope["user"] = user
    connected, _code = await communicator.connect(timeout=3)
    assert connected
    first = await communicator.receive_output(timeout=3)
    if first["type"] == "websocket.close":
        return communicator, first["code"]
    return communicator, first


async def _next(communicator, kind):
    for _ in range(10):
        message = await communicator.receive_json_from(timeout=3)
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind} message")


def test_the_agent_and_the_customer_talk_and_hang_up(desk):
    contact = services.ask_for_help(user=desk.pro_user, channel="call", category="video_now")
    services.accept(agent=desk.alice, contact_id=contact.pk)

    async def scenario():
        customer, hello = await _join(desk.pro_user, contact.pk)
        assert '"side": "customer"' in hello["text"]
        agent, hello = await _join(desk.alice.user, contact.pk)
        assert '"side": "agent"' in hello["text"]
        assert (await _next(customer, "joined"))["side"] == "agent"
        await agent.send_json_to({"type": "offer", "sdp": "v=0 offer"})
        assert (await _next(customer, "offer"))["sdp"] == "v=0 offer"
        await customer.send_json_to({"type": "answer", "sdp": "v=0 answer"})
        assert (await _next(agent, "answer"))["sdp"] == "v=0 answer"
        await customer.send_json_to(
            {"type": "candidate", "candidate": "candidate:1", "sdpMid": "0", "sdpMLineIndex": 0}
        )
        assert (await _next(agent, "candidate"))["candidate"] == "candidate:1"
        await agent.send_json_to({"type": "admit"})  # a video room's word: refused here
        assert (await _next(agent, "error"))["code"] == "forbidden"
        await customer.send_to(text_data="x" * 100)
        assert (await _next(customer, "error"))["code"] == "not_json"
        await agent.send_json_to({"type": "hangup"})
        assert (await _next(customer, "hangup"))["side"] == "agent"
        await customer.disconnect()
        await agent.disconnect()

    run(scenario)


def test_strangers_other_agents_and_finished_calls_are_refused(desk):
    contact = services.ask_for_help(user=desk.pro_user, channel="call", category="video_now")

    async def refused(user):
        _communicator, code = await _join(user, contact.pk)
        return code

    async def scenario():
        assert await refused(None) == 4401
        assert await refused(desk.patient_user) == 4403
        assert await refused(desk.alice.user) == 4403  # offered, not yet taken
        assert await refused(desk.bruno.user) == 4403

    run(scenario)
    services.accept(agent=desk.alice, contact_id=contact.pk)
    services.wrap_up(agent=desk.alice, contact_id=contact.pk, reason="solved")

    async def after():
        assert await refused(desk.alice.user) == 4403
        assert await refused(desk.pro_user) == 4403

    run(after)
