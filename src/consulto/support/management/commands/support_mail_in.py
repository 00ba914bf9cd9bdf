"""``manage.py support_mail_in``: the support desk's incoming e-mail, through one of two doors.

``--imap HOST``: reads the folder's unseen messages, hands each to ``inbound.receive``, marks it
seen (and moves it with ``--move-to``); again every ``--interval`` seconds, or once (``--once``).
A message that could not be stored stays unseen and is tried again at the next pass.

``--smtp HOST:PORT``: an SMTP receiver (aiosmtpd) for the support address only, placed behind
the mail server of the domain (which relays the support address to it): any other recipient is
refused at RCPT (550), a message is answered 250 once stored, 451 if it could not be.

A bounce (an empty envelope sender) is accepted and dropped. Both log one line per message to
standard error; what a message says is never logged.
"""

from __future__ import annotations

import argparse
import contextlib
import imaplib
import logging
import os
import re
import signal
import sys
import threading

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections, connections

from consulto.support import inbound

logger = logging.getLogger(__name__)
SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


def _say(line: str) -> None:
    print(f"support_mail_in: {line}", file=sys.stderr, flush=True)


def _receive(raw: bytes, recipients: list[str]):
    """``inbound.receive`` on a thread of its own, which leaves no database connection open."""
    try:
        return inbound.receive(raw, recipients=recipients)
    finally:
        connections.close_all()


def _outcome(entry) -> str:
    return f"stored in ticket #{entry.ticket_id:06d}" if entry is not None else "not stored"


# The SMTP door -----------------------------------------------------------------------------------


class SupportMailHandler:
    """aiosmtpd's handler: the support address only, each message stored before it is
    acknowledged."""

    def __init__(self, say=_say):
        self.say = say

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if not inbound.is_support_address(address):
            return "550 5.1.1 Not a mailbox of this server"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", errors="surrogateescape")
        if envelope.mail_from in ("", "<>"):
            self.say("a bounce (empty sender): accepted, not stored")
            return "250 OK"
        try:
            # The ORM is synchronous: on a worker thread, never on the event loop.
            entry = await sync_to_async(_receive, thread_sensitive=False)(
                raw, list(envelope.rcpt_tos)
            )
        except Exception:
            logger.exception("a support e-mail could not be stored")
            self.say("a message could not be stored: answered 451, the sender will retry")
            return "451 4.3.0 Not stored, try again later"
        self.say(f"message of {len(raw)} bytes {_outcome(entry)}")
        return "250 OK"


def smtp_receiver(host: str, port: int, *, say=_say):
    """The SMTP receiver, not started (``.start()``, ``.stop()``)."""
    from aiosmtpd.controller import Controller

    return Controller(
        SupportMailHandler(say=say),
        hostname=host,
        port=port,
        data_size_limit=inbound.MAX_BYTES,
        ident="Consulto support",
    )


def _host_port(value: str) -> tuple[str, int]:
    host, _colon, port = value.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise CommandError(f"--smtp wants HOST:PORT, e.g. 127.0.0.1:2525 (got {value!r})")
    return host, int(port)


# The IMAP door -----------------------------------------------------------------------------------


