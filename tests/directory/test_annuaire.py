"""The pure parser of the Annuaire Santé extract: columns by name, one item per line, no stop."""

import random
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consulto.directory.annuaire import (
    HEADER,
    HEADER_NAMES,
    HeaderError,
    Malformed,
    Record,
    Skipped,
    build_address,
    display_case,
    parse,
    specialty_for,
    split_cedex_office,
)
from consulto.directory.specialties import SPECIALTIES

GP = {
    "Type d'identifiant PP": "8",
    "Identifiant PP": "19900000019",
    "Identification nationale PP": "819900000019",
    "Code civilité d'exercice": "DR",
    "Libellé civilité d'exercice": "Docteur",
    "Code civilité": "MME",
    "Libellé civilité": "Madame",
    "Nom d'exercice": "BERNARDIN",
    "Prénom d'exercice": "JULIE",
    "Code profession": "10",
    "Libellé profession": "Médecin",
    "Code type savoir-faire": "S",
    "Libellé type savoir-faire": "Spécialité ordinale",
    "Code savoir-faire": "SM54",
    "Libellé savoir-faire": "Médecine générale",
    "Code mode exercice": "L",
    "Libellé mode exercice": "Libéral",
    "Identifiant technique de la structure": "R10100000000001",
    "Raison sociale site": "CABINET MEDICAL",
    "Numéro Voie (coord. structure)": "12",
    "Indice répétition voie (coord. structure)": "B",
    "Code type de voie (coord. structure)": "R",
    "Libellé type de voie (coord. structure)": "Rue",
    "Libellé Voie (coord. structure)": "DE LA PAIX",
    "Bureau cedex (coord. structure)": "75002 PARIS",
    "Code postal (coord. structure)": "75002",
    "Libellé commune (coord. structure)": "PARIS",
    "Téléphone (coord. structure)": "0199000101",
    "Adresse e-mail (coord. structure)": "cabinet@example.org",
    "Numéro FINESS site": "",
}


def data_line(names: tuple[str, ...] = HEADER_NAMES, **changes: str) -> str:
    """A data line for a header: the GP above, with ``changes`` (by header name)."""
    values = GP | changes
    return "|".join(values.get(name, "") for name in names)


def parse_one(line: str | bytes, header: str = HEADER):
    items = list(parse([header, line]))
    assert len(items) == 1
    return items[0]


def test_it_reads_a_gp_activity_ready_for_display():
    record = parse_one(data_line())
    assert isinstance(record, Record)
    assert record.line == 2
    assert (record.rpps, record.structure_id) == ("19900000019", "R10100000000001")
    assert (record.civility, record.first_name, record.last_name) == (
        "Docteur",
        "JULIE",
        "BERNARDIN",
    )
    assert (record.skill_code, record.skill_label) == ("SM54", "Médecine générale")
    assert record.specialty_code == "medecin-generaliste"
    assert record.mode == "Libéral"
    assert record.site_name == "CABINET MEDICAL"
    assert record.address == "12 bis Rue de la Paix"
    assert (record.postcode, record.city) == ("75002", "Paris")
    assert (record.phone, record.email) == ("0199000101", "cabinet@example.org")


def test_the_city_comes_from_the_cedex_office_when_the_commune_label_is_empty():
    line = data_line(
        **{
            "Libellé commune (coord. structure)": "",
            "Code postal (coord. structure)": "",
            "Bureau cedex (coord. structure)": "75015 PARIS CEDEX 15",
        }
    )
    record = parse_one(line)
    assert (record.postcode, record.city) == ("75015", "Paris")


def test_the_trade_name_stands_for_a_missing_company_name():
    record = parse_one(
        data_line(**{"Raison sociale site": "", "Enseigne commerciale site": "Cabinet du Parc"})
    )
    assert record.site_name == "Cabinet du Parc"


