"""The onboarding's doors: each screen of the wizard saves through one function here.

Each function runs in one transaction and records the funnel (``StepRecord``) in it, so a screen
counts as finished exactly when what it saved is saved. Nothing is created for the practice until
the e-mail is verified and a second factor is set: a sign-up abandoned half-way leaves a journey
row with a password hash that is wiped after a day, and nothing else.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from allauth.account.models import EmailAddress
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, validate_totp_code
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from consulto.core import audit
from consulto.core.errors import DomainError, InvalidInput
from consulto.directory import places
from consulto.directory.models import Membership, Organisation, Practitioner, Site, Specialty
from consulto.directory.rpps import luhn_ok, normalise_rpps
from consulto.directory.selectors import directory_activities
from consulto.notifications import services as notifications
from consulto.scheduling.models import Agenda, Appointment, Motive, Opening

from .models import STEP_ORDER, Journey, Step, StepRecord
from .presets import HOURS_BY_CODE, Period

CODE_VALID_FOR = timedelta(minutes=30)
CODE_MAX_ATTEMPTS = 5
CODE_RESEND_AFTER = timedelta(seconds=30)
PENDING_KEPT_FOR = timedelta(days=1)


class NotPublishable(DomainError):
    code = "not_publishable"
    status = 409


# The funnel -------------------------------------------------------------------------------------


def reach(journey: Journey, step: str, *, now: datetime | None = None) -> None:
    """Record that the journey's person saw this screen (the first time counts)."""
    StepRecord.objects.get_or_create(
        journey=journey, step=step, defaults={"reached_at": now or timezone.now()}
    )


def finish(journey: Journey, step: str, *, now: datetime | None = None) -> None:
    """Record the screen as finished and move the journey to the first screen not finished."""
    now = now or timezone.now()
    record, _created = StepRecord.objects.get_or_create(
        journey=journey, step=step, defaults={"reached_at": now, "finished_at": now}
    )
    if record.finished_at is None:
        record.finished_at = now
        record.save(update_fields=["finished_at"])
    journey.step = resume_step(journey)
    journey.save(update_fields=["step"])


def resume_step(journey: Journey) -> str:
    finished = set(
        StepRecord.objects.filter(journey=journey, finished_at__isnull=False).values_list(
            "step", flat=True
        )
    )
    return next((step for step in STEP_ORDER if step not in finished), Step.PUBLISH)


# Sign-up: account, then e-mail and security -------------------------------------------------


def _code_hash(journey: Journey, code: str) -> str:
    return salted_hmac("consulto.onboarding.code", f"{journey.pk}:{code}").hexdigest()


def start_signup(
    *, email: str, password: str, rpps: str, language: str, landed_at: datetime | None = None
) -> Journey:
    """Open a journey for a new practitioner and e-mail them a code. Validation of the fields
    (strong password, RPPS format) is the form's; the rules that need the database are here."""
    email = get_user_model().objects.normalize_email(email).lower()
    rpps = normalise_rpps(rpps)
    if Practitioner.objects.filter(rpps=rpps).exists():
        raise InvalidInput(
            _(
                "This RPPS number already has a profile on Consulto. If it is yours, ask the "
                "organisation that created it for an invitation, or contact our support team."
            ),
            code="rpps_taken",
            field="rpps",
        )
    taken = get_user_model().objects.filter(email__iexact=email).exists()
    with transaction.atomic():
        forget_pending()  # each sign-up sweeps the hashes of those never confirmed
        journey = Journey.objects.create(
            email=email,
            rpps=rpps,
            in_directory=bool(directory_activities(rpps)),
            language=language,
            password_hash=make_password(password),
            email_taken=taken,
        )
        # The sign-up screen was reached when its page was first shown (``landed_at``).
        reach(journey, Step.ACCOUNT, now=landed_at)
        finish(journey, Step.ACCOUNT)
        _send_code(journey)
    return journey


def resend_code(journey: Journey, *, now: datetime | None = None) -> bool:
    """Send a fresh code; False when the last one left less than 30 seconds ago."""
    now = now or timezone.now()
    if journey.user_id is not None:
        return False
    if journey.code_sent_at and now - journey.code_sent_at < CODE_RESEND_AFTER:
        return False
    with transaction.atomic():
        _send_code(journey, now=now)
    return True


