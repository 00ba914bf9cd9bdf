"""The support desk's state changes: a customer asks for help, agents change presence, accept,
hold, hang up and wrap up contacts, write notes and replies, transfer, consult their supervisor;
tickets are solved and surveyed. Each function is the one door for its change and owns its
transaction; a change that races another (two agents, an offer timing out while accepted) is
decided by a conditional UPDATE, never by a read followed by a write.
"""

from __future__ import annotations

import json
import os
import secrets
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from consulto.core import audit, crypto
from consulto.core.errors import DomainError, InvalidInput, NotFound
from consulto.notifications import services as outbox

from . import dispatch, live
from .categories import BY_CODE
from .models import (
    Agent,
    Attachment,
    ConsultMessage,
    ConsultRequest,
    Contact,
    Entry,
    Priority,
    Snapshot,
    Ticket,
)

Status = Contact.Status
Presence = Agent.Presence
MAX_TEXT = 10_000
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS = 5
# A customer cannot fill the queue: requests beyond these wait for the first to be answered.
MAX_WAITING_PER_CUSTOMER = 3
SIGNATURES = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}
# How soon an answer is due, by priority: (first answer, resolution).
SERVICE_LEVELS = {
    Priority.URGENT: (timedelta(minutes=15), timedelta(hours=4)),
    Priority.HIGH: (timedelta(hours=1), timedelta(days=1)),
    Priority.NORMAL: (timedelta(hours=8), timedelta(days=3)),
}
# A new request about the same category as an open ticket of the last days joins it.
REGROUP_WITHIN = timedelta(days=7)
WRAP_REASONS = {
    "solved": gettext_lazy("Solved during the contact"),
    "explained": gettext_lazy("Explained how to do it"),
    "configured": gettext_lazy("Changed the settings with the customer"),
    "bug": gettext_lazy("Bug reported to the product team"),
    "escalated": gettext_lazy("Passed to another team"),
    "callback": gettext_lazy("Call back planned"),
    "no_answer": gettext_lazy("No answer"),
    "other": gettext_lazy("Other"),
}


class Conflict(DomainError):
    code = "conflict"
    status = 409
    default_message = gettext_lazy("This contact has changed meanwhile.")


def _clean(text: str, *, field: str, required: bool = True, limit: int = MAX_TEXT) -> str:
    text = (text or "").strip()
    if "\x00" in text:
        raise InvalidInput(_("The text holds a NUL character, which is not allowed."), field=field)
    if required and not text:
        raise InvalidInput(_("This field is required."), field=field)
    if len(text) > limit:
        raise InvalidInput(_("At most %(limit)s characters.") % {"limit": limit}, field=field)
    return text


# The customer's side -----------------------------------------------------------------------------


def ask_for_help(
    *,
    user,
    channel: str,
    category: str,
    text: str = "",
    phone: str = "",
    call_at: datetime | None = None,
    page: str = "",
    user_agent: str = "",
    attachments: list[tuple[str, bytes]] = (),
    now: datetime | None = None,
) -> Contact:
    """A contact and its ticket, with the context snapshot the server takes now; routed at once
    when it asks for a callback now or a chat."""
    from . import snapshot as snapshots  # reads many apps: only when someone asks for help

    now = now or timezone.now()
    if channel not in Contact.Channel.values:
        raise InvalidInput(_("Choose how we should answer."), field="channel")
    found = BY_CODE.get(category)
    data = snapshots.take(user=user, page=page, user_agent=user_agent, now=now)
    if found is None or found.professional != data["professional"]:
        raise InvalidInput(_("Choose what your request is about."), field="category")
    text = _clean(text, field="text", required=channel == Contact.Channel.EMAIL)
    phone = _clean(phone, field="phone", required=False, limit=32)
    if call_at is not None:
        if channel != Contact.Channel.CALL:
            raise InvalidInput(_("Only a callback takes a time."), field="call_at")
        if not dispatch.callback_time_offered(
            product=found.product, kind=found.kind, language=_language(), at=call_at, now=now
        ):
            raise InvalidInput(
                _("No agent works at that time any more: choose another time."), field="call_at"
            )
    waiting = Contact.objects.filter(
        ticket__customer=user, status__in=Contact.OPEN_STATUSES
    ).count()
    if waiting >= MAX_WAITING_PER_CUSTOMER:
        raise InvalidInput(
            _(
                "You already have %(n)s requests waiting: we answer them first. Add to one of "
                "them from “My requests” if something changed."
            )
            % {"n": waiting}
        )
    if len(attachments) > MAX_ATTACHMENTS:
        raise InvalidInput(_("At most 5 files."), field="attachments")
    checked = [_check_attachment(name, content) for name, content in attachments]
    summary = text.splitlines()[0][:200] if text else str(found.label)
    with staged_attachments(checked) as stored:
        return _open_contact(
            user=user,
            channel=channel,
            found=found,
            data=data,
            text=text,
            phone=phone,
            call_at=call_at,
            summary=summary,
            stored=stored,
            now=now,
        )