def test_an_adeli_line_is_skipped_not_malformed():
    item = parse_one(data_line(**{"Type d'identifiant PP": "0", "Identifiant PP": "759312345"}))
    assert item == Skipped(2, "ADELI number, not an RPPS number")


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (data_line() + "|extra", "54 columns, expected 53"),
        ("8|19900000019|Dupont", "3 columns, expected 53"),
        (data_line(**{"Identifiant PP": "1990000001"}), "RPPS number '1990000001' is not 11"),
        (data_line(**{"Identifiant PP": "1990000001X"}), "is not 11 digits"),
        (data_line(**{"Nom d'exercice": "  "}), "missing last name"),
        (data_line(**{"Type d'identifiant PP": "3"}), "unknown identifier type '3'"),
        (data_line(**{"Nom d'exercice": "CAF"}).encode() + b"\xe9", "not valid UTF-8"),
    ],
)
def test_a_malformed_line_says_why(line, reason):
    item = parse_one(line)
    assert isinstance(item, Malformed)
    assert item.line == 2
    assert reason in item.reason
    assert str(item).startswith(f"line 2: {item.reason}")


def test_a_bad_line_does_not_stop_the_next_ones():
    lines = [
        HEADER.encode(),
        data_line().encode() + b"\n",
        b"\xff\xfe broken\n",
        b"\n",
        data_line(**{"Identifiant PP": "123"}).encode() + b"\r\n",
        data_line(**{"Nom d'exercice": "MARTIN"}).encode() + b"\r\n",
    ]
    items = list(parse(lines))
    assert [type(item) for item in items] == [Record, Malformed, Malformed, Record]
    assert [item.line for item in items] == [2, 3, 5, 6]
    assert items[-1].last_name == "MARTIN"


def test_a_line_without_the_trailing_pipe_is_read():
    line = data_line()
    assert line.endswith("|")
    assert isinstance(parse_one(line[:-1]), Record)


def test_columns_are_found_by_name_whatever_their_order_or_extra_columns():
    newer = [*HEADER_NAMES[:-1], "Code rôle", "Libellé rôle", "Code genre activité", ""]
    shuffled = newer[:-1]
    random.Random(4).shuffle(shuffled)
    expected = parse_one(data_line())
    for names in (newer, [*shuffled, ""]):
        header = "|".join(names)
        line = data_line(tuple(names), **{"Code rôle": "FON-AU", "Libellé rôle": "Autre"})
        assert parse_one(line, header) == expected


def test_a_header_with_a_byte_order_mark_or_other_quotes_is_read():
    header = "\ufeff" + HEADER.replace("'", "’")
    assert isinstance(parse_one(data_line().encode(), header.encode()), Record)


def test_a_header_without_a_needed_column_is_refused_clearly():
    names = [name for name in HEADER_NAMES if name != "Identifiant PP"]
    with pytest.raises(HeaderError, match="missing column Identifiant PP"):
        list(parse(["|".join(names), "x"]))
    with pytest.raises(HeaderError, match="not the header"):
        list(parse(["a;b;c\n"]))
    with pytest.raises(HeaderError, match="empty"):
        list(parse([]))


def test_an_activity_without_structure_identifier_gets_a_stable_key_of_its_place():
    no_id = {"Identifiant technique de la structure": ""}
    first = parse_one(data_line(**no_id))
    again = parse_one(data_line(**no_id, **{"Téléphone (coord. structure)": "0199000999"}))
    elsewhere = parse_one(data_line(**no_id, **{"Numéro Voie (coord. structure)": "14"}))
    assert first.structure_id.startswith("h:")
    assert first.structure_id == again.structure_id != elsewhere.structure_id


