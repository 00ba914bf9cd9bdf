"""Organisation bulk onboarding, the import: a checked file becomes practitioners, all or none.

``import_practitioners`` creates, for every line, the practitioner, their agenda with its
openings and motives, an invitation and a journey, in one transaction, checking the lines again
inside it (``bulk_check.validate``): a file is imported whole or not at all. The rows are
inserted kind by kind for the whole file. Once the transaction has committed, the task worker
e-mails the invitations (``tasks.send_invitation``).
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from consulto.core import audit
from consulto.core.deferred import deferred
from consulto.core.errors import DomainError, NotFound
from consulto.core.language import current_language
from consulto.core.models import AuditEvent
from consulto.directory.models import Organisation, Practitioner, Site, Specialty
from consulto.practice.permissions import Perm, check_organisation
from consulto.scheduling.models import Agenda, Motive, Opening, bump_versions

from . import services
from .bulk import Entry
from .bulk_check import Line, Report, chunks, title_case, title_from, validate
from .invitations import INVITATION_VALID_FOR, enqueue_sending, unknown_token_hash
from .models import Invitation, Journey
from .presets import HOURS_BY_CODE, HoursTemplate, motive_presets


class ImportRejected(DomainError):
    """The file did not pass the check made inside the import transaction: nothing was saved."""

    code = "import_rejected"
    status = 409

    def __init__(self, report: Report, message=None):
        self.report = report
        super().__init__(
            message
            or _(
                "Something changed since the file was checked: nothing was imported. Fix the "
                "lines shown and upload the file again."
            )
        )


def import_practitioners(
    *,
    user,
    organisation: Organisation,
    site: Site,
    entries: list[Entry],
    base_url: str,
    language: str | None = None,
    now: datetime | None = None,
) -> list[Invitation]:
    """Create, for every entry, the practitioner, their agenda at ``site`` with its openings and
    motives, an invitation and a journey; all in one transaction, after checking the entries
    again inside it. Raise ``ImportRejected`` (nothing saved) when a line no longer passes.

    The invitations are e-mailed by the task worker once the transaction has committed."""
    check_organisation(user, organisation.pk, Perm.POLICY)
    if site.organisation_id != organisation.pk:
        raise NotFound()
    language = language or current_language()
    now = now or timezone.now()
    try:
        with transaction.atomic():
            report = validate(entries, organisation=organisation)
            if not report.ok:
                raise ImportRejected(report)
            invitations = _create_all(
                report.lines,
                user=user,
                organisation=organisation,
                site=site,
                language=language,
                now=now,
            )
            transaction.on_commit(
                deferred(enqueue_sending, [(i.pk, i.token_hash) for i in invitations], base_url),
                robust=True,
            )
    except IntegrityError as error:
        # Another import or a sign-up took one of these numbers in the meantime.
        raise ImportRejected(
            validate(entries, organisation=organisation),
            _(
                "Another change took one of these practitioners meanwhile: nothing was "
                "imported. Fix the lines shown and upload the file again."
            ),
        ) from error
    return invitations


def _create_all(
    lines: list[Line],
    *,
    user,
    organisation: Organisation,
    site: Site,
    language: str,
    now: datetime,
) -> list[Invitation]:
    """The rows of every line, inserted kind by kind for the whole file: one row at a time, a
    2,000-line file took minutes, holding the database's write lock all along (SQLite)."""
    specialties = {s.code: s for s in Specialty.objects.filter(is_resource=False)}
    choices = [_motive_choices(line.preset_code or line.specialty_code, language) for line in lines]
    practitioners = Practitioner.objects.bulk_create(
        [
            Practitioner(
                title=title_from(line.record.civility),
                first_name=title_case(line.record.first_name)[:100],
                last_name=title_case(line.record.last_name)[:100],
                rpps=line.entry.rpps,  # 11 digits with a right check digit: checked above
                rpps_status=Practitioner.RppsStatus.VALID,
                specialty=specialties[line.specialty_code],
                is_published=False,
                video_enabled=any(choice.video for choice in motives),
            )
            for line, motives in zip(lines, choices, strict=True)
        ]
    )
    # Bookable by the organisation's staff at once; online, once the practitioner publishes.
    agendas = Agenda.objects.bulk_create(
        [
            Agenda(
                organisation=organisation,
                practitioner=practitioner,
                site=site,
                name=services.agenda_name(practitioner, line.entry.department),
                online_booking=False,
            )
            for line, practitioner in zip(lines, practitioners, strict=True)
        ]
    )
    _create_schedules(
        agendas, [HOURS_BY_CODE[line.hours_code] for line in lines], choices, today=now.date()
    )
    invitations = Invitation.objects.bulk_create(
        [
            Invitation(
                organisation=organisation,
                site=site,
                practitioner=practitioner,
                agenda=agenda,
                email=line.entry.email,
                department=line.entry.department,
                hours_template=line.hours_code,
                motives_preset=line.preset_code,
                token_hash=unknown_token_hash(),
                invited_by=user,
                expires_at=now + INVITATION_VALID_FOR,
            )
            for line, practitioner, agenda in zip(lines, practitioners, agendas, strict=True)
        ]
    )
    Journey.objects.bulk_create(
        [
            Journey(
                kind=Journey.Kind.INVITED,
                email=invitation.email,
                rpps=invitation.practitioner.rpps,
                in_directory=True,
                practitioner=invitation.practitioner,
                agenda=invitation.agenda,
                invitation=invitation,
                language=language,
                hours_template=invitation.hours_template,
            )
            for invitation in invitations
        ]
    )
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                actor=user,
                action=audit.Action.CREATE,
                target_type="invitation",
                target_id=str(invitation.pk),
                organisation_id=organisation.pk,
            )
            for invitation in invitations
        ]
    )
    return invitations


