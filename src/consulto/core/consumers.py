"""The WebSocket answer for a path no consumer serves."""

from channels.generic.websocket import AsyncWebsocketConsumer

NOT_FOUND = 4404


class NotFoundConsumer(AsyncWebsocketConsumer):
    """Refuses the connection with a close code, as the other consumers refuse theirs, instead
    of the router's "No route found" error (a traceback and a 500)."""

    async def connect(self) -> None:
        await self.close(code=NOT_FOUND)