def _mailbox(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def poll_imap(
    *,
    host: str,
    port: int,
    ssl: bool,
    user: str,
    password: str,
    folder: str = "INBOX",
    move_to: str = "",
    say=_say,
) -> tuple[int, int]:
    """One pass over the folder's unseen messages: (stored, not stored). Each message handed to
    ``inbound.receive`` is then marked seen, and moved if asked; one that failed stays unseen."""
    connect = imaplib.IMAP4_SSL if ssl else imaplib.IMAP4
    client = connect(host, port, timeout=60)
    stored = skipped = 0
    try:
        client.login(user, password)
        status, _data = client.select(_mailbox(folder))
        if status != "OK":
            raise imaplib.IMAP4.error(f"cannot open the folder {folder!r}")
        capabilities = {c.upper() for c in client.capabilities}
        _status, data = client.uid("SEARCH", None, "UNSEEN")
        uids = (data[0] or b"").split()
        say(f"{len(uids)} unseen in {folder}")
        for uid in uids:
            raw = _fetch(client, uid, say=say)
            if raw is not None:
                try:
                    entry = inbound.receive(raw)
                except Exception:
                    logger.exception("a support e-mail could not be stored")
                    say(f"message {uid.decode()} could not be stored: left unseen")
                    continue
                say(f"message {uid.decode()} {_outcome(entry)}")
                stored += entry is not None
                skipped += entry is None
            else:
                skipped += 1
            client.uid("STORE", uid, "+FLAGS", "(\\Seen)")
            if move_to:
                _move(client, uid, move_to, capabilities)
        if move_to and "MOVE" not in capabilities:
            client.expunge()
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            client.logout()
    return stored, skipped


def _fetch(client, uid: bytes, *, say) -> bytes | None:
    """The message's bytes, None if it is too large to read (it is then only marked seen)."""
    _status, data = client.uid("FETCH", uid, "(RFC822.SIZE)")
    found = SIZE.search(b" ".join(d if isinstance(d, bytes) else d[0] for d in data if d))
    if found and int(found.group(1)) > inbound.MAX_BYTES:
        say(f"message {uid.decode()} of {int(found.group(1))} bytes refused (above 25 MB)")
        return None
    _status, data = client.uid("FETCH", uid, "(BODY.PEEK[])")
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            return item[1]
    say(f"message {uid.decode()} could not be read")
    return None


def _move(client, uid: bytes, folder: str, capabilities: set[str]) -> None:
    if "MOVE" in capabilities:
        client.uid("MOVE", uid, _mailbox(folder))
        return
    status, _data = client.uid("COPY", uid, _mailbox(folder))
    if status == "OK":
        client.uid("STORE", uid, "+FLAGS", "(\\Deleted)")


# The command -------------------------------------------------------------------------------------


class Command(BaseCommand):
    help = (
        "Receive the support desk's e-mail: poll an IMAP folder (--imap HOST) or run an SMTP "
        "receiver for the support address (--smtp HOST:PORT). Replies thread into their "
        "tickets; other mail opens tickets."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        door = parser.add_mutually_exclusive_group()
        door.add_argument(
            "--imap",
            metavar="HOST",
            default=settings.CONSULTO_SUPPORT_IMAP_HOST or None,
            help="poll this IMAP server (default: CONSULTO_SUPPORT_IMAP_HOST)",
        )
        door.add_argument("--smtp", metavar="HOST:PORT", help="run an SMTP receiver there")
        parser.add_argument("--port", type=int, default=settings.CONSULTO_SUPPORT_IMAP_PORT)
        parser.add_argument(
            "--ssl",
            action=argparse.BooleanOptionalAction,
            default=settings.CONSULTO_SUPPORT_IMAP_SSL,
            help="IMAP over TLS (default: on)",
        )
        parser.add_argument("--user", default=settings.CONSULTO_SUPPORT_IMAP_USER)
        parser.add_argument(
            "--password-env",
            metavar="VAR",
            default="CONSULTO_SUPPORT_IMAP_PASSWORD",
            help="the environment variable holding the IMAP password (never on the command line)",
        )
        parser.add_argument("--folder", default=settings.CONSULTO_SUPPORT_IMAP_FOLDER)
        parser.add_argument(
            "--move-to",
            metavar="FOLDER",
            default=settings.CONSULTO_SUPPORT_IMAP_MOVE_TO,
            help="move each message read there (default: leave it, marked seen)",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=settings.CONSULTO_SUPPORT_IMAP_INTERVAL,
            help="seconds between two passes over the folder (default 60)",
        )
        parser.add_argument(
            "--once", action="store_true", help="one pass over the folder, then stop"
        )

    def handle(self, *args, **options) -> None:
        if options["smtp"]:
            self._serve_smtp(*_host_port(options["smtp"]))
        elif options["imap"]:
            self._poll(options)
        else:
            raise CommandError("Choose a door: --imap HOST or --smtp HOST:PORT.")

    def _poll(self, options) -> None:
        password = os.environ.get(options["password_env"], "")
        if not options["user"] or not password:
            raise CommandError(
                f"--imap needs --user and the password in ${options['password_env']}."
            )
        account = {
            "host": options["imap"],
            "port": options["port"],
            "ssl": options["ssl"],
            "user": options["user"],
            "password": password,
            "folder": options["folder"],
            "move_to": options["move_to"],
        }
        stop = threading.Event() if options["once"] else _stop_on_signal()
        while not stop.is_set():
            close_old_connections()
            try:
                stored, skipped = poll_imap(**account)
                _say(f"{stored} stored, {skipped} not stored")
            except (OSError, imaplib.IMAP4.error) as error:
                if options["once"]:
                    raise CommandError(f"IMAP {options['imap']}: {error}") from error
                _say(f"IMAP {options['imap']}: {error}; trying again later")
            if options["once"]:
                return
            stop.wait(max(1.0, options["interval"]))
        _say("stopped")

    def _serve_smtp(self, host: str, port: int) -> None:
        receiver = smtp_receiver(host, port)
        try:
            receiver.start()
        except Exception as error:  # port taken, address not ours
            raise CommandError(f"cannot listen on {host}:{port}: {error}") from error
        _say(f"receiving mail for {settings.CONSULTO_SUPPORT_ADDRESS} on {host}:{port}")
        try:
            _stop_on_signal().wait()
        finally:
            receiver.stop()
            _say("stopped")


def _stop_on_signal() -> threading.Event:
    """Set by SIGTERM (a service manager) or SIGINT (Ctrl+C): the door stops once the message
    or the pass at hand is done."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda received, frame: stop.set())
    return stop