def _motive_choices(specialty_code: str, language: str) -> list[services.MotiveChoice]:
    return [
        services.MotiveChoice(
            label=preset.label(language),
            duration_minutes=preset.duration_minutes,
            video=preset.video,
            new_patients=preset.new_patients,
            colour=preset.colour,
        )
        for preset in motive_presets(specialty_code)
    ]


def _create_schedules(
    agendas: list[Agenda],
    templates: list[HoursTemplate],
    choices: list[list[services.MotiveChoice]],
    *,
    today,
) -> None:
    """What ``services.replace_schedule`` makes of a template and motives, for many new agendas
    at once: each opening of the template, with every motive, valid from today."""
    motives, checked = [], set()
    for agenda, agenda_choices in zip(agendas, choices, strict=True):
        for position, choice in enumerate(agenda_choices):
            motive = choice.motive(agenda, position)
            key = (motive.label, motive.duration_minutes, motive.mode, motive.colour)
            if key not in checked:  # the same few presets again and again: check each once
                motive.full_clean(exclude=["agenda"])
                checked.add(key)
            motives.append(motive)
    Motive.objects.bulk_create(motives)
    Opening.objects.bulk_create(
        [
            Opening(
                agenda=agenda,
                site_id=agenda.site_id,
                weekday=period.weekday,
                start_time=period.start,
                end_time=period.end,
                valid_from=today,
            )
            for agenda, template in zip(agendas, templates, strict=True)
            for period in template.periods
        ]
    )
    _put_every_motive_on_every_opening([agenda.pk for agenda in agendas])
    # Bulk inserts send no signal: bump the versions as the signals would (cached slots).
    for chunk in chunks([agenda.pk for agenda in agendas]):
        bump_versions(chunk)


def _put_every_motive_on_every_opening(agenda_ids: list[int]) -> None:
    """Each opening of these agendas offers each of their motives: 120,000 rows for 2,000
    agendas, written by the database from the rows it has (a model instance or a round trip per
    row took seconds)."""
    through, opening, motive = Opening.motives.through._meta, Opening._meta, Motive._meta
    quote = connection.ops.quote_name
    names = {
        "through": quote(through.db_table),
        "through_opening": quote(through.get_field("opening").column),
        "through_motive": quote(through.get_field("motive").column),
        "opening": quote(opening.db_table),
        "opening_id": quote(opening.pk.column),
        "opening_agenda": quote(opening.get_field("agenda").column),
        "motive": quote(motive.db_table),
        "motive_id": quote(motive.pk.column),
        "motive_agenda": quote(motive.get_field("agenda").column),
    }
    for chunk in chunks(agenda_ids):
        sql = EVERY_MOTIVE_SQL.format(**names, ids=", ".join(["%s"] * len(chunk)))
        with connection.cursor() as cursor:
            cursor.execute(sql, chunk)


# Names come from the models' metadata, quoted; the agenda ids are parameters.
EVERY_MOTIVE_SQL = (
    "INSERT INTO {through} ({through_opening}, {through_motive}) "
    "SELECT o.{opening_id}, m.{motive_id} FROM {opening} o "
    "JOIN {motive} m ON m.{motive_agenda} = o.{opening_agenda} "
    "WHERE o.{opening_agenda} IN ({ids})"
)