def _open_contact(*, user, channel, found, data, text, phone, call_at, summary, stored, now):
    from . import snapshot as snapshots

    priority = Priority.URGENT if found.blocking and data["practitioner"] else Priority.NORMAL
    first_due, resolution_due = SERVICE_LEVELS[priority]
    with transaction.atomic():
        # The same problem asked again while its ticket is open: one more contact on it.
        ticket = (
            Ticket.objects.select_for_update()
            .filter(
                customer=user,
                category=found.code,
                status__in=(Ticket.Status.NEW, Ticket.Status.OPEN, Ticket.Status.WAITING),
                created_at__gte=now - REGROUP_WITHIN,
            )
            .order_by("-created_at")
            .first()
        )
        if ticket is not None:
            updates = (
                {"status": Ticket.Status.OPEN} if ticket.status == Ticket.Status.WAITING else {}
            )
            if priority > ticket.priority:
                updates["priority"] = priority
            if updates:
                Ticket.objects.filter(pk=ticket.pk).update(**updates)
                for field, value in updates.items():
                    setattr(ticket, field, value)
        else:
            ticket = Ticket.objects.create(
                customer=user,
                customer_email=user.email,
                organisation_id=snapshots.primary_organisation_id(data),
                is_professional=data["professional"],
                subject=crypto.encrypt_text(summary),
                category=found.code,
                product=found.product,
                kind=found.kind,
                priority=priority,
                language=_language(),
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
            channel=channel,
            status=Status.SCHEDULED if call_at else Status.WAITING,
            product=found.product,
            kind=found.kind,
            priority=priority,
            language=ticket.language,
            phone=phone or user.phone,
            requested_at=now,
            not_before=call_at,
        )
        if text:
            entry = Entry.objects.create(
                ticket=ticket,
                contact=contact,
                kind=Entry.Kind.CUSTOMER,
                author=user,
                body=crypto.encrypt_text(text),
            )
            record_attachments(entry, stored)
        dispatch.after_new_contact(contact, now=now)
        place_attachments(stored)
    return contact


def cancel_request(*, user, contact_id: int, now: datetime | None = None) -> Contact:
    """The customer no longer needs the callback or the chat they asked for."""
    now = now or timezone.now()
    with transaction.atomic():
        contact = (
            Contact.objects.select_related("ticket")
            .filter(pk=contact_id, ticket__customer=user)
            .first()
        )
        if contact is None:
            raise NotFound()
        changed = Contact.objects.filter(pk=contact.pk, status__in=Contact.OPEN_STATUSES).update(
            status=Status.ABANDONED, offered_to=None, offer_expires_at=None, ended_at=now
        )
        if not changed:
            raise Conflict(_("An agent has already taken your request."))
        _event(contact.ticket, contact, user, _("The customer cancelled the request."))
        live.announce_queue()
        if contact.offered_to_id:
            live.announce_agent(contact.offered_to_id)
    contact.refresh_from_db()
    return contact


def customer_reply(*, user, ticket_id: int, text: str) -> Entry:
    """The customer adds to their ticket from their account: it opens again."""
    text = _clean(text, field="text")
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().filter(pk=ticket_id, customer=user).first()
        if ticket is None:
            raise NotFound()
        if ticket.status == Ticket.Status.CLOSED:
            raise Conflict(_("This request is closed: open a new one."))
        entry = Entry.objects.create(
            ticket=ticket, kind=Entry.Kind.CUSTOMER, author=user, body=crypto.encrypt_text(text)
        )
        Ticket.objects.filter(pk=ticket.pk).update(status=Ticket.Status.OPEN)
        if ticket.assignee_id:
            live.announce_agent(ticket.assignee_id)
    return entry


