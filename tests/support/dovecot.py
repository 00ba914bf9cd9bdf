"""A real IMAP server for the tests of the support desk's mail door: Debian's Dovecot, a
throwaway instance of its own (configuration, sockets, logs and maildir in a temporary
directory, one user with a random password, plain IMAP on a free loopback port).

Like the browser, it skips with a visible reason when Dovecot is missing on a developer's
machine (``apt-get install -y dovecot-imapd``); under CI (``CI=true``) that is a failure.
"""

import grp
import imaplib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.external import missing

DOVECOT = os.environ.get("CONSULTO_DOVECOT", "dovecot")
USER = "support"


@dataclass
class ImapServer:
    port: int
    user: str
    password: str
    log: Path

    def client(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        client.login(self.user, self.password)
        return client


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _greets(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as connection:
            return connection.recv(64).startswith(b"* OK")
    except OSError:
        return False


def _accounts() -> tuple[str, str, pwd.struct_passwd]:
    """(login user, internal user, mail owner). Dovecot runs its login and internal processes
    under the current user, unless that is root: they refuse root, so Debian's own dovenull and
    dovecot users take them, and dovecot owns the mail."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.getuid())
        return me.pw_name, me.pw_name, me
    try:
        return "dovenull", "dovecot", pwd.getpwnam("dovecot")
    except KeyError:
        missing("Dovecot's system users (dovecot, dovenull) are missing: reinstall dovecot-core")


def _configuration(base: Path, port: int, password: str) -> str:
    login, internal, owner = _accounts()
    return f"""
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
instance_name = consulto-test-{port}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_internal_group = {grp.getgrgid(pwd.getpwnam(internal).pw_gid).gr_name}
default_login_user = {login}
first_valid_uid = 1
mail_location = maildir:{base}/mail/%u
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={owner.pw_uid} gid={owner.pw_gid} home={base}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


@pytest.fixture
def imap_server():
    binary = shutil.which(DOVECOT) or shutil.which(DOVECOT, path="/usr/sbin:/sbin")
    if binary is None:
        missing(f"Dovecot's {DOVECOT} not found (apt-get install -y dovecot-imapd)")
    # Not pytest's tmp_path: Dovecot's unprivileged processes must be able to reach it.
    base = Path(tempfile.mkdtemp(prefix="consulto-dovecot-"))
    base.chmod(0o755)
    port, password = _free_port(), secrets.token_hex(12)
    _login, _internal, owner = _accounts()
    for name in ("run", "state", "mail"):
        (base / name).mkdir()
    os.chown(base / "mail", owner.pw_uid, owner.pw_gid)
    configuration = base / "dovecot.conf"
    configuration.write_text(_configuration(base, port, password))
    log = base / "dovecot.log"
    process = subprocess.Popen(
        [binary, "-F", "-c", str(configuration)],
        stdout=subprocess.DEVNULL,
        stderr=(base / "stderr.log").open("w"),
    )
    try:
        deadline = time.monotonic() + 15
        while not _greets(port):
            if process.poll() is not None or time.monotonic() > deadline:
                said = "".join(
                    p.read_text()[-3000:] for p in (log, base / "stderr.log") if p.exists()
                )
                pytest.fail(f"dovecot did not start on port {port}:\n{said}")
            time.sleep(0.05)
        yield ImapServer(port=port, user=USER, password=password, log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(base, ignore_errors=True)
