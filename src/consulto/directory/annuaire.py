"""Parse the public health-professional directory (Annuaire Santé, "personne-activité" extract).

The extract is a pipe-delimited UTF-8 text file whose first line is the header; every other line
is one activity of one professional (a person who practises in two places has two lines). The
real file is several hundred megabytes, so this module works line by line: ``parse`` takes an
iterable of lines (``bytes`` straight from a file opened in binary, or ``str``) and yields one
``Record``, ``Skipped`` or ``Malformed`` per line, never holding more than the current line.

Columns are found by header name, not by position: newer extracts append columns ("Code rôle",
"Libellé genre activité"...) and a reordered file still reads. A header without a column this
module needs is a ``HeaderError``, the only error that stops a parse.

Lines are decoded one by one, so one line of bad UTF-8 is reported as malformed and the next
line is read as usual. Lines of an ADELI number (identifier type 0) are ``Skipped``: Consulto
identifies practitioners by RPPS only.

No Django import here: the importer (``directory_import.py``) and the tests feed it plain lines.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from .specialties import SPECIALTIES

RPPS_TYPE = "8"
ADELI_TYPE = "0"
DERIVED_KEY_PREFIX = "h:"  # never the start of a real structure identifier (R..., C..., F...)
EXCERPT_CHARS = 200

# The header of the extract, as published: note the trailing pipe (an empty last column).
HEADER = (
    "Type d'identifiant PP|Identifiant PP|Identification nationale PP|Code civilité d'exercice|"
    "Libellé civilité d'exercice|Code civilité|Libellé civilité|Nom d'exercice|"
    "Prénom d'exercice|Code profession|Libellé profession|Code catégorie professionnelle|"
    "Libellé catégorie professionnelle|Code type savoir-faire|Libellé type savoir-faire|"
    "Code savoir-faire|Libellé savoir-faire|Code mode exercice|Libellé mode exercice|"
    "Numéro SIRET site|Numéro SIREN site|Numéro FINESS site|"
    "Numéro FINESS établissement juridique|Identifiant technique de la structure|"
    "Raison sociale site|Enseigne commerciale site|"
    "Complément destinataire (coord. structure)|"
    "Complément point géographique (coord. structure)|Numéro Voie (coord. structure)|"
    "Indice répétition voie (coord. structure)|Code type de voie (coord. structure)|"
    "Libellé type de voie (coord. structure)|Libellé Voie (coord. structure)|"
    "Mention distribution (coord. structure)|Bureau cedex (coord. structure)|"
    "Code postal (coord. structure)|Code commune (coord. structure)|"
    "Libellé commune (coord. structure)|Code pays (coord. structure)|"
    "Libellé pays (coord. structure)|Téléphone (coord. structure)|"
    "Téléphone 2 (coord. structure)|Télécopie (coord. structure)|"
    "Adresse e-mail (coord. structure)|Code Département (structure)|"
    "Libellé Département (structure)|Ancien identifiant de la structure|"
    "Autorité d'enregistrement|Code secteur d'activité|Libellé secteur d'activité|"
    "Code section tableau pharmaciens|Libellé section tableau pharmaciens|"
)
HEADER_NAMES: tuple[str, ...] = tuple(HEADER.split("|"))

# What this module reads, by the header name of its column. Without a required column the
# records would be wrong or empty, so the header is refused; an optional one reads as "".
REQUIRED_COLUMNS: dict[str, str] = {
    "id_type": "Type d'identifiant PP",
    "identifier": "Identifiant PP",
    "civility": "Libellé civilité d'exercice",
    "last_name": "Nom d'exercice",
    "first_name": "Prénom d'exercice",
    "profession_code": "Code profession",
    "profession_label": "Libellé profession",
    "skill_code": "Code savoir-faire",
    "skill_label": "Libellé savoir-faire",
    "mode": "Libellé mode exercice",
    "finess": "Numéro FINESS site",
    "structure_id": "Identifiant technique de la structure",
    "company_name": "Raison sociale site",
    "street_number": "Numéro Voie (coord. structure)",
    "street_type": "Libellé type de voie (coord. structure)",
    "street": "Libellé Voie (coord. structure)",
    "postcode": "Code postal (coord. structure)",
    "city": "Libellé commune (coord. structure)",
    "phone": "Téléphone (coord. structure)",
}
OPTIONAL_COLUMNS: dict[str, str] = {
    "trade_name": "Enseigne commerciale site",
    "place_complement": "Complément point géographique (coord. structure)",
    "repetition": "Indice répétition voie (coord. structure)",
    "street_type_code": "Code type de voie (coord. structure)",
    "cedex_office": "Bureau cedex (coord. structure)",
    "phone2": "Téléphone 2 (coord. structure)",
    "email": "Adresse e-mail (coord. structure)",
}

REPETITION_WORDS = {"B": "bis", "T": "ter", "Q": "quater", "C": "quinquies"}
# Words kept in lower case when a name in capitals is put in display case ("Rue de la Paix").
SMALL_WORDS = frozenset(
    {"au", "aux", "de", "des", "du", "en", "et", "la", "le", "les", "sous", "sur"}
)


class HeaderError(ValueError):
    """The first line is not a usable header: the whole file is refused."""


@dataclass(frozen=True, slots=True)
class Record:
    """One activity of a professional with an RPPS number, cleaned for display."""

    line: int
    rpps: str
    structure_id: str  # the file's structure identifier, or a key derived from the address
    civility: str
    first_name: str
    last_name: str
    profession_code: str
    profession_label: str
    skill_code: str
    skill_label: str
    specialty_code: str  # one of Consulto's specialty codes, "" when unknown
    mode: str
    site_name: str
    address: str
    postcode: str
    city: str
    phone: str
    email: str
    finess: str

    @property
    def key(self) -> tuple[str, str]:
        return self.rpps, self.structure_id


@dataclass(frozen=True, slots=True)
class Skipped:
    """A well-formed line that Consulto does not import (an ADELI number)."""

    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class Malformed:
    """A line that cannot be read; ``text`` is its start, to find it in the file."""

    line: int
    reason: str
    text: str = ""

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}" + (f": {self.text}" if self.text else "")


@dataclass(frozen=True, slots=True)
class Layout:
    """Where each needed column sits in the file, read from its header."""

    width: int  # number of fields of a line, the trailing empty one included
    positions: dict[str, int]  # attribute name -> index; absent optional columns are missing
    trailing_empty: bool  # the header ends with a pipe: a line may omit that last empty field


def fold(text: str) -> str:
    """Lower case, no accents, no punctuation, single spaces: "O.R.L." -> "orl"."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    text = text.replace(".", "")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def _fold_header(name: str) -> str:
    # Header names compare without case, accents or typographic quotes ("d’exercice").
    name = name.replace("\ufeff", "").replace("’", "'")
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return " ".join(text.split())