def answer_survey(*, token: str, score: int, comment: str = "", now=None):
    from .models import Survey

    now = now or timezone.now()
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise InvalidInput(_("Choose a score from 1 to 5."), field="score")
    comment = _clean(comment, field="comment", required=False, limit=2000)
    with transaction.atomic():
        survey = Survey.objects.select_for_update().filter(token=token).first()
        if survey is None:
            raise NotFound()
        survey.score = score
        survey.comment = comment
        survey.answered_at = now
        survey.save(update_fields=["score", "comment", "answered_at"])
    return survey


# The agent's side --------------------------------------------------------------------------------


def set_presence(*, agent: Agent, presence: str, now: datetime | None = None) -> Agent:
    """Available, break or offline, chosen by the agent; "on a contact" and "wrap-up" follow
    their contacts and cannot be chosen."""
    now = now or timezone.now()
    if presence not in (Presence.AVAILABLE, Presence.BREAK, Presence.OFFLINE):
        raise InvalidInput(_("Choose available, break or offline."), field="presence")
    with transaction.atomic():
        agent = Agent.objects.select_for_update().get(pk=agent.pk)
        live_contacts = Contact.objects.filter(agent=agent, status__in=Contact.LIVE_STATUSES)
        if presence != Presence.AVAILABLE and live_contacts.exists():
            raise Conflict(_("Finish your contacts first."))
        if agent.presence != presence:
            agent.presence = presence
            agent.presence_since = now
            if presence == Presence.AVAILABLE:
                agent.idle_since = now
            agent.save(update_fields=["presence", "presence_since", "idle_since"])
        # Offers waiting for an agent who leaves go back to the queue.
        if presence != Presence.AVAILABLE:
            _withdraw_offers(agent, now=now)
        dispatch.route_after_commit(now=now)
        live.announce_team(agent.team_id)
    return agent


def accept(*, agent: Agent, contact_id: int, now: datetime | None = None) -> Contact:
    now = now or timezone.now()
    with transaction.atomic():
        changed = Contact.objects.filter(
            pk=contact_id, status=Status.OFFERED, offered_to=agent
        ).update(
            status=Status.ACTIVE,
            agent=agent,
            team_id=agent.team_id,
            offered_to=None,
            offer_expires_at=None,
            accepted_at=now,
        )
        if not changed:
            raise Conflict(_("This offer has expired or was withdrawn."))
        contact = Contact.objects.select_related("ticket").get(pk=contact_id)
        _take_ticket(contact.ticket, agent, now=now)
        _busy(agent, now=now)
        _event(contact.ticket, contact, agent.user, _("Taken by %(agent)s.") % {"agent": agent})
        live.announce_customer(contact.ticket.customer_id)
        live.announce_team(agent.team_id)
    return contact


def take(*, agent: Agent, contact_id: int, now: datetime | None = None) -> Contact:
    """The agent takes a waiting contact from their queue by hand (a written request, or a
    callback they see waiting): only one they could be routed, and under their capacity."""
    now = now or timezone.now()
    with transaction.atomic():
        dispatch.lock()
        contact = Contact.objects.select_related("ticket").filter(pk=contact_id).first()
        if contact is None or not dispatch.may_take(agent, contact, now=now):
            raise NotFound()
        changed = Contact.objects.filter(pk=contact.pk, status=Status.WAITING).update(
            status=Status.ACTIVE, agent=agent, team_id=agent.team_id, accepted_at=now
        )
        if not changed:
            raise Conflict()
        contact.refresh_from_db()
        _take_ticket(contact.ticket, agent, now=now)
        _busy(agent, now=now)
        _event(contact.ticket, contact, agent.user, _("Taken by %(agent)s.") % {"agent": agent})
        live.announce_queue()
        live.announce_customer(contact.ticket.customer_id)
    return contact


def decline(*, agent: Agent, contact_id: int, timed_out: bool = False, now=None) -> None:
    """The agent lets the offer go; it goes to someone else. An offer that timed out also puts
    the agent on break: they are not at their desk."""
    from .models import Decline

    now = now or timezone.now()
    with transaction.atomic():
        changed = Contact.objects.filter(
            pk=contact_id, status=Status.OFFERED, offered_to=agent
        ).update(status=Status.WAITING, offered_to=None, offer_expires_at=None)
        if not changed:
            if timed_out:
                return
            raise Conflict(_("This offer has expired or was withdrawn."))
        Decline.objects.get_or_create(
            contact_id=contact_id, agent=agent, defaults={"timed_out": timed_out}
        )
        if timed_out:
            Agent.objects.filter(pk=agent.pk, presence=Presence.AVAILABLE).update(
                presence=Presence.BREAK, presence_since=now
            )
        _release_if_free(agent, now=now)
        dispatch.route_after_commit(now=now)
        live.announce_agent(agent.pk)
        live.announce_team(agent.team_id)


