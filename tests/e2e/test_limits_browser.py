"""A visitor choosing slot after slot too fast, in a real browser: a French page says why and how
long to wait, accessible and fitting a phone. Screenshots land in var/screenshots/."""

import pytest

from .conftest import assert_accessible, assert_fits_width, shoot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("device", ["page", "phone"])
def test_too_many_holds_show_a_french_page_saying_how_long_to_wait(
    request, device, world, settings
):
    settings.CONSULTO_HOLD_LIMITS = {"address": "2/10m"}
    page = request.getfixturevalue(device)
    slots = f"/praticien/{world.gp.pk}/?agenda={world.agenda.pk}&motive={world.follow_up.pk}"
    for n in range(3):
        page.goto(slots)
        page.locator("button.slot").nth(n).click()
        page.wait_for_load_state()
    page.get_by_role("heading", name="Trop de tentatives").wait_for()
    text = page.locator("main").inner_text()
    assert "Vous avez fait beaucoup de demandes" in text
    assert "Vous pourrez réessayer dans" in text
    shoot(page, f"limits-too-many-holds-{device}")
    assert_accessible(page)
    if device == "phone":
        assert_fits_width(page)
