"""HTTP under ASGI (core/asgi_http.py): Django's synchronous stack on a fixed thread pool.

The application is driven as an ASGI server drives it (scope, receive, send), in process."""

import asyncio
import threading

import pytest
from channels.layers import get_channel_layer
from django.db import connection
from django.db.backends.signals import connection_created
from django.http import HttpResponse, StreamingHttpResponse
from django.urls import path

from consulto.core.asgi_http import ThreadPoolHandler

# This module is also the URLconf of the tests below (ROOT_URLCONF overridden).
_both_in = threading.Barrier(2, timeout=5)


def _rows(request):
    def rows():
        for n in range(2000):
            yield f"{n};{connection.vendor}\n"  # the iterator may use the database

    return StreamingHttpResponse(rows(), content_type="text/csv")


def _rendezvous(request):
    _both_in.wait()  # both requests inside a view at once, or BrokenBarrierError after 5 s
    return HttpResponse("met")


def _database(request):
    with connection.cursor() as cursor:  # the database session this request used
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_backend_pid()")
            session = cursor.fetchone()[0]
        else:
            session = id(connection.connection)
    response = HttpResponse(str(session))
    response.set_cookie("seen", "yes", httponly=True)
    return response


def _notify(request):
    from asgiref.sync import async_to_sync

    # As scheduling/live.py does after a booking: the channel layer is reached from the view.
    async_to_sync(get_channel_layer().group_send)("asgi-test", {"type": "agenda.changed"})
    return HttpResponse("sent")


def _set_zone(request):
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    timezone.activate(ZoneInfo("Asia/Tokyo"))  # and never deactivated
    return HttpResponse(timezone.get_current_timezone_name())


def _zone(request):
    from django.utils import timezone

    return HttpResponse(timezone.get_current_timezone_name())


urlpatterns = [
    path("set-zone/", _set_zone),
    path("zone/", _zone),
    path("rows/", _rows),
    path("rendezvous/", _rendezvous),
    path("database/", _database),
    path("notify/", _notify),
]


def _scope(path_: str, method: str = "GET") -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path_,
        "raw_path": path_.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("203.0.113.9", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def _call(app, path_: str) -> tuple[int, dict, bytes]:
    messages = []
    first = True

    async def receive():
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # no disconnect while the answer is made

    async def send(message):
        messages.append(message)

    await app(_scope(path_), receive, send)
    start = messages[0]
    headers = {}
    for name, value in start["headers"]:
        headers.setdefault(name.decode().lower(), []).append(value.decode())
    body = b"".join(m.get("body", b"") for m in messages[1:])
    assert not messages[-1].get("more_body"), "the answer must end"
    return start["status"], headers, body


@pytest.fixture
def app(settings):
    settings.ROOT_URLCONF = __name__
    settings.ALLOWED_HOSTS = ["testserver"]
    return ThreadPoolHandler(threads=4)


@pytest.mark.django_db(transaction=True)
def test_a_streamed_answer_arrives_whole_with_its_headers(app):
    status, headers, body = asyncio.run(_call(app, "/rows/"))
    assert status == 200
    assert headers["content-type"] == ["text/csv"]
    lines = body.decode().splitlines()
    assert len(lines) == 2000 and lines[0].startswith("0;") and lines[-1].startswith("1999;")


@pytest.mark.django_db(transaction=True)
def test_requests_run_side_by_side_not_one_after_the_other(app):
    """Two requests inside their views at the same time: one waiting (on the database's lock,
    say) does not hold up the next."""

    async def both():
        return await asyncio.gather(_call(app, "/rendezvous/"), _call(app, "/rendezvous/"))

    answers = asyncio.run(both())
    assert [(status, body) for status, _, body in answers] == [(200, b"met"), (200, b"met")]


@pytest.mark.django_db(transaction=True)
def test_what_a_request_sets_does_not_reach_the_next_one_on_the_same_thread(settings):
    """Pool threads serve one request after another: a time zone (or language) a view activates
    lives in that request's context (a server runs each request in a task of its own), as under
    Django's own handlers, not in the thread."""
    settings.ROOT_URLCONF = __name__
    settings.ALLOWED_HOSTS = ["testserver"]
    app = ThreadPoolHandler(threads=1)

    async def both():
        return [
            (await asyncio.create_task(_call(app, path_)))[2] for path_ in ("/set-zone/", "/zone/")
        ]

    assert asyncio.run(both()) == [b"Asia/Tokyo", settings.TIME_ZONE.encode()]


@pytest.mark.django_db(transaction=True)
def test_cookies_are_sent_as_django_sets_them(app):
    status, headers, _ = asyncio.run(_call(app, "/database/"))
    assert status == 200
    assert any(c.startswith("seen=yes;") and "HttpOnly" in c for c in headers["set-cookie"])


@pytest.mark.django_db(transaction=True)
def test_the_projects_pages_and_errors_through_the_application(settings):
    from consulto.asgi import application

    settings.ALLOWED_HOSTS = ["testserver"]
    http = application.application_mapping["http"]
    assert isinstance(http, ThreadPoolHandler)
    status, headers, body = asyncio.run(_call(http, "/api/v1/specialties"))
    assert (status, headers["content-type"]) == (200, ["application/json; charset=utf-8"])
    status, headers, body = asyncio.run(_call(http, "/nulle-part/"))
    assert status == 404 and "Page introuvable" in body.decode()


@pytest.mark.django_db(transaction=True)
def test_requests_reuse_database_connections_instead_of_opening_one_each(app, settings):
    """Django's own ASGI handler opens a connection per request (a new thread each time). Here a
    pool thread keeps its SQLite connection under CONN_MAX_AGE, as a threaded WSGI server does;
    on PostgreSQL the sessions come from the pool of settings.py and are used again."""
    opened, sessions = [], set()

    def count(sender, connection, **kwargs):
        opened.append(threading.get_ident())

    connection_created.connect(count)
    try:

        async def many():
            for _ in range(30):
                status, _, body = await _call(app, "/database/")
                assert status == 200
                sessions.add(body)

        asyncio.run(many())
    finally:
        connection_created.disconnect(count)
    if connection.vendor == "sqlite":
        assert 1 <= len(opened) <= 4, f"{len(opened)} connections opened for 30 requests"
        assert len(sessions) <= 4
    else:
        pool = settings.DATABASES["default"]["OPTIONS"]["pool"]["max_size"]
        assert len(sessions) <= pool, f"30 requests used {len(sessions)} database sessions"


@pytest.mark.django_db(transaction=True)
def test_a_view_reaches_the_channel_layer_on_the_servers_loop(app):
    """What scheduling/live.py does after a booking (async_to_sync(group_send)) must reach the
    server's own loop: the in-memory layer's queues belong to it."""
    layer = get_channel_layer()

    async def scenario():
        channel = await layer.new_channel()
        await layer.group_add("asgi-test", channel)
        status, _, body = await _call(app, "/notify/")
        message = await asyncio.wait_for(layer.receive(channel), timeout=3)
        await layer.group_discard("asgi-test", channel)
        return status, body, message

    status, body, message = asyncio.run(scenario())
    assert (status, body) == (200, b"sent")
    assert message == {"type": "agenda.changed"}
