"""Organisation bulk onboarding, the check: every line of the file, and what is wrong with it.

``validate`` checks the entries ``bulk.read_csv`` read (RPPS number, e-mail address, duplicates
within the file, department, opening template, motives preset, then what the database knows:
accounts, invitations, practitioners and the RPPS directory, in a few queries for the whole
file) and returns a ``Report``, line by line and column by column. ``check_file`` reads and
checks an upload: the report the admin sees before anything is saved. ``bulk_import`` runs
``validate`` again inside its transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models.functions import Lower
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from consulto.core.language import current_language
from consulto.directory.models import DirectoryRecord, Organisation, Practitioner, Specialty
from consulto.directory.rpps import luhn_ok, normalise_rpps

from .bulk import COLUMN_LABELS, COLUMNS, Entry, name_key, read_csv
from .models import Invitation
from .presets import DEFAULT_HOURS, HOURS_BY_CODE, HOURS_TEMPLATES, MOTIVE_PRESETS, HoursTemplate

DEPARTMENT_MAX = Invitation._meta.get_field("department").max_length


@dataclass
class LineError:
    column: str  # a key of COLUMNS, or "" for the line as a whole
    code: str
    message: str
    column_label: str = ""


@dataclass
class Line:
    entry: Entry
    errors: list[LineError] = field(default_factory=list)
    record: DirectoryRecord | None = None
    hours_code: str = ""
    preset_code: str = ""  # the specialty whose motives are suggested
    specialty_code: str = ""
    hours_label: str = ""
    preset_label: str = ""

    @property
    def number(self) -> int:
        return self.entry.line

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def name(self) -> str:
        return display_name(self.record) if self.record else ""

    def error(self, column: str, code: str, message: str) -> None:
        self.errors.append(LineError(column, code, message))

    def has_error(self, column: str) -> bool:
        return any(e.column == column for e in self.errors)


@dataclass
class Report:
    lines: list[Line] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    encoding: str = ""
    delimiter: str = ""

    @property
    def ok(self) -> bool:
        return not self.file_errors and bool(self.lines) and all(line.ok for line in self.lines)

    @property
    def error_lines(self) -> list[Line]:
        return [line for line in self.lines if not line.ok]

    def codes(self) -> list[tuple[int, str, str]]:
        """(line, column, code) of every error: what tests and the API compare."""
        return [(line.number, e.column, e.code) for line in self.lines for e in line.errors]


def title_from(civility: str) -> str:
    """The directory's civility as a title: "DR" or "Docteur" is "Dr", "Professeur" "Pr"."""
    value = name_key(civility)
    if value in ("dr", "docteur"):
        return "Dr"
    if value in ("pr", "professeur"):
        return "Pr"
    return ""


def title_case(name: str) -> str:
    """A name the directory writes in capitals ("LE GALL") as people write it ("Le Gall")."""
    return " ".join(name.split()).title()


def display_name(record: DirectoryRecord) -> str:
    first, last = title_case(record.first_name), title_case(record.last_name)
    return " ".join(p for p in (title_from(record.civility), first, last) if p)


def _hours_lookup() -> dict[str, HoursTemplate]:
    found = {}
    for template in HOURS_TEMPLATES:
        for name in (template.code, template.label_fr, template.label_en):
            found[name_key(name)] = template
    return found


def _preset_lookup(specialties: dict[str, Specialty]) -> dict[str, str]:
    """Motive presets by what may be written: the specialty's code or label (French/English)."""
    found = {}
    for code in MOTIVE_PRESETS:
        specialty = specialties.get(code)
        if specialty is None:
            continue
        for name in (code, specialty.label_fr, specialty.label_en):
            found[name_key(name)] = code
    return found


