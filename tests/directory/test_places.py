"""Places typed by patients or read from the directory resolve without any network service."""

import csv
import math
from zoneinfo import available_timezones

import pytest

from consulto.directory.places import (
    COLUMNS,
    POSTCODES_CSV,
    PRECISIONS,
    PlaceMatch,
    city_key,
    find_place,
    folded,
    load_places,
    locate,
    understand_place,
)


def km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371 * math.asin(math.sqrt(h))


def at(location) -> tuple[float, float]:
    return location.lat, location.lon


# --- find_place: what patients type ----------------------------------------------------------


def test_a_city_resolves_whatever_its_accents_case_or_hyphens():
    assert find_place("Saint-Étienne") == find_place("st etienne") == find_place("SAINT ETIENNE")
    lat, lon = find_place("Saint-Étienne")
    assert 45.3 < lat < 45.6 and 4.2 < lon < 4.5


def test_a_postcode_or_its_department_resolves_to_the_centre_of_its_places():
    lat, lon = find_place("69")
    assert 45 < lat < 46.5 and 4 < lon < 5.5
    assert km(find_place("75019"), (48.8817, 2.3822)) < 1
    # Weighted by population, a department's centre sits where its people are: by Lyon.
    assert km(find_place("69"), (45.76, 4.84)) < 15


def test_paris_lyon_and_marseille_are_found_by_name_through_their_arrondissements():
    assert km(find_place("Paris"), (48.857, 2.35)) < 3
    assert km(find_place("Lyon"), (45.76, 4.84)) < 3
    assert km(find_place("Marseille"), (43.30, 5.38)) < 6
    assert find_place("Paris") == find_place("75")
    assert km(find_place("Paris 16e"), (48.8637, 2.2769)) < 1


def test_any_commune_is_found_not_only_big_cities():
    lat, lon = find_place("Ramerupt")  # 500 inhabitants in the Aube
    assert 48.3 < lat < 48.8 and 4 < lon < 4.5
    assert find_place("Lecci") is not None
    assert find_place("Le Tampon")[0] < -21  # La Réunion


def test_among_homonyms_the_most_populous_wins_unless_a_department_is_given():
    valence = find_place("Valence")
    assert km(valence, (44.93, 4.89)) < 5  # the Drôme's, not the Charente's village
    assert find_place("Valence 26") == valence
    assert km(find_place("Valence (82)"), (44.93, 4.89)) > 100  # Tarn-et-Garonne
    assert km(find_place("Saint-Denis (93)"), (48.936, 2.357)) < 3
    assert km(find_place("Saint-Denis 97400"), (-20.88, 55.45)) < 3
    assert find_place("93200 Saint-Denis") == find_place("Saint-Denis (93)")
    assert find_place("26 Atlantis") is None


def test_an_unknown_place_is_none():
    assert find_place("Atlantis") is None
    assert find_place("   ") is None
    assert find_place("00") is None


def test_folding_keeps_words_apart():
    assert folded("L'Haÿ-les-Roses") == "l hay les roses"
    assert folded("Saint-Ouen-l’Aumône") == "st ouen l aumone"
    assert folded("Cœuvres-et-Valsery") == "coeuvres et valsery"
    assert folded("SAINTE-ANNE") == folded("Ste Anne") == "ste anne"
    assert folded("Saintes") == "saintes"


def test_a_city_key_drops_cedex_and_spells_arrondissements_one_way():
    assert city_key("SAINT-ETIENNE CEDEX 2") == "st etienne"
    assert (
        city_key("Paris 16e Arrondissement")
        == city_key("PARIS 16EME")
        == city_key("Paris 16")
        == "paris 16"
    )
    assert city_key("Lyon 1er") == "lyon 1"


# --- locate: what the directory gives --------------------------------------------------------


def test_a_paris_arrondissement_is_located_as_itself():
    sixteenth = locate("75016", "Paris")
    assert sixteenth.name == "Paris 16e Arrondissement"
    assert sixteenth.precision == "commune" and sixteenth.timezone == "Europe/Paris"
    assert km(at(sixteenth), (48.8637, 2.2769)) < 1
    assert locate("75116", "PARIS 16E ARRONDISSEMENT") == sixteenth
    # 75016 also serves a few streets of Boulogne-Billancourt: they do not move its centre.
    assert locate("75016") == sixteenth
    assert locate("75016", "Boulogne-Billancourt").name == "Boulogne-Billancourt"


def test_a_marseille_postcode_shared_by_two_arrondissements_is_the_one_of_its_number():
    fourth = locate("13004", "MARSEILLE")
    assert fourth.name == "Marseille 4e Arrondissement"
    assert locate("13004", "Marseille 12e Arrondissement").name == "Marseille 12e Arrondissement"
    assert locate("69003", "Lyon").name == "Lyon 3e Arrondissement"


def test_a_rural_commune_is_located_with_the_precision_it_has():
    village = locate("01090", "Genouilleux")  # 700 inhabitants, no point of its own
    assert village.name == "Genouilleux" and village.precision == "postcode"
    neighbour = locate("01090", "Francheleins")
    assert neighbour.precision == "commune"
    assert km(at(village), at(neighbour)) < 10
    # A postcode alone: the centre of its communes, said to be no better than that.
    whole = locate("10240")
    assert whole.precision in PRECISIONS[1:]
    assert 48.3 < whole.lat < 48.8 and 4 < whole.lon < 4.5


def test_a_city_matches_whatever_its_accents_case_or_hyphens():
    expected = locate("94240", "L'Haÿ-les-Roses")
    assert expected.name == "L'Haÿ-les-Roses" and expected.precision == "commune"
    assert locate("94240", "L HAY LES ROSES") == locate("94240", "l'hay-les-roses") == expected
    assert locate("42000", "ST ETIENNE") == locate("42000", "Saint-Étienne")
    assert locate("42000", "ST ETIENNE").name == "Saint-Étienne"


