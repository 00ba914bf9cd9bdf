from datetime import date, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.formats import date_format

from consulto.scheduling.models import Absence
from tests.conftest import PARIS, at

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


def _days_from_today(n: int) -> list[date]:
    today = timezone.localdate()
    return [today + timedelta(days=i) for i in range(n)]


def _fr(day: date, pattern: str) -> str:
    with translation.override("fr"):
        return date_format(day, pattern)


def test_each_card_offers_its_first_four_slots_a_day_over_five_days(client, world):
    """Five days from today, whatever today is (the suite may run on a Saturday night before
    the clocks go forward); a weekday other than today offers its first four slots."""
    page = client.get("/", {"what": "Médecin généraliste", "where": "Paris"}).content.decode()
    card = page[page.index('<li class="card">') :]
    days = _days_from_today(5)
    assert [h.split("</h3>")[0] for h in card.split("<h3>")[1:6]] == [
        _fr(day, "D j b") for day in days
    ]
    weekday = next(day for day in days[1:] if day.weekday() < 5)  # the world opens Mon-Fri
    shown = card.split(f"<h3>{_fr(weekday, 'D j b')}</h3>")[1].split("</div>")[0]
    assert shown.count('class="slot"') == 4  # of the 14 the morning and afternoon hold
    assert (
        f'<button type="submit" name="start" value="{at(weekday, 9).isoformat()}" class="slot"'
        f' aria-label="{_fr(weekday, "l j F")} 09:00">09:00</button>'
    ) in shown
    # The next availability written on the card is the first slot it offers.
    first = card.split('class="slot" aria-label="')[1].split('"')[0]
    moment, _space, hour = first.rpartition(" ")
    assert f"Prochaine disponibilité : {moment}, {hour}" in card


def test_a_first_availability_after_the_days_shown_is_written_in_full(client, world):
    today = timezone.localdate()
    back = today + timedelta(days=6)
    Absence.objects.create(
        agenda=world.agenda,
        start=datetime.combine(today, time(0), tzinfo=PARIS),
        end=datetime.combine(back, time(0), tzinfo=PARIS),
    )
    page = client.get("/", {"what": "Médecin généraliste", "where": "Paris"}).content.decode()
    card = page[page.index('<li class="card">') :]
    assert 'class="slot"' not in card and card.count('<p class="none">—</p>') == 5
    first = next(
        back + timedelta(days=i) for i in range(7) if (back + timedelta(days=i)).weekday() < 5
    )
    assert f"Prochaine disponibilité : {_fr(first, 'l j F')}, 09:00" in card


def test_a_results_page_reads_the_specialties_from_the_cache(client, world):
    search = {"what": "generaliste", "where": "Paris"}
    client.get("/", search)
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/", search).content.decode()
    assert 'option value="Médecin généraliste"' in page  # the datalist of every specialty
    assert "Spécialité : Médecin généraliste" in page  # what "generaliste" was taken for
    assert not [q for q in queries if 'FROM "directory_specialty"' in q["sql"]]
