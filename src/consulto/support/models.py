"""The support desk: teams and agents (in-house or of an outsourced provider), the contacts
customers open from inside the product, the tickets that group them, and what agents write.

Texts that a customer or an agent types (messages, notes, subjects) and the context snapshot are
encrypted at rest (``core.crypto``): they may quote health data. What routing, lists and
reports need (product, kind, status, times, durations) stays in plain columns.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from consulto.directory.models import Organisation


class Product(models.TextChoices):
    AGENDA = "agenda", _("Agenda")
    VIDEO = "video", _("Video consultation")
    PRACTICE = "practice", _("Practice management")
    ACCOUNT = "account", _("Account")
    BILLING = "billing", _("Billing")


class Kind(models.TextChoices):
    TECHNICAL = "technical", _("Technical support")
    ACCOUNT_MANAGEMENT = "account_management", _("Account management")


class Priority(models.IntegerChoices):
    NORMAL = 0, _("Normal")
    HIGH = 1, _("High")
    # A practitioner unable to consult right now.
    URGENT = 2, _("Urgent: cannot consult now")


class Team(models.Model):
    """A team of agents: the platform's own (no provider) or an outsourced provider's."""

    name = models.CharField(_("name"), max_length=120)
    provider = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="support_teams",
        limit_choices_to={"kind": Organisation.Kind.SUPPORT_PROVIDER},
        verbose_name=_("provider"),
        help_text=_("Empty for an in-house team."),
    )

    class Meta:
        verbose_name = _("support team")
        verbose_name_plural = _("support teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def provider_key(self) -> str:
        return f"provider:{self.provider_id}" if self.provider_id else "in_house"


class Agent(models.Model):
    class Role(models.TextChoices):
        AGENT = "agent", _("Agent")
        SUPERVISOR = "supervisor", _("Supervisor")
        # The platform's support managers: every team, every provider.
        MANAGER = "manager", _("Support manager")

    class Presence(models.TextChoices):
        AVAILABLE = "available", _("Available")
        BUSY = "busy", _("On a contact")
        WRAP_UP = "wrap_up", _("Wrap-up")
        BREAK = "break", _("Break")
        OFFLINE = "offline", _("Offline")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="support_agent"
    )
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="agents", verbose_name=_("team")
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.AGENT)
    kind = models.CharField(
        _("kind"), max_length=24, choices=Kind.choices, default=Kind.ACCOUNT_MANAGEMENT
    )
    languages = models.CharField(
        _("languages"), max_length=40, default="fr", help_text=_("Codes separated by commas.")
    )
    presence = models.CharField(
        _("presence"), max_length=16, choices=Presence.choices, default=Presence.OFFLINE
    )
    presence_since = models.DateTimeField(_("presence since"), null=True, blank=True)
    # When the agent last became free: the longest idle takes the next contact.
    idle_since = models.DateTimeField(_("idle since"), null=True, blank=True)
    capacity_calls = models.PositiveSmallIntegerField(_("calls at once"), default=1)
    capacity_chats = models.PositiveSmallIntegerField(_("chats at once"), default=3)
    capacity_written = models.PositiveSmallIntegerField(_("written requests at once"), default=2)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Paris")
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("support agent")
        verbose_name_plural = _("support agents")

    def __str__(self) -> str:
        return str(self.user)

    @property
    def language_set(self) -> frozenset[str]:
        return frozenset(code.strip() for code in self.languages.split(",") if code.strip())

    @property
    def provider_id(self) -> int | None:
        return self.team.provider_id


class Skill(models.Model):
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="skills")
    product = models.CharField(_("product"), max_length=16, choices=Product.choices)
    level = models.PositiveSmallIntegerField(
        _("level"),
        validators=[MinValueValidator(1), MaxValueValidator(3)],
        help_text=_("1 learning, 2 autonomous, 3 expert."),
    )

    class Meta:
        verbose_name = _("skill")
        verbose_name_plural = _("skills")
        constraints = [
            models.UniqueConstraint(fields=["agent", "product"], name="skill_unique_product"),
            models.CheckConstraint(
                condition=Q(level__gte=1, level__lte=3), name="skill_level_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent} {self.product} {self.level}"


class Shift(models.Model):
    """One weekday of an agent's weekly shift pattern, on the agent's wall clock."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="shifts")
    weekday = models.PositiveSmallIntegerField(
        _("weekday"), validators=[MaxValueValidator(6)], help_text=_("0 Monday … 6 Sunday.")
    )
    start = models.TimeField(_("start"))
    end = models.TimeField(_("end"))
    break_start = models.TimeField(_("break at"), null=True, blank=True)
    break_minutes = models.PositiveSmallIntegerField(_("break (minutes)"), default=0)

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        ordering = ["weekday", "start"]
        constraints = [
            models.UniqueConstraint(fields=["agent", "weekday"], name="shift_one_per_day"),
            models.CheckConstraint(condition=Q(start__lt=models.F("end")), name="shift_order"),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="shift_weekday"),
        ]

    def __str__(self) -> str:
        return f"{self.agent} {self.weekday} {self.start}-{self.end}"