def expire_offer(*, contact_id: int, now: datetime | None = None) -> bool:
    """The offer's countdown ran out (the task set at the offer's end)."""
    now = now or timezone.now()
    contact = (
        Contact.objects.filter(pk=contact_id, status=Status.OFFERED, offer_expires_at__lte=now)
        .select_related("offered_to")
        .first()
    )
    if contact is None or contact.offered_to is None:
        return False
    decline(agent=contact.offered_to, contact_id=contact_id, timed_out=True, now=now)
    return True


def chat_unanswered(*, contact_id: int, now: datetime | None = None) -> bool:
    """A chat still waiting after the policy's minutes becomes a written request: the customer
    is answered by e-mail rather than left in front of a silent window."""
    now = now or timezone.now()
    with transaction.atomic():
        contact = Contact.objects.select_related("ticket").filter(pk=contact_id).first()
        if contact is None:
            return False
        changed = Contact.objects.filter(
            pk=contact_id, channel=Contact.Channel.CHAT, status=Status.WAITING
        ).update(channel=Contact.Channel.EMAIL, converted_from_chat=True)
        if not changed:
            return False
        _event(
            contact.ticket,
            contact,
            None,
            _("Nobody could answer the chat in time: it became a written request."),
        )
        live.announce_customer(contact.ticket.customer_id)
        live.announce_queue()
    return True


def sweep(*, now: datetime | None = None) -> int:
    """Offers past their countdown go back to the queue; then a routing pass."""
    now = now or timezone.now()
    overdue = Contact.objects.filter(status=Status.OFFERED, offer_expires_at__lte=now)
    for contact_id in list(overdue.values_list("pk", flat=True)[:200]):
        expire_offer(contact_id=contact_id, now=now)
    return dispatch.route(now=now)


def hold(*, agent: Agent, contact_id: int, on: bool, now=None) -> Contact:
    now = now or timezone.now()
    with transaction.atomic():
        contact = _own_contact(agent, contact_id, lock=True)
        if contact.status != Status.ACTIVE or contact.channel != Contact.Channel.CALL:
            raise Conflict()
        if on and contact.hold_started_at is None:
            contact.hold_started_at = now
        elif not on and contact.hold_started_at is not None:
            contact.hold_seconds += _seconds(contact.hold_started_at, now)
            contact.hold_started_at = None
        contact.save(update_fields=["hold_started_at", "hold_seconds"])
    return contact


def end(*, agent: Agent, contact_id: int, now=None) -> Contact:
    """The call (or chat) ends: its talk and hold times are counted; wrap-up starts."""
    now = now or timezone.now()
    with transaction.atomic():
        contact = _own_contact(agent, contact_id, lock=True)
        if contact.status != Status.ACTIVE:
            raise Conflict()
        if contact.hold_started_at is not None:
            contact.hold_seconds += _seconds(contact.hold_started_at, now)
            contact.hold_started_at = None
        total = _seconds(contact.accepted_at or now, now)
        contact.talk_seconds = max(0, total - contact.hold_seconds)
        contact.ended_at = now
        contact.status = Status.WRAP_UP
        contact.save(
            update_fields=["hold_started_at", "hold_seconds", "talk_seconds", "ended_at", "status"]
        )
        if not Contact.objects.filter(agent=agent, status=Status.ACTIVE).exists():
            Agent.objects.filter(pk=agent.pk).update(presence=Presence.WRAP_UP, presence_since=now)
        live.announce_customer(contact.ticket.customer_id)
        live.announce_team(agent.team_id)
    return contact


PHONE_OUTCOMES = {
    "busy": gettext_lazy("their line was busy."),
    "no_answer": gettext_lazy("no answer."),
    "unreachable": gettext_lazy("the number could not be reached."),
    "failed": gettext_lazy("the call could not be placed."),
}


