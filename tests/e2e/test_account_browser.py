"""The patient's own pages, in a real browser: appointments, moving one, waiting list, relatives.

Each page is checked with axe-core, on a phone too.
"""

from datetime import date

import pytest

from consulto.scheduling import booking
from consulto.scheduling.models import Appointment, PatientProfile
from tests.conftest import at

from .conftest import assert_accessible, assert_fits_width, log_in, shoot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def booked(world, user, patient):
    return booking.book(
        agenda=world.agenda,
        motive=world.first,
        start=at(world.monday, 9),
        patient=patient,
        booked_by=user,
    )


@pytest.mark.parametrize("device", ["page", "phone"])
def test_a_patient_moves_an_appointment_and_joins_the_waiting_list(
    request, device, world, user, booked, live_server
):
    page = request.getfixturevalue(device)
    log_in(page, user, live_server)
    page.goto("/rendez-vous/")
    page.get_by_role("link", name=booked.start.strftime("%H:%M"), exact=False).first.click()
    page.get_by_role("heading", name="Rendez-vous", exact=True).wait_for()
    shoot(page, f"account-appointment-{device}")
    assert_accessible(page)
    assert_fits_width(page)

    page.get_by_role("link", name="Déplacer ce rendez-vous").click()
    page.get_by_role("link", name="Semaine suivante").first.wait_for()
    ten = at(world.monday, 10)
    if page.locator(f"button.slot[value='{ten.isoformat()}']").count() == 0:
        page.get_by_role("link", name="Semaine suivante").first.click()
    page.locator(f"button.slot[value='{ten.isoformat()}']").wait_for()
    shoot(page, f"account-move-{device}")
    assert_accessible(page)
    assert_fits_width(page)
    page.locator(f"button.slot[value='{ten.isoformat()}']").click()
    # Nothing moves before the patient confirms, on a page that says what changes.
    page.get_by_role("heading", name="Déplacer le rendez-vous ?").wait_for()
    assert not Appointment.objects.filter(rescheduled_from=booked).exists()
    shoot(page, f"account-move-confirm-{device}")
    assert_accessible(page)
    assert_fits_width(page)
    page.get_by_role("button", name="Confirmer le nouvel horaire").click()
    page.get_by_text("Votre rendez-vous est déplacé").wait_for()
    moved = Appointment.objects.get(rescheduled_from=booked)
    assert moved.start == ten

    page.get_by_role("button", name="Me prévenir si un créneau plus tôt se libère").click()
    page.get_by_text("Vous êtes sur la liste d’attente").wait_for()
    page.get_by_role("link", name="Mes rendez-vous", exact=True).first.click()
    page.get_by_role("heading", name="Sur liste d’attente").wait_for()
    shoot(page, f"account-appointments-{device}")
    assert_accessible(page)
    assert_fits_width(page)

    # The former appointment says where it went, with a link there.
    page.goto(f"/rendez-vous/{booked.pk}/")
    page.get_by_text("Déplacé au").wait_for()
    shoot(page, f"account-moved-away-{device}")
    assert_accessible(page)
    assert_fits_width(page)
    page.locator(".notice").get_by_role("link").click()
    page.wait_for_url(f"**/rendez-vous/{moved.pk}/")


def test_relatives_are_managed_from_the_account(phone, user, patient, live_server):
    log_in(phone, user, live_server)
    phone.goto("/proches/")
    phone.get_by_label("Cette personne est").select_option(label="Mon parent")
    phone.locator("#id_first_name").fill("Jeanne")
    phone.locator("#id_last_name").fill("Durand")
    phone.locator("#id_birth_date").fill("1946-02-11")
    phone.get_by_role("button", name="Ajouter").click()
    phone.get_by_text("Proche ajouté.").wait_for()
    assert PatientProfile.objects.filter(owner=user, first_name="Jeanne").exists()
    shoot(phone, "account-relatives-phone")
    assert_accessible(phone)
    assert_fits_width(phone)
    phone.get_by_role("link", name="Modifier Jeanne").click()
    phone.locator("#id_birth_date").fill("2090-01-01")
    phone.get_by_role("button", name="Enregistrer").click()
    error = phone.get_by_text("La date de naissance ne peut pas être dans le futur.")
    error.wait_for()
    described = phone.locator("#id_birth_date").get_attribute("aria-describedby")
    assert "id_birth_date_error" in described
    assert_accessible(phone)


def test_the_waiting_list_form_on_the_practitioner_page(page, world, user, live_server):
    PatientProfile.objects.create(
        owner=user, first_name="Alice", last_name="Durand", birth_date=date(1980, 5, 17)
    )
    log_in(page, user, live_server)
    page.goto(f"/praticien/{world.gp.pk}/?agenda={world.agenda.pk}&motive={world.first.pk}")
    page.get_by_role("button", name="Me prévenir d’un créneau plus tôt").click()
    page.get_by_text("Vous êtes sur la liste d’attente").wait_for()
    shoot(page, "practitioner-waitlist-desktop")
    assert_accessible(page)
