"""Places typed by patients resolve without any network service."""

from consulto.directory.places import find_place, folded


def test_a_city_resolves_whatever_its_accents_case_or_hyphens():
    assert find_place("Saint-Étienne") == find_place("st etienne") == find_place("SAINT ETIENNE")
    lat, lon = find_place("Saint-Étienne")
    assert 45.3 < lat < 45.6 and 4.2 < lon < 4.5


def test_a_postcode_or_its_department_resolves_to_the_centre_of_its_places():
    lat, lon = find_place("69")
    assert 45 < lat < 46.5 and 4 < lon < 5.5
    assert find_place("75019") is not None


def test_an_unknown_place_is_none():
    assert find_place("Atlantis") is None
    assert find_place("   ") is None


def test_folding_keeps_words_apart():
    assert folded("L'Haÿ-les-Roses") == "l hay les roses"
