"""Practitioners' invitations: the e-mail with the link, a new link, the list, acceptance.

An invitation is made by ``bulk_import`` (an organisation admin's CSV file). Tokens are born in
the task worker (``tasks.send_invitation``, which calls ``deliver_invitation``) and only their
hash is stored in clear: the task queue never holds a token, and the e-mail carrying the link
waits in the notifications outbox encrypted, erased once sent. Until then an invitation holds
the hash of a token nobody knows. ``resend`` gives an invitation a new link, ``invitations_of``
and ``rows`` list an organisation's invitations with their statuses. The invitee follows a
shortened journey: ``accept_invitation`` opens their account on the identity and settings the
organisation prepared.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from consulto.core import audit, queue
from consulto.core.deferred import deferred
from consulto.core.errors import DomainError, InvalidInput, NotFound
from consulto.directory.models import Membership
from consulto.notifications import services as notifications
from consulto.notifications.models import Message
from consulto.practice.permissions import Perm, check_organisation

from . import services
from .models import Invitation, Journey, Step
from .presets import DEFAULT_HOURS, HOURS_BY_CODE

# The task this module enqueues, by name (``core/queue.py``): tasks.py calls this module.
SEND_INVITATION = "consulto.onboarding.tasks.send_invitation"
INVITATION_VALID_FOR = timedelta(days=14)
# An invitation still unsent after this long will not be: its e-mail failed (the worker logs why).
SENDING_TAKES_AT_MOST = timedelta(minutes=30)


class InvitationGone(DomainError):
    code = "invitation_gone"
    status = 410


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def unknown_token_hash() -> str:
    """The hash of a token nobody was given: an invitation nobody can use yet."""
    return token_hash(secrets.token_urlsafe(32))


def _date(moment: datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "DATE_FORMAT")


# Sending ----------------------------------------------------------------------------------------


def enqueue_sending(invitations: list[tuple[int, str]], base_url: str) -> None:
    """One task per invitation, all written in one transaction (500 inserts, one commit)."""
    with transaction.atomic():
        for invitation_id, expected_hash in invitations:
            queue.enqueue(SEND_INVITATION, invitation_id, expected_hash, base_url)


def deliver_invitation(*, invitation_id: int, expected_hash: str, base_url: str) -> str:
    """Give the invitation its token and write the e-mail with the link to the outbox, in one
    transaction; the outbox sends it (and retries while the SMTP server is down).

    ``expected_hash`` is the placeholder the invitation had when this sending was asked for: if
    it changed (sent already, or renewed since), this sending is stale and does nothing.
    """
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update(of=("self",))
            .filter(pk=invitation_id, token_hash=expected_hash, accepted_at__isnull=True)
            .select_related("organisation", "site", "practitioner", "journey")
            .first()
        )
        if invitation is None:
            return "stale"
        if invitation.expires_at <= timezone.now():
            return "expired"
        invitation.token_hash = token_hash(token)
        invitation.sent_at = timezone.now()
        invitation.save(update_fields=["token_hash", "sent_at"])
        _queue_email(invitation, token, base_url)
    return "sent"


def message_key(invitation: Invitation) -> str:
    """The outbox key of the e-mail carrying the invitation's current link."""
    return f"invitation:{invitation.pk}:{invitation.token_hash[:32]}"


def _queue_email(invitation: Invitation, token: str, base_url: str) -> None:
    language = invitation.journey.language if hasattr(invitation, "journey") else "fr"
    with translation.override(language):
        path = reverse("onboarding:invitation", args=[token])
        context = {
            "invitation": invitation,
            "organisation": invitation.organisation,
            "practitioner": invitation.practitioner,
            "site": invitation.site,
            "link": f"{base_url.rstrip('/')}{path}",
            "expires": _date(invitation.expires_at),
            "hours": HOURS_BY_CODE[invitation.hours_template or DEFAULT_HOURS].label(language),
        }
        subject = _("%(organisation)s invites you to Consulto") % {
            "organisation": invitation.organisation.name
        }
        body = render_to_string("onboarding/email/invitation.txt", context)
        notifications.queue_account_email(
            recipient=invitation.email,
            subject=subject,
            body=body,
            dedupe_key=message_key(invitation),
        )


def resend(*, user, invitation_id: int, base_url: str, now: datetime | None = None) -> Invitation:
    """A new link for an invitation not accepted yet: the old link is dead at once, the new one
    is valid 14 days from now and leaves by e-mail after the commit."""
    now = now or timezone.now()
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().filter(pk=invitation_id).first()
        if invitation is None:
            raise NotFound()
        check_organisation(user, invitation.organisation_id, Perm.POLICY)
        if invitation.accepted_at is not None:
            raise InvalidInput(
                _("%(email)s has already accepted this invitation.") % {"email": invitation.email},
                code="accepted",
            )
        invitation.token_hash = unknown_token_hash()
        invitation.expires_at = now + INVITATION_VALID_FOR
        invitation.sent_at = None
        invitation.save(update_fields=["token_hash", "expires_at", "sent_at"])
        audit.record(
            actor=user,
            action=audit.Action.UPDATE,
            target_type="invitation",
            target_id=invitation.pk,
            organisation_id=invitation.organisation_id,
        )
        transaction.on_commit(
            deferred(enqueue_sending, [(invitation.pk, invitation.token_hash)], base_url),
            robust=True,
        )
    return invitation


# The invitations of an organisation -------------------------------------------------------------


