"""The home page and its search, in a real browser, on a desktop and on a 375 px phone."""

import pytest

from .conftest import assert_accessible, assert_fits_width, shoot

pytestmark = pytest.mark.django_db(transaction=True)


def search(page, specialty: str, where: str) -> None:
    page.goto("/")
    page.get_by_label("Spécialité ou praticien").fill(specialty)
    page.get_by_label("Ville ou code postal").fill(where)
    page.keyboard.press("Enter")
    page.wait_for_url("**/?*")


def test_a_patient_finds_a_gp_in_paris_with_next_slots(page, world):
    search(page, "Médecin généraliste", "Paris")
    card = page.locator("li.card").filter(has_text="Dr Claire Martin")
    assert card.count() == 1
    assert card.locator(".slot").count() > 0
    shoot(page, "home-results-desktop")
    assert_accessible(page)


def test_the_search_works_on_a_phone_without_sideways_scrolling(phone, world):
    search(phone, "Médecin généraliste", "75019")
    assert phone.locator("li.card").count() == 1
    assert_fits_width(phone)
    shoot(phone, "home-results-phone")
    assert_accessible(phone)


def test_an_empty_search_says_why_and_is_accessible(page, world):
    search(page, "Médecin généraliste", "Atlantis")
    assert page.get_by_role("status").is_visible()
    assert_accessible(page)


def test_the_search_form_is_usable_by_keyboard_alone(page, world):
    page.goto("/")
    focused = []
    for _ in range(10):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.id || document.activeElement.tagName"))
    assert "id_what" in focused and "id_where" in focused
    page.focus("#id_where")
    page.keyboard.type("Paris")
    page.keyboard.press("Enter")
    page.wait_for_url("**where=Paris*")
    assert page.locator("li.card").count() >= 1
