"""Organisation bulk onboarding, the file: an uploaded CSV of practitioners read into entries.

An organisation admin uploads a file with one practitioner a line (RPPS, e-mail, department,
opening template, motives preset). ``read_csv`` turns the bytes into entries, whatever the
spreadsheet that wrote them (encoding, separator, column names as people type them), or says why
the file as a whole cannot be read. What follows lives next door:

* ``bulk_check``: every entry checked, line by line, into the report the admin sees;
* ``bulk_import``: the all-or-nothing import that creates the practitioners and invitations;
* ``invitations``: the invitation e-mails, their statuses, and acceptance by the invitee.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import unicodedata
from dataclasses import dataclass, field

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MAX_BYTES = 1_000_000
MAX_LINES = 2_000

# The columns, by the key the code uses: the first name is the one the example file writes.
COLUMNS: dict[str, tuple[str, ...]] = {
    "rpps": ("rpps", "numéro RPPS", "n° RPPS", "RPPS number", "identifiant RPPS"),
    "email": (
        "email",
        "e-mail",
        "courriel",
        "mail",
        "adresse e-mail",
        "adresse mail",
        "e-mail address",
    ),
    "department": ("department", "service", "département", "pôle", "unité"),
    "hours": ("opening_template", "horaires", "opening template", "modèle d'horaires", "hours"),
    "motives": ("motives_preset", "motifs", "motives preset", "motives", "modèle de motifs"),
}
REQUIRED = ("rpps", "email")
COLUMN_LABELS = {
    "rpps": gettext_lazy("RPPS"),
    "email": gettext_lazy("E-mail"),
    "department": gettext_lazy("Department"),
    "hours": gettext_lazy("Opening template"),
    "motives": gettext_lazy("Motives preset"),
}


def name_key(text: str) -> str:
    """A name reduced to what matters when people type it: no accents, case, spaces or
    punctuation ("Modèle d'horaires" and "modele_d-horaires" meet)."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[\W_]+", "", plain.casefold())


_COLUMN_KEYS = {name_key(name): column for column, names in COLUMNS.items() for name in names}


@dataclass
class Entry:
    """One line of the file as written: what the check shows and what the import saves."""

    line: int  # the line in the file, the header being line 1 (as a spreadsheet numbers rows)
    rpps: str = ""
    email: str = ""
    department: str = ""
    hours: str = ""
    motives: str = ""
    cells: int = 0  # how many cells the line had (more than the header: a stray separator)

    def as_list(self) -> list:
        return [self.line, self.rpps, self.email, self.department, self.hours, self.motives]

    @classmethod
    def from_list(cls, values: list) -> Entry:
        line, rpps, email, department, hours, motives = values
        return cls(int(line), rpps, email, department, hours, motives)


@dataclass
class ParsedFile:
    entries: list[Entry] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # about the whole file: nothing else is read
    warnings: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # column key -> the name in the file
    width: int = 0
    encoding: str = ""
    delimiter: str = ""


def _accepted_columns() -> str:
    return "; ".join(
        f"{COLUMN_LABELS[column]}: {', '.join(names)}" for column, names in COLUMNS.items()
    )