def validate(entries: list[Entry], *, organisation: Organisation, width: int = 0) -> Report:
    """Check every entry; the report says, line by line and column by column, what is wrong.
    ``width`` is the number of columns of the header, when the entries come from a file."""
    report = Report()
    specialties = {s.code: s for s in Specialty.objects.filter(is_resource=False)}
    hours = _hours_lookup()
    presets = _preset_lookup(specialties)
    preset_codes = ", ".join(code for code in MOTIVE_PRESETS if code in specialties)
    hours_codes = ", ".join(t.code for t in HOURS_TEMPLATES)
    language = current_language()
    first_rpps: dict[str, int] = {}
    first_email: dict[str, int] = {}

    for original in entries:
        entry = replace(
            original,
            rpps=normalise_rpps(original.rpps),
            email=original.email.strip().lower(),
        )
        line = Line(entry=entry)
        report.lines.append(line)
        if width and entry.cells > width:
            line.error(
                "",
                "too_many_cells",
                _(
                    "This line has %(found)s cells but the header has %(expected)s: a value "
                    "probably contains the separator; put that value between double quotes."
                )
                % {"found": entry.cells, "expected": width},
            )
        _check_rpps(line)
        _check_email(line)
        if not line.has_error("rpps"):
            if entry.rpps in first_rpps:
                line.error(
                    "rpps",
                    "duplicate_rpps",
                    _("Same RPPS number as line %(line)s.") % {"line": first_rpps[entry.rpps]},
                )
            else:
                first_rpps[entry.rpps] = entry.line
        if not line.has_error("email"):
            if entry.email in first_email:
                line.error(
                    "email",
                    "duplicate_email",
                    _("Same e-mail address as line %(line)s.") % {"line": first_email[entry.email]},
                )
            else:
                first_email[entry.email] = entry.line
        if len(entry.department) > DEPARTMENT_MAX:
            line.error(
                "department",
                "department_too_long",
                _("The department has more than %(n)s characters.") % {"n": DEPARTMENT_MAX},
            )
        template = hours.get(name_key(entry.hours)) if entry.hours else HOURS_BY_CODE[DEFAULT_HOURS]
        if template is None:
            line.error(
                "hours",
                "hours_unknown",
                _(
                    "Unknown opening template “%(value)s”. Use one of: %(codes)s; or leave it "
                    "empty for “%(default)s”."
                )
                % {"value": entry.hours, "codes": hours_codes, "default": DEFAULT_HOURS},
            )
        else:
            line.hours_code = template.code
            line.hours_label = template.label(language)
        if entry.motives:
            line.preset_code = presets.get(name_key(entry.motives), "")
            if not line.preset_code:
                line.error(
                    "motives",
                    "motives_unknown",
                    _(
                        "Unknown motives preset “%(value)s”. Use a specialty code: %(codes)s; or "
                        "leave it empty to use the specialty the directory gives."
                    )
                    % {"value": entry.motives, "codes": preset_codes},
                )

    _check_database(report, organisation=organisation, specialties=specialties, codes=preset_codes)
    for line in report.lines:
        if line.preset_code:
            line.preset_label = specialties[line.preset_code].label
        line.errors.sort(key=lambda e: COLUMN_ORDER.index(e.column))
        for error in line.errors:
            error.column_label = str(COLUMN_LABELS.get(error.column, ""))
    return report


COLUMN_ORDER = ("", *COLUMNS)


def _check_rpps(line: Line) -> None:
    rpps = line.entry.rpps
    if not rpps:
        line.error("rpps", "rpps_missing", _("The RPPS number is missing."))
    elif len(rpps) != 11 or not rpps.isdigit():
        message = _("An RPPS number has exactly 11 digits (here: “%(value)s”).") % {"value": rpps}
        if re.search(r"\d[.,]?\d*e\+?\d+$", rpps, re.IGNORECASE):
            message += " " + _(
                "The spreadsheet turned it into a number in scientific notation: format the "
                "column as text and type the numbers again."
            )
        line.error("rpps", "rpps_format", message)
    elif not luhn_ok(rpps):
        line.error(
            "rpps",
            "rpps_checksum",
            _("The last digit of %(value)s does not match the others: look for a typo.")
            % {"value": rpps},
        )


def _check_email(line: Line) -> None:
    email = line.entry.email
    if not email:
        line.error("email", "email_missing", _("The e-mail address is missing."))
        return
    try:
        validate_email(email)
    except ValidationError:
        message = _("“%(value)s” is not a valid e-mail address.") % {"value": email}
        line.error("email", "email_invalid", message)