def record_phone_call(
    *, agent: Agent, contact_id: int, talked_seconds: int | None, outcome: str = ""
) -> Entry:
    """What the agent's call to the customer's phone came to, in the ticket's history: how long
    they talked once it was answered, or why it was not (``outcome``: busy, no_answer,
    unreachable, failed)."""
    contact = _own_contact(agent, contact_id)
    if talked_seconds is not None:
        minutes, seconds = divmod(max(0, talked_seconds), 60)
        text = _("Phone call to their number: %(minutes)d min %(seconds)02d s.") % {
            "minutes": minutes,
            "seconds": seconds,
        }
    else:
        why = PHONE_OUTCOMES.get(outcome, PHONE_OUTCOMES["failed"])
        text = _("Phone call to their number: %(why)s") % {"why": why}
    return _event(contact.ticket, contact, agent.user, text)


def wrap_up(
    *,
    agent: Agent,
    contact_id: int,
    reason: str,
    note: str = "",
    ticket_status: str = "",
    now=None,
) -> Contact:
    """The agent files the contact: a reason code, an optional note, the ticket's new status;
    the agent is free again."""
    now = now or timezone.now()
    if reason not in WRAP_REASONS:
        raise InvalidInput(_("Choose a reason."), field="reason")
    note = _clean(note, field="note", required=False)
    if ticket_status and ticket_status not in Ticket.Status.values:
        raise InvalidInput(_("Choose a status."), field="ticket_status")
    with transaction.atomic():
        contact = _own_contact(agent, contact_id, lock=True)
        if contact.status == Status.ACTIVE:
            end(agent=agent, contact_id=contact_id, now=now)
            contact.refresh_from_db()
        if contact.status != Status.WRAP_UP:
            raise Conflict()
        contact.wrap_reason = reason
        contact.wrapped_at = now
        contact.wrap_seconds = _seconds(contact.ended_at or now, now)
        contact.status = Status.DONE
        contact.save(update_fields=["wrap_reason", "wrapped_at", "wrap_seconds", "status"])
        if note:
            add_note(agent=agent, ticket_id=contact.ticket_id, text=note, contact=contact)
        if ticket_status:
            set_ticket_status(
                agent=agent, ticket_id=contact.ticket_id, status=ticket_status, now=now
            )
        _release_if_free(agent, now=now)
        dispatch.route_after_commit(now=now)
        live.announce_team(agent.team_id)
    return contact


def add_note(*, agent: Agent, ticket_id: int, text: str, contact: Contact | None = None) -> Entry:
    """An internal note: agents and supervisors read it, the customer never does."""
    from . import access

    text = _clean(text, field="note")
    ticket = access.ticket_for(agent, ticket_id)
    return Entry.objects.create(
        ticket=ticket,
        contact=contact,
        kind=Entry.Kind.NOTE,
        author=agent.user,
        body=crypto.encrypt_text(text),
    )


def reply(*, agent: Agent, ticket_id: int, text: str, now=None) -> Entry:
    """An answer to the customer: kept in the ticket and sent by e-mail from the ticket's
    address, so that their answer threads back in."""
    from . import access

    now = now or timezone.now()
    text = _clean(text, field="text")
    with transaction.atomic():
        ticket = access.ticket_for(agent, ticket_id, lock=True)
        message_id = f"<ticket-{ticket.pk}.{uuid.uuid4().hex}@{_mail_domain()}>"
        entry = Entry.objects.create(
            ticket=ticket,
            kind=Entry.Kind.REPLY,
            author=agent.user,
            body=crypto.encrypt_text(text),
            email_message_id=message_id,
        )
        updates = {"status": Ticket.Status.WAITING}
        if ticket.first_response_at is None:
            updates["first_response_at"] = now
        Ticket.objects.filter(pk=ticket.pk).update(**updates)
        # In a chat the customer reads the answer on their page; otherwise it goes by e-mail.
        chatting = Contact.objects.filter(
            ticket=ticket, channel=Contact.Channel.CHAT, status=Status.ACTIVE
        ).exists()
        recipient = "" if chatting else ticket.customer_email
        if recipient:
            with translation.override(ticket.language):
                subject = _("[Consulto support %(ref)s] %(subject)s") % {
                    "ref": ticket.reference,
                    "subject": crypto.decrypt_text(ticket.subject),
                }
                body = "\n\n".join(
                    [
                        text,
                        "—",
                        _("To answer, reply to this e-mail or open your request: %(url)s")
                        % {"url": _absolute(reverse("support:request", args=[ticket.pk]))},
                    ]
                )
            outbox.queue_message(
                channel="email",
                purpose="support",
                recipient=recipient,
                subject=subject[:255],
                body=crypto.encrypt_text(body),
                dedupe_key=f"support-reply:{entry.pk}",
                headers={"Reply-To": reply_address(ticket), "Message-ID": message_id},
                language=ticket.language,
            )
        live.announce_customer(ticket.customer_id)
    return entry


