"""Support e-mail coming in: a customer's answer threads into their ticket, any other mail to
the support address opens a ticket.

``receive`` takes one raw message, whichever door it came through (the IMAP poller or the SMTP
receiver of ``manage.py support_mail_in``), and never raises on what a sender can put in it.

Threading. A reply is found to belong to a ticket by the ticket's reply address
(``support+<id>.<token>@domain``, ``services.reply_address``) among the recipients, the token
compared in constant time; else by ``In-Reply-To``/``References`` naming the Message-ID of one of
the ticket's entries. Either way the sender must be the ticket's customer: anybody can write to
a reply address seen once, so a mail from someone else is never put in that ticket; it is
treated as a new request from its sender. Threaded, it becomes a customer entry (the quoted
history dropped) with its PNG, JPEG and PDF files, the ticket opens again, and a written request
(an e-mail contact) waits for an agent; a closed ticket is not reopened: a new ticket follows it.

New requests. From the e-mail address of an account: a ticket of that customer, with the
context snapshot an account gets. From an unknown address: a ticket without customer, answered
at that address, its snapshot saying only that. Both land in the account-management queue (the
agent re-files them): an e-mail says nothing the help panel's categories would.

Never stored: automatic mail (``Auto-Submitted``, ``X-Autoreply``, ``Precedence: bulk``,
delivery reports), mail from our own addresses (a loop), mail above 25 MB. A message delivered
twice (same Message-ID) is stored once.
"""

from __future__ import annotations

import email
import email.policy
import hmac
import json
import logging
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from consulto.core import crypto
from consulto.core.errors import InvalidInput

from . import dispatch, live, services
from .models import Contact, Entry, Kind, Priority, Product, Snapshot, Ticket

logger = logging.getLogger(__name__)

MAX_BYTES = 25 * 1024 * 1024
RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To")
# Files looked at in one mail: more are left out unread.
MAX_PARTS = 50
# The part of an HTML mail turned into text: the reply is at the top, the rest is history.
MAX_HTML = 2 * 1024 * 1024
NEW_CATEGORY = "account"
TAG = re.compile(r"^(?P<id>\d{1,18})\.(?P<token>[0-9a-f]{32})$")
MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Where the quoted history of a reply starts, as French and English mail programs write it.
HISTORY_STARTS = (
    re.compile(r"^\s*(le|on)\b.{0,300}\b(a\s+écrit|wrote)\s*:\s*$", re.IGNORECASE),
    re.compile(
        r"^\s*-{2,}\s*(original message|message d'origine|mail original|message original)"
        r"\s*-{2,}\s*$",
        re.IGNORECASE,
    ),
)
# Outlook's block ("De : …" then "Envoyé : …"), with or without a line of underscores above.
OUTLOOK_FROM = re.compile(r"^\s*(de|from)\s*:\s*\S", re.IGNORECASE)
OUTLOOK_NEXT = re.compile(r"^\s*(envoyé|sent|date|à|to)\s*:", re.IGNORECASE)
UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")


@dataclass
class Mail:
    """What a message says that matters here, read without trusting any of it."""

    message_id: str = ""
    sender: str = ""
    subject: str = ""
    recipients: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    text: str = ""
    files: list[tuple[str, bytes]] = field(default_factory=list)
    automatic: bool = False


def receive(
    raw: bytes, *, recipients: Iterable[str] = (), now: datetime | None = None
) -> Entry | None:
    """Store one incoming e-mail (``recipients``: the envelope's, when a door knows them) and
    return the customer entry it became, or None when it is not stored (automatic, a loop,
    too large, no usable sender). A message seen before returns the entry stored then."""
    now = now or timezone.now()
    if not isinstance(raw, bytes | bytearray):
        return None
    if len(raw) > MAX_BYTES:
        logger.warning("support mail of %d bytes refused (at most %d)", len(raw), MAX_BYTES)
        return None
    mail = read(bytes(raw), recipients=recipients)
    if mail is None or mail.automatic:
        logger.info("support mail ignored: unreadable or sent automatically")
        return None
    if not mail.sender or _is_ours(mail.sender):
        logger.info("support mail ignored: no usable sender, or one of our own addresses")
        return None
    checked, left_out = _check_files(mail.files)
    with services.staged_attachments(checked) as staged:
        try:
            return _store(mail, staged, left_out, now=now)
        except IntegrityError:
            if not mail.message_id:
                raise
            # Delivered twice at the same moment: the other delivery stored it.
            return Entry.objects.filter(
                email_message_id=mail.message_id, kind=Entry.Kind.CUSTOMER
            ).first()


