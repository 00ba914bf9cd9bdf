"""Tell open consoles and customers' pages, within the second, that something changed.

Only "look again" travels through the channel layer (a group per agent, per team, the queue,
per customer); the page then fetches what its reader may see through the permission-checked
views. Sent after the transaction commits; a lost message costs a refresh, never a contact.
"""

from __future__ import annotations

import asyncio
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)
QUEUE = "support-queue"


def agent_group(agent_id: int) -> str:
    return f"support-agent-{agent_id}"


def team_group(team_id: int) -> str:
    return f"support-team-{team_id}"


def customer_group(user_id: int) -> str:
    return f"support-customer-{user_id}"


def announce_agent(agent_id: int | None) -> None:
    if agent_id:
        _after_commit(agent_group(agent_id))


def announce_team(team_id: int | None) -> None:
    if team_id:
        _after_commit(team_group(team_id))


def announce_queue() -> None:
    _after_commit(QUEUE)


def announce_customer(user_id: int | None) -> None:
    if user_id:
        _after_commit(customer_group(user_id))


def _after_commit(group: str) -> None:
    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        message = {"type": "support.changed", "group": group}
        try:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                loop = None
            if loop is not None:
                loop.create_task(layer.group_send(group, message))
            else:
                async_to_sync(layer.group_send)(group, message)
        except Exception:  # a console missing one update must never fail a contact
            logger.warning("could not announce a change to %s", group, exc_info=True)

    transaction.on_commit(send)