def _send_code(journey: Journey, *, now: datetime | None = None) -> None:
    code = f"{secrets.randbelow(10**6):06d}"
    journey.code_hash = _code_hash(journey, code)
    journey.code_sent_at = now or timezone.now()
    journey.code_attempts = 0
    journey.save(update_fields=["code_hash", "code_sent_at", "code_attempts"])
    template = "onboarding/email/account_exists" if journey.email_taken else "onboarding/email/code"
    with translation.override(journey.language):
        # The code is in the text only: an outbox row's subject is kept in clear.
        subject = (
            _("You already have a Consulto account")
            if journey.email_taken
            else _("Your code to confirm your e-mail on Consulto")
        )
        body = render_to_string(f"{template}.txt", {"code": code, "journey": journey})
        notifications.queue_account_email(recipient=journey.email, subject=subject, body=body)


def check_code(journey: Journey, code: str, *, now: datetime | None = None) -> None:
    """Raise InvalidInput unless ``code`` is the journey's current e-mail code."""
    now = now or timezone.now()
    code = "".join(code.split())
    expired = journey.code_sent_at is None or now - journey.code_sent_at > CODE_VALID_FOR
    if journey.code_attempts >= CODE_MAX_ATTEMPTS or expired:
        raise InvalidInput(
            _("This code has expired or was mistyped too often: ask for a new one."),
            code="code_expired",
            field="email_code",
        )
    Journey.objects.filter(pk=journey.pk).update(code_attempts=journey.code_attempts + 1)
    journey.code_attempts += 1
    right = not journey.email_taken and constant_time_compare(
        journey.code_hash, _code_hash(journey, code)
    )
    if not right:
        raise InvalidInput(
            _("This is not the code we sent. Check the last e-mail from Consulto."),
            code="wrong_code",
            field="email_code",
        )


def check_totp(secret: str, code: str) -> None:
    if not validate_totp_code(secret, "".join(code.split())):
        raise InvalidInput(
            _(
                "The authenticator code is not right. Check that the phone's clock is on time "
                "and type the code currently shown."
            ),
            code="wrong_totp",
            field="totp_code",
        )


def create_account(
    *, journey: Journey, email_code: str, totp_secret: str, totp_code: str
) -> object:
    """Check both codes, then make the account, its verified e-mail and its authenticator
    together. Returns the new user."""
    check_code(journey, email_code)
    check_totp(totp_secret, totp_code)
    with transaction.atomic():
        journey = Journey.objects.select_for_update().get(pk=journey.pk)
        if journey.user_id is not None or not journey.password_hash:
            raise InvalidInput(_("This sign-up is already complete: log in."), code="done")
        user = open_account(
            email=journey.email, password_hash=journey.password_hash, totp_secret=totp_secret
        )
        journey.user = user
        journey.password_hash = ""
        journey.code_hash = ""
        journey.save(update_fields=["user", "password_hash", "code_hash"])
        finish(journey, Step.SECURITY)
    return user


def open_account(*, email: str, password_hash: str, totp_secret: str, **names):
    """The user, their verified primary e-mail, their authenticator and recovery codes, made in
    the caller's transaction (a sign-up and an accepted invitation both end here)."""
    User = get_user_model()
    if User.objects.filter(email__iexact=email).exists():
        raise InvalidInput(
            _("An account already uses this e-mail: log in instead."), code="email_taken"
        )
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, **names)
    except IntegrityError as error:
        raise InvalidInput(
            _("An account already uses this e-mail: log in instead."), code="email_taken"
        ) from error
    user.password = password_hash
    user.save(update_fields=["password"])
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    TOTP.activate(user, totp_secret)
    RecoveryCodes.activate(user)
    return user


def forget_pending(*, now: datetime | None = None) -> int:
    """Wipe the password hashes of sign-ups never confirmed within a day."""
    cutoff = (now or timezone.now()) - PENDING_KEPT_FOR
    return (
        Journey.objects.filter(user__isnull=True, created_at__lt=cutoff)
        .exclude(password_hash="")
        .update(password_hash="", code_hash="")
    )


# You and your practice --------------------------------------------------------------------------


@dataclass
class Identity:
    title: str
    first_name: str
    last_name: str
    specialty: Specialty
    convention_sector: str
    # The practice: left empty for an invited practitioner, whose site is the organisation's.
    practice_name: str = ""
    address: str = ""
    postcode: str = ""
    city: str = ""
    phone: str = ""


PERSONAL_FIELDS = ("title", "first_name", "last_name", "specialty", "convention_sector")


