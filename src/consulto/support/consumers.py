"""Live support pages: the agent's console (their offers, their team, the queue) and the
customer's request page. Only "look again" travels here; the page fetches what its reader may
see through the permission-checked views."""

from __future__ import annotations

import json
import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from consulto.teleconsultation import protocol

from . import calls, live

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