def transfer(
    *,
    agent: Agent,
    contact_id: int,
    to_agent_id: int | None = None,
    product: str = "",
    kind: str = "",
    now=None,
) -> Contact:
    """Hand the contact to a skill (back to the queue with the new product and kind) or to a
    person (offered to them only); the snapshot and the ticket go with it."""
    now = now or timezone.now()
    with transaction.atomic():
        contact = _own_contact(agent, contact_id, lock=True)
        if contact.status not in (Status.ACTIVE, Status.WRAP_UP):
            raise Conflict()
        target = None
        if to_agent_id is not None:
            from . import access

            target = access.colleagues(agent).filter(pk=to_agent_id).first()
            if target is None:
                raise InvalidInput(_("Choose a colleague."), field="to_agent")
        elif product or kind:
            from .models import Kind, Product

            if product not in Product.values or kind not in Kind.values:
                raise InvalidInput(_("Choose a product and a kind."), field="product")
        else:
            raise InvalidInput(_("Choose a colleague or a skill."), field="to_agent")
        contact.status = Status.DONE
        contact.wrap_reason = "escalated"
        contact.ended_at = contact.ended_at or now
        contact.wrapped_at = now
        if contact.accepted_at:
            contact.talk_seconds = max(0, _seconds(contact.accepted_at, now) - contact.hold_seconds)
        contact.save()
        successor = Contact.objects.create(
            ticket=contact.ticket,
            snapshot=contact.snapshot,
            channel=contact.channel,
            status=Status.WAITING,
            product=product or contact.product,
            kind=kind or contact.kind,
            priority=contact.priority,
            language=contact.language,
            phone=contact.phone,
            requested_at=now,
            pinned_agent=target,
        )
        if product or kind:
            from .models import Ticket as T

            T.objects.filter(pk=contact.ticket_id).update(
                product=successor.product, kind=successor.kind
            )
        _event(
            contact.ticket,
            successor,
            agent.user,
            _("Transferred to %(to)s.") % {"to": target or f"{successor.get_product_display()}"},
        )
        _release_if_free(agent, now=now)
        dispatch.after_new_contact(successor, now=now)
    return successor


def consult_supervisor(
    *, agent: Agent, contact_id: int, question: str, call_back_at: datetime, now=None
) -> ConsultRequest:
    """The agent needs their supervisor: the question goes to the team's internal chat, the call
    ends with a callback set for the chosen time, pinned to the same agent, snapshot kept."""
    now = now or timezone.now()
    question = _clean(question, field="question")
    if call_back_at <= now or call_back_at > now + timedelta(days=7):
        raise InvalidInput(_("Choose a time in the next seven days."), field="call_back_at")
    with transaction.atomic():
        contact = _own_contact(agent, contact_id, lock=True)
        if contact.status not in (Status.ACTIVE, Status.WRAP_UP):
            raise Conflict()
        consult = ConsultRequest.objects.create(contact=contact, agent=agent)
        ConsultMessage.objects.create(
            consult=consult, author=agent.user, body=crypto.encrypt_text(question)
        )
        if contact.status == Status.ACTIVE:
            end(agent=agent, contact_id=contact.pk, now=now)
        Contact.objects.filter(pk=contact.pk).update(
            status=Status.DONE, wrap_reason="callback", wrapped_at=now
        )
        callback = Contact.objects.create(
            ticket=contact.ticket,
            snapshot=contact.snapshot,
            channel=Contact.Channel.CALL,
            inbound=False,
            status=Status.SCHEDULED,
            product=contact.product,
            kind=contact.kind,
            priority=contact.priority,
            language=contact.language,
            phone=contact.phone,
            requested_at=now,
            not_before=call_back_at,
            pinned_agent=agent,
        )
        _event(
            contact.ticket,
            callback,
            agent.user,
            _("Asked the supervisor; call back planned at %(at)s.")
            % {"at": timezone.localtime(call_back_at).strftime("%d/%m %H:%M")},
        )
        _release_if_free(agent, now=now)
        dispatch.after_new_contact(callback, now=now)
        live.announce_team(agent.team_id)
    return consult