def save_identity(*, journey: Journey, identity: Identity) -> Practitioner:
    """Create (or correct) the practice, its site, the practitioner and their agenda."""
    if journey.kind == Journey.Kind.INVITED:
        return _save_invited_identity(journey=journey, identity=identity)
    location = places.locate(identity.postcode, identity.city)
    if location is None:
        raise InvalidInput(
            _("We do not know the postcode %(postcode)s: check it.")
            % {"postcode": identity.postcode},
            code="unknown_postcode",
            field="postcode",
        )
    with transaction.atomic():
        journey = Journey.objects.select_for_update().get(pk=journey.pk)
        _require_account(journey)
        practitioner = journey.practitioner
        if practitioner is None:
            organisation = Organisation.objects.create(
                name=identity.practice_name, kind=Organisation.Kind.PRACTICE
            )
            site = Site(organisation=organisation)
            practitioner = Practitioner(
                user=journey.user,
                rpps=journey.rpps,
                rpps_status=_rpps_status(journey),
                is_published=False,
                video_enabled=False,
            )
        else:
            site = journey.agenda.site
            organisation = site.organisation
            organisation.name = identity.practice_name
            organisation.save(update_fields=["name"])
        site.name = identity.practice_name
        site.address = identity.address
        site.postcode = identity.postcode
        site.city = identity.city
        site.phone = identity.phone
        site.latitude, site.longitude = location.lat, location.lon
        site.timezone = location.timezone
        site.full_clean()
        site.save()
        for field in PERSONAL_FIELDS:
            setattr(practitioner, field, getattr(identity, field))
        try:
            with transaction.atomic():
                practitioner.save()
        except IntegrityError as error:
            raise InvalidInput(
                _("This RPPS number already has a profile on Consulto: contact our support."),
                code="rpps_taken",
            ) from error
        if journey.agenda is None:
            journey.agenda = Agenda.objects.create(
                organisation=organisation,
                practitioner=practitioner,
                site=site,
                name=practitioner.display_name,
            )
            for role in (Membership.Role.ADMIN, Membership.Role.PRACTITIONER):
                Membership.objects.get_or_create(
                    user=journey.user, organisation=organisation, role=role
                )
        else:
            Agenda.objects.filter(pk=journey.agenda_id).update(name=practitioner.display_name)
        journey.practitioner = practitioner
        journey.save(update_fields=["practitioner", "agenda"])
        finish(journey, Step.IDENTITY)
    return practitioner


def _save_invited_identity(*, journey: Journey, identity: Identity) -> Practitioner:
    """An invited practitioner corrects who they are; the site, its name and address are the
    organisation's and stay as they are. The agenda follows the new name unless the
    organisation renamed it."""
    with transaction.atomic():
        journey = (
            Journey.objects.select_for_update(of=("self",))
            .select_related("practitioner", "invitation")
            .get(pk=journey.pk)
        )
        agenda = _require_agenda(journey)
        practitioner = journey.practitioner
        department = journey.invitation.department if journey.invitation else ""
        before = agenda_name(practitioner, department)
        for field in PERSONAL_FIELDS:
            setattr(practitioner, field, getattr(identity, field))
        practitioner.save(update_fields=list(PERSONAL_FIELDS))
        if agenda.name == before:
            Agenda.objects.filter(pk=agenda.pk).update(name=agenda_name(practitioner, department))
        finish(journey, Step.IDENTITY)
    return practitioner


def agenda_name(practitioner: Practitioner, department: str) -> str:
    """The name of an organisation's agenda: "Dr Camille Rousseau — Cardiologie"."""
    name = practitioner.display_name
    return f"{name} — {department}"[:200] if department else name


def _rpps_status(journey: Journey) -> str:
    if journey.in_directory and luhn_ok(journey.rpps):
        return Practitioner.RppsStatus.VALID
    return Practitioner.RppsStatus.TO_VERIFY


def _require_account(journey: Journey) -> None:
    if journey.user_id is None:
        raise InvalidInput(_("Confirm your e-mail first."), code="no_account")


def _require_agenda(journey: Journey) -> Agenda:
    _require_account(journey)
    if journey.agenda_id is None:
        raise InvalidInput(_("Fill in your identity and practice first."), code="no_practice")
    return journey.agenda


# Hours and motives ------------------------------------------------------------------------------


@dataclass
class MotiveChoice:
    label: str
    duration_minutes: int
    video: bool = False
    new_patients: bool = True
    colour: str = "#2e6fd8"

    def motive(self, agenda: Agenda, position: int) -> Motive:
        """The motive this choice makes (not saved)."""
        return Motive(
            agenda=agenda,
            label=self.label.strip(),
            duration_minutes=self.duration_minutes,
            mode=Motive.Mode.VIDEO if self.video else Motive.Mode.IN_PERSON,
            open_to_new_patients=self.new_patients,
            colour=self.colour,
            position=position,
        )