# Reading -----------------------------------------------------------------------------------------


def read(raw: bytes, *, recipients: Iterable[str] = ()) -> Mail | None:
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
    except Exception:  # the parser is lenient; anything it still chokes on is not a mail
        logger.info("support mail ignored: not parsable", exc_info=True)
        return None
    mail = Mail()
    mail.automatic = _automatic(message)
    found = MESSAGE_ID.search(_header(message, "Message-ID"))
    mail.message_id = found.group(0) if found else ""
    senders = _addresses(message, "From")
    mail.sender = _valid_address(senders[0]) if senders else ""
    mail.subject = " ".join(_header(message, "Subject").split())[:200]
    mail.recipients = [*recipients]
    for name in RECIPIENT_HEADERS:
        mail.recipients += _addresses(message, name)
    mail.recipients = [_plain(a) for a in mail.recipients][:100]
    replied = MESSAGE_ID.findall(_header(message, "In-Reply-To"))
    # References list the thread oldest first: the latest is the closest ancestor.
    referenced = MESSAGE_ID.findall(_header(message, "References"))[::-1]
    mail.references = list(dict.fromkeys(replied + referenced))[:50]
    body = _body_part(message)
    text = ""
    if body is not None:
        text = _decoded(body)
        if body.get_content_type() == "text/html":
            text = html_to_text(text[:MAX_HTML])
    elif message.get_content_maintype() == "multipart" and not message.is_multipart():
        # A multipart mail whose parts cannot be found (no boundary): what it holds, as text.
        text = str(message.get_payload())
    text = text[: services.MAX_TEXT * 10].replace("\x00", "")
    mail.text = without_history(text)[: services.MAX_TEXT]
    mail.files = _files(message, body)
    return mail


def _header(message: EmailMessage, name: str) -> str:
    """A header's value as text ("" when missing or unreadable), without control characters."""
    try:
        value = message.get(name)
        return CONTROL.sub("", str(value)) if value is not None else ""
    except Exception:
        return ""


def _addresses(message: EmailMessage, name: str) -> list[str]:
    try:
        values = message.get_all(name) or []
    except Exception:
        return []
    found = []
    for value in values:
        try:
            found += [a.addr_spec for a in value.addresses]
        except Exception:
            try:
                found += [address for _name, address in getaddresses([str(value)]) if address]
            except Exception:  # noqa: S112 - a header that cannot be read names nobody
                continue
    return [CONTROL.sub("", a).strip() for a in found if a]


def _plain(address: str) -> str:
    return parseaddr(address)[1] or address


def _valid_address(address: str) -> str:
    address = address.strip()
    if len(address) > 254:
        return ""
    try:
        validate_email(address)
    except ValidationError:
        return ""
    return address


def _automatic(message: EmailMessage) -> bool:
    submitted = _header(message, "Auto-Submitted").split(";")[0].strip().lower()
    if submitted and submitted != "no":
        return True
    if _header(message, "X-Autoreply") or _header(message, "X-Autorespond"):
        return True
    if _header(message, "Precedence").strip().lower() in ("bulk", "junk", "list"):
        return True
    try:
        # A delivery status notification (a bounce) or a read receipt.
        return message.get_content_type() == "multipart/report"
    except Exception:
        return False


def _body_part(message: EmailMessage):
    try:
        return message.get_body(preferencelist=("plain", "html"))
    except Exception:
        return None


