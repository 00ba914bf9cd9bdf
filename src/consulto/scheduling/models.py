"""Agendas and what is booked into them: motives, openings, absences, patients, appointments.

Rule 1 of DOMAIN.md (no overlap on a capacity-1 agenda) is enforced by the database itself: an
exclusion constraint on PostgreSQL and triggers on SQLite (see the migrations). Capacity N is
enforced by ``booking.py`` under the agenda's row lock. All changes go through ``booking.py``.
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from consulto.core import queue
from consulto.directory.models import Department, Organisation, Practitioner, Site

# The task that recomputes the next-availability index and warms the cached slots of agendas
# once a write to them commits (``index.py``); by name, as ``core/queue.py`` says.
REFRESH_AVAILABILITY = "consulto.scheduling.tasks.refresh_availability"


def bump_versions(agenda_ids) -> None:
    """Mark these agendas changed: their cached availability and their rows of the
    next-availability index are no longer used, and the worker recomputes them once the
    transaction commits."""
    ids = sorted(set(agenda_ids))
    Agenda.objects.filter(pk__in=ids).update(version=F("version") + 1)
    agendas_changed(ids)


def agendas_changed(agenda_ids: list[int], *, hot: bool = False) -> None:
    """Once the transaction commits, have the worker recompute what these agendas' writes
    made stale, so that the next reader does not pay for it. On the booking path (``hot``)
    the task is written in the transaction itself (one INSERT, no second write once it
    commits); elsewhere once it commits, as any task."""
    if not agenda_ids:
        return
    if hot:
        queue.enqueue_with_commit([(REFRESH_AVAILABILITY, [list(agenda_ids)], None)])
    else:
        queue.on_commit(REFRESH_AVAILABILITY, list(agenda_ids))


class Agenda(models.Model):
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="agendas",
        verbose_name=_("organisation"),
    )
    practitioner = models.ForeignKey(
        Practitioner,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="agendas",
        verbose_name=_("practitioner"),
    )
    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="agendas", verbose_name=_("main site")
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="agendas",
        verbose_name=_("department"),
    )
    name = models.CharField(_("name"), max_length=200)
    capacity = models.PositiveSmallIntegerField(
        _("capacity"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(500)],
        help_text=_("1 for a person; N for a resource that takes N patients at once."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    online_booking = models.BooleanField(_("open to online booking"), default=True)
    # Bumped in every transaction that changes what is booked here: the row lock that serialises
    # capacity checks, and the key that invalidates cached availability.
    version = models.BigIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("agenda")
        verbose_name_plural = _("agendas")
        constraints = [models.CheckConstraint(condition=Q(capacity__gte=1), name="agenda_capacity")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        # Never write back a version read earlier: bookings may have bumped it since. An edit
        # of the agenda itself (capacity, site...) bumps it too, so cached slots are dropped.
        if self.pk is not None and not self._state.adding and "update_fields" not in kwargs:
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name != "version"
            ]
            super().save(*args, **kwargs)
            bump_versions([self.pk])
            return
        super().save(*args, **kwargs)

    @property
    def zone(self) -> ZoneInfo:
        return self.site.zone


class Motive(models.Model):
    class Mode(models.TextChoices):
        IN_PERSON = "in_person", _("In person")
        VIDEO = "video", _("Video")
        HOME = "home", _("Home visit")

    agenda = models.ForeignKey(
        Agenda, on_delete=models.CASCADE, related_name="motives", verbose_name=_("agenda")
    )
    label = models.CharField(_("label"), max_length=200)
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), validators=[MinValueValidator(5), MaxValueValidator(480)]
    )
    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices, default=Mode.IN_PERSON)
    open_to_new_patients = models.BooleanField(_("open to new patients"), default=True)
    online = models.BooleanField(_("bookable online"), default=True)
    instructions = models.TextField(_("instructions for the patient"), blank=True)
    min_notice_minutes = models.PositiveIntegerField(_("not sooner than (minutes)"), default=60)
    max_advance_days = models.PositiveIntegerField(_("not later than (days)"), default=90)
    cancellation_deadline_hours = models.PositiveIntegerField(
        _("cancellation deadline (hours before)"), default=4
    )
    follow_up = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("follow-up motive"),
    )
    follow_up_after_days = models.PositiveSmallIntegerField(
        _("follow-up after (days)"), null=True, blank=True
    )
    colour = models.CharField(_("colour"), max_length=7, default="#2e6fd8")
    # What the patient pays, shown on the practitioner's page (blank: not said online).
    price = models.DecimalField(
        _("price (euros)"),
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("motive")
        verbose_name_plural = _("motives")
        ordering = ["agenda", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(duration_minutes__gte=5), name="motive_duration")
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)


class Opening(models.Model):
    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    class Repeat(models.IntegerChoices):
        WEEKLY = 1, _("Every week")
        EVERY_SECOND_WEEK = 2, _("Every second week")

    class Visibility(models.TextChoices):
        """Who is offered the slots of this opening (the SAS "type de créneau")."""

        PUBLIC = "public", _("Everyone (patients online)")
        PROFESSIONALS = "pro", _("Health professionals and regulators")
        REGULATION = "snp", _("Regulation only (unscheduled care, SAS)")
        KNOWN_PATIENTS = "known", _("Known patients only")
        CPTS = "cpts", _("CPTS members and regulation (SAS)")

    agenda = models.ForeignKey(
        Agenda, on_delete=models.CASCADE, related_name="openings", verbose_name=_("agenda")
    )
    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="openings", verbose_name=_("site")
    )
    weekday = models.PositiveSmallIntegerField(_("day"), choices=Weekday.choices)
    start_time = models.TimeField(_("from"))
    end_time = models.TimeField(_("to"))
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    every_weeks = models.PositiveSmallIntegerField(
        _("repeat"), choices=Repeat.choices, default=Repeat.WEEKLY
    )
    motives = models.ManyToManyField(Motive, related_name="openings", verbose_name=_("motives"))
    visibility = models.CharField(
        _("visible to"),
        max_length=8,
        choices=Visibility.choices,
        default=Visibility.PUBLIC,
        db_default=Visibility.PUBLIC,
    )

    class Meta:
        verbose_name = _("opening")
        verbose_name_plural = _("openings")
        ordering = ["agenda", "weekday", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=models.F("start_time")), name="opening_order"
            ),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="opening_weekday"),
            models.CheckConstraint(condition=Q(every_weeks__in=[1, 2]), name="opening_repeat"),
            models.CheckConstraint(
                condition=Q(visibility__in=["public", "pro", "snp", "known", "cpts"]),
                name="opening_visibility",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="opening_validity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start_time:%H:%M}–{self.end_time:%H:%M}"


class Absence(models.Model):
    agenda = models.ForeignKey(
        Agenda, on_delete=models.CASCADE, related_name="absences", verbose_name=_("agenda")
    )
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("to"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        indexes = [models.Index(fields=["agenda", "start"], name="absence_agenda_start")]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="absence_order")
        ]

    def __str__(self) -> str:
        return f"{self.agenda}: {self.start:%Y-%m-%d %H:%M} – {self.end:%Y-%m-%d %H:%M}"


class PatientProfile(models.Model):
    """The identity of a person who is booked, owned by a patient account or made by staff."""

    class Relationship(models.TextChoices):
        SELF = "self", _("Myself")
        CHILD = "child", _("My child")
        PARENT = "parent", _("My parent")
        SPOUSE = "spouse", _("My partner")
        OTHER = "other", _("Someone else close to me")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="patient_profiles",
        verbose_name=_("account"),
    )
    relationship = models.CharField(
        _("relationship"), max_length=16, choices=Relationship.choices, default=Relationship.SELF
    )
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    birth_date = models.DateField(_("birth date"))
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    ins = models.CharField(_("INS"), max_length=15, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        indexes = [models.Index(fields=["owner", "last_name"], name="patient_owner")]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"


class OnlineBookingStop(models.Model):
    """An organisation stopped online booking for one patient (by hand from the patient's file,
    or after too many no-shows): the patient books by phone there. A rule of ``rules.py``, kept
    here with the other flags it reads (the agenda's online switch, the motive's); the practice
    sets it through ``rules.set_online_booking``."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    profile = models.ForeignKey(
        PatientProfile, on_delete=models.CASCADE, related_name="online_booking_stops"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("online booking stopped")
        verbose_name_plural = _("online booking stopped")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "profile"], name="online_booking_stop_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.profile} ({self.organisation})"


