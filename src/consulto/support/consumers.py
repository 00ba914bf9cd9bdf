"""Live support pages: the agent's console (their offers, their team, the queue) and the
customer's request page. Only "look again" travels here; the page fetches what its reader may
see through the permission-checked views."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from . import live

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