def answer_consult(*, supervisor: Agent, consult_id: int, text: str) -> ConsultMessage:
    from . import access

    text = _clean(text, field="text")
    consult = access.consults_for(supervisor).filter(pk=consult_id).first()
    if consult is None:
        raise NotFound()
    with transaction.atomic():
        message = ConsultMessage.objects.create(
            consult=consult, author=supervisor.user, body=crypto.encrypt_text(text)
        )
        live.announce_agent(consult.agent_id)
    return message


def set_ticket_status(*, agent: Agent, ticket_id: int, status: str, now=None) -> Ticket:
    """Solving a ticket sends the customer the satisfaction survey (once)."""
    from . import access

    now = now or timezone.now()
    if status not in Ticket.Status.values:
        raise InvalidInput(_("Choose a status."), field="status")
    with transaction.atomic():
        ticket = access.ticket_for(agent, ticket_id, lock=True)
        updates: dict = {"status": status}
        if status == Ticket.Status.SOLVED and ticket.solved_at is None:
            updates["solved_at"] = now
        if status == Ticket.Status.CLOSED:
            updates["closed_at"] = now
        Ticket.objects.filter(pk=ticket.pk).update(**updates)
        ticket.refresh_from_db()
        if status == Ticket.Status.SOLVED:
            _send_survey(ticket)
        _event(
            ticket,
            None,
            agent.user,
            _("Status: %(status)s.") % {"status": ticket.get_status_display()},
        )
    return ticket


def read_snapshot(*, agent: Agent, snapshot: Snapshot, ip: str | None = None) -> dict:
    """The snapshot's data for an agent who may see its ticket; each read is audited."""
    audit.record(
        actor=agent.user,
        action=audit.Action.READ,
        target_type="support_snapshot",
        target_id=snapshot.pk,
        organisation_id=snapshot.ticket.organisation_id,
        ip=ip,
    )
    return json.loads(crypto.decrypt_text(snapshot.data))


def reply_address(ticket: Ticket) -> str:
    local, _at, domain = settings.CONSULTO_SUPPORT_ADDRESS.partition("@")
    return f"{local}+{ticket.pk}.{ticket.reply_token}@{domain}"


# Inside ------------------------------------------------------------------------------------------


def _language() -> str:
    return (translation.get_language() or settings.LANGUAGE_CODE)[:2]


def _mail_domain() -> str:
    return settings.CONSULTO_SUPPORT_ADDRESS.partition("@")[2] or "localhost"


def _absolute(path: str) -> str:
    return settings.CONSULTO_SITE_URL.rstrip("/") + path


def _seconds(start: datetime, end: datetime) -> int:
    return max(0, int((end - start).total_seconds()))


def _own_contact(agent: Agent, contact_id: int, *, lock: bool = False) -> Contact:
    qs = Contact.objects.select_related("ticket", "snapshot")
    if lock:
        qs = qs.select_for_update(of=("self",))
    contact = qs.filter(pk=contact_id, agent=agent).first()
    if contact is None:
        raise NotFound()
    return contact


def _take_ticket(ticket: Ticket, agent: Agent, *, now: datetime) -> None:
    updates = {"assignee": agent, "team_id": agent.team_id}
    if ticket.status == Ticket.Status.NEW:
        updates["status"] = Ticket.Status.OPEN
    Ticket.objects.filter(pk=ticket.pk).update(**updates)
    Ticket.objects.filter(pk=ticket.pk, first_response_at__isnull=True).update(
        first_response_at=now
    )


def _busy(agent: Agent, *, now: datetime) -> None:
    Agent.objects.filter(pk=agent.pk).exclude(presence=Presence.BUSY).update(
        presence=Presence.BUSY, presence_since=now
    )


def _release_if_free(agent: Agent, *, now: datetime) -> None:
    """Back to available once the agent holds no live contact (unless they chose a break)."""
    if Contact.objects.filter(agent=agent, status__in=Contact.LIVE_STATUSES).exists():
        return
    Agent.objects.filter(pk=agent.pk, presence__in=[Presence.BUSY, Presence.WRAP_UP]).update(
        presence=Presence.AVAILABLE, presence_since=now, idle_since=now
    )


def _withdraw_offers(agent: Agent, *, now: datetime) -> None:
    Contact.objects.filter(status=Status.OFFERED, offered_to=agent).update(
        status=Status.WAITING, offered_to=None, offer_expires_at=None
    )