@dataclass
class InvitationRow:
    invitation: Invitation
    status: str  # sending, not_sent, sent, expired, accepted, published
    status_label: str

    @property
    def can_resend(self) -> bool:
        return self.status in ("sending", "not_sent", "sent", "expired")


def status_of(invitation: Invitation, *, now: datetime, message_status: str | None = None) -> str:
    """``message_status``: the outbox status of the e-mail with the current link, if any."""
    journey = getattr(invitation, "journey", None)
    if journey is not None and journey.published_at is not None:
        return "published"
    if invitation.accepted_at is not None:
        return "accepted"
    if invitation.expires_at <= now:
        return "expired"
    if invitation.sent_at is not None:
        if message_status in (Message.Status.PENDING, Message.Status.SENDING):
            return "sending"
        if message_status in (Message.Status.FAILED, Message.Status.SKIPPED):
            return "not_sent"
        return "sent"
    issued = invitation.expires_at - INVITATION_VALID_FOR
    return "sending" if now - issued < SENDING_TAKES_AT_MOST else "not_sent"


STATUS_LABELS = {
    "sending": gettext_lazy("Being sent"),
    "not_sent": gettext_lazy("Not sent (the e-mail failed): send it again"),
    "sent": gettext_lazy("Sent, not accepted yet"),
    "expired": gettext_lazy("Expired"),
    "accepted": gettext_lazy("Accepted, not published yet"),
    "published": gettext_lazy("Published"),
}


def invitations_of(*, user, organisation_id: int):
    """The organisation's invitations, newest first (a queryset, for the paginator; ``rows``
    gives each of a page its status)."""
    check_organisation(user, organisation_id, Perm.POLICY)
    return (
        Invitation.objects.filter(organisation_id=organisation_id)
        .select_related("practitioner__specialty", "site", "journey")
        .order_by("-created_at", "-pk")
    )


def rows(invitations, *, now: datetime | None = None) -> list[InvitationRow]:
    now = now or timezone.now()
    invitations = list(invitations)
    sending = notifications.statuses(message_key(i) for i in invitations if i.sent_at)
    result = []
    for invitation in invitations:
        status = status_of(invitation, now=now, message_status=sending.get(message_key(invitation)))
        result.append(InvitationRow(invitation, status, str(STATUS_LABELS[status])))
    return result


# The invitee's side -----------------------------------------------------------------------------


def find_invitation(token: str, *, now: datetime | None = None) -> Invitation:
    """The invitation this link opens; NotFound for an unknown link, InvitationGone for a used
    or expired one."""
    now = now or timezone.now()
    invitation = (
        Invitation.objects.filter(token_hash=token_hash(token))
        .select_related("organisation", "site", "practitioner__specialty", "agenda", "journey")
        .first()
        if token
        else None
    )
    if invitation is None:
        raise NotFound(
            _(
                "This invitation link is not valid. Check that you opened the whole link from "
                "the e-mail, or ask the organisation that invited you for a new invitation."
            ),
            code="invitation_unknown",
        )
    if invitation.accepted_at is not None:
        raise InvitationGone(
            _("This invitation was already accepted: log in with your e-mail and password."),
            code="invitation_used",
        )
    if invitation.expires_at <= now:
        raise InvitationGone(
            _(
                "This invitation expired on %(date)s. Ask %(organisation)s for a new invitation: "
                "they can send it again in a click."
            )
            % {
                "date": _date(invitation.expires_at),
                "organisation": invitation.organisation.name,
            },
            code="invitation_expired",
        )
    return invitation


def email_has_account(email: str) -> bool:
    return get_user_model().objects.filter(email__iexact=email).exists()


def accept_invitation(
    *, token: str, password: str, totp_secret: str, totp_code: str, now: datetime | None = None
):
    """Open the invitee's account (the e-mail is verified by the link itself, the authenticator
    by its code), tie it to the prepared practitioner and agenda, and record the screens the
    organisation filled in for them as finished. Returns the new user."""
    now = now or timezone.now()
    services.check_totp(totp_secret, totp_code)
    with transaction.atomic():
        invitation = find_invitation(token, now=now)
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at is not None:
            raise InvitationGone(
                _("This invitation was already accepted: log in with your e-mail and password."),
                code="invitation_used",
            )
        practitioner = invitation.practitioner
        if email_has_account(invitation.email) or practitioner.user_id is not None:
            raise InvalidInput(
                _(
                    "An account already uses %(email)s: log in with it, or ask %(organisation)s "
                    "to invite another address."
                )
                % {"email": invitation.email, "organisation": invitation.organisation.name},
                code="email_taken",
            )
        user = services.open_account(
            email=invitation.email,
            password_hash=make_password(password),
            totp_secret=totp_secret,
            first_name=practitioner.first_name,
            last_name=practitioner.last_name,
        )
        practitioner.user = user
        practitioner.save(update_fields=["user"])
        Membership.objects.get_or_create(
            user=user, organisation_id=invitation.organisation_id, role=Membership.Role.PRACTITIONER
        )
        invitation.accepted_at = now
        invitation.save(update_fields=["accepted_at"])
        journey = Journey.objects.select_for_update().get(invitation=invitation)
        journey.user = user
        journey.save(update_fields=["user"])
        for step in (Step.ACCOUNT, Step.SECURITY, Step.IDENTITY, Step.SCHEDULE):
            services.finish(journey, step, now=now)
        audit.record(
            actor=user,
            action=audit.Action.UPDATE,
            target_type="invitation",
            target_id=invitation.pk,
            organisation_id=invitation.organisation_id,
        )
    return user