def check_periods(periods: list[Period]) -> None:
    """At least one period; on each day, periods in order and not overlapping."""
    if not periods:
        raise InvalidInput(_("Open at least one period in the week."), code="no_hours")
    by_day: dict[int, list[Period]] = {}
    for period in periods:
        if period.end <= period.start:
            raise InvalidInput(
                _("A period must end after it starts (%(start)s–%(end)s).")
                % {"start": f"{period.start:%H:%M}", "end": f"{period.end:%H:%M}"},
                code="period_order",
            )
        by_day.setdefault(period.weekday, []).append(period)
    for day_periods in by_day.values():
        day_periods.sort(key=lambda p: p.start)
        for earlier, later in pairwise(day_periods):
            if later.start < earlier.end:
                raise InvalidInput(
                    _("Two periods of the same day overlap (%(a)s and %(b)s).")
                    % {
                        "a": f"{earlier.start:%H:%M}–{earlier.end:%H:%M}",
                        "b": f"{later.start:%H:%M}–{later.end:%H:%M}",
                    },
                    code="period_overlap",
                )


def save_schedule(
    *,
    journey: Journey,
    hours_template: str,
    periods: list[Period],
    motives: list[MotiveChoice],
    today=None,
) -> None:
    """Replace the new agenda's openings and motives by these. Refused once patients have
    booked: from then on, hours change in the practice settings, where bookings are shown."""
    check_periods(periods)
    if not motives:
        raise InvalidInput(_("Offer at least one motive."), code="no_motive")
    with transaction.atomic():
        journey = Journey.objects.select_for_update().get(pk=journey.pk)
        agenda = _require_agenda(journey)
        if Appointment.objects.filter(agenda=agenda).exists():
            raise InvalidInput(
                _("Patients have booked already: change your hours in the practice settings."),
                code="has_appointments",
            )
        replace_schedule(agenda=agenda, periods=periods, motives=motives, today=today)
        journey.hours_template = hours_template if hours_template in HOURS_BY_CODE else ""
        journey.save(update_fields=["hours_template"])
        if any(m.video for m in motives) and journey.practitioner_id:
            Practitioner.objects.filter(pk=journey.practitioner_id).update(video_enabled=True)
        finish(journey, Step.SCHEDULE)


def replace_schedule(
    *, agenda: Agenda, periods: list[Period], motives: list[MotiveChoice], today=None
):
    """The agenda's openings and motives become exactly these (also used for invitations)."""
    today = today or timezone.localdate()
    Opening.objects.filter(agenda=agenda).delete()
    Motive.objects.filter(agenda=agenda).delete()
    created = []
    for position, choice in enumerate(motives):
        motive = choice.motive(agenda, position)
        motive.full_clean(exclude=["agenda"])
        created.append(motive)
    Motive.objects.bulk_create(created)
    created = list(Motive.objects.filter(agenda=agenda))
    for period in periods:
        opening = Opening.objects.create(
            agenda=agenda,
            site=agenda.site,
            weekday=period.weekday,
            start_time=period.start,
            end_time=period.end,
            valid_from=today,
        )
        opening.motives.set(created)


# Video ------------------------------------------------------------------------------------------

VIDEO_MOTIVE = ("Téléconsultation de suivi", "Video follow-up", 15)


# What the relay check (TURN) may report: it answered, it did not, there is no relay server
# configured, or the browser cannot run the check.
RELAY_RESULTS = frozenset({"reachable", "unreachable", "none", "unsupported"})


def _milliseconds(value) -> int | None:
    try:
        ms = int(float(value))
    except (TypeError, ValueError, OverflowError):
        return None
    return ms if 0 <= ms <= 60_000 else None


def clean_device_check(raw: dict) -> dict:
    """Keep what the device test may report, typed and bounded (it comes from the browser)."""
    result = {}
    for key in ("camera", "microphone", "speaker"):
        if raw.get(key) not in (None, ""):  # not reported: the test did not run that far
            result[key] = raw[key] in (True, "true", "1", "on")
    for key in ("rtt_ms", "relay_ms"):
        ms = _milliseconds(raw.get(key, ""))
        if ms is not None:
            result[key] = ms
    relay = str(raw.get("relay", ""))
    if relay in RELAY_RESULTS:
        result["relay"] = relay
    if result.get("relay") != "reachable":
        result.pop("relay_ms", None)  # a time only means something for a relay that answered
    error = str(raw.get("error", ""))[:200]
    if error:
        result["error"] = error
    return result


