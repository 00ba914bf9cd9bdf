"""Live agenda pages: a WebSocket that joins the groups of the agendas the user may see.

Only "this agenda changed" travels here; the page then fetches the events through the
permission-checked feed. A user who may not see one of the requested agendas is refused.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from consulto.core.inputs import parse_ids
from consulto.scheduling.live import group_name

from .access import has_second_factor
from .permissions import agenda_ids

NOT_LOGGED_IN = 4401
FORBIDDEN = 4403


@database_sync_to_async
def _allowed(user) -> set[int] | None:
    if not has_second_factor(user):
        return None
    return agenda_ids(user)


class AgendaConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=NOT_LOGGED_IN)
            return
        query = parse_qs(self.scope.get("query_string", b"").decode(errors="replace"))
        requested = set(parse_ids(query.get("agendas", []), limit=9))
        allowed = await _allowed(user)
        if not requested or allowed is None or not requested <= allowed or len(requested) > 8:
            await self.close(code=FORBIDDEN)
            return
        self.groups_joined = [group_name(a) for a in sorted(requested)]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code) -> None:
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs) -> None:
        """The page says nothing; anything it sends is ignored."""

    async def agenda_changed(self, event) -> None:
        await self.send_json(
            {"type": "agenda.changed", "agenda": event["agenda"], "kind": event["kind"]}
        )