def read_header(line: bytes | str) -> Layout:
    """The layout of a file from its first line; ``HeaderError`` says what is wrong."""
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise HeaderError(f"The header line is not valid UTF-8 ({error.reason}).") from None
    names = line.rstrip("\r\n").split("|")
    index: dict[str, int] = {}
    for position, name in enumerate(names):
        index.setdefault(_fold_header(name), position)
    missing = [name for name in REQUIRED_COLUMNS.values() if _fold_header(name) not in index]
    if missing:
        found = len([n for n in names if n.strip()])
        raise HeaderError(
            "The first line is not the header of an Annuaire Santé personne-activité extract: "
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"({found} columns found)."
        )
    positions = {
        attribute: index[_fold_header(name)]
        for attribute, name in (REQUIRED_COLUMNS | OPTIONAL_COLUMNS).items()
        if _fold_header(name) in index
    }
    return Layout(width=len(names), positions=positions, trailing_empty=names[-1].strip() == "")


def parse(lines: Iterable[bytes | str]) -> Iterator[Record | Skipped | Malformed]:
    """Read an extract line by line: its header, then one item per non-blank line.

    Line numbers count from 1 for the header, as an editor shows them. Raises ``HeaderError``
    (on the first ``next``) when the header is missing or lacks a needed column.
    """
    iterator = iter(lines)
    first = next(iterator, None)
    if first is None:
        raise HeaderError("The file is empty: no header line.")
    layout = read_header(first)
    for number, raw in enumerate(iterator, start=2):
        item = parse_line(layout, number, raw)
        if item is not None:
            yield item


