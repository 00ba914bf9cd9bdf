"""Support e-mail coming in, told as stories through the real doors: an SMTP receiver (aiosmtpd,
the command's own) on a loopback port fed by smtplib, and a throwaway Dovecot read over IMAP.
A practitioner's written request is answered by e-mail; what comes back threads into the
ticket, unless it is forged, automatic, a loop or a copy."""

import asyncio
import json
import smtplib
import socket
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.core import mail
from django.core.management import call_command

from consulto.core import crypto
from consulto.notifications.models import Message
from consulto.notifications.services import send_message
from consulto.support import inbound, live, services
from consulto.support.management.commands.support_mail_in import smtp_receiver
from consulto.support.models import Agent, Contact, Entry, Ticket

pytestmark = pytest.mark.django_db(transaction=True)

CUSTOMER = "claire.martin@cabinet.test"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


@pytest.fixture
def answered(desk):
    """The GP's written request about an invoice, answered by Alice by e-mail; Alice then files
    the contact and goes offline, so that what comes back waits in the queue. Carries the
    ticket and the e-mail as it left (its Reply-To and Message-ID)."""
    contact = services.ask_for_help(
        user=desk.pro_user, channel="email", category="account_pro", text="Ma facture ?"
    )
    services.accept(agent=desk.alice, contact_id=contact.pk)
    services.reply(agent=desk.alice, ticket_id=contact.ticket_id, text="Voici votre facture.")
    send_message(message_id=Message.objects.get(dedupe_key__startswith="support-reply").pk)
    services.wrap_up(agent=desk.alice, contact_id=contact.pk, reason="explained")
    services.set_presence(agent=desk.alice, presence=Agent.Presence.OFFLINE)
    desk.ticket = Ticket.objects.get(pk=contact.ticket_id)
    desk.sent = mail.outbox[-1]
    desk.reply_to = desk.sent.reply_to[0]
    desk.message_id = desk.sent.extra_headers["Message-ID"]
    return desk