def _decoded(part) -> str:
    try:
        content = part.get_content()
        if isinstance(content, str):
            return content
    except Exception:  # noqa: S110 - an unknown charset or broken encoding: read the bytes
        pass
    try:
        payload = part.get_payload(decode=True) or b""
    except Exception:
        return ""
    if isinstance(payload, str):
        return payload
    try:
        charset = part.get_content_charset() or "utf-8"
        return payload.decode(charset, errors="replace")
    except (LookupError, ValueError, TypeError):
        return payload.decode("utf-8", errors="replace")


def _files(message: EmailMessage, body) -> list[tuple[str, bytes]]:
    """The parts that are files (named, or images and documents), in order."""
    files = []
    try:
        parts = list(message.walk())
    except Exception:
        return []
    for part in parts[: MAX_PARTS * 2]:
        try:
            if part is body or part.is_multipart():
                continue
            maintype = part.get_content_maintype()
            name = part.get_filename() or ""
            if not name and maintype not in ("image", "application"):
                continue  # the other form of the text (its HTML), a signature in text
            payload = part.get_payload(decode=True)
        except Exception:  # noqa: S112 - a part that cannot be read is left out
            continue
        if isinstance(payload, bytes):
            files.append((CONTROL.sub("", str(name)), payload))
        if len(files) >= MAX_PARTS:
            break
    return files


def _check_files(files) -> tuple[list, list[str]]:
    """The files kept (PNG, JPEG, PDF by their first bytes, as the help panel's) and the
    names of those left out."""
    checked, left_out = [], []
    for name, content in files:
        try:
            if len(checked) < services.MAX_ATTACHMENTS:
                checked.append(services._check_attachment(name, content))
                continue
        except InvalidInput:
            pass
        left_out.append((name or "?")[:100])
    return checked, left_out


