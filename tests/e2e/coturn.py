"""A real relay server for the browser tests: coturn's ``turnserver`` on a free local port,
checking credentials the way production does (``use-auth-secret``: the REST scheme of
``rooms.turn_credentials``).

Like the browser, it skips with a visible reason when coturn is missing on a developer's machine;
under CI (``CI=true``) a missing ``turnserver`` is a failure, not a skip.
"""

import os
import secrets
import shutil
import socket
import struct
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import _missing

TURNSERVER = os.environ.get("CONSULTO_TURNSERVER", "turnserver")
REALM = "consulto"
STUN_MAGIC_COOKIE = 0x2112A442


@dataclass
class TurnServer:
    port: int
    secret: str
    log: Path

    @property
    def url(self) -> str:
        return f"turn:127.0.0.1:{self.port}?transport=udp"


def free_port() -> int:
    """A local port free for both UDP and TCP (coturn listens on both)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port


def _answers_stun(port: int) -> bool:
    """Whether a STUN binding request to the port gets its answer (RFC 5389)."""
    transaction = secrets.token_bytes(12)
    request = struct.pack("!HHI", 0x0001, 0, STUN_MAGIC_COOKIE) + transaction
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.settimeout(0.2)
        probe.sendto(request, ("127.0.0.1", port))
        try:
            answer = probe.recv(2048)
        except OSError:  # timeout, or the port refused it (not listening yet)
            return False
    return answer[8:20] == transaction


@pytest.fixture
def turn_server(tmp_path):
    binary = shutil.which(TURNSERVER)
    if binary is None:
        _missing(f"coturn's {TURNSERVER} not found (apt-get install -y coturn)")
    port, secret = free_port(), secrets.token_hex(16)
    log = tmp_path / "turnserver.log"
    command = [
        binary,
        "-n",  # no configuration file: everything is on this line
        "--listening-ip=127.0.0.1",
        f"--listening-port={port}",
        "--relay-ip=127.0.0.1",
        "--use-auth-secret",
        f"--static-auth-secret={secret}",
        f"--realm={REALM}",
        "--no-tls",
        "--no-dtls",
        "--no-cli",
        "--log-file=stdout",
        "--simple-log",
        f"--pidfile={tmp_path / 'turnserver.pid'}",
        f"--userdb={tmp_path / 'turndb'}",
    ]
    with log.open("w") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while not _answers_stun(port):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"turnserver did not start on port {port}:\n{log.read_text()[-3000:]}")
        yield TurnServer(port=port, secret=secret, log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
