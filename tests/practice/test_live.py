"""Open agenda pages hear about bookings and cancellations at once, over the WebSocket; nobody
hears about an agenda they may not see."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref.sync import sync_to_async
from channels.testing.websocket import WebsocketCommunicator

from consulto.practice.consumers import AgendaConsumer
from consulto.scheduling import booking
from tests.conftest import at

pytestmark = pytest.mark.django_db(transaction=True)


def run(scenario) -> None:
    """Run a scenario on an event loop of its own thread: the browser tests' sync Playwright
    keeps a loop in the main thread, where no other loop may run."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, scenario()).result()


async def _connect(user, agenda_ids):
    ids = ",".join(str(a) for a in agenda_ids)
    communicator = WebsocketCommunicator(
        AgendaConsumer.as_asgi(), f"/ws/pro/agendas/?agendas={ids}"
    )
    communicator.scope["user"] = user
    connected, code = await communicator.connect(timeout=3)
    return communicator, connected, code


def test_an_online_booking_reaches_the_open_agenda_then_its_cancellation(practice, patient):
    w = practice

    async def scenario():
        communicator, connected, _code = await _connect(w.secretary, [w.agenda.pk])
        assert connected
        booked = await sync_to_async(booking.book)(
            agenda=w.agenda, motive=w.first, start=at(w.monday, 9), patient=patient,
            booked_by=patient.owner,
        )  # fmt: skip
        message = await communicator.receive_json_from(timeout=2)
        assert message == {"type": "agenda.changed", "agenda": w.agenda.pk, "kind": "booked"}
        await sync_to_async(booking.cancel)(appointment=booked, by=patient.owner, reason="x")
        message = await communicator.receive_json_from(timeout=2)
        assert message["kind"] == "cancelled"
        await communicator.disconnect()

    run(scenario)


def test_another_agenda_is_not_heard(practice, patient):
    w = practice

    async def scenario():
        communicator, connected, _code = await _connect(w.gp2_user, [w.agenda2.pk])
        assert connected
        await sync_to_async(booking.book)(
            agenda=w.agenda, motive=w.first, start=at(w.monday, 9), patient=patient,
            booked_by=patient.owner,
        )  # fmt: skip
        assert await communicator.receive_nothing(timeout=0.5)
        await communicator.disconnect()

    run(scenario)


@pytest.mark.parametrize("who", ["outsider", "gp2_user", "patient_user"])
def test_a_socket_for_an_agenda_one_may_not_see_is_refused(practice, who):
    w = practice

    async def scenario():
        _communicator, connected, code = await _connect(getattr(w, who), [w.agenda.pk])
        assert not connected
        assert code == 4403

    run(scenario)


def test_an_anonymous_socket_is_refused(practice):
    from django.contrib.auth.models import AnonymousUser

    async def scenario():
        _communicator, connected, code = await _connect(AnonymousUser(), [practice.agenda.pk])
        assert not connected and code == 4401

    run(scenario)


def test_hostile_agenda_lists_are_refused_with_a_code(practice):
    async def scenario():
        for query in (b"agendas=%C2%B2", b"agendas=99999999999999999999", b"agendas=\xff\xfe"):
            communicator = WebsocketCommunicator(AgendaConsumer.as_asgi(), "/ws/pro/agendas/")
            communicator.scope["query_string"] = query
            communicator.scope["user"] = practice.secretary
            assert await communicator.connect(timeout=3) == (False, 4403)

    run(scenario)