def save_video(*, journey: Journey, enabled: bool, device_check: dict) -> None:
    with transaction.atomic():
        journey = Journey.objects.select_for_update().get(pk=journey.pk)
        agenda = _require_agenda(journey)
        practitioner = journey.practitioner
        practitioner.video_enabled = enabled
        practitioner.save(update_fields=["video_enabled"])
        video_motives = Motive.objects.filter(agenda=agenda, mode=Motive.Mode.VIDEO)
        if enabled and not video_motives.filter(is_active=True).exists():
            label_fr, label_en, minutes = VIDEO_MOTIVE
            motive = Motive.objects.create(
                agenda=agenda,
                label=label_en if journey.language.startswith("en") else label_fr,
                duration_minutes=minutes,
                mode=Motive.Mode.VIDEO,
                open_to_new_patients=False,
                colour="#7a4fc2",
                position=Motive.objects.filter(agenda=agenda).count(),
            )
            for opening in Opening.objects.filter(agenda=agenda):
                opening.motives.add(motive)
        elif not enabled:
            video_motives.update(is_active=False)
        if enabled:
            video_motives.update(is_active=True)
        checked = clean_device_check(device_check)
        kept = journey.device_check
        if "relay" in checked:  # a new relay result replaces the old one's time too
            kept = {k: v for k, v in kept.items() if k != "relay_ms"}
        journey.device_check = {**kept, **checked}
        journey.save(update_fields=["device_check"])
        finish(journey, Step.VIDEO)


# Publish ----------------------------------------------------------------------------------------


def obstacles(journey: Journey) -> list[str]:
    """What stands between this journey and a published, bookable profile."""
    if journey.user_id is None:
        return [_("Confirm your e-mail and set up your authenticator app.")]
    if journey.practitioner_id is None or journey.agenda_id is None:
        return [_("Fill in your identity and practice.")]
    found = []
    practitioner = journey.practitioner
    if practitioner.rpps_status == Practitioner.RppsStatus.TO_VERIFY:
        found.append(
            _(
                "Our team is checking your RPPS number %(rpps)s (it is not in the directory of "
                "health professionals, or its check digit is wrong). You can prepare everything; "
                "you will be able to publish once it is checked, usually within one working "
                "day. We will e-mail you."
            )
            % {"rpps": practitioner.rpps}
        )
    agenda = journey.agenda
    if not Opening.objects.filter(agenda=agenda).exists():
        found.append(_("Set your opening hours."))
    if not Motive.objects.filter(agenda=agenda, is_active=True, online=True).exists():
        found.append(_("Offer at least one motive online."))
    return found


def publish(*, journey: Journey) -> Practitioner:
    with transaction.atomic():
        journey = Journey.objects.select_for_update().get(pk=journey.pk)
        blocking = obstacles(journey)
        if blocking:
            raise NotPublishable(blocking[0])
        practitioner = journey.practitioner
        practitioner.is_published = True
        practitioner.save(update_fields=["is_published"])
        Agenda.objects.filter(pk=journey.agenda_id).update(is_active=True, online_booking=True)
        journey.published_at = timezone.now()
        journey.save(update_fields=["published_at"])
        finish(journey, Step.PUBLISH)
        audit.record(
            actor=journey.user,
            action=audit.Action.UPDATE,
            target_type="practitioner",
            target_id=practitioner.pk,
            organisation_id=journey.agenda.organisation_id,
        )
    return practitioner


# Support ----------------------------------------------------------------------------------------


def confirm_rpps(*, practitioner: Practitioner, by) -> None:
    """Support has checked the number by other means (registration certificate...)."""
    with transaction.atomic():
        practitioner.rpps_status = Practitioner.RppsStatus.VERIFIED
        practitioner.save(update_fields=["rpps_status"])
        audit.record(
            actor=by,
            action=audit.Action.UPDATE,
            target_type="practitioner",
            target_id=practitioner.pk,
        )
        journey = Journey.objects.filter(practitioner=practitioner).first()
        if journey is not None and journey.user_id is not None:
            with translation.override(journey.language):
                subject = _("Your RPPS number is confirmed: you can publish")
                body = render_to_string("onboarding/email/rpps_confirmed.txt", {"journey": journey})
                notifications.queue_account_email(
                    recipient=journey.user.email, subject=subject, body=body
                )