def parse_line(
    layout: Layout, number: int, raw: bytes | str
) -> Record | Skipped | Malformed | None:
    """One data line as a record, a skip or a malformed line (``None`` for a blank line)."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            bad = raw[error.start : error.start + 1].hex()
            return Malformed(
                number,
                f"not valid UTF-8 (byte 0x{bad} at position {error.start})",
                _excerpt(raw.decode("utf-8", "replace")),
            )
    text = raw.rstrip("\r\n")
    if not text.strip():
        return None
    fields = text.split("|")
    if len(fields) != layout.width and not (
        layout.trailing_empty and len(fields) == layout.width - 1
    ):
        return Malformed(
            number,
            f"{len(fields)} columns, expected {layout.width}",
            _excerpt(text),
        )

    positions = layout.positions

    def get(attribute: str) -> str:
        position = positions.get(attribute)
        return fields[position].strip() if position is not None else ""

    id_type = get("id_type")
    identifier = get("identifier")
    if id_type == ADELI_TYPE:
        return Skipped(number, "ADELI number, not an RPPS number")
    if id_type != RPPS_TYPE:
        return Malformed(
            number,
            f"unknown identifier type {id_type!r} (8 is RPPS, 0 is ADELI)",
            _excerpt(text),
        )
    rpps = "".join(identifier.split())
    if len(rpps) != 11 or not rpps.isdigit():
        return Malformed(number, f"RPPS number {identifier!r} is not 11 digits", _excerpt(text))
    last_name = get("last_name")
    if not last_name:
        return Malformed(number, "missing last name (Nom d'exercice)", _excerpt(text))

    site_name = get("company_name") or get("trade_name")
    address = build_address(
        number=get("street_number"),
        repetition=get("repetition"),
        street_type=get("street_type") or get("street_type_code"),
        street=get("street"),
        complement=get("place_complement"),
    )
    postcode, city = get("postcode"), get("city")
    cedex_office = get("cedex_office")
    if not city or not postcode:
        cedex_postcode, cedex_city = split_cedex_office(cedex_office)
        postcode = postcode or cedex_postcode
        city = city or cedex_city
    structure_id = get("structure_id") or derived_structure_key(
        site_name, address, postcode, city, get("finess")
    )
    profession_label, skill_label = get("profession_label"), get("skill_label")
    return Record(
        line=number,
        rpps=rpps,
        structure_id=structure_id,
        civility=get("civility"),
        first_name=get("first_name"),
        last_name=last_name,
        profession_code=get("profession_code"),
        profession_label=profession_label,
        skill_code=get("skill_code"),
        skill_label=skill_label,
        specialty_code=specialty_for(profession_label, skill_label),
        mode=get("mode"),
        site_name=site_name,
        address=address,
        postcode=postcode,
        city=display_case(city),
        phone=get("phone") or get("phone2"),
        email=get("email"),
        finess=get("finess"),
    )


def _excerpt(text: str) -> str:
    text = text.rstrip("\r\n")
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"


def derived_structure_key(*parts: str) -> str:
    """A stable key for an activity the file gives no structure identifier: the same place
    gives the same key on every import, so re-importing updates the row instead of adding one."""
    digest = hashlib.blake2b("|".join(fold(p) for p in parts).encode(), digest_size=10)
    return DERIVED_KEY_PREFIX + digest.hexdigest()


@lru_cache(maxsize=16_384)  # cities, street types and names repeat all along the file
def display_case(text: str, *, capitalise_first: bool = True) -> str:
    """A name written in capitals in the extract, in the case people write it.

    "SAINT-MAUR-DES-FOSSES" -> "Saint-Maur-des-Fosses", "RUE DE LA PAIX" -> "Rue de la Paix";
    text already in mixed case is kept as it is (it was written by a person).
    ``capitalise_first=False`` for the middle of a phrase: "DE LA PAIX" -> "de la Paix".
    """
    if not text or not text.isupper():
        return text

    def word_case(word: str, first: bool) -> str:
        if "'" in word:  # "L'HAY" -> "L'Hay", "D'ARTOIS" -> "d'Artois"
            head, _, tail = word.partition("'")
            head = head.capitalize() if first else head.lower()
            return head + "'" + word_case(tail, False)
        lower = word.lower()
        if not first and lower in SMALL_WORDS:
            return lower
        return lower[:1].upper() + lower[1:]

    # re.split with a group alternates words (even places) and separators (odd places).
    parts = re.split(r"([\s-]+)", text)
    return "".join(
        part if place % 2 else word_case(part, first=place == 0 and capitalise_first)
        for place, part in enumerate(parts)
    )


def build_address(
    *, number: str, repetition: str, street_type: str, street: str, complement: str = ""
) -> str:
    """One address line from the extract's parts: "12 bis Rue de la Paix, Bâtiment A"."""
    index = REPETITION_WORDS.get(repetition.upper(), repetition.lower()) if repetition else ""
    street_type = display_case(street_type)
    street = display_case(street, capitalise_first=not street_type)
    line = " ".join(part for part in (number, index, street_type, street) if part)
    complement = display_case(complement)
    if complement and line:
        return f"{line}, {complement}"
    return line or complement


