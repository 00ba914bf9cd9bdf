"""Scale-out (issue 6): two separate ASGI server processes on the Redis channel layer.

The patient's WebSocket lands on process A, the practitioner's on process B. Both log in with
real session cookies (database-backed sessions, shared by the processes), and the whole call
goes across the process boundary through Redis: hello on each side, admission, offer and
answer, a candidate each way, chat both ways, and the end, after which the appointment is SEEN
in the shared database. Without REDIS_URL (the in-process layer cannot span processes) the test
is skipped.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from consulto.cli import server_command
from consulto.scheduling.models import Appointment

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.django_db(transaction=True),
    # The servers are other processes, on the machine's clock: the room they open must be
    # built on that clock too (tools/suite_at moves both).
    pytest.mark.real_clock,
    pytest.mark.skipif(
        not os.environ.get("REDIS_URL"),
        reason="needs REDIS_URL: only the Redis channel layer spans server processes",
    ),
]

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 15
RECEIVE_TIMEOUT = 5


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url() -> str:
    """The test database (already created by pytest-django) as a DATABASE_URL."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{quote(db['NAME'], safe='')}"


def _server_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "consulto.settings",
            "DATABASE_URL": _database_url(),
            "REDIS_URL": os.environ["REDIS_URL"],
            # Same data dir, secret key and encryption keys as the test process: the session's
            # auth hash is signed with SECRET_KEY, chat is encrypted with the data dir's key.
            "CONSULTO_DATA_DIR": str(settings.DATA_DIR),
            "CONSULTO_SECRET_KEY": settings.SECRET_KEY,
            "CONSULTO_HTTPS": "0",
            "CONSULTO_DEBUG": "0",
            "CONSULTO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "CONSULTO_DB_POOL_MIN": "1",
            "CONSULTO_DB_POOL_MAX": "4",
            "PYTHONPATH": os.pathsep.join(
                [str(ROOT / "src"), str(ROOT), env.get("PYTHONPATH", "")]
            ).rstrip(os.pathsep),
        }
    )
    return env


def _answers_http(port: int) -> bool:
    """Any HTTP response at all (even an error page) means the server is up."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        # The OpenAPI schema: plain JSON, no template (the home page would need the static
        # files manifest, which the test data dir lacks when DEBUG is off).
        conn.request("GET", "/api/v1/openapi.json", headers={"Host": "127.0.0.1"})
        conn.getresponse().read()
        return True
    except OSError:
        return False
    finally:
        conn.close()


class Server:
    def __init__(self, name: str, env: dict[str, str]):
        self.name = name
        self.port = _free_port()
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed by the fixture)
        self.process = subprocess.Popen(
            # The production server, as `consulto serve` starts it: its WebSockets are tested.
            server_command(host="127.0.0.1", port=self.port),
            env=env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def stderr(self) -> str:
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


@pytest.fixture
def servers(call):
    """Two server processes, A and B, on the test database and the same Redis."""
    env = _server_env()
    started = [Server("A", env), Server("B", env)]
    try:
        deadline = time.monotonic() + START_TIMEOUT
        waiting = list(started)
        while waiting and time.monotonic() < deadline:
            for server in list(waiting):
                if server.process.poll() is not None:
                    raise AssertionError(f"server {server.name} exited:\n{server.stderr()}")
                if _answers_http(server.port):
                    waiting.remove(server)
            time.sleep(0.1)
        assert not waiting, "server(s) did not start:\n" + "\n".join(
            f"--- {s.name}\n{s.stderr()}" for s in waiting
        )
        yield started
    finally:
        for server in started:
            server.stop()
        for server in started:
            server.log.close()


def _session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _connect(server: Server, room_id: int, user):
    from websockets.sync.client import connect

    return connect(
        f"ws://127.0.0.1:{server.port}/ws/visio/{room_id}/",
        origin=f"http://127.0.0.1:{server.port}",
        additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={_session_cookie(user)}"},
        open_timeout=RECEIVE_TIMEOUT,
    )


def _next(ws, kind: str, side: str | None = None) -> dict:
    """The next message of that type (and side, if given): others, such as "joined" or the
    echo of one's own chat message, are skipped."""
    for _ in range(10):
        message = json.loads(ws.recv(timeout=RECEIVE_TIMEOUT))
        if message["type"] == kind and (side is None or message.get("side") == side):
            return message
    raise AssertionError(f"no {kind} message")