class RoutingPolicy(models.Model):
    """The routing settings (one row): how long before requirements relax, the split between
    providers, how long an offer waits for the agent."""

    relax_level_after = models.JSONField(
        _("relax the level after (seconds)"),
        default=list,
        blank=True,
        help_text=_("One wait per step: [60, 180] drops the required level at 1 and 3 minutes."),
    )
    relax_kind_after = models.PositiveIntegerField(
        _("relax the kind after (seconds)"), null=True, blank=True
    )
    provider_shares = models.JSONField(
        _("share per provider"),
        default=dict,
        blank=True,
        help_text=_('For example {"in_house": 0.5, "provider:12": 0.25, "provider:13": 0.25}.'),
    )
    offer_seconds = models.PositiveSmallIntegerField(_("offer countdown (seconds)"), default=20)
    chat_unanswered_minutes = models.PositiveSmallIntegerField(
        _("a chat unanswered becomes a written request after (minutes)"), default=5
    )

    class Meta:
        verbose_name = _("routing policy")
        verbose_name_plural = _("routing policy")

    def __str__(self) -> str:
        return str(_("routing policy"))


class Ticket(models.Model):
    """Contacts about one problem."""

    class Status(models.TextChoices):
        NEW = "new", _("New")
        OPEN = "open", _("Open")
        WAITING = "waiting", _("Waiting for the customer")
        SOLVED = "solved", _("Solved")
        CLOSED = "closed", _("Closed")

    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="support_tickets",
        verbose_name=_("customer"),
    )
    customer_email = models.EmailField(_("customer's e-mail"), blank=True)
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="support_tickets",
        verbose_name=_("organisation"),
    )
    is_professional = models.BooleanField(_("professional"), default=False)
    subject = models.TextField(_("subject"))  # core.crypto token
    category = models.CharField(_("category"), max_length=32, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.NEW
    )
    product = models.CharField(_("product"), max_length=16, choices=Product.choices)
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    language = models.CharField(_("language"), max_length=8, default="fr")
    # The team that owns the ticket once an agent took a contact of it: a provider's staff see
    # their provider's tickets only.
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="tickets"
    )
    assignee = models.ForeignKey(
        Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="tickets"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    first_response_due = models.DateTimeField(_("first answer due"))
    first_response_at = models.DateTimeField(_("first answer"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolution due"))
    solved_at = models.DateTimeField(_("solved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # The secret of the ticket's reply address (support+<id>.<token>@...): a reply threads in.
    reply_token = models.CharField(max_length=32, unique=True)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "priority", "created_at"], name="ticket_queue"),
            models.Index(fields=["customer", "-created_at"], name="ticket_customer"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"#{self.pk:06d}" if self.pk else "#"


class Snapshot(models.Model):
    """What the server knew of the customer when they asked for help (never typed by them):
    account, organisation, role, page, onboarding, agenda settings, video figures, errors,
    browser. Encrypted at rest, audited when read, deleted with its ticket."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="snapshots")
    taken_at = models.DateTimeField(_("taken at"), auto_now_add=True)
    data = models.TextField()  # core.crypto token of a JSON document

    class Meta:
        verbose_name = _("context snapshot")
        verbose_name_plural = _("context snapshots")

    def __str__(self) -> str:
        return f"snapshot {self.pk} of {self.ticket_id}"


class Contact(models.Model):
    """One exchange with the customer on one channel."""

    class Channel(models.TextChoices):
        CALL = "call", _("Callback")
        CHAT = "chat", _("Chat")
        EMAIL = "email", _("Written request")

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        WAITING = "waiting", _("Waiting")
        OFFERED = "offered", _("Offered to an agent")
        ACTIVE = "active", _("In progress")
        WRAP_UP = "wrap_up", _("Wrap-up")
        DONE = "done", _("Done")
        ABANDONED = "abandoned", _("Abandoned")

    OPEN_STATUSES = (Status.SCHEDULED, Status.WAITING, Status.OFFERED)
    LIVE_STATUSES = (Status.OFFERED, Status.ACTIVE, Status.WRAP_UP)

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="contacts")
    snapshot = models.ForeignKey(
        Snapshot, on_delete=models.SET_NULL, null=True, blank=True, related_name="contacts"
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    inbound = models.BooleanField(_("from the customer"), default=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.WAITING
    )
    product = models.CharField(_("product"), max_length=16, choices=Product.choices)
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    language = models.CharField(_("language"), max_length=8, default="fr")
    required_level = models.PositiveSmallIntegerField(_("required level"), default=1)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    requested_at = models.DateTimeField(_("requested at"))
    not_before = models.DateTimeField(_("call at"), null=True, blank=True)
    # Transferred to a person, or a callback an agent scheduled for themself.
    pinned_agent = models.ForeignKey(
        Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    offered_to = models.ForeignKey(
        Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="offers"
    )
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    agent = models.ForeignKey(
        Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="contacts"
    )
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="contacts"
    )
    relaxed = models.CharField(max_length=40, blank=True)
    accepted_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    wrapped_at = models.DateTimeField(_("wrapped up at"), null=True, blank=True)
    talk_seconds = models.PositiveIntegerField(_("talk (s)"), default=0)
    hold_seconds = models.PositiveIntegerField(_("hold (s)"), default=0)
    wrap_seconds = models.PositiveIntegerField(_("wrap-up (s)"), default=0)
    hold_started_at = models.DateTimeField(null=True, blank=True)
    wrap_reason = models.CharField(_("wrap-up reason"), max_length=32, blank=True)
    # A chat nobody answered in time, turned into a written request.
    converted_from_chat = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(
                fields=["priority", "requested_at"],
                condition=Q(status__in=["scheduled", "waiting", "offered"]),
                name="contact_waiting",
            ),
            models.Index(fields=["agent", "status"], name="contact_agent"),
        ]
        constraints = [
            # An offer is made to one agent at a time, and only while the contact is offered.
            models.CheckConstraint(
                condition=Q(status="offered", offered_to__isnull=False)
                | (~Q(status="offered") & Q(offered_to__isnull=True)),
                name="contact_offer_consistent",
            ),
        ]

    def __str__(self) -> str:
        return f"contact {self.pk} ({self.channel}, {self.status})"


class Decline(models.Model):
    """An agent who let an offer go (declined or timed out): not offered the contact again."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="declines")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    timed_out = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact", "agent"], name="decline_once"),
        ]

    def __str__(self) -> str:
        return f"{self.agent_id} let contact {self.contact_id} go"


class Entry(models.Model):
    """A line of a ticket's history: what the customer wrote, an agent's reply, an internal
    note (never shown to the customer), or what happened."""

    class Kind(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        REPLY = "reply", _("Reply")
        NOTE = "note", _("Internal note")
        EVENT = "event", _("Event")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="entries")
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="entries"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    body = models.TextField()  # core.crypto token
    created_at = models.DateTimeField(auto_now_add=True)
    # The Message-ID of the e-mail it came in or went out as: replies thread by it.
    email_message_id = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("ticket entry")
        verbose_name_plural = _("ticket entries")
        constraints = [
            # An e-mail delivered twice is stored once (support/inbound.py).
            models.UniqueConstraint(
                fields=["email_message_id"],
                condition=~Q(email_message_id=""),
                name="entry_unique_message_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk} of {self.ticket_id}"


class Attachment(models.Model):
    """A screenshot or a PDF joined to a written request: checked and encrypted like a patient
    file's documents."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="attachments")
    name = models.TextField()  # core.crypto token
    content_type = models.CharField(max_length=32)
    size = models.PositiveIntegerField()
    storage_key = models.UUIDField(unique=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return f"attachment {self.pk} ({self.content_type}, {self.size} bytes)"


class ReplyTemplate(models.Model):
    title = models.CharField(_("title"), max_length=120)
    product = models.CharField(_("product"), max_length=16, choices=Product.choices, blank=True)
    language = models.CharField(_("language"), max_length=8, default="fr")
    body = models.TextField(_("text"))

    class Meta:
        verbose_name = _("reply template")
        verbose_name_plural = _("reply templates")
        ordering = ["product", "title"]

    def __str__(self) -> str:
        return self.title


class Survey(models.Model):
    """The one-question satisfaction survey sent when a ticket is solved."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="survey")
    token = models.CharField(max_length=32, unique=True)
    sent_at = models.DateTimeField(auto_now_add=True)
    score = models.PositiveSmallIntegerField(
        _("score"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(_("comment"), blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        constraints = [
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=1, score__lte=5),
                name="survey_score_range",
            )
        ]

    def __str__(self) -> str:
        return f"survey of {self.ticket_id}"


class ConsultRequest(models.Model):
    """An agent asking their supervisor for help on a contact ("consult my supervisor"): the
    internal chat's thread."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="consults")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"consult {self.pk} on contact {self.contact_id}"


class ConsultMessage(models.Model):
    consult = models.ForeignKey(ConsultRequest, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    body = models.TextField()  # core.crypto token
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"consult message {self.pk}"