class _TextOfHtml(HTMLParser):
    """The text a reader sees in an HTML mail: no script, style or quoted history; a line
    break for each block. Only text is kept, never markup."""

    HIDDEN = frozenset({"script", "style", "head", "title", "template", "blockquote"})
    VOID = frozenset({"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "wbr"})
    BLOCKS = frozenset(
        {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol"}
    )
    # The quoted history's containers in Gmail, Outlook and Thunderbird.
    QUOTE_MARKS = ("gmail_quote", "divrplyfwdmsg", "moz-cite-prefix", "yahoo_quoted")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        # The element being hidden, and how deep its kind nests inside it (only its own kind
        # is counted: HTML lets a <p> or <li> go unclosed).
        self.hiding = ""
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if self.hidden:
            self.hidden += tag == self.hiding
            return
        if tag in self.BLOCKS:
            self.parts.append("\n")
        marks = " ".join(str(v) for k, v in attrs if k in ("class", "id") and v).lower()
        if tag not in self.VOID and (
            tag in self.HIDDEN or any(mark in marks for mark in self.QUOTE_MARKS)
        ):
            self.hiding, self.hidden = tag, 1

    def handle_startendtag(self, tag, attrs):
        if tag in self.BLOCKS and not self.hidden:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if self.hidden:
            self.hidden -= tag == self.hiding
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    parser = _TextOfHtml()
    try:
        parser.feed(html)
        parser.close()
        text = "".join(parser.parts)
    except Exception:  # markup the parser gives up on: the text between the tags
        text = re.sub(r"<[^>]*>", " ", html)
    lines = [line.strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def without_history(text: str) -> str:
    """The reply without what it quotes: lines from where the history starts ("Le … a écrit :",
    "On … wrote:", "-----Original Message-----", Outlook's "De : … Envoyé : …"), and lines
    starting with ">" (an answer written between quoted lines keeps its own lines)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept = []
    for i, line in enumerate(lines):
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if _history_starts(line, following):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


def _history_starts(line: str, following: str) -> bool:
    if any(p.match(line) for p in HISTORY_STARTS):
        return True
    # "Le mer. 9 déc. 2026 à 10:17, Support <…> a" / "écrit :": wrapped over two lines.
    if re.match(r"^\s*(le|on)\s", line, re.IGNORECASE) and len(line) < 300:
        joined = f"{line.rstrip()} {following.strip()}"
        if following.strip() and any(p.match(joined) for p in HISTORY_STARTS[:1]):
            return True
    if UNDERSCORES.match(line) and OUTLOOK_FROM.match(following):
        return True
    return bool(OUTLOOK_FROM.match(line) and OUTLOOK_NEXT.match(following))


# Storing -----------------------------------------------------------------------------------------


def _store(mail: Mail, staged, left_out: list[str], *, now: datetime) -> Entry | None:
    with transaction.atomic():
        if mail.message_id:
            seen = Entry.objects.filter(email_message_id=mail.message_id).first()
            if seen is not None:
                # Ours (a reply we sent, come back) is never a customer's.
                return seen if seen.kind == Entry.Kind.CUSTOMER else None
        ticket = _ticket_replied_to(mail)
        if ticket is not None and ticket.status != Ticket.Status.CLOSED:
            entry = _add_to(ticket, mail, staged, left_out, now=now)
        else:
            entry = _open_ticket(mail, staged, left_out, follows=ticket, now=now)
        services.place_attachments(staged)
    return entry


def _ticket_replied_to(mail: Mail) -> Ticket | None:
    """The ticket the mail answers, locked, if its sender is that ticket's customer."""
    tickets = Ticket.objects.select_for_update()
    found = None
    for address in mail.recipients:
        tag = _tag(address)
        if tag is None:
            continue
        ticket = tickets.filter(pk=tag[0]).first()
        expected = ticket.reply_token if ticket is not None else secrets.token_hex(16)
        if ticket is not None and hmac.compare_digest(tag[1].encode(), expected.encode()):
            found = ticket
            break
    if found is None and mail.references:
        entry = (
            Entry.objects.filter(email_message_id__in=mail.references)
            .order_by("-created_at", "-id")
            .first()
        )
        found = tickets.filter(pk=entry.ticket_id).first() if entry is not None else None
    if found is None:
        return None
    if found.customer_email.strip().lower() != mail.sender.lower():
        logger.warning(
            "a reply to ticket %s came from another address: not threaded, a new ticket",
            found.pk,
        )
        return None
    return found


def _tag(address: str) -> tuple[int, str] | None:
    """(ticket id, token) of a reply address ``support+<id>.<token>@domain``."""
    local, at, domain = address.strip().rpartition("@")
    base, plus, tag = local.partition("+")
    ours_local, _at, ours_domain = settings.CONSULTO_SUPPORT_ADDRESS.partition("@")
    if not (at and plus) or base.lower() != ours_local.lower():
        return None
    if domain.lower() != ours_domain.lower():
        return None
    found = TAG.match(tag.lower())
    return (int(found["id"]), found["token"]) if found else None


def is_support_address(address: str) -> bool:
    """The support address, with or without a tag (``support+…@domain``)."""
    local, _at, domain = address.strip().lower().rpartition("@")
    ours_local, _at2, ours_domain = settings.CONSULTO_SUPPORT_ADDRESS.lower().partition("@")
    return bool(local) and domain == ours_domain and local.partition("+")[0] == ours_local


def _is_ours(address: str) -> bool:
    """Our support address or the address our mail comes from: a loop."""
    ours = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].lower()
    return is_support_address(address) or address.strip().lower() == ours


def _add_to(ticket: Ticket, mail: Mail, staged, left_out, *, now: datetime) -> Entry:
    """The answer in its ticket, which opens again, and a written request that waits for an
    agent (one already waiting, not yet taken, takes the answer with it: whoever takes it reads
    the whole ticket)."""
    contact = (
        Contact.objects.filter(
            ticket=ticket, channel=Contact.Channel.EMAIL, status__in=Contact.OPEN_STATUSES
        )
        .order_by("-requested_at", "-id")
        .first()
    )
    if contact is None:
        contact = Contact.objects.create(
            ticket=ticket,
            snapshot=ticket.snapshots.order_by("-taken_at", "-id").first(),
            channel=Contact.Channel.EMAIL,
            status=Contact.Status.WAITING,
            product=ticket.product,
            kind=ticket.kind,
            priority=ticket.priority,
            language=ticket.language,
            phone=getattr(ticket.customer, "phone", ""),
            requested_at=now,
        )
        dispatch.after_new_contact(contact, now=now)
    entry = _customer_entry(ticket, contact, mail, staged, left_out)
    if ticket.status in (Ticket.Status.WAITING, Ticket.Status.SOLVED, Ticket.Status.OPEN):
        Ticket.objects.filter(pk=ticket.pk).update(status=Ticket.Status.OPEN)
    live.announce_agent(ticket.assignee_id)
    live.announce_agent(contact.offered_to_id)
    live.announce_customer(ticket.customer_id)
    return entry


def _open_ticket(mail: Mail, staged, left_out, *, follows: Ticket | None, now) -> Entry:
    """A new ticket: for the customer of a closed ticket they answered (it says so), for the
    account the sender's address belongs to, or for the address alone."""
    from . import snapshot as snapshots  # reads many apps: only when a ticket opens

    subject = mail.subject
    if follows is not None:
        customer, address = follows.customer, follows.customer_email
        product, kind, category = follows.product, follows.kind, follows.category
        language = follows.language
        subject = crypto.decrypt_text(follows.subject)
    else:
        customer = (
            get_user_model().objects.filter(email__iexact=mail.sender, is_active=True).first()
        )
        address = customer.email if customer is not None else mail.sender
        product, kind, category = Product.ACCOUNT, Kind.ACCOUNT_MANAGEMENT, NEW_CATEGORY
        language = settings.LANGUAGE_CODE[:2]
    if customer is not None:
        data = snapshots.take(user=customer, page="", user_agent="", now=now)
    else:
        data = {"professional": False, "account": None, "email": address}
    with translation.override(language):
        subject = subject or (mail.text.splitlines()[0][:200] if mail.text else "")
        subject = subject or _("E-mail without a subject")
    first_due, resolution_due = services.SERVICE_LEVELS[Priority.NORMAL]
    ticket = Ticket.objects.create(
        customer=customer,
        customer_email=address,
        organisation_id=(
            follows.organisation_id if follows else snapshots.primary_organisation_id(data)
        ),
        is_professional=bool(data["professional"]),
        subject=crypto.encrypt_text(subject),
        category=category,
        product=product,
        kind=kind,
        priority=Priority.NORMAL,
        language=language,
        first_response_due=now + first_due,
        resolution_due=now + resolution_due,
        reply_token=secrets.token_hex(16),
    )
    kept = Snapshot.objects.create(
        ticket=ticket, data=crypto.encrypt_text(json.dumps(data, default=str))
    )
    contact = Contact.objects.create(
        ticket=ticket,
        snapshot=kept,
        channel=Contact.Channel.EMAIL,
        status=Contact.Status.WAITING,
        product=product,
        kind=kind,
        priority=Priority.NORMAL,
        language=language,
        phone=getattr(customer, "phone", ""),
        requested_at=now,
    )
    if follows is not None:
        with translation.override(language):
            services._event(
                ticket,
                contact,
                None,
                _("Follows request %(ref)s, which was closed.") % {"ref": follows.reference},
            )
    entry = _customer_entry(ticket, contact, mail, staged, left_out)
    dispatch.after_new_contact(contact, now=now)
    return entry


def _customer_entry(ticket: Ticket, contact: Contact, mail: Mail, staged, left_out) -> Entry:
    with translation.override(ticket.language):
        text = mail.text or _("(The e-mail holds no text.)")
        entry = Entry.objects.create(
            ticket=ticket,
            contact=contact,
            kind=Entry.Kind.CUSTOMER,
            author=ticket.customer,
            body=crypto.encrypt_text(text),
            email_message_id=mail.message_id,
        )
        services.record_attachments(entry, staged)
        if left_out:
            services._event(
                ticket,
                contact,
                None,
                _(
                    "Files of the e-mail left out (only PNG, JPEG and PDF files up to 10 MB, "
                    "5 at most): %(names)s"
                )
                % {"names": ", ".join(left_out[:20])},
            )
    return entry