def test_a_city_that_is_not_in_the_postcode_gives_the_postcode_centre():
    assert locate("42000", "Atlantis") == locate("42000")


def test_a_cedex_postcode_finds_the_city_in_its_department():
    cedex = locate("42007", "SAINT-ETIENNE CEDEX 1")
    assert cedex == locate("42000", "Saint-Étienne")
    assert locate("42007") is None  # a CEDEX is no place without its city
    assert locate("69007", "Saint-Étienne").name != "Saint-Étienne"  # only in its department


@pytest.mark.parametrize(
    ("postcode", "zone"),
    [
        ("97400", "Indian/Reunion"),
        ("97600", "Indian/Mayotte"),
        ("97200", "America/Martinique"),
        ("97100", "America/Guadeloupe"),
        ("97300", "America/Cayenne"),
        ("97500", "America/Miquelon"),
        ("97133", "America/St_Barthelemy"),
        ("97150", "America/Marigot"),
        ("98800", "Pacific/Noumea"),
        ("98714", "Pacific/Tahiti"),
        ("98742", "Pacific/Marquesas"),
        ("98600", "Pacific/Wallis"),
        ("29200", "Europe/Paris"),
    ],
)
def test_an_overseas_postcode_has_its_time_zone(postcode, zone):
    assert locate(postcode).timezone == zone


def test_la_reunion_is_located_in_the_indian_ocean():
    saint_denis = locate("97400", "Saint-Denis")
    assert saint_denis.precision == "commune"
    assert km(at(saint_denis), (-20.88, 55.45)) < 3


@pytest.mark.parametrize("postcode", ["00000", "99999", "7500", "750016", "abcde", "", "  "])
def test_an_unknown_or_malformed_postcode_is_none(postcode):
    assert locate(postcode) is None
    assert locate(postcode, "Paris") is None


def test_spaces_in_a_postcode_are_ignored():
    assert locate(" 75 016 ", "Paris") == locate("75016", "Paris")


# --- the table itself ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    with POSTCODES_CSV.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_table_is_sorted_sound_and_small(rows):
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) > 35_000
    assert [r["postcode"] for r in rows] == sorted(r["postcode"] for r in rows)
    zones = available_timezones()
    for row in rows:
        assert len(row["postcode"]) == 5 and row["postcode"].isdigit()
        assert row["timezone"] in zones
        assert row["precision"] in PRECISIONS
        assert -90 <= float(row["lat"]) <= 90 and -180 <= float(row["lon"]) <= 180
        if row["timezone"] == "Europe/Paris":  # metropolitan France and Corsica
            assert 41.3 < float(row["lat"]) < 51.2 and -5.3 < float(row["lon"]) < 9.7
    assert POSTCODES_CSV.stat().st_size < 4_000_000


def test_every_row_is_found_by_its_postcode_and_name(rows):
    for row in rows[::37]:
        found = locate(row["postcode"], row["name"])
        assert found is not None and found.name == row["name"], row
        assert found.timezone == row["timezone"]


def test_every_city_of_the_demo_is_in_the_table_where_the_demo_puts_it():
    for place in load_places():
        found = locate(place.postcode, place.name)
        assert found is not None and found.precision == "commune", place
        assert km(at(found), (place.lat, place.lon)) < 5, place
        assert found.timezone == place.timezone


# --- understand_place: the place, or which places the patient may have meant ---------------------


def test_a_name_that_starts_several_communes_offers_them_the_most_populous_first():
    match = understand_place("Vitry")
    assert match.coordinates is None
    labels = [c.label for c in match.choices]
    assert labels[:2] == ["Vitry-sur-Seine (94)", "Vitry-le-François (51)"]
    assert len(labels) == len(set(labels)) <= 8
    # Each choice, typed back, is that place alone.
    chosen = find_place(match.choices[1].query)
    assert km(chosen, (48.7247, 4.5844)) < 2


def test_a_misspelt_place_suggests_those_spelt_closest():
    assert understand_place("Parsi").suggestions[0].label == "Paris (75)"
    assert understand_place("Parsi").coordinates is None
    assert understand_place("Marseile").suggestions[0].label == "Marseille (13)"
    assert understand_place("Montpelier").suggestions[0].label == "Montpellier (34)"
    assert understand_place("Parsi").suggestions[0].query == "Paris"


def test_the_start_of_a_single_communes_name_is_that_commune():
    assert km(understand_place("Strasbou").coordinates, (48.58, 7.75)) < 5


def test_saint_is_not_the_start_of_strasbourg():
    choices = [c.name for c in understand_place("Saint").choices]
    assert choices and all(name.startswith(("Saint-", "Sainte-")) for name in choices)


def test_homonyms_of_the_place_taken_are_offered_with_their_department():
    match = understand_place("Saint-Denis")
    assert match.coordinates is not None
    assert "Saint-Denis (93)" in [c.label for c in match.homonyms]
    assert understand_place("Paris").homonyms == ()
    assert understand_place("Vitry-sur-Seine").homonyms == ()


def test_the_department_is_the_communes_own_not_a_neighbours_postcode():
    labels = [c.label for c in understand_place("Boulogne").choices]
    assert "Boulogne-Billancourt (92)" in labels and "Boulogne-sur-Mer (62)" in labels


def test_nonsense_and_unknown_postcodes_offer_nothing():
    for text in ("zzzzqx", "99999", "x"):
        match = understand_place(text)
        assert match == PlaceMatch(None), text