def split_cedex_office(office: str) -> tuple[str, str]:
    """Postcode and city from a "Bureau cedex" value: "75015 PARIS CEDEX 15" -> 75015, PARIS."""
    match = re.match(r"^\s*(\d[\dAB]\d{3})\s+(.*?)(?:\s+CEDEX(?:\s+\d+)?)?\s*$", office, re.I)
    if match is None:
        return "", office.strip()
    return match.group(1), match.group(2).strip()


# Consulto specialties by folded keywords, tried in order; a keyword matches whole words.
PROFESSION_SPECIALTIES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("chirurgien dentiste", "dentiste"), "chirurgien-dentiste"),
    (("masseur kinesitherapeute", "kinesitherapeute"), "kinesitherapeute"),
    (("infirmier", "infirmiere"), "infirmier"),
    (("sage femme",), "sage-femme"),
    (("pedicure podologue",), "podologue"),
    (("orthophoniste",), "orthophoniste"),
    (("orthoptiste",), "orthoptiste"),
    (("dieteticien", "dieteticienne"), "dieteticien"),
    (("psychologue",), "psychologue"),
    (("osteopathe",), "osteopathe"),
)
DOCTOR_SPECIALTIES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("medecine generale",), "medecin-generaliste"),
    (("cardiologie",), "cardiologue"),
    (("pediatrie",), "pediatre"),
    (("gynecologie", "obstetrique"), "gynecologue"),
    (("ophtalmologie",), "ophtalmologue"),
    (("dermatologie",), "dermatologue"),
    (("psychiatrie", "pedopsychiatrie"), "psychiatre"),
    (("oto rhino laryngologie", "orl"), "orl"),
    (("radiodiagnostic", "radio diagnostic", "radiologie", "imagerie medicale"), "radiologue"),
    (("gastro enterologie",), "gastro-enterologue"),
    (("endocrinologie",), "endocrinologue"),
    (("rhumatologie",), "rhumatologue"),
    (("pneumologie",), "pneumologue"),
    (("neurologie",), "neurologue"),
    (("urologie", "chirurgie urologique"), "urologue"),
    (("allergologie",), "allergologue"),
    (("chirurgie orthopedique",), "chirurgien-orthopediste"),
    (("stomatologie",), "stomatologue"),
    (("medecine vasculaire", "angiologie"), "angiologue"),
    (("nephrologie",), "nephrologue"),
    (("geriatrie",), "geriatre"),
)
SPECIALTY_CODES = frozenset(s.code for s in SPECIALTIES)


def _first_match(folded: str, rules: tuple[tuple[tuple[str, ...], str], ...]) -> str:
    padded = f" {folded} "
    for keywords, code in rules:
        if any(f" {keyword} " in padded for keyword in keywords):
            return code
    return ""


@lru_cache(maxsize=1024)  # a few hundred pairs of labels in the whole directory
def specialty_for(profession_label: str, skill_label: str) -> str:
    """Consulto's specialty code for a profession and savoir-faire of the extract, or "".

    A doctor is known by their savoir-faire ("Médecine générale", "Cardiologie et maladies
    vasculaires"); a doctor without one is left unknown rather than assumed a GP. Other
    professions are known by the profession alone (a dentist in orthodontics is a dentist).
    """
    profession = fold(profession_label)
    if profession in {"medecin", "medecins"}:
        return _first_match(fold(skill_label), DOCTOR_SPECIALTIES)
    return _first_match(profession, PROFESSION_SPECIALTIES)
