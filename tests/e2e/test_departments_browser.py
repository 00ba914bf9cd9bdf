"""A hospital's pages in a real browser, desktop and 375 px: the establishment's departments
and motives, a department's agendas and a week of slots of an agenda of no practitioner. Each
page is checked with axe-core (no serious or critical violation) and must not scroll sideways."""

import pytest

from tests.patients.test_departments import hospital  # noqa: F401

from .conftest import assert_accessible, assert_fits_width, shoot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("device", ["page", "phone"])
def test_a_patient_finds_a_department_and_its_slots(request, device, hospital):  # noqa: F811
    w = hospital
    w.cardio.description = (
        "Consultations, électrocardiogrammes, échographies cardiaques et épreuves d’effort, "
        "pour adultes ; le service accueille aussi les urgences cardiologiques de l’est parisien."
    )
    w.cardio.save()
    page = request.getfixturevalue(device)
    page.goto(w.url)
    page.get_by_role("heading", name="Hôpital Saint-Louis", level=1).wait_for()
    shoot(page, f"establishment-{device}")
    assert_accessible(page)
    assert_fits_width(page)
    page.get_by_role("link", name="Électrocardiogramme").click()
    page.locator("#slots .slot").first.wait_for()
    shoot(page, f"department-{device}")
    assert_accessible(page)
    assert_fits_width(page)
    page.get_by_role("link", name="Hôpital Saint-Louis").click()  # back to the establishment
    page.get_by_role("heading", name="Cardiologie").wait_for()
