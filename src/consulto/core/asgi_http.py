"""HTTP under ASGI for Django's synchronous views, at the cost of one thread hop per request.

Django's own ``ASGIHandler`` runs a synchronous project (every view and middleware here is
synchronous) through its async machinery: per request it starts a ``ThreadSensitiveContext``
(a new one-thread executor, so a new thread), goes async -> sync for the middleware chain,
sync -> async -> sync around the view, and, with no persistent connection possible in
per-request threads, opens a database connection (SQLite: a file and four PRAGMAs) each time.
Measured in process on ``GET /api/v1/specialties``: 5.1 ms of CPU through ``ASGIHandler``
against 1.1 ms for the same request through Django's test client (bench/README.md, issue 14).

This handler keeps Django's request and response classes and its synchronous middleware chain
(the one WSGI servers run), and does what a threaded WSGI server does: each request runs whole,
from ``request_started`` to ``response.close()`` (``request_finished``), on one thread of a
fixed pool, where the thread's database connection persists between requests under the usual
``CONN_MAX_AGE`` rules. The body is read and the answer written on the event loop. WebSockets
are unchanged (Channels). A view that reaches the event loop (``async_to_sync``, e.g. a channel
layer's ``group_send``) still finds the server's loop: the pool's threads are entered through
asgiref's ``sync_to_async``.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import async_to_sync, sync_to_async
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse
from django.urls import set_script_prefix

logger = logging.getLogger(__name__)

DEFAULT_THREADS = 8


def pool_size() -> int:
    """Threads per process: ``CONSULTO_HTTP_THREADS``, else 8 (requests waiting on the database,
    such as SQLite's single write lock, do not hold up the others)."""
    try:
        return max(1, int(os.environ.get("CONSULTO_HTTP_THREADS", DEFAULT_THREADS)))
    except ValueError:
        return DEFAULT_THREADS


class ThreadPoolHandler(ASGIHandler):
    """An ASGI application for HTTP that runs Django synchronously on a fixed thread pool."""

    def __init__(self, threads: int | None = None):
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)
        self.executor = ThreadPoolExecutor(
            max_workers=threads or pool_size(), thread_name_prefix="consulto-http"
        )
        self._respond = sync_to_async(self.respond, thread_sensitive=False, executor=self.executor)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"This handler serves HTTP, not {scope['type']}.")
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        try:
            answer = await self._respond(scope, body_file, send)
        finally:
            body_file.close()
        if answer is not None:  # a whole answer, made in the thread, sent from the loop
            start, content = answer
            await send(start)
            await send({"type": "http.response.body", "body": content})

    def respond(self, scope, body_file, send):
        """Run the request from its signal to its close, on this pool thread. Returns the start
        message and the body of a whole response; a streaming one is sent from here, chunk by
        chunk, while its iterator (which may read the database) runs on this thread."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.get_response(request)
            response._handler_class = self.__class__
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        try:
            start = {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": self.headers(response),
            }
            if not response.streaming:
                return start, response.content
            sync_send = async_to_sync(send)
            sync_send(start)
            for part in response:
                for chunk, _last in self.chunk_bytes(part):
                    sync_send({"type": "http.response.body", "body": chunk, "more_body": True})
            sync_send({"type": "http.response.body"})
            return None
        finally:
            response.close()  # request_finished: this thread's connection kept or closed

    @staticmethod
    def headers(response) -> list[tuple[bytes, bytes]]:
        """The response's headers and cookies as ASGI wants them (as ``send_response`` does)."""
        headers = []
        for header, value in response.items():
            if isinstance(header, str):
                header = header.encode("ascii")
            if isinstance(value, str):
                value = value.encode("latin1")
            headers.append((bytes(header), bytes(value)))
        for cookie in response.cookies.values():
            headers.append((b"Set-Cookie", cookie.output(header="").encode("ascii").strip()))
        return headers


def get_application() -> ThreadPoolHandler:
    """Set Django up and return the HTTP application (as ``get_asgi_application`` does)."""
    import django

    django.setup(set_prefix=False)
    return ThreadPoolHandler()
