"""Tell open agenda pages, within the second, that an agenda changed.

Each agenda has a Channels group; after the transaction commits, a small message (the agenda,
what happened) goes to it. Pages then fetch what they may see through the permission-checked
events feed: nothing about a patient travels through the group itself. The in-memory channel
layer serves one process (``make run``); Redis carries it across workers in production.
"""

from __future__ import annotations

import asyncio
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def group_name(agenda_id: int) -> str:
    return f"agenda-{agenda_id}"


def announce(agenda_ids, *, kind: str) -> None:
    """After commit, tell each agenda's group that ``kind`` (booked, cancelled...) happened."""
    ids = sorted({int(a) for a in agenda_ids})

    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        for agenda_id in ids:
            message = {"type": "agenda.changed", "agenda": agenda_id, "kind": kind}
            try:
                if loop is not None:
                    # Called from async code (a consumer, a test driving a browser): no
                    # blocking bridge is allowed there, the loop sends it.
                    loop.create_task(layer.group_send(group_name(agenda_id), message))
                else:
                    async_to_sync(layer.group_send)(group_name(agenda_id), message)
            except Exception:  # a page missing one update must never fail a booking
                logger.warning("could not announce a change of agenda %s", agenda_id, exc_info=True)

    transaction.on_commit(send)
