"""Search: by specialty or name, by place, with filters, sorted, paginated."""

from datetime import timedelta

import pytest

from consulto.directory.models import Practitioner
from consulto.scheduling.models import Agenda, Motive, Opening
from tests.conftest import valid_rpps

pytestmark = pytest.mark.django_db


def clone_gp(world, n: int, **fields) -> Practitioner:
    """Another GP at the same practice, with the same week."""
    gp = Practitioner.objects.create(
        title="Dr",
        first_name=f"Prénom{n}",
        last_name=fields.pop("last_name", f"Nom{n:03d}"),
        rpps=valid_rpps(100 + n),
        specialty=world.gp.specialty,
        **fields,
    )
    agenda = Agenda.objects.create(
        organisation=world.organisation, practitioner=gp, site=world.site, name=gp.last_name
    )
    motive = Motive.objects.create(agenda=agenda, label="Consultation", duration_minutes=20)
    for opening in world.agenda.openings.all():
        copy = Opening.objects.create(
            agenda=agenda,
            site=world.site,
            weekday=opening.weekday,
            start_time=opening.start_time,
            end_time=opening.end_time,
            valid_from=opening.valid_from,
        )
        copy.motives.set([motive])
    return gp


def names(response) -> list[str]:
    return [hit["hit"].practitioner.last_name for hit in response.context["hits"]]


def test_a_specialty_typed_in_words_is_understood(client, world):
    response = client.get("/", {"what": "médecin généraliste", "where": "Paris"})
    assert names(response) == ["Martin"]


def test_a_practitioners_name_is_searched(client, world):
    clone_gp(world, 1, last_name="Lefort")
    response = client.get("/", {"what": "lefort"})
    assert names(response) == ["Lefort"]


def test_the_specialty_box_suggests_specialties(client, world):
    page = client.get("/").content.decode()
    assert 'list="specialties"' in page and '<option value="Pédiatre">' in page


def test_filters_by_language_and_sector(client, world):
    clone_gp(world, 1, last_name="Polyglotte", languages="fr,en,ar", convention_sector="2")
    by_language = client.get("/", {"what": "Médecin généraliste", "language": "ar"})
    assert names(by_language) == ["Polyglotte"]
    by_sector = client.get("/", {"what": "Médecin généraliste", "sector": "1"})
    assert names(by_sector) == ["Martin"]


def test_available_within_n_days_hides_those_booked_up(client, world):
    far = clone_gp(world, 1, last_name="Lointain")
    Opening.objects.filter(agenda__practitioner=far).update(
        valid_from=world.monday + timedelta(days=30)
    )
    response = client.get("/", {"what": "Médecin généraliste", "within": "7"})
    assert names(response) == ["Martin"]


def test_results_are_paginated_by_twenty(client, world):
    for n in range(21):
        clone_gp(world, n)
    first = client.get("/", {"what": "Médecin généraliste"})
    assert first.context["count"] == 22 and len(names(first)) == 20
    second = client.get("/", {"what": "Médecin généraliste", "page": 2})
    assert len(names(second)) == 2
    assert "Page 2 sur 2" in second.content.decode()


def test_an_empty_filtered_search_suggests_removing_filters(client, world):
    page = client.get("/", {"what": "Médecin généraliste", "language": "de"}).content.decode()
    assert "Des filtres sont actifs" in page


# --- as French users type: accents, capitals, abbreviations, typos -----------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "generaliste",
        "MÉDECIN GÉNÉRALISTE",
        "medecin generaliste",
        "Généraliste",
        "médecin traitant",
    ],
)
def test_a_specialty_is_found_whatever_its_accents_and_capitals(client, world, typed):
    response = client.get("/", {"what": typed, "where": "Paris"})
    assert names(response) == ["Martin"]
    assert "Médecin généraliste" in response.content.decode()


@pytest.fixture
def specialists(world):
    from consulto.directory.models import Specialty

    made = {}
    for n, (code, first, last) in enumerate(
        [
            ("cardiologue", "Thierry", "Lefèvre"),
            ("kinesitherapeute", "Zoé", "Garçon"),
            ("chirurgien-dentiste", "Éloïse", "D'Alembert"),
            ("ophtalmologue", "Jean-Noël", "Nguyen"),
        ],
        start=1,
    ):
        gp = clone_gp(world, n, last_name=last)
        gp.first_name = first
        gp.specialty = Specialty.objects.get(code=code)
        gp.save()
        made[code] = gp
    return made


