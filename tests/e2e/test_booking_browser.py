"""A new patient, in a real browser: search, hold a slot, sign up, book for a relative, cancel.

Every page of the flow is checked with axe-core; screenshots land in var/screenshots/.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from icalendar import Calendar

from consulto.notifications import services as notifications
from consulto.scheduling import booking
from consulto.scheduling.models import Appointment
from tests.conftest import at

from .conftest import assert_accessible, assert_fits_width, shoot

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "Un-Mot-de-passe-2026!"


def field(page, label: str):
    """The input labelled exactly ``label`` (labels end with " :" in French)."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}\W*$"))


def check(page, name: str, phone: bool) -> None:
    shoot(page, f"booking-{name}-{'phone' if phone else 'desktop'}")
    assert_accessible(page)
    if phone:
        assert_fits_width(page)


@pytest.mark.parametrize("device", ["page", "phone"])
def test_a_new_patient_books_for_her_child_then_cancels(request, device, world, smtp):
    page, phone = request.getfixturevalue(device), device == "phone"
    email = f"camille.{device}@example.org"

    page.goto("/")
    page.get_by_label("Spécialité ou praticien").fill("Médecin généraliste")
    page.get_by_label("Ville ou code postal").fill("Paris")
    page.get_by_role("button", name="Rechercher").click()
    card = page.locator("li.card").filter(has_text="Dr Claire Martin")
    check(page, "1-results", phone)
    # A slot a few days ahead: today's would be past the cancellation deadline at the end.
    card.locator("button.slot").last.click()

    page.get_by_role("heading", name="Connectez-vous pour confirmer votre rendez-vous").wait_for()
    # The countdown ticks: "(6:59)".
    from playwright.sync_api import expect  # here: the module imports without Playwright

    expect(page.locator(".countdown .remaining")).to_have_text(re.compile(r"\(\d+:\d\d\)"))
    check(page, "2-hold", phone)
    page.get_by_role("link", name="Créer un compte").click()

    page.get_by_label("Courriel").fill(email)
    field(page, "Mot de passe").fill(PASSWORD)
    page.get_by_label("Mot de passe (confirmation)").fill(PASSWORD)
    # The held slot stays in view, its countdown still running, while the patient signs up.
    expect(page.locator(".recap .countdown .remaining")).to_have_text(re.compile(r"\(\d+:\d\d\)"))
    check(page, "3-signup", phone)
    page.get_by_role("button", name="Création de compte").click()

    # The e-mail address is verified by a code typed in the page: the held slot is not left.
    page.get_by_label("Code").wait_for()
    expect(page.locator(".recap")).to_contain_text("Dr Claire Martin")
    check(page, "4-code", phone)
    code_mail = smtp.to(email)[-1].get_body(("plain",)).get_content()
    code = re.search(r"^\s*([A-Z0-9]{3,}(?:-[A-Z0-9]{3,})*)\s*$", code_mail, re.MULTILINE).group(1)
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Confirmer").click()

    page.get_by_role("heading", name="Vos informations").wait_for()
    field(page, "Prénom").fill("Camille")
    field(page, "Nom").fill("Bernard")
    field(page, "Date de naissance").fill("1988-06-14")
    check(page, "5-identity", phone)
    page.get_by_role("button", name="Continuer").click()

    page.get_by_role("heading", name="Confirmez votre rendez-vous").wait_for()
    assert not field(page, "Prénom").is_visible()  # the relative's fields wait
    page.get_by_label("Quelqu’un d’autre (ajouter un proche)").check()
    page.get_by_label("Cette personne est").select_option(label="Mon enfant")
    field(page, "Prénom").fill("Léo")
    field(page, "Nom").fill("Bernard")
    field(page, "Date de naissance").fill("2018-03-02")
    check(page, "6-who", phone)
    page.get_by_role("button", name="Confirmer le rendez-vous").click()

    page.get_by_text("Votre rendez-vous est réservé").wait_for()
    check(page, "7-confirmed", phone)
    appointment = Appointment.objects.get(status="booked", booked_by__email=email)
    assert appointment.patient.first_name == "Léo"

    notifications.deliver_due()  # what the task worker does
    confirmation = smtp.to(email)[-1]
    assert "Rendez-vous confirmé" in confirmation["Subject"]
    ics = next(
        p for p in confirmation.iter_attachments() if p.get_content_type() == "text/calendar"
    )
    event = Calendar.from_ical(ics.get_content()).walk("VEVENT")[0]
    assert event.decoded("DTSTART") == appointment.start

    page.get_by_role("link", name="Annuler ce rendez-vous").click()
    page.get_by_role("heading", name="Annuler le rendez-vous ?").wait_for()
    check(page, "8-cancel-confirm", phone)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED
    page.get_by_role("button", name="Oui, annuler ce rendez-vous").click()
    page.get_by_text("Votre rendez-vous est annulé").wait_for()
    check(page, "9-cancelled", phone)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED


def test_a_slot_taken_meanwhile_gives_a_message_and_fresh_slots(page, world, other_user, patient):
    week = f"/praticien/{world.gp.pk}/?agenda={world.agenda.pk}&motive={world.first.pk}"
    page.goto(f"{week}&week={world.monday.isoformat()}")
    nine = at(world.monday, 9)
    booking.book(
        agenda=world.agenda, motive=world.first, start=nine, patient=patient, booked_by=other_user
    )
    page.locator(f"button.slot[value='{nine.isoformat()}']").click()
    page.get_by_text("ce créneau vient d’être pris").wait_for()
    assert page.locator(f"button.slot[value='{nine.isoformat()}']").count() == 0
    assert page.locator("button.slot").count() > 0
    shoot(page, "booking-slot-taken")
    assert_accessible(page)


def test_the_countdown_ends_with_a_clear_message_and_booking_still_works(page, world, patient):
    page.goto(
        f"/praticien/{world.gp.pk}/?agenda={world.agenda.pk}&motive={world.first.pk}"
        f"&week={world.monday.isoformat()}"
    )
    page.locator(f"button.slot[value='{at(world.monday, 10).isoformat()}']").click()
    page.get_by_role("heading", name="Connectez-vous pour confirmer votre rendez-vous").wait_for()
    Appointment.objects.filter(status="held").update(
        hold_expires_at=timezone.now() + timedelta(seconds=2)
    )
    page.reload()
    notice = page.locator(".expired-notice")
    notice.wait_for(state="visible", timeout=6000)
    assert "sont écoulées" in notice.inner_text()
    shoot(page, "booking-hold-expired")
    assert_accessible(page)
