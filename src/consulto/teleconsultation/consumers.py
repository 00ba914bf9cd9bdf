"""The signaling WebSocket of a video room: ``ws/visio/<room id>/``.

Only the appointment's patient (logged in, or holding the signed link sent for the appointment,
as ``?t=<token>``) and its practitioner (or a substitute within a delegation) get in, and only
while the room is open. Every frame is checked by ``protocol.parse`` before use and counted
against the connection's ``protocol.Budget``.
Offers, answers and ICE candidates are relayed to the other side through the room's group,
which the Redis channel layer spans across server processes.

"Let the patient in as soon as they arrive": the practitioner's page leaves an offer made ahead
with its connection (``arm``); when the patient's page joins, that connection lets them in and
sends them the offer at once, without a trip through the practitioner's page.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils import timezone

from consulto.scheduling.live import announce

from . import protocol, rooms

NOT_LOGGED_IN = 4401
FORBIDDEN = 4403
CLOSED = 4410
TOO_LARGE = 1009
POLICY_VIOLATION = 1008
RELAYED = frozenset({"offer", "answer", "candidate"})
ANNOUNCED = frozenset({"presence"})


def _enter(user, room_id: int, token: str):
    """The room, the side this connection takes in it, and whether the room is open now. The
    patient may come by the signed link sent for the appointment, logged in or not."""
    room = rooms.load_room(room_id)
    if room is None:
        return None, None, False
    side = rooms.side_of(user, room) if user is not None else None
    if side is None and token:
        check = rooms.check_link(token)
        if check.room is not None and check.room.pk == room.pk and not check.reason:
            side = rooms.PATIENT
    return room, side, rooms.room_state(room).joinable


class RoomConsumer(AsyncJsonWebsocketConsumer):
    # ``receive`` is overridden: frames are checked (size first) by ``protocol.parse``, not
    # decoded blindly; ``send_json`` comes from the base class.

    async def dispatch(self, message) -> None:
        """Channels' ``dispatch`` first hops to the one thread that runs database calls to
        close stale connections, for every frame and every relayed message: in a call, most
        of them (ICE candidates, the sender's own copy of a broadcast) never touch the
        database, and the hop made that thread the bottleneck (bench/visio_signaling.py: half
        the rooms per worker). Every database call of this consumer goes through
        ``database_sync_to_async``, which closes stale connections itself, before and after."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is not None and not user.is_authenticated:
            user = None
        token = parse_qs(self.scope.get("query_string", b"").decode(errors="replace")).get(
            "t", [""]
        )[0]
        if user is None and not token:
            await self._refuse(NOT_LOGGED_IN)
            return
        room_id = int(self.scope["url_route"]["kwargs"]["room_id"])
        refusal, hello = await database_sync_to_async(self._join)(user, room_id, token)
        if refusal:
            await self._refuse(refusal)
            return
        self.budget, self.refused = protocol.Budget(now=time.monotonic()), 0
        self.armed: dict | None = None  # the practitioner's offer made ahead (sdp, id)
        self.group = rooms.group_of(self.room.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json(hello)
        await self._broadcast({"type": "joined", "side": self.side})

    async def _refuse(self, code: int) -> None:
        """Accepted, then closed with a reason: a handshake refused outright reaches the page
        as a bare network failure (1006), which it could only retry forever."""
        await self.accept()
        await self.close(code=code)

    def _join(self, user, room_id: int, token: str) -> tuple[int, dict | None]:
        """Who may come in, and what their page needs to start, in one trip to the database
        thread (each trip waits its turn there): a refusal code, or 0 and the hello."""
        room, side, open_now = _enter(user, room_id, token)
        if room is None or side is None:
            return FORBIDDEN, None
        if not open_now:
            return CLOSED, None
        self.room, self.side, self.user = room, side, user
        return 0, self._hello()

    def _hello(self) -> dict:
        """What the page needs to start: the patient is then in the waiting room; the chat and
        documents so far, for a page rejoining."""
        if self.side == rooms.PATIENT:
            self.room = rooms.patient_waiting(self.room)
            announce([self.room.appointment.agenda_id], kind="waiting")
        user = self.user
        return {
            "type": "hello",
            "side": self.side,
            "iceServers": rooms.ice_servers(f"u{user.pk}" if user else f"r{self.room.pk}"),
            "admitted": self.room.admitted_at is not None,
            "chat": rooms.chat_history(self.room),
            "documents": rooms.shared_documents(self.room),
        }

    async def disconnect(self, code) -> None:
        group = getattr(self, "group", None)
        if group is None:
            return
        # Leave the group first: should the broadcast fail (Redis unreachable), this channel
        # must not stay in it for the rest of the process's life, receiving what nobody reads.
        try:
            await self.channel_layer.group_discard(group, self.channel_name)
        finally:
            await self._broadcast({"type": "left", "side": self.side})

    async def receive(self, text_data=None, bytes_data=None) -> None:
        try:
            message = protocol.parse(text_data, practitioner=self.side == rooms.PRACTITIONER)
        except protocol.Invalid as error:
            if error.code == "too_large":
                await self.close(code=TOO_LARGE)
                return
            await self.send_json({"type": "error", "code": error.code})
            return
        if not self.budget.allow(message.type, time.monotonic()):
            self.refused += 1
            if self.refused >= protocol.REFUSALS_BEFORE_CLOSE:
                await self.close(code=POLICY_VIOLATION)
                return
            await self.send_json({"type": "error", "code": "too_fast"})
            return
        self.refused = 0
        handler = getattr(self, f"_on_{message.type}", None)
        if message.type in RELAYED:
            if message.type == "offer":
                self.armed = None  # the page makes its own offers now
            await self._relay(message)
        elif message.type in ANNOUNCED:
            await self._broadcast({"type": message.type, "side": self.side})
        elif handler is not None:
            await handler(message.data)

    async def _relay(self, message: protocol.Message) -> None:
        await self.channel_layer.group_send(
            self.group,
            {
                "type": "room.relay",
                "sender": self.channel_name,
                "message": {"type": message.type, **message.data},
            },
        )

    async def _on_chat(self, data: dict) -> None:
        saved = await database_sync_to_async(rooms.post_chat)(
            self.room, author=self.user, text=data["text"]
        )
        await self._broadcast(
            {
                "type": "chat",
                "side": self.side,
                "text": data["text"],
                "at": saved.created_at.isoformat(),
            },
            include_self=True,
        )

    async def _on_stats(self, data: dict) -> None:
        await database_sync_to_async(rooms.record_stats)(
            self.room, user=self.user, side=self.side, stats=data
        )
        await self._broadcast(
            {"type": "quality", "side": self.side, "flagged": protocol.flagged(data), **data},
            include_self=True,
        )

    async def _on_admit(self, data: dict) -> None:
        self.armed = None
        self.room = await database_sync_to_async(rooms.admit)(self.room, by=self.user)
        await self._broadcast({"type": "admitted"}, include_self=True)

    async def _on_arm(self, data: dict) -> None:
        self.armed = data

    async def _on_disarm(self, data: dict) -> None:
        self.armed = None

    async def _admit_on_arrival(self) -> None:
        """The patient's page joined and the practitioner's had asked to let them in on arrival:
        they are let in (by the practitioner, as a click would) and get the offer left ahead;
        the practitioner's page hears that its offer went before it hears of the patient."""
        offer, self.armed = self.armed, None
        self.room = await database_sync_to_async(rooms.admit)(self.room, by=self.user)
        at = self.room.admitted_at.isoformat() if self.room.admitted_at else None
        await self.send_json({"type": "admitted", "offered": offer["id"], "at": at})
        await self._broadcast({"type": "admitted"})
        await self._broadcast({"type": "offer", "sdp": offer["sdp"], "restart": False})

    async def _on_end(self, data: dict) -> None:
        self.room = await database_sync_to_async(rooms.end_call)(self.room, by=self.user)
        await self._broadcast({"type": "ended"}, include_self=True)

    async def _on_ping(self, data: dict) -> None:
        await self.send_json({"type": "pong", "at": timezone.now().isoformat()})

    async def _broadcast(self, message: dict, *, include_self: bool = False) -> None:
        await self.channel_layer.group_send(
            self.group,
            {
                "type": "room.relay",
                "sender": "" if include_self else self.channel_name,
                "message": message,
            },
        )

    async def room_relay(self, event) -> None:
        if event["sender"] == self.channel_name:
            return
        message = event["message"]
        if self.armed and message.get("type") == "joined" and message.get("side") == rooms.PATIENT:
            await self._admit_on_arrival()
        await self.send_json(message)
