"""Agenda settings: the only doors through which the back office changes motives, openings,
absences, reminders and the practice policy.

Each function checks the user's permission first (404 for another organisation's object, 403 for
a role that may not), runs in one transaction and leaves the agenda's availability to the
signals of ``scheduling/signals.py``, which bump ``Agenda.version`` and so drop cached slots.
Changes are recorded in the audit trail: who closed Monday mornings is a fair question.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from consulto.core import audit
from consulto.core.errors import InvalidInput
from consulto.core.time import local_midnight, wall_to_instant
from consulto.directory.models import Site
from consulto.notifications import services as notifications
from consulto.notifications.models import ReminderSettings
from consulto.scheduling.models import Absence, Agenda, Appointment, Motive, Opening

from .models import PracticePolicy
from .permissions import Perm, check_agenda, check_organisation

MOTIVE_FIELDS = (
    "label",
    "duration_minutes",
    "mode",
    "online",
    "open_to_new_patients",
    "instructions",
    "min_notice_minutes",
    "max_advance_days",
    "cancellation_deadline_hours",
    "colour",
    "position",
    "is_active",
)
OPENING_FIELDS = (
    "weekday",
    "start_time",
    "end_time",
    "site",
    "every_weeks",
    "valid_from",
    "visibility",
)


class OverlappingOpening(InvalidInput):
    code = "overlapping_opening"


# Motives ----------------------------------------------------------------------------------------


def create_motive(*, user, agenda: Agenda, fields: dict) -> Motive:
    check_agenda(user, agenda, Perm.SETTINGS)
    with transaction.atomic():
        motive = Motive(agenda=agenda)
        _assign(motive, fields, MOTIVE_FIELDS)
        motive.full_clean()
        motive.save()
        _record(user, audit.Action.CREATE, motive, agenda)
    return motive


def update_motive(*, user, motive: Motive, fields: dict) -> Motive:
    check_agenda(user, motive.agenda, Perm.SETTINGS)
    with transaction.atomic():
        _assign(motive, fields, MOTIVE_FIELDS)
        motive.full_clean()
        motive.save()
        _record(user, audit.Action.UPDATE, motive, motive.agenda)
    return motive


def remove_motive(*, user, motive: Motive) -> str:
    """Delete a motive nobody was ever booked for; otherwise deactivate it, so that its
    appointments (past and future) keep their motive. Returns "deleted" or "deactivated"."""
    check_agenda(user, motive.agenda, Perm.SETTINGS)
    with transaction.atomic():
        if Appointment.objects.filter(motive=motive).exists():
            motive.is_active = False
            motive.save(update_fields=["is_active"])
            _record(user, audit.Action.UPDATE, motive, motive.agenda)
            return "deactivated"
        _record(user, audit.Action.DELETE, motive, motive.agenda)
        motive.delete()
        return "deleted"


# Openings ---------------------------------------------------------------------------------------


def create_opening(*, user, agenda: Agenda, fields: dict, motives: list[Motive]) -> Opening:
    check_agenda(user, agenda, Perm.SETTINGS)
    with transaction.atomic():
        _lock(agenda)
        opening = Opening(agenda=agenda)
        _fill_opening(opening, fields, motives)
        opening.save()
        opening.motives.set(motives)
        _record(user, audit.Action.CREATE, opening, agenda)
    return opening


def update_opening(*, user, opening: Opening, fields: dict, motives: list[Motive]) -> Opening:
    check_agenda(user, opening.agenda, Perm.SETTINGS)
    with transaction.atomic():
        _lock(opening.agenda)
        _fill_opening(opening, fields, motives)
        opening.save()
        opening.motives.set(motives)
        _record(user, audit.Action.UPDATE, opening, opening.agenda)
    return opening


def delete_opening(*, user, opening: Opening) -> None:
    """Delete an opening. Appointments already booked in it are kept: they belong to the agenda,
    not to the opening."""
    check_agenda(user, opening.agenda, Perm.SETTINGS)
    with transaction.atomic():
        _record(user, audit.Action.DELETE, opening, opening.agenda)
        opening.delete()


def _fill_opening(opening: Opening, fields: dict, motives: list[Motive]) -> None:
    """Apply the fields, then say no to what the form alone cannot see: a site or motive of
    somewhere else, and an opening that overlaps another one of the agenda."""
    agenda = opening.agenda
    _assign(opening, fields, (*OPENING_FIELDS, "valid_until"))
    site: Site = opening.site
    if site.organisation_id != agenda.organisation_id:
        raise InvalidInput(_("Choose a site of this organisation."), field="site")
    if not motives:
        raise InvalidInput(_("Choose at least one motive."), field="motives")
    if any(m.agenda_id != agenda.pk for m in motives):
        raise InvalidInput(_("Choose motives of this agenda."), field="motives")
    opening.full_clean(exclude=["motives"])
    clash = overlapping_opening(opening)
    if clash is not None:
        raise OverlappingOpening(
            _(
                "This overlaps the opening %(other)s at %(site)s (%(repeat)s, %(validity)s). "
                "Change the hours or the validity, or add the motives to that opening."
            )
            % {
                "other": clash,
                "site": clash.site.name,
                "repeat": clash.get_every_weeks_display().lower(),
                "validity": validity_text(clash),
            }
        )


def overlapping_opening(opening: Opening) -> Opening | None:
    """Another opening of the agenda that would be open at the same time on some day.

    Overlaps are refused whatever the site: a person cannot be at two places at once, and on one
    site two grids over the same hours offer slots that overlap each other. Two openings every
    second week on alternate weeks never meet, so they may share hours.
    """
    others = (
        Opening.objects.filter(
            agenda_id=opening.agenda_id,
            weekday=opening.weekday,
            start_time__lt=opening.end_time,
            end_time__gt=opening.start_time,
        )
        .exclude(pk=opening.pk)
        .select_related("site")
        .order_by("start_time")
    )
    return next((other for other in others if _meet(opening, other)), None)


def _meet(a: Opening, b: Opening) -> bool:
    """Whether two openings on the same weekday occur on a common date."""
    first = max(a.valid_from, b.valid_from)
    last = min(d for d in (a.valid_until, b.valid_until, date.max) if d is not None)
    if first > last:
        return False
    if a.every_weeks == 1 and b.every_weeks == 1:
        return True
    # Walk the common period week by week: at most two weeks tell, the pattern repeats after.
    day = first + timedelta(days=(a.weekday - first.weekday()) % 7)
    for _week in range(2):
        if day > last:
            return False
        if occurs_on(a, day) and occurs_on(b, day):
            return True
        day += timedelta(days=7)
    return False


def occurs_on(opening: Opening, day: date) -> bool:
    """The engine's rule: weekly, or every second week counted from the week of valid_from."""
    if day.weekday() != opening.weekday or day < opening.valid_from:
        return False
    if opening.valid_until is not None and day > opening.valid_until:
        return False
    first_monday = opening.valid_from - timedelta(days=opening.valid_from.weekday())
    return ((day - first_monday).days // 7) % opening.every_weeks == 0


def validity_text(opening: Opening) -> str:
    start = date_format(opening.valid_from, "j F Y")
    if opening.valid_until is None:
        return _("from %(start)s") % {"start": start}
    return _("from %(start)s to %(end)s") % {
        "start": start,
        "end": date_format(opening.valid_until, "j F Y"),
    }


# Absences ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AbsenceResult:
    absence: Absence
    # Appointments already booked in the period: they stay, the practice moves or cancels them.
    booked_during: int


def create_absence(*, user, agenda: Agenda, start: datetime, end: datetime, reason: str = ""):
    check_agenda(user, agenda, Perm.ABSENCES)
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("absence bounds must be aware")
    if end <= start:
        raise InvalidInput(_("The absence must end after it starts."), field="end_date")
    with transaction.atomic():
        absence = Absence.objects.create(agenda=agenda, start=start, end=end, reason=reason)
        _record(user, audit.Action.CREATE, absence, agenda)
        booked = (
            Appointment.objects.active()
            .filter(agenda=agenda)
            .exclude(status=Appointment.Status.HELD)
            .overlapping(start, end)
            .count()
        )
    return AbsenceResult(absence=absence, booked_during=booked)


def delete_absence(*, user, absence: Absence) -> None:
    check_agenda(user, absence.agenda, Perm.ABSENCES)
    with transaction.atomic():
        _record(user, audit.Action.DELETE, absence, absence.agenda)
        absence.delete()


def local_bounds(
    *, zone, start_date: date, start_time: time | None, end_date: date, end_time: time | None
) -> tuple[datetime, datetime]:
    """Aware bounds of an absence typed as local dates and optional times: no start time means
    from the start of that day, no end time means to the end of that day. A time is read by the
    rule of ``core.time.wall_to_instant`` (one skipped by the clocks is refused)."""
    if start_time is None:
        start = local_midnight(start_date, zone)
    else:
        start = wall_to_instant(start_date, start_time, zone, field="start_time")
    if end_time is None:
        end = local_midnight(end_date + timedelta(days=1), zone)
    else:
        end = wall_to_instant(end_date, end_time, zone, field="end_time")
    return start, end


# Reminders and the practice policy --------------------------------------------------------------


def set_reminders(
    *, user, agenda: Agenda, email_7d: bool, email_1d: bool, sms_1d: bool
) -> ReminderSettings:
    """The reminders of the agenda's practitioner (they apply to all their agendas)."""
    check_agenda(user, agenda, Perm.SETTINGS)
    if agenda.practitioner_id is None:
        raise InvalidInput(_("Reminders are set per practitioner; this agenda has none."))
    with transaction.atomic():
        found = notifications.set_reminder_settings(
            practitioner=agenda.practitioner,
            email_7d=email_7d,
            email_1d=email_1d,
            sms_1d=sms_1d,
        )
        _record(user, audit.Action.UPDATE, found, agenda)
    return found


def set_extra_patients(
    *, user, agenda: Agenda, takes_extra_patients: bool, regulation_phone: str, weekly_cap: int
):
    """The SAS participation of the agenda's practitioner (all their agendas): whether they take
    patients sent by regulation beyond their visible slots, the phone regulators call, and how
    many such patients a week at most."""
    check_agenda(user, agenda, Perm.SETTINGS)
    if agenda.practitioner_id is None:
        raise InvalidInput(_("Regulation settings are per practitioner; this agenda has none."))
    practitioner = agenda.practitioner
    with transaction.atomic():
        practitioner.takes_extra_patients = takes_extra_patients
        practitioner.regulation_phone = regulation_phone
        practitioner.extra_patients_weekly_cap = weekly_cap
        practitioner.full_clean(
            exclude=[
                f.name
                for f in practitioner._meta.fields
                if f.name
                not in ("takes_extra_patients", "regulation_phone", "extra_patients_weekly_cap")
            ]
        )
        practitioner.save(
            update_fields=["takes_extra_patients", "regulation_phone", "extra_patients_weekly_cap"]
        )
        _record(user, audit.Action.UPDATE, practitioner, agenda)
    return practitioner


def set_policy(
    *, user, organisation_id: int, no_show_limit: int | None, secretaries_manage_absences: bool
) -> PracticePolicy:
    """Only the organisation's admins set its policy."""
    check_admin(user, organisation_id)
    with transaction.atomic():
        policy, _created = PracticePolicy.objects.select_for_update().get_or_create(
            organisation_id=organisation_id
        )
        policy.no_show_limit = no_show_limit
        policy.secretaries_manage_absences = secretaries_manage_absences
        policy.save(update_fields=["no_show_limit", "secretaries_manage_absences"])
        audit.record(
            actor=user,
            action=audit.Action.UPDATE,
            target_type="practicepolicy",
            target_id=policy.pk,
            organisation_id=organisation_id,
        )
    return policy


def check_admin(user, organisation_id: int) -> None:
    check_organisation(user, organisation_id, Perm.POLICY)


# Helpers ----------------------------------------------------------------------------------------


def _assign(instance, fields: dict, names) -> None:
    for name in names:
        if name in fields:
            setattr(instance, name, fields[name])


def _lock(agenda: Agenda) -> None:
    """Serialise setting changes of one agenda: the overlap check, then the write."""
    Agenda.objects.select_for_update().filter(pk=agenda.pk).values_list("pk").first()


def _record(user, action: str, instance, agenda: Agenda) -> None:
    audit.record(
        actor=user,
        action=action,
        target_type=instance._meta.model_name,
        target_id=instance.pk,
        organisation_id=agenda.organisation_id,
    )