@pytest.mark.parametrize(
    "typed, found",
    [
        ("lefevre", "Lefèvre"),
        ("LEFÈVRE", "Lefèvre"),
        ("thierry", "Lefèvre"),
        ("dr thierry lefevre", "Lefèvre"),
        ("garcon", "Garçon"),
        ("eloise d'alembert", "D'Alembert"),
        ("alembert", "D'Alembert"),
        ("jean noel", "Nguyen"),
        ("kiné", "Garçon"),
        ("dentiste", "D'Alembert"),
        ("ophtalmo", "Nguyen"),
        ("cardio lefevre", "Lefèvre"),
    ],
)
def test_names_and_specialties_are_found_as_people_type_them(client, specialists, typed, found):
    response = client.get("/", {"what": typed})
    assert names(response) == [found]
    assert "les plus proches" not in response.content.decode()


@pytest.mark.parametrize(
    "typed, found",
    [
        ("thiery", "Lefèvre"),
        ("lefebre", "Lefèvre"),
        ("nguyem", "Nguyen"),
        ("cardiolgue", "Lefèvre"),
    ],
)
def test_a_misspelt_name_or_specialty_finds_the_closest_and_says_so(
    client, specialists, typed, found
):
    response = client.get("/", {"what": typed})
    assert names(response) == [found]
    page = response.content.decode()
    if typed == "cardiolgue":  # understood as the specialty it is closest to
        assert "Spécialité : Cardiologue" in page
    else:
        assert f"Aucun nom ni aucune spécialité ne s’écrit « {typed} »" in page


def test_a_typo_does_not_match_everyone(client, specialists):
    assert names(client.get("/", {"what": "xqzwvy"})) == []
    # Only the misspelt word is taken loosely: the other still has to match.
    assert names(client.get("/", {"what": "thiery nguyen"})) == []


def test_an_ambiguous_place_lets_the_patient_choose(client, world):
    response = client.get("/", {"what": "generaliste", "where": "Vitry"})
    page = response.content.decode()
    assert response.context["hits"] == []
    assert "Plusieurs communes correspondent" in page
    assert "Vitry-sur-Seine (94)" in page and "Vitry-le-François (51)" in page
    assert "where=Vitry-sur-Seine+%2894%29" in page and "what=generaliste" in page
    chosen = client.get("/", {"what": "generaliste", "where": "Vitry-sur-Seine (94)"})
    assert names(chosen) == ["Martin"]  # 19th arrondissement: within 25 km of Vitry


def test_an_unknown_place_suggests_what_it_may_be(client, world):
    page = client.get("/", {"what": "generaliste", "where": "Parsi"}).content.decode()
    assert "Nous ne connaissons pas « Parsi ». Vouliez-vous dire :" in page
    assert "where=Paris" in page and ">Paris (75)</a>" in page


def test_other_places_of_the_same_name_are_offered(client, world):
    page = client.get("/", {"where": "Saint-Denis"}).content.decode()
    assert "Autres communes de ce nom" in page and "Saint-Denis (93)" in page


def test_the_api_searches_the_same_way(client, specialists, world):
    def api(**params):
        response = client.get("/api/v1/practitioners", params)
        assert response.status_code == 200, response.content
        return sorted(r["name"].rsplit(" ", 1)[-1] for r in response.json()["results"])

    assert api(q="thiery") == ["Lefèvre"]
    assert api(q="LEFÈVRE") == ["Lefèvre"]
    assert api(q="kine") == ["Garçon"]
    assert api(specialty="generaliste") == ["Martin"]
    assert api(specialty="cardiologue") == ["Lefèvre"]
    assert api(specialty="Médecin généraliste") == ["Martin"]
    assert api(specialty="nothing-like-it") == []
    # A NUL byte never reaches the database (PostgreSQL refuses it in a query): the API says no.
    for params in ({"q": "lefe\x00vre"}, {"specialty": "\x00"}):
        refused = client.get("/api/v1/practitioners", params)
        assert refused.status_code == 422 and "NUL" in refused.json()["fields"][next(iter(params))]


@pytest.mark.parametrize(
    "params",
    [{"what": "a\x00b"}, {"what": "\x00"}, {"specialty": "\x00"}, {"where": "Par\x00is"}],
)
def test_a_nul_byte_in_a_search_is_refused_plainly(client, world, params):
    response = client.get("/", params)
    assert response.status_code == 400 and "Demande non valide" in response.content.decode()


@pytest.mark.parametrize(
    "params", [{"what": "a\x01b"}, {"what": "\u200bmartin"}, {"where": "Par\x1fis"}]
)
def test_other_control_characters_in_a_search_are_no_error(client, world, params):
    assert client.get("/", params).status_code == 200