@pytest.fixture
def smtp():
    """The command's SMTP receiver on a free loopback port; ``smtp.lines`` are what it said."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    lines = []
    receiver = smtp_receiver("127.0.0.1", port, say=lines.append)
    receiver.start()
    receiver.lines = lines
    yield receiver
    receiver.stop()


def answer(
    desk, text="Merci, c'est réglé.", *, sender=CUSTOMER, to=None, **headers
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"Claire Martin <{sender}>"
    message["To"] = to or desk.reply_to
    message["Subject"] = f"Re: {desk.sent.subject}"
    message["Message-ID"] = make_msgid(domain="cabinet.test")
    message["In-Reply-To"] = desk.message_id
    for name, value in headers.items():
        del message[name.replace("_", "-")]
        if value:
            message[name.replace("_", "-")] = value
    message.set_content(text)
    return message


def send(smtp, message, *, to=None, sender=CUSTOMER) -> None:
    """Through the real SMTP door; returns once the receiver answered 250."""
    raw = message
    if not isinstance(message, bytes):
        to = to or [message["To"]]
        raw = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
    with smtplib.SMTP(smtp.hostname, smtp.port, timeout=20) as client:
        client.sendmail(sender, to, raw)


def customer_entries(ticket) -> list[Entry]:
    return list(Entry.objects.filter(ticket=ticket, kind=Entry.Kind.CUSTOMER).order_by("id"))


def text_of(entry: Entry) -> str:
    return crypto.decrypt_text(entry.body)


# Threading ---------------------------------------------------------------------------------------


def test_a_reply_by_email_lands_in_its_ticket_which_opens_again(answered, smtp):
    assert answered.reply_to.startswith(f"support+{answered.ticket.pk}.")
    send(smtp, answer(answered, "Merci, je l'ai bien reçue."))
    entry = customer_entries(answered.ticket)[-1]
    assert text_of(entry) == "Merci, je l'ai bien reçue."
    assert entry.author == answered.pro_user and entry.email_message_id.endswith("@cabinet.test>")
    assert "reçue" not in entry.body  # encrypted at rest
    answered.ticket.refresh_from_db()
    assert answered.ticket.status == Ticket.Status.OPEN
    waiting = Contact.objects.get(ticket=answered.ticket, status=Contact.Status.WAITING)
    assert waiting.channel == Contact.Channel.EMAIL and entry.contact == waiting
    assert waiting.snapshot_id is not None  # the ticket's context goes with it
    assert len(smtp.lines) == 1
    assert smtp.lines[0].endswith(f"stored in ticket {answered.ticket.reference}")


def test_the_console_of_the_agent_who_holds_the_ticket_is_told_at_once(answered, smtp):
    layer = get_channel_layer()

    async def listen():
        channel = await layer.new_channel()
        await layer.group_add(live.agent_group(answered.alice.pk), channel)
        await sync_to_async(send)(smtp, answer(answered, "Vous êtes là ?"))
        return await asyncio.wait_for(layer.receive(channel), timeout=10)

    # In a thread of its own: a browser test run before may have left an event loop in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(asyncio.run, listen()).result()["type"] == "support.changed"


def test_a_second_reply_joins_the_written_request_already_waiting(answered, smtp):
    send(smtp, answer(answered, "Premier message."))
    send(smtp, answer(answered, "Second message."))
    assert [text_of(e) for e in customer_entries(answered.ticket)][-2:] == [
        "Premier message.",
        "Second message.",
    ]
    assert (
        Contact.objects.filter(ticket=answered.ticket, status=Contact.Status.WAITING).count() == 1
    )


def test_a_reply_threads_by_in_reply_to_when_sent_to_the_plain_support_address(answered, smtp):
    send(smtp, answer(answered, "Sans étiquette.", to="support@consulto.local"))
    assert text_of(customer_entries(answered.ticket)[-1]) == "Sans étiquette."


def test_the_address_is_compared_without_regard_to_case(answered, smtp):
    send(smtp, answer(answered, "En majuscules.", sender=CUSTOMER.upper()), sender=CUSTOMER.upper())
    assert text_of(customer_entries(answered.ticket)[-1]) == "En majuscules."


def test_a_reply_from_someone_else_never_lands_in_the_ticket(answered, smtp):
    forged = answer(answered, "Donnez-moi ses rendez-vous.", sender="intrus@example.net")
    send(smtp, forged, sender="intrus@example.net")
    assert [text_of(e) for e in customer_entries(answered.ticket)] == ["Ma facture ?"]
    intruder = Ticket.objects.get(customer_email="intrus@example.net")
    assert intruder.customer is None and intruder.pk != answered.ticket.pk
    assert text_of(customer_entries(intruder)[0]) == "Donnez-moi ses rendez-vous."
    snapshot = json.loads(crypto.decrypt_text(intruder.snapshots.get().data))
    assert snapshot == {"professional": False, "account": None, "email": "intrus@example.net"}


def test_a_reply_address_with_a_wrong_token_does_not_thread(answered, smtp):
    wrong = answered.reply_to.replace(answered.ticket.reply_token, "0" * 32)
    send(smtp, answer(answered, "Mauvais jeton.", to=wrong, In_Reply_To=""))
    assert "Mauvais jeton." not in [text_of(e) for e in customer_entries(answered.ticket)]
    assert Ticket.objects.filter(customer=answered.pro_user).count() == 2  # a new one


def test_a_reply_to_a_closed_ticket_opens_a_new_one_that_refers_to_it(answered, smtp):
    services.set_ticket_status(agent=answered.alice, ticket_id=answered.ticket.pk, status="closed")
    send(smtp, answer(answered, "Encore une question."))
    answered.ticket.refresh_from_db()
    assert answered.ticket.status == Ticket.Status.CLOSED
    follow_up = Ticket.objects.exclude(pk=answered.ticket.pk).get(customer=answered.pro_user)
    first = follow_up.entries.order_by("id").first()
    assert first.kind == Entry.Kind.EVENT
    assert answered.ticket.reference in text_of(first)
    assert text_of(customer_entries(follow_up)[0]) == "Encore une question."
    assert crypto.decrypt_text(follow_up.subject) == "Ma facture ?"
    assert follow_up.product == answered.ticket.product
    assert follow_up.contacts.get().status == Contact.Status.WAITING


def test_a_solved_ticket_opens_again(answered, smtp):
    services.set_ticket_status(agent=answered.alice, ticket_id=answered.ticket.pk, status="solved")
    send(smtp, answer(answered, "Finalement non."))
    answered.ticket.refresh_from_db()
    assert answered.ticket.status == Ticket.Status.OPEN


# New requests ------------------------------------------------------------------------------------


def test_a_mail_from_a_known_account_opens_a_ticket_for_it_with_its_snapshot(desk, smtp):
    message = EmailMessage()
    message["From"] = "Jeanne <PATIENTE@example.org>"
    message["To"] = "support@consulto.local"
    message["Subject"] = "Je n'arrive pas à me connecter"
    message["Message-ID"] = make_msgid()
    message.set_content("Bonjour, mon mot de passe ne marche plus.")
    send(smtp, message, sender="patiente@example.org")
    ticket = Ticket.objects.get(customer=desk.patient_user)
    assert crypto.decrypt_text(ticket.subject) == "Je n'arrive pas à me connecter"
    assert (ticket.category, ticket.product, ticket.kind) == (
        "account",
        "account",
        "account_management",
    )
    assert ticket.customer_email == "patiente@example.org"
    snapshot = json.loads(crypto.decrypt_text(ticket.snapshots.get().data))
    assert snapshot["account"]["id"] == desk.patient_user.pk and snapshot["page"] == ""
    contact = ticket.contacts.get()
    assert contact.channel == Contact.Channel.EMAIL
    # Alice, the only one available, does technical support: it waits for account management.
    assert contact.status == Contact.Status.WAITING


def test_a_mail_from_an_unknown_address_opens_a_ticket_answered_at_that_address(desk, smtp):
    Agent.objects.filter(pk=desk.alice.pk).update(kind="account_management")
    message = EmailMessage()
    message["From"] = "inconnu@example.net"
    message["To"] = "Support <support@consulto.local>"
    message["Message-ID"] = make_msgid()
    message.set_content("Comment créer un compte ?\nMerci")
    send(smtp, message, sender="inconnu@example.net")
    ticket = Ticket.objects.get(customer_email="inconnu@example.net")
    assert ticket.customer is None
    assert crypto.decrypt_text(ticket.subject) == "Comment créer un compte ?"
    # The agent's reply goes to that address.
    services.accept(agent=desk.alice, contact_id=ticket.contacts.get().pk)
    services.reply(agent=desk.alice, ticket_id=ticket.pk, text="Par ici.")
    sent = Message.objects.filter(dedupe_key__startswith="support-reply").latest("id")
    assert sent.recipient == "inconnu@example.net"


# What is not stored ------------------------------------------------------------------------------


def test_a_mail_for_another_domain_is_refused_at_rcpt(answered, smtp):
    message = answer(answered, to="quelquun@ailleurs.example")
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(smtp, message)
    assert refused.value.recipients["quelquun@ailleurs.example"][0] == 550
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send(smtp, message, to=["postmaster@consulto.local"])
    assert len(customer_entries(answered.ticket)) == 1


def test_a_mail_delivered_twice_is_stored_once(answered, smtp):
    message = answer(answered, "Une seule fois.")
    send(smtp, message)
    send(smtp, message)
    assert [text_of(e) for e in customer_entries(answered.ticket)].count("Une seule fois.") == 1
    assert all("stored in ticket" in line for line in smtp.lines)


@pytest.mark.parametrize(
    "header",
    [
        {"Auto_Submitted": "auto-replied"},
        {"X_Autoreply": "yes"},
        {"Precedence": "bulk"},
        {"Precedence": "junk"},
    ],
)
def test_an_automatic_reply_is_ignored(answered, smtp, header):
    send(smtp, answer(answered, "Je suis absente jusqu'au 4 janvier.", **header))
    assert len(customer_entries(answered.ticket)) == 1
    assert Ticket.objects.count() == 1
    assert smtp.lines[-1].endswith("not stored")


def test_a_mail_from_our_own_support_address_is_a_loop_and_ignored(answered, smtp):
    looped = answer(answered, "Boucle", sender="support+1.abc@consulto.local")
    send(smtp, looped, sender="support@consulto.local")
    assert Ticket.objects.count() == 1
    assert inbound.receive(answered.sent.message().as_bytes()) is None  # our own reply


def test_an_oversized_mail_is_refused_cleanly(answered):
    raw = answer(answered).as_bytes() + b"x" * inbound.MAX_BYTES
    assert inbound.receive(raw) is None
    assert len(customer_entries(answered.ticket)) == 1


# The text and the files --------------------------------------------------------------------------


def test_the_quoted_history_of_a_reply_is_dropped(answered, smtp):
    text = (
        "Merci, c'est réglé.\n"
        "> une ligne citée au milieu\n"
        "Bonne journée\n"
        "\n"
        "Le mer. 9 déc. 2026 à 10:17, Support Consulto <support@consulto.local> a\n"
        "écrit :\n"
        "> Voici votre facture.\n"
        "> —\n"
    )
    send(smtp, answer(answered, text))
    assert text_of(customer_entries(answered.ticket)[-1]) == "Merci, c'est réglé.\nBonne journée"


@pytest.mark.parametrize(
    "history",
    [
        "On Wed, Dec 9, 2026 at 10:17 AM Support <support@consulto.local> wrote:\n> old\n",
        "-----Original Message-----\nFrom: Support\nold\n",
        "----- Mail original -----\nDe: Support\nold\n",
        "________________________________\nDe : Support Consulto\nEnvoyé : mercredi\nold\n",
        "De : Support Consulto <support@consulto.local>\nEnvoyé : mercredi 9 décembre\nold\n",
    ],
)
def test_the_quoted_history_of_each_mail_program_is_dropped(history):
    assert inbound.without_history(f"Réponse.\n\n{history}") == "Réponse."


def test_an_html_only_reply_is_read_as_text_without_markup_or_quote(answered, smtp):
    message = answer(answered)
    message.set_content(
        "<html><head><style>p{color:red}</style><script>alert(1)</script></head><body>"
        "<p>Merci <b>beaucoup</b> &amp; bonne journée</p><div>Claire<br>Cabinet</div>"
        '<div class="gmail_quote"><div>Le mer. a écrit :</div><blockquote>Voici</blockquote>'
        "</div></body></html>",
        subtype="html",
    )
    send(smtp, message)
    assert text_of(customer_entries(answered.ticket)[-1]) == (
        "Merci beaucoup & bonne journée\n\nClaire\nCabinet"
    )


def test_attachments_are_checked_and_stored_encrypted(answered, smtp):
    message = answer(answered, "Voici la capture et le courrier.")
    message.add_attachment(PNG, maintype="image", subtype="png", filename="écran.png")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="lettre.pdf")
    message.add_attachment(b"MZ\x90\x00", maintype="application", subtype="x-msdownload",
                           filename="facture.exe")  # fmt: skip
    send(smtp, message)
    entry = customer_entries(answered.ticket)[-1]
    kept = list(entry.attachments.order_by("id"))
    assert [(a.content_type, a.size) for a in kept] == [
        ("image/png", len(PNG)),
        ("application/pdf", len(PDF)),
    ]
    stored = (services.attachments_dir() / f"{kept[0].storage_key}.bin").read_bytes()
    assert PNG not in stored
    assert services.read_attachment(viewer=answered.pro_user, attachment_id=kept[0].pk) == (
        "écran.png",
        "image/png",
        PNG,
    )
    left_out = Entry.objects.filter(ticket=answered.ticket, kind=Entry.Kind.EVENT).last()
    assert "facture.exe" in text_of(left_out)
    assert not list(services.attachments_dir().glob("*.tmp"))


def test_a_long_reply_is_cut_at_ten_thousand_characters(answered, smtp):
    send(smtp, answer(answered, "a" * 20_000))
    assert len(text_of(customer_entries(answered.ticket)[-1])) == 10_000


# Hostile mail ------------------------------------------------------------------------------------

HOSTILE = [
    b"",
    b"\x00\x00\x00",
    b"not a mail at all",
    b"From: \x00<claire.martin@cabinet.test>\r\nTo: support@consulto.local\r\n\r\nNUL\x00body",
    (
        b"From: claire.martin@cabinet.test\r\nTo: support@consulto.local\r\n"
        b"Message-ID: <nul\x00id@x>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        b"a\x00b\r\n"
    ),
    (
        b"From: claire.martin@cabinet.test\r\nTo: support@consulto.local\r\n"
        b'Content-Type: multipart/mixed; boundary="nowhere"\r\n\r\n'
        b"--elsewhere\r\nContent-Type: text/plain\r\n\r\nbroken\r\n"
    ),
    (
        b"From: claire.martin@cabinet.test\r\nTo: support@consulto.local\r\n"
        b"Content-Type: text/plain; charset=x-unknown-charset\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n%%%not base64%%%\r\n"
    ),
    (
        b'From: "=?utf-8?b?////?=" <claire.martin@cabinet.test>\r\n'
        b'To: =?x-bad?q?x?= <support+1.zz@consulto.local>, "unterminated <\r\n'
        b"Subject: =?utf-8?q?=FF=FE?=\r\nReferences: <<<>>>\r\n"
        b"Content-Type: multipart/alternative\r\n\r\nno boundary at all\r\n"
    ),
    (
        b"From: claire.martin@cabinet.test\r\nTo: support@consulto.local\r\n"
        b"Content-Type: text/html; charset=utf-8\r\n\r\n<div class='gmail_quote'><<<</b><!--"
    ),
    (
        b"From: claire.martin@cabinet.test\r\nTo: support@consulto.local\r\n"
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
        b'Content-Type: image/png; name="\x00.png"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        b"!!!!\r\n--b--\r\n"
    ),
    b"From: " + b"a" * 300 + b"@example.org\r\n\r\nlong sender",
]


@pytest.mark.parametrize("raw", HOSTILE)
def test_hostile_mail_never_raises(desk, raw):
    entry = inbound.receive(raw)
    if entry is not None:
        assert "\x00" not in text_of(entry) and "\x00" not in entry.email_message_id


def test_a_nul_byte_or_a_broken_body_through_the_smtp_door_is_answered_250(answered, smtp):
    for raw in HOSTILE[3:]:
        send(smtp, raw, to=["support@consulto.local"])
    assert len(smtp.lines) == len(HOSTILE) - 3
    assert not any("could not be stored" in line for line in smtp.lines)


# The IMAP door -----------------------------------------------------------------------------------


def test_the_imap_door_threads_unseen_mail_and_marks_it_seen(answered, imap_server, monkeypatch):
    client = imap_server.client()
    client.append("INBOX", None, None, answer(answered, "Lu par IMAP.").as_bytes())
    client.append("INBOX", None, None, answer(answered, "Auto", Auto_Submitted="auto-replied")
                  .as_bytes())  # fmt: skip
    client.logout()
    monkeypatch.setenv("TEST_IMAP_PASSWORD", imap_server.password)
    call_command(
        "support_mail_in",
        "--imap=127.0.0.1",
        f"--port={imap_server.port}",
        "--no-ssl",
        f"--user={imap_server.user}",
        "--password-env=TEST_IMAP_PASSWORD",
        "--once",
    )
    assert [text_of(e) for e in customer_entries(answered.ticket)][-1] == "Lu par IMAP."
    answered.ticket.refresh_from_db()
    assert answered.ticket.status == Ticket.Status.OPEN
    client = imap_server.client()
    client.select("INBOX")
    assert client.search(None, "UNSEEN")[1] == [b""]
    assert client.search(None, "SEEN")[1] == [b"1 2"]
    client.logout()
    # A second pass finds nothing new.
    call_command(
        "support_mail_in",
        "--imap=127.0.0.1",
        f"--port={imap_server.port}",
        "--no-ssl",
        f"--user={imap_server.user}",
        "--password-env=TEST_IMAP_PASSWORD",
        "--once",
    )
    assert len(customer_entries(answered.ticket)) == 2


def test_the_imap_door_moves_what_it_read_when_asked(answered, imap_server, monkeypatch):
    client = imap_server.client()
    client.create("Done")
    client.append("INBOX", None, None, answer(answered, "À ranger.").as_bytes())
    client.logout()
    monkeypatch.setenv("TEST_IMAP_PASSWORD", imap_server.password)
    call_command(
        "support_mail_in",
        "--imap=127.0.0.1",
        f"--port={imap_server.port}",
        "--no-ssl",
        f"--user={imap_server.user}",
        "--password-env=TEST_IMAP_PASSWORD",
        "--move-to=Done",
        "--once",
    )
    assert text_of(customer_entries(answered.ticket)[-1]) == "À ranger."
    client = imap_server.client()
    assert client.select("INBOX")[1] == [b"0"]
    assert client.select("Done")[1] == [b"1"]
    assert client.search(None, "SEEN")[1] == [b"1"]
    client.logout()


def test_the_imap_door_says_clearly_when_it_cannot_log_in(imap_server, monkeypatch):
    from django.core.management.base import CommandError

    monkeypatch.setenv("TEST_IMAP_PASSWORD", "wrong")
    with pytest.raises(CommandError, match=r"IMAP 127\.0\.0\.1"):
        call_command(
            "support_mail_in",
            "--imap=127.0.0.1",
            f"--port={imap_server.port}",
            "--no-ssl",
            f"--user={imap_server.user}",
            "--password-env=TEST_IMAP_PASSWORD",
            "--once",
        )