@pytest.mark.parametrize(
    ("profession", "skill", "code"),
    [
        ("Médecin", "Médecine générale", "medecin-generaliste"),
        ("Médecin", "Qualifié en Médecine Générale", "medecin-generaliste"),
        ("Médecin", "Spécialiste en médecine générale", "medecin-generaliste"),
        ("Médecin", "Cardiologie et maladies vasculaires", "cardiologue"),
        ("Médecin", "Pédiatrie", "pediatre"),
        ("Médecin", "Gynécologie-obstétrique", "gynecologue"),
        ("Médecin", "O.R.L et chirurgie cervico faciale", "orl"),
        ("Médecin", "Radio-diagnostic et imagerie médicale", "radiologue"),
        ("Médecin", "Neuro-chirurgie", ""),
        ("Médecin", "Santé publique et médecine sociale", ""),
        ("Médecin", "", ""),  # a doctor without savoir-faire is not assumed a GP
        ("Chirurgien-Dentiste", "Orthopédie dento-faciale", "chirurgien-dentiste"),
        ("Masseur-Kinésithérapeute", "", "kinesitherapeute"),
        ("Infirmier", "", "infirmier"),
        ("Sage-Femme", "", "sage-femme"),
        ("Pédicure-Podologue", "", "podologue"),
        ("Podo-Orthésiste", "", ""),
        ("Orthophoniste", "", "orthophoniste"),
        ("Orthoptiste", "", "orthoptiste"),
        ("Diététicien", "", "dieteticien"),
        ("Psychologue", "", "psychologue"),
        ("Pharmacien", "", ""),
    ],
)
def test_specialties_map_from_profession_and_skill_labels(profession, skill, code):
    assert specialty_for(profession, skill) == code


def test_address_parts_and_cedex_offices():
    assert (
        build_address(number="3", repetition="T", street_type="AV", street="JEAN JAURES")
        == "3 ter Av Jean Jaures"
    )
    assert (
        build_address(number="", repetition="", street_type="", street="", complement="BATIMENT A")
        == "Batiment A"
    )
    assert split_cedex_office("69003 LYON") == ("69003", "LYON")
    assert split_cedex_office("") == ("", "")
    assert display_case("L'HAY-LES-ROSES") == "L'Hay-les-Roses"
    assert display_case("Saint-Denis") == "Saint-Denis"


def test_the_parser_imports_no_django():
    code = "import sys, consulto.directory.annuaire; print('django' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


field_text = st.text(
    st.characters(blacklist_characters="|\r\n", blacklist_categories=("Cs",)), max_size=40
)


@given(lines=st.lists(st.binary(max_size=300).map(lambda b: b.replace(b"\n", b"")), max_size=20))
def test_any_bytes_give_one_item_per_non_blank_line_and_never_an_exception(lines):
    items = list(parse([HEADER.encode(), *lines]))
    non_blank = [
        number
        for number, line in enumerate(lines, start=2)
        if line.decode("utf-8", "replace").strip()
    ]
    assert [item.line for item in items] == non_blank
    assert all(isinstance(item, Record | Skipped | Malformed) for item in items)


@given(first=field_text, last=field_text, site=field_text, city=field_text)
def test_field_values_come_through_trimmed(first, last, site, city):
    line = data_line(
        **{
            "Prénom d'exercice": first,
            "Nom d'exercice": last,
            "Raison sociale site": site,
            "Libellé commune (coord. structure)": city,
        }
    )
    item = parse_one(line)
    if not last.strip():
        assert isinstance(item, Malformed)
        return
    assert (item.first_name, item.last_name) == (first.strip(), last.strip())
    if site.strip():
        assert item.site_name == site.strip()
    if city.strip():
        assert item.city.casefold() == display_case(city.strip()).casefold()


@given(profession=st.text(max_size=40), skill=st.text(max_size=60))
def test_specialty_mapping_is_total_and_gives_known_codes(profession, skill):
    assert specialty_for(profession, skill) in {s.code for s in SPECIALTIES} | {""}


@given(st.text(st.sampled_from("ABCDEÉÈLMNOSTU '-"), max_size=40))
def test_display_case_changes_only_the_case(text):
    assert display_case(text).casefold() == text.casefold()
