import pytest

pytestmark = pytest.mark.django_db


def test_the_home_page_offers_a_search_in_french(client):
    response = client.get("/")
    assert response.status_code == 200
    assert 'lang="fr"' in response.content.decode()


def test_a_search_by_city_lists_practitioners_with_their_next_slots(client, world):
    response = client.get("/", {"specialty": "medecin-generaliste", "where": "Paris"})
    page = response.content.decode()
    assert "Dr Claire Martin" in page
    assert 'class="slot"' in page


def test_an_unknown_place_says_why_nothing_was_found(client, world):
    page = client.get("/", {"where": "Atlantis"}).content.decode()
    assert "Dr Claire Martin" not in page
    assert 'role="status"' in page


def test_the_page_is_available_in_english(client, world):
    page = client.get("/en/").content.decode()
    assert 'lang="en"' in page


def test_the_home_page_speaks_french(client):
    assert "Prenez rendez-vous" in client.get("/").content.decode()


def test_slots_of_an_overseas_practice_show_in_its_own_local_time(client, world):
    # A practice in La Réunion (UTC+4) opening at 09:00 local time: its patients read 09:00,
    # not the 06:00 it is in Paris.
    world.site.timezone = "Indian/Reunion"
    world.site.save()
    world.agenda.openings.exclude(start_time="09:00").delete()
    page = client.get("/", {"specialty": "medecin-generaliste"}).content.decode()
    assert 'class="slot" aria-label="lundi' in page or 'class="slot"' in page
    assert ">09:00</button>" in page
    assert ">06:00</button>" not in page


def test_a_known_city_without_practitioners_says_so_not_unknown_place(client, world):
    page = client.get("/", {"what": "Médecin généraliste", "where": "Brest"}).content.decode()
    assert "Aucun praticien ne correspond" in page
    assert "ne connaissons pas" not in page
    assert "rayon de 25 km" in page
