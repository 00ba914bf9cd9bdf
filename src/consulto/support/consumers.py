"""Live support pages: the agent's console (their offers, their team, the queue) and the
customer's request page. Only "look again" travels here; the page fetches what its reader may
see through the permission-checked views."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from consulto.core.errors import DomainError
from consulto.teleconsultation import protocol
from consulto.teleconsultation.rooms import ice_servers

from . import access, calls, live, services, telephony
from .janus import Janus, JanusError

logger = logging.getLogger(__name__)

NOT_LOGGED_IN = 4401
FORBIDDEN = 4403


@database_sync_to_async
def _agent_groups(user) -> list[str] | None:
    from consulto.practice.access import has_second_factor

    from .access import agent_of

    agent = agent_of(user)
    if agent is None or not has_second_factor(user):
        return None
    return [live.agent_group(agent.pk), live.team_group(agent.team_id), live.QUEUE]


class _Live(AsyncJsonWebsocketConsumer):
    async def groups_for(self, user) -> list[str] | None:
        raise NotImplementedError

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=NOT_LOGGED_IN)
            return
        groups = await self.groups_for(user)
        if groups is None:
            await self.close(code=FORBIDDEN)
            return
        self.groups_joined = groups
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code) -> None:
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs) -> None:
        """The page says nothing; anything it sends is ignored."""

    async def support_changed(self, event) -> None:
        await self.send_json({"type": "support.changed"})


class ConsoleConsumer(_Live):
    async def groups_for(self, user):
        return await _agent_groups(user)


class CustomerConsumer(_Live):
    async def groups_for(self, user):
        return [live.customer_group(user.pk)]


class CallConsumer(AsyncJsonWebsocketConsumer):
    """The signaling of one support call (``ws/support/appel/<contact id>/``): offers, answers
    and ICE candidates checked by the video consultations' protocol and relayed to the other
    side through the call's group (which Redis spans across processes); "hangup" ends it on
    both pages. Each connection has the same budget as a video call's."""

    RELAYED = frozenset({"offer", "answer", "candidate"})

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.accept()
            await self.close(code=NOT_LOGGED_IN)
            return
        contact_id = int(self.scope["url_route"]["kwargs"]["contact_id"])
        side, hello = await database_sync_to_async(calls.join)(user, contact_id)
        if side is None:
            await self.accept()
            await self.close(code=FORBIDDEN)
            return
        self.side, self.budget = side, protocol.Budget(now=time.monotonic())
        self.group = calls.group_of(contact_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json(hello)
        await self._relay({"type": "joined", "side": side})

    async def disconnect(self, code) -> None:
        group = getattr(self, "group", None)
        if group is None:
            return
        try:
            await self.channel_layer.group_discard(group, self.channel_name)
        finally:
            await self._relay({"type": "left", "side": self.side})

    async def receive(self, text_data=None, bytes_data=None) -> None:
        if text_data is not None and len(text_data) < 64 and '"hangup"' in text_data:
            try:
                if json.loads(text_data) == {"type": "hangup"}:
                    await self._relay({"type": "hangup", "side": self.side})
                    return
            except ValueError:
                pass
        try:
            message = protocol.parse(text_data, practitioner=False)
        except protocol.Invalid as error:
            if error.code == "too_large":
                await self.close(code=1009)
                return
            await self.send_json({"type": "error", "code": error.code})
            return
        if not self.budget.allow(message.type, time.monotonic()):
            await self.send_json({"type": "error", "code": "too_fast"})
            return
        if message.type in self.RELAYED:
            await self._relay({"type": message.type, **message.data})
        elif message.type == "presence":
            await self._relay({"type": "presence", "side": self.side})
        elif message.type == "ping":
            await self.send_json({"type": "pong"})

    async def _relay(self, message: dict) -> None:
        await self.channel_layer.group_send(
            self.group, {"type": "call.relay", "sender": self.channel_name, "message": message}
        )

    async def call_relay(self, event) -> None:
        if event["sender"] != self.channel_name:
            await self.send_json(event["message"])


class PhoneConsumer(AsyncJsonWebsocketConsumer):
    """The agent's call to the customer's phone (``ws/support/telephone/<contact id>/``) through
    Janus's SIP plugin and the trunk; only our server talks to Janus (telephony.py says why).

    The browser sends its offer, its ICE candidates and "hangup"; it gets "calling", "ringing",
    Janus's "answer", "answered" when the phone picks up, and "ended" with the outcome of an
    unanswered call. The number is the contact's, chosen here; what the call came to goes into
    the ticket's history. The Janus session lives as long as this connection: a page that
    closes hangs the phone up."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        await self.accept()
        if user is None or not user.is_authenticated:
            await self.close(code=NOT_LOGGED_IN)
            return
        self.contact_id = int(self.scope["url_route"]["kwargs"]["contact_id"])
        if await database_sync_to_async(telephony.target)(user, self.contact_id) is None:
            await self.close(code=FORBIDDEN)
            return
        self.user, self.trunk = user, telephony.trunk()
        self.budget = protocol.Budget(now=time.monotonic())
        self.janus: Janus | None = None
        self.listening: asyncio.Task | None = None
        self.connected = True
        await self.send_json({"type": "hello", "iceServers": ice_servers(f"u{user.pk}")})

    async def disconnect(self, code) -> None:
        self.connected = False
        await self._hang_up()

    async def receive(self, text_data=None, bytes_data=None) -> None:
        if text_data is not None and len(text_data) < 64 and '"hangup"' in text_data:
            try:
                if json.loads(text_data) == {"type": "hangup"}:
                    await self._hang_up()
                    return
            except ValueError:
                pass
        try:
            message = protocol.parse(text_data, practitioner=False)
        except protocol.Invalid as error:
            if error.code == "too_large":
                await self.close(code=1009)
                return
            await self._send({"type": "error", "code": error.code})
            return
        if not self.budget.allow(message.type, time.monotonic()):
            await self._send({"type": "error", "code": "too_fast"})
        elif message.type == "offer":
            await self._call(message.data["sdp"])
        elif message.type == "candidate":
            await self._trickle(message.data)
        elif message.type == "ping":
            await self._send({"type": "pong"})
        else:
            await self._send({"type": "error", "code": "unknown_type"})

    async def _call(self, sdp: str) -> None:
        if self.janus is not None:
            await self._send({"type": "error", "code": "busy"})
            return
        # Asked again: the contact may have ended since the page opened.
        uri = await database_sync_to_async(telephony.target)(self.user, self.contact_id)
        if uri is None:
            await self.close(code=FORBIDDEN)
            return
        trunk, self.listening, self.answered_at, self.failed = self.trunk, None, None, False
        await self._send({"type": "calling"})
        try:
            self.janus = await Janus.open(trunk.janus_url, trunk.api_secret, "janus.plugin.sip")
        except JanusError as error:
            logger.warning("support phone call: %s", error)
            await self._ended(code=None, failed=True)
            return
        self.listening = asyncio.create_task(self._listen(self.janus))
        # The trunk account is set up on this handle without a REGISTER (agents only call out);
        # the plugin answers the trunk's challenge with its password.
        register = {
            "request": "register",
            "send_register": False,
            "username": f"sip:{trunk.username}@{trunk.domain}",
            "secret": trunk.secret,
            "proxy": trunk.proxy,
            "outbound_proxy": trunk.proxy,
        }
        call = {"request": "call", "uri": uri, "autoaccept_reinvites": True}
        if trunk.caller_id:
            call["headers"] = {"P-Asserted-Identity": f"<sip:{trunk.caller_id}@{trunk.domain}>"}
        try:
            await self.janus.message(register)
            await self.janus.message(call, jsep={"type": "offer", "sdp": sdp})
        except JanusError as error:
            logger.warning("support phone call: %s", error)
            self.failed = True
            self.listening.cancel()  # it says "ended" and lets the session go

    async def _trickle(self, data: dict) -> None:
        if self.janus is None:
            return
        candidate = None
        if data["candidate"]:
            candidate = {
                "candidate": data["candidate"],
                "sdpMid": data["sdpMid"],
                "sdpMLineIndex": data["sdpMLineIndex"],
            }
        try:
            await self.janus.trickle(candidate)
        except JanusError as error:
            logger.warning("support phone call: %s", error)

    async def _listen(self, janus: Janus) -> None:
        """Janus's events, told to the page, until the call ends (then the session goes)."""
        code = None
        try:
            async for event in janus.events():
                jsep = event.get("jsep") or {}
                if jsep.get("type") == "answer":
                    await self._send({"type": "answer", "sdp": jsep.get("sdp", "")})
                data = (event.get("plugindata") or {}).get("data") or {}
                result = data.get("result") or {}
                if "error" in data:
                    logger.warning("support phone call: Janus's SIP plugin: %s", data["error"])
                    self.failed = True
                    break
                if result.get("event") == "ringing":
                    await self._send({"type": "ringing"})
                elif result.get("event") == "accepted":
                    self.answered_at = time.monotonic()
                    await self._send({"type": "answered"})
                elif result.get("event") in ("hangup", "registration_failed"):
                    code = result.get("code")
                    break
                elif event.get("janus") in ("hangup", "detached"):
                    break
        except JanusError as error:
            logger.warning("support phone call: %s", error)
            self.failed = True
        finally:
            if self.janus is janus:
                self.janus = None
            await janus.close()
            await self._ended(code=code, failed=self.failed)

    async def _ended(self, *, code: int | None, failed: bool) -> None:
        """Tell the page, and the ticket's history, what the call came to."""
        talked, outcome = None, ""
        if self.answered_at is not None:
            talked = round(time.monotonic() - self.answered_at)
        else:
            outcome = "failed" if failed else telephony.outcome(code)
        await self._send({"type": "ended", "outcome": outcome})
        agent = await database_sync_to_async(access.agent_of)(self.user)
        if agent is None:
            return
        # Not the agent's contact any more (transferred): nothing to record on it.
        with contextlib.suppress(DomainError):
            await database_sync_to_async(services.record_phone_call)(
                agent=agent, contact_id=self.contact_id, talked_seconds=talked, outcome=outcome
            )

    async def _hang_up(self) -> None:
        """Hang the phone up (a BYE, or a CANCEL while it rings) and let the session go."""
        janus, listening = getattr(self, "janus", None), getattr(self, "listening", None)
        if janus is not None:
            with contextlib.suppress(JanusError):  # no call any more
                await janus.message({"request": "hangup"})
        if listening is not None and not listening.done():
            try:
                await asyncio.wait_for(asyncio.shield(listening), timeout=5)
            except TimeoutError:
                listening.cancel()

    async def _send(self, message: dict) -> None:
        if getattr(self, "connected", False):
            await self.send_json(message)