def _event(ticket: Ticket, contact: Contact | None, user, text: str) -> Entry:
    return Entry.objects.create(
        ticket=ticket,
        contact=contact,
        kind=Entry.Kind.EVENT,
        author=user,
        body=crypto.encrypt_text(str(text)),
    )


def _send_survey(ticket: Ticket) -> None:
    from .models import Survey

    if not ticket.customer_email or Survey.objects.filter(ticket=ticket).exists():
        return
    survey = Survey.objects.create(ticket=ticket, token=secrets.token_urlsafe(24)[:32])
    url = _absolute(reverse("support:survey", args=[survey.token]))
    with translation.override(ticket.language):
        subject = _("How did we do? Your request %(ref)s") % {"ref": ticket.reference}
        body = "\n\n".join(
            [
                _("Hello,"),
                _(
                    "Your request %(ref)s to Consulto's support is solved. One question: how "
                    "satisfied are you with the help you got, from 1 (not at all) to 5 (very)?"
                )
                % {"ref": ticket.reference},
                url,
                _("Thank you. — The Consulto support team"),
            ]
        )
    outbox.queue_message(
        channel="email",
        purpose="support",
        recipient=ticket.customer_email,
        subject=subject[:255],
        body=crypto.encrypt_text(body),
        dedupe_key=f"support-survey:{ticket.pk}",
        headers={"Reply-To": reply_address(ticket)},
        language=ticket.language,
    )


def _check_attachment(name: str, content: bytes) -> tuple[str, str, bytes]:
    if not content:
        raise InvalidInput(_("The file is empty."), field="attachments")
    if len(content) > MAX_ATTACHMENT_BYTES:
        raise InvalidInput(_("A file may be at most 10 MB."), field="attachments")
    content_type = next(
        (t for t, marks in SIGNATURES.items() if any(content.startswith(m) for m in marks)), None
    )
    if content_type is None:
        raise InvalidInput(
            _("Only screenshots (PNG, JPEG) and PDF files are accepted."), field="attachments"
        )
    clean_name = os.path.basename(name or "").replace("\x00", "").strip()[:200] or "fichier"
    return clean_name, content_type, content


def attachments_dir():
    path = settings.DATA_DIR / "support"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _write_temporary(content: bytes) -> tuple[uuid.UUID, object]:
    """The attachment encrypted in a temporary file; it gets its final name as the last step of
    the transaction that records it, and is removed if that transaction fails."""
    key = uuid.uuid4()
    temporary = attachments_dir() / f"{key}.tmp"
    temporary.write_bytes(crypto.encrypt(content))
    return key, temporary


@contextmanager
def staged_attachments(checked: list[tuple[str, str, bytes]]):
    """Attachments checked by ``_check_attachment``, each encrypted in a temporary file, as
    (name, content type, content, storage key, temporary path): record them in the transaction
    (``record_attachments``), give them their final names as its last step
    (``place_attachments``); whatever was not placed is removed on the way out."""
    stored = []
    try:
        for name, content_type, content in checked:
            stored.append((name, content_type, content, *_write_temporary(content)))
        yield stored
    finally:
        for *_rest, temporary in stored:
            temporary.unlink(missing_ok=True)


def record_attachments(entry: Entry, stored) -> None:
    for name, content_type, content, key, _temporary in stored:
        Attachment.objects.create(
            entry=entry,
            name=crypto.encrypt_text(name),
            content_type=content_type,
            size=len(content),
            storage_key=key,
        )


def place_attachments(stored) -> None:
    for *_rest, key, temporary in stored:
        os.replace(temporary, attachments_dir() / f"{key}.bin")


def read_attachment(*, viewer, attachment_id: int, ip: str | None = None):
    """(name, content type, content) for the ticket's customer or an agent who may see it."""
    from . import access

    attachment = Attachment.objects.select_related("entry__ticket").filter(pk=attachment_id).first()
    if attachment is None:
        raise NotFound()
    ticket = attachment.entry.ticket
    if ticket.customer_id != viewer.pk:
        agent = access.agent_of(viewer)
        if agent is None:
            raise NotFound()
        access.ticket_for(agent, ticket.pk)
        audit.record(
            actor=viewer,
            action=audit.Action.DOWNLOAD,
            target_type="support_attachment",
            target_id=attachment.pk,
            organisation_id=ticket.organisation_id,
            ip=ip,
        )
    content = crypto.decrypt((attachments_dir() / f"{attachment.storage_key}.bin").read_bytes())
    return crypto.decrypt_text(attachment.name), attachment.content_type, content
