"""A real HTTP server on 127.0.0.1, in a thread, that records what it is sent and answers what
the test asks (a status, a body, a redirect, a delay)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Received:
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class Answer:
    status: int = 200
    body: dict | None = None
    headers: dict = field(default_factory=dict)
    delay: float = 0.0


class Receiver:
    """``answers`` are used in turn (the last one again once they run out); ``check``, when
    given, is called with each request and its answer wins when it returns one."""

    def __init__(self):
        self.requests: list[Received] = []
        self.answers: list[Answer] = [Answer()]
        self.check = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                got = Received(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length),
                )
                receiver.requests.append(got)
                answer = (receiver.check(got) if receiver.check else None) or receiver.next()
                if answer.delay:
                    time.sleep(answer.delay)
                body = json.dumps(answer.body).encode() if answer.body is not None else b""
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout under test)

            do_POST = do_PUT = do_GET = _serve

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def next(self) -> Answer:
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    def answer(self, *answers: Answer | int) -> None:
        self.answers = [a if isinstance(a, Answer) else Answer(a) for a in answers]

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
