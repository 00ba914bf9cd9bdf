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