def _check_database(
    report: Report, *, organisation: Organisation, specialties: dict[str, Specialty], codes: str
) -> None:
    """The rules that need the database, in a few queries for the whole file."""
    lines = [line for line in report.lines if not line.has_error("rpps") and line.entry.rpps]
    numbers = [line.entry.rpps for line in lines]
    taken = {
        p.rpps: p
        for chunk in chunks(numbers)
        for p in Practitioner.objects.filter(rpps__in=chunk).select_related("invitation")
    }
    records = _directory_records(numbers)
    emails = [line.entry.email for line in report.lines if not line.has_error("email")]
    accounts = {
        email
        for chunk in chunks(emails)
        for email in get_user_model()
        .objects.annotate(lower=Lower("email"))
        .filter(lower__in=chunk)
        .values_list("lower", flat=True)
    }
    invited = {
        email: created
        for chunk in chunks(emails)
        for email, created in Invitation.objects.annotate(lower=Lower("email"))
        .filter(lower__in=chunk, accepted_at__isnull=True)
        .values_list("lower", "created_at")
    }
    for line in report.lines:
        email = line.entry.email
        if line.has_error("email"):
            continue  # one problem at a time: the address is wrong already
        if email in accounts:
            line.error(
                "email",
                "email_taken",
                _(
                    "%(value)s already belongs to a Consulto account: give another address for "
                    "this practitioner."
                )
                % {"value": email},
            )
        elif email in invited:
            line.error(
                "email",
                "email_invited",
                _("An invitation was already sent to %(value)s on %(date)s.")
                % {"value": email, "date": _short_date(invited[email])},
            )
    for line in lines:
        rpps = line.entry.rpps
        if line.has_error("rpps"):
            continue
        existing = taken.get(rpps)
        if existing is not None:
            invitation = getattr(existing, "invitation", None)
            if invitation is not None and invitation.organisation_id == organisation.pk:
                message = _(
                    "%(value)s was already invited by your organisation on %(date)s: see the "
                    "invitations below."
                ) % {
                    "value": rpps,
                    "date": _short_date(invitation.created_at),
                }
                line.error("rpps", "rpps_invited", message)
            else:
                line.error(
                    "rpps",
                    "rpps_taken",
                    _(
                        "%(value)s already has a profile on Consulto. If it should be part of "
                        "your organisation, contact our support team."
                    )
                    % {"value": rpps},
                )
            continue
        record = records.get(rpps)
        if record is None:
            line.error(
                "rpps",
                "rpps_unknown",
                _(
                    "%(value)s is not in the directory of health professionals (RPPS): check "
                    "the number."
                )
                % {"value": rpps},
            )
            continue
        line.record = record
        directory_code = line.record.specialty_code
        if directory_code not in specialties:
            directory_code = ""
        line.specialty_code = directory_code or line.preset_code
        if not line.entry.motives:
            line.preset_code = directory_code
        if not line.specialty_code and not line.has_error("motives"):
            line.error(
                "motives",
                "no_specialty",
                _(
                    "The directory gives no specialty for this practitioner: fill in the motives "
                    "preset with a specialty code (%(codes)s)."
                )
                % {"codes": codes},
            )


def chunks(values: list, size: int = 500):
    """Slices short enough for any database's limit on query parameters."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _directory_records(numbers: list[str]) -> dict[str, DirectoryRecord]:
    """One directory activity per RPPS number, for the identity: any of a person's activities
    carries their name and civility; one that names a specialty is preferred. (For the whole
    file at once: ``directory_activities``, one query a number, took seconds for 2,000 lines.)"""
    found: dict[str, DirectoryRecord] = {}
    for chunk in chunks(numbers):
        for record in DirectoryRecord.objects.filter(rpps__in=chunk).order_by("rpps", "pk"):
            known = found.get(record.rpps)
            if known is None or (not known.specialty_code and record.specialty_code):
                found[record.rpps] = record
    return found


def check_file(file, *, organisation: Organisation) -> Report:
    """Read and check an uploaded file: the report the admin sees before anything is saved."""
    parsed = read_csv(file)
    if parsed.errors:
        return Report(
            file_errors=parsed.errors,
            warnings=parsed.warnings,
            encoding=parsed.encoding,
            delimiter=parsed.delimiter,
        )
    report = validate(parsed.entries, organisation=organisation, width=parsed.width)
    report.warnings = parsed.warnings
    report.encoding = parsed.encoding
    report.delimiter = parsed.delimiter
    return report


def _short_date(moment: datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "SHORT_DATE_FORMAT")