def _decode(raw: bytes) -> tuple[str, str] | None:
    """The text and the encoding's name: UTF-8 (with or without BOM), UTF-16 with a BOM
    (Excel's "Unicode text"), else Windows-1252 (Excel's "CSV" on a French Windows)."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            return None
    try:
        return raw.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        return None


def _sniff_delimiter(text: str) -> str:
    """The header line's separator: French Excel writes ";", others ",", "Unicode text" a tab."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: header.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def read_csv(file) -> ParsedFile:
    """Read an uploaded file (any object with ``read``) into entries, or say why it cannot."""
    parsed = ParsedFile()
    raw = file.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        parsed.errors.append(
            _("The file is larger than 1 MB: split it into several files of at most %(n)s lines.")
            % {"n": formats.number_format(MAX_LINES, force_grouping=True)}
        )
        return parsed
    if raw.startswith(b"PK\x03\x04") or raw.startswith(b"\xd0\xcf\x11\xe0"):
        parsed.errors.append(
            _(
                "This is a spreadsheet workbook, not a CSV file. In your spreadsheet, choose "
                "File > Save as, then the type “CSV UTF-8” (or “CSV (semicolon delimited)”)."
            )
        )
        return parsed
    decoded = _decode(raw)
    if decoded is None:
        parsed.errors.append(
            _("We could not read the characters of this file: save it as “CSV UTF-8”.")
        )
        return parsed
    text, parsed.encoding = decoded
    if not text.strip():
        parsed.errors.append(_("The file is empty."))
        return parsed
    parsed.delimiter = _sniff_delimiter(text)
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=parsed.delimiter)
    columns: list[str | None] = []
    try:
        for number, cells in enumerate(rows, start=1):
            if not any(cell.strip() for cell in cells):
                continue  # blank lines, or ";;;;" left by a spreadsheet
            if not columns:
                columns = _read_header(cells, parsed)
                if parsed.errors:
                    return parsed
                continue
            if len(parsed.entries) == MAX_LINES:
                parsed.errors.append(
                    _(
                        "The file has more than %(n)s lines of practitioners: split it into "
                        "several files."
                    )
                    % {"n": formats.number_format(MAX_LINES, force_grouping=True)}
                )
                return parsed
            entry = Entry(line=number, cells=len(cells))
            for column, cell in zip(columns, cells, strict=False):
                if column is not None:
                    setattr(entry, column, " ".join(cell.split()))
            parsed.entries.append(entry)
    except csv.Error as error:
        parsed.errors.append(
            _("The file is not a valid CSV file (line %(line)s: %(error)s).")
            % {"line": rows.line_num, "error": error}
        )
        return parsed
    if not parsed.entries:
        parsed.errors.append(_("The file has a header line but no practitioner."))
    return parsed


def _looks_like_data(cells: list[str]) -> bool:
    return any("@" in cell or re.fullmatch(r"\s*\d[\d ]{9,}\s*", cell) for cell in cells)


def _read_header(cells: list[str], parsed: ParsedFile) -> list[str | None]:
    columns: list[str | None] = []
    if _looks_like_data(cells):
        parsed.errors.append(
            _(
                "The first line must name the columns, for example “%(example)s”; this one "
                "looks like a practitioner's line."
            )
            % {"example": "rpps;email;service;horaires;motifs"}
        )
        return columns
    for cell in cells:
        name = cell.strip().lstrip("\ufeff")
        column = _COLUMN_KEYS.get(name_key(name))
        if column is None and name:
            close = difflib.get_close_matches(name_key(name), _COLUMN_KEYS, n=1, cutoff=0.8)
            if close:
                parsed.errors.append(
                    _("Unknown column “%(name)s”: did you mean “%(known)s”?")
                    % {"name": name, "known": COLUMNS[_COLUMN_KEYS[close[0]]][1]}
                )
            else:
                parsed.warnings.append(
                    _("The column “%(name)s” is not one we use: it is ignored.") % {"name": name}
                )
        elif column in parsed.headers:
            parsed.errors.append(
                _("Two columns of the header mean the same thing: “%(a)s” and “%(b)s”.")
                % {"a": parsed.headers[column], "b": name}
            )
        elif column is not None:
            parsed.headers[column] = name
        columns.append(column if column not in columns else None)
    missing = [column for column in REQUIRED if column not in parsed.headers]
    if missing and not parsed.errors:
        parsed.errors.append(
            _(
                "The first line must name the columns. Missing: %(missing)s. "
                "Accepted names — %(accepted)s."
            )
            % {
                "missing": ", ".join(str(COLUMN_LABELS[c]) for c in missing),
                "accepted": _accepted_columns(),
            }
        )
    parsed.width = len(cells)
    return columns