class AppointmentQuerySet(models.QuerySet):
    def active(self, *, now=None):
        """Appointments that occupy their time: not cancelled, not an expired hold."""
        qs = self.exclude(status__in=Appointment.FREEING_STATUSES)
        if now is not None:
            qs = qs.exclude(status=Appointment.Status.HELD, hold_expires_at__lte=now)
        return qs

    def overlapping(self, start, end):
        return self.filter(start__lt=end, end__gt=start)


class Appointment(models.Model):
    class Status(models.TextChoices):
        HELD = "held", _("Held")
        BOOKED = "booked", _("Booked")
        ARRIVED = "arrived", _("In the waiting room")
        IN_PROGRESS = "in_progress", _("In progress")
        SEEN = "seen", _("Seen")
        NO_SHOW = "no_show", _("Did not come")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Hold expired")

    class Channel(models.TextChoices):
        ONLINE = "online", _("Online")
        PRACTITIONER = "practitioner", _("Practitioner")
        SECRETARY = "secretary", _("Secretary")
        REGULATOR = "regulator", _("Regulator")
        API = "api", _("API")

    FREEING_STATUSES = (Status.CANCELLED, Status.EXPIRED)
    # Cancellation reasons the platform writes itself: codes for programs, never shown as they
    # are (a person sees "moved to...", "cancelled by you"); any other reason is someone's words.
    REASON_BY_PATIENT = "patient"
    REASON_MOVED = "rescheduled"
    REASON_WAITLIST = "moved earlier (waiting list)"
    PLATFORM_REASONS = ("", REASON_BY_PATIENT, REASON_MOVED, REASON_WAITLIST)

    agenda = models.ForeignKey(
        Agenda, on_delete=models.PROTECT, related_name="appointments", verbose_name=_("agenda")
    )
    motive = models.ForeignKey(
        Motive, on_delete=models.PROTECT, related_name="appointments", verbose_name=_("motive")
    )
    patient = models.ForeignKey(
        PatientProfile,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appointments",
        verbose_name=_("patient"),
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.BOOKED
    )
    channel = models.CharField(
        _("channel"), max_length=16, choices=Channel.choices, default=Channel.ONLINE
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("booked by"),
    )
    # NULL, not "", when absent: the unique constraint must ignore bookings without a key.
    idempotency_key = models.CharField(max_length=128, null=True, blank=True)  # noqa: DJ001
    hold_expires_at = models.DateTimeField(_("hold expires at"), null=True, blank=True)
    # Of a hold made on the patient pages: keyed digests of the client's address and of the
    # browser session, to count the holds one visitor keeps at once (scheduling/limits.py).
    # Never the address or the session key themselves.
    held_from = models.CharField(max_length=32, blank=True, default="", editable=False)
    held_session = models.CharField(max_length=32, blank=True, default="", editable=False)
    # True on capacity-1 agendas: the database refuses any overlap between such rows.
    exclusive = models.BooleanField(default=True, editable=False)
    rescheduled_from = models.OneToOneField(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="rescheduled_to",
        verbose_name=_("moved from"),
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cancelled by"),
    )
    cancel_reason = models.CharField(_("cancellation reason"), max_length=255, blank=True)
    # Which side cancelled (or moved) it: the practice owes the patient its reason; a patient
    # cancelling an appointment the secretary booked is still the patient.
    cancelled_by_practice = models.BooleanField(
        _("cancelled by the practice"), default=False, db_default=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        ordering = ["start"]
        indexes = [
            models.Index(fields=["agenda", "start", "end"], name="appointment_agenda_time"),
            models.Index(fields=["patient", "start"], name="appointment_patient"),
            models.Index(fields=["booked_by", "start"], name="appointment_booker"),
            models.Index(
                fields=["held_from", "hold_expires_at"],
                condition=Q(status="held"),
                name="appointment_live_hold",
            ),
            models.Index(
                fields=["held_session", "hold_expires_at"],
                condition=Q(status="held"),
                name="appointment_session_hold",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="appointment_order"
            ),
            models.UniqueConstraint(
                fields=["booked_by", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="appointment_idempotency",
            ),
            models.CheckConstraint(
                condition=~Q(status="held") | Q(hold_expires_at__isnull=False),
                name="appointment_hold_expiry",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agenda} {self.start:%Y-%m-%d %H:%M} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status not in self.FREEING_STATUSES

    @property
    def reason_in_words(self) -> str:
        """The reason someone typed when cancelling; "" for the platform's own codes."""
        return "" if self.cancel_reason in self.PLATFORM_REASONS else self.cancel_reason


class Referral(models.Model):
    """Why and by whom an appointment was booked on the patient's behalf from outside the
    practice: a regulator (SAMU / SAS) or another practitioner (adressage). The receiving practice
    reads it beside the appointment; the reason is health data, encrypted at rest
    (``core.crypto``) and read through ``referral.services`` (which audits the read)."""

    class Kind(models.TextChoices):
        REGULATION = "regulation", _("Sent by regulation")
        PRACTITIONER = "practitioner", _("Referred by a practitioner")

    class Urgency(models.TextChoices):
        ROUTINE = "routine", _("Routine")
        WEEK = "week", _("Within a week")
        TWO_DAYS = "48h", _("Within 48 hours")
        URGENT = "urgent", _("Urgent (today)")

    appointment = models.OneToOneField(
        Appointment,
        on_delete=models.CASCADE,
        related_name="referral",
        verbose_name=_("appointment"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    from_organisation = models.ForeignKey(
        Organisation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("from"),
    )
    # What the receiving practice reads ("SAMU 75", "Dr Anne Martin, Cabinet du Parc"), kept as
    # it was when booked.
    referrer_label = models.CharField(_("referred by"), max_length=255)
    referred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("booked by"),
    )
    reason = models.TextField(editable=False, blank=True, default="")  # encrypted
    urgency = models.CharField(
        _("urgency"), max_length=8, choices=Urgency.choices, default=Urgency.ROUTINE
    )
    # The letter, a document filed in the receiving organisation's patient file (practice app).
    letter_document_id = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    acknowledged_at = models.DateTimeField(_("read by the receiver at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        indexes = [
            models.Index(fields=["from_organisation", "created_at"], name="referral_from"),
            models.Index(fields=["referred_by", "created_at"], name="referral_by"),
        ]

    def __str__(self) -> str:
        return f"{self.referrer_label} → {self.appointment}"


class NextAvailability(models.Model):
    """The next-availability index: per agenda, motive and audience (``visibility.key``), the
    first free slot and the free slots of the coming days, computed for the agenda's
    ``version`` (``index.py``). Searches sort and filter on it without computing the slots of
    every match. A row whose version is not its agenda's is never used: the write that bumped
    the version made it stale at once, and the worker recomputes it right after."""

    class ChosenFor(models.TextChoices):
        OTHER = "", "-"
        OFFICE = "office", "office"  # the motive a search at the practice shows first
        VIDEO = "video", "video"  # the motive a video search shows first

    agenda = models.ForeignKey(Agenda, on_delete=models.CASCADE, related_name="next_availability")
    motive = models.ForeignKey(Motive, on_delete=models.CASCADE, related_name="+")
    audience = models.CharField(max_length=64)
    # For which search this motive is the agenda's first (``selectors.default_motives``), as of
    # ``version`` (a motive's change bumps it): a search reads its rows in the candidates' query.
    chosen_for = models.CharField(max_length=8, choices=ChosenFor.choices, blank=True, default="")
    version = models.BigIntegerField()
    # Instants as epoch seconds: read by the hundred per search, compared, never displayed.
    first_at = models.BigIntegerField(null=True)  # the first free start, None: none in the window
    free_count = models.PositiveIntegerField(default=0)  # free starts in the window
    window_end = models.BigIntegerField()  # the computed window ends here (exclusive)
    fresh_until = models.BigIntegerField()  # recompute before then: the first passes, a hold lapses
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agenda", "motive", "audience"], name="next_availability_unique"
            )
        ]
        indexes = [
            models.Index(fields=["fresh_until"], name="next_availability_fresh"),
            models.Index(fields=["audience", "first_at"], name="next_availability_first"),
            models.Index(
                fields=["agenda", "audience", "chosen_for"], name="next_availability_chosen"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agenda_id}/{self.motive_id}/{self.audience}: {self.first_at}"