def test_a_call_across_two_processes_connects(call, servers):
    a, b = servers
    try:
        with _connect(a, call.room.pk, call.patient_user) as patient:
            hello = _next(patient, "hello")
            assert hello["side"] == "patient" and hello["admitted"] is False
            with _connect(b, call.room.pk, call.gp) as doctor:
                assert _next(doctor, "hello")["side"] == "practitioner"

                doctor.send(json.dumps({"type": "admit"}))
                assert _next(patient, "admitted") == {"type": "admitted"}

                doctor.send(json.dumps({"type": "offer", "sdp": "v=0 offer"}))
                assert _next(patient, "offer")["sdp"] == "v=0 offer"
                patient.send(json.dumps({"type": "answer", "sdp": "v=0 answer"}))
                assert _next(doctor, "answer")["sdp"] == "v=0 answer"

                patient.send(
                    json.dumps(
                        {
                            "type": "candidate",
                            "candidate": "candidate:1",
                            "sdpMid": "0",
                            "sdpMLineIndex": 0,
                        }
                    )
                )
                assert _next(doctor, "candidate")["candidate"] == "candidate:1"
                doctor.send(
                    json.dumps(
                        {
                            "type": "candidate",
                            "candidate": "candidate:2",
                            "sdpMid": "0",
                            "sdpMLineIndex": 0,
                        }
                    )
                )
                assert _next(patient, "candidate")["candidate"] == "candidate:2"

                patient.send(json.dumps({"type": "chat", "text": "Bonjour docteur"}))
                assert _next(doctor, "chat", "patient")["text"] == "Bonjour docteur"
                doctor.send(json.dumps({"type": "chat", "text": "Bonjour madame"}))
                assert _next(patient, "chat", "practitioner")["text"] == "Bonjour madame"

                doctor.send(json.dumps({"type": "end"}))
                assert _next(patient, "ended") == {"type": "ended"}
                assert _next(doctor, "ended") == {"type": "ended"}

        appointment = Appointment.objects.get(pk=call.appointment.pk)
        assert appointment.status == Appointment.Status.SEEN
    except BaseException:
        for server in servers:
            print(f"--- server {server.name} (port {server.port}) output:\n{server.stderr()}")
        raise


def test_a_patient_let_in_on_arrival_gets_the_offer_across_processes(call, servers):
    """The practitioner's connection on B holds the offer made ahead; the patient's page joins
    on A: the admission and the offer come back across Redis, with no trip through the
    practitioner's page."""
    a, b = servers
    try:
        with _connect(b, call.room.pk, call.gp) as doctor:
            _next(doctor, "hello")
            doctor.send(json.dumps({"type": "arm", "sdp": "v=0 made ahead", "id": 2}))
            doctor.send(json.dumps({"type": "ping"}))
            _next(doctor, "pong")  # B has read the offer
            with _connect(a, call.room.pk, call.patient_user) as patient:
                assert _next(patient, "hello")["admitted"] is False
                assert _next(patient, "admitted") == {"type": "admitted"}
                assert _next(patient, "offer")["sdp"] == "v=0 made ahead"
                assert _next(doctor, "admitted")["offered"] == 2
        appointment = Appointment.objects.get(pk=call.appointment.pk)
        assert appointment.status == Appointment.Status.IN_PROGRESS
    except BaseException:
        for server in servers:
            print(f"--- server {server.name} (port {server.port}) output:\n{server.stderr()}")
        raise
