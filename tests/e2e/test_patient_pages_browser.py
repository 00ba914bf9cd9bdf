"""The patient side as people use it, in a real browser, desktop and 375 px: a search typed
loosely, a place to choose, a practitioner's page answered in place, the login page during a
booking, an appointment cancelled after a confirmation. Realistic data: long names, long
access details. Each page is checked with axe-core; screenshots land in var/screenshots/."""

import re
from decimal import Decimal

import pytest

from consulto.directory.models import Practitioner, Specialty
from consulto.scheduling import booking
from consulto.scheduling.models import Agenda, Motive, Opening
from tests.conftest import at, valid_rpps

from .conftest import assert_accessible, assert_fits_width, htmx_settled, log_in, shoot

pytestmark = pytest.mark.django_db(transaction=True)
DEVICES = ["page", "phone"]


def check(page, name: str, device: str) -> None:
    shoot(page, f"patient-{name}-{device}")
    assert_accessible(page)
    assert_fits_width(page)


@pytest.fixture
def long_names(world):
    """A second GP with a long name and long access details, and prices on the first."""
    world.gp.languages = "fr,en,es"
    world.gp.convention_sector = "2"
    world.gp.save()
    world.follow_up.open_to_new_patients = False
    world.follow_up.save()
    for motive, price in ((world.first, "55.00"), (world.follow_up, "32.50")):
        motive.price = Decimal(price)
        motive.save()
    world.site.access_details = (
        "Bâtiment C, escalier de gauche, 3e étage, porte au fond du couloir après la salle "
        "d’attente commune ; ascenseur accessible aux fauteuils roulants depuis la cour."
    )
    world.site.phone = "01 99 00 12 34"
    world.site.save()
    other = Practitioner.objects.create(
        title="Dr",
        first_name="Marie-Amélie",
        last_name="de La Rochefoucauld-Montmorency-Laval",
        rpps=valid_rpps(41),
        specialty=Specialty.objects.get(code="medecin-generaliste"),
    )
    agenda = Agenda.objects.create(
        organisation=world.organisation, practitioner=other, site=world.site, name="Dr de La R."
    )
    motive = Motive.objects.create(
        agenda=agenda,
        label="Consultation de médecine générale pour adulte, renouvellement d’ordonnance",
        duration_minutes=20,
        price=Decimal("30.00"),
    )
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
    return other


@pytest.mark.parametrize("device", DEVICES)
def test_a_search_typed_loosely_and_a_place_to_choose(request, device, world, long_names):
    page = request.getfixturevalue(device)
    page.goto("/")
    page.get_by_label("Spécialité ou praticien").fill("GENERALISTE")
    page.get_by_label("Ville ou code postal").fill("Vitry")
    page.get_by_role("button", name="Rechercher").click()
    page.get_by_text("Plusieurs communes correspondent").wait_for()
    check(page, "search-choose-place", device)
    page.get_by_role("link", name="Vitry-sur-Seine (94)").click()
    page.locator("li.card").filter(has_text="Rochefoucauld").wait_for()
    assert page.get_by_label("Ville ou code postal").input_value() == "Vitry-sur-Seine (94)"
    assert page.get_by_text("Spécialité : Médecin généraliste").is_visible()
    check(page, "search-results", device)

    page.get_by_label("Spécialité ou praticien").fill("rochefoucaul montmorenci")
    page.get_by_label("Ville ou code postal").fill("Parsi")
    page.get_by_role("button", name="Rechercher").click()
    page.get_by_text("Vouliez-vous dire").wait_for()
    check(page, "search-did-you-mean", device)
    page.get_by_role("link", name="Paris (75)").click()
    page.get_by_text("Aucun nom ni aucune spécialité ne s’écrit").wait_for()
    cards = page.locator("li.card")
    assert cards.count() == 1 and "Rochefoucauld" in cards.first.inner_text()
    check(page, "search-typo", device)


@pytest.mark.parametrize("device", DEVICES)
def test_the_practitioner_page_answers_in_place(request, device, world, long_names):
    page = request.getfixturevalue(device)
    page.goto(f"/praticien/{world.gp.pk}/")
    page.get_by_role("heading", name="Honoraires").wait_for()
    assert "55 €" in page.locator(".fees").inner_text()
    assert page.get_by_text("Français, anglais, espagnol").is_visible()
    assert page.get_by_role("row", name=re.compile("Lundi")).is_visible()
    check(page, "practitioner", device)

    page.evaluate("window.notReloaded = true")
    # By keyboard: the answer to "already consulted?" brings the motives without a reload,
    # and the focus stays where it was.
    yes = page.get_by_label("Oui", exact=True)
    yes.focus()
    page.keyboard.press("Space")
    page.get_by_label(re.compile("Consultation de suivi")).wait_for()
    # htmx wires the swapped-in radios when it settles: a key pressed before that is lost.
    htmx_settled(page)
    assert page.evaluate("document.activeElement.value") == "yes"
    follow_up = page.get_by_label(re.compile("Consultation de suivi"))
    follow_up.focus()
    page.keyboard.press("Space")
    page.get_by_role("heading", name="Disponibilités pour « Consultation de suivi »").wait_for()
    assert page.evaluate("window.notReloaded") is True
    assert page.evaluate("document.activeElement.name") == "motive"
    assert f"motive={world.follow_up.pk}" in page.url  # a reload or a shared link keeps it
    assert "affichées ci-dessous" in page.locator("#booking-status").inner_text()
    assert page.locator("button.slot").count() > 0
    check(page, "practitioner-slots", device)

    page.reload()
    page.get_by_role("heading", name="Disponibilités pour « Consultation de suivi »").wait_for()


def test_the_practitioner_page_works_without_javascript(browser, live_server, world, long_names):
    context = browser.new_context(
        base_url=live_server.url, locale="fr-FR", java_script_enabled=False
    )
    page = context.new_page()
    try:
        page.goto(f"/praticien/{world.gp.pk}/")
        page.get_by_label("Non", exact=True).check()
        page.get_by_role("button", name="Voir les disponibilités").click()
        page.get_by_label(re.compile("Première consultation")).check()
        page.get_by_role("button", name="Voir les disponibilités").click()
        page.get_by_role("heading", name="Disponibilités pour « Première consultation »").wait_for()
        assert page.locator("button.slot").count() > 0
    finally:
        context.close()


@pytest.mark.parametrize("device", DEVICES)
def test_the_login_page_keeps_the_held_slot_and_its_time_left(
    request, device, world, long_names, member
):
    """The server runs on the suite's clock, the browser on the machine's: the countdown
    starts from the seconds left that the server measured, so it shows about 7 minutes."""
    page = request.getfixturevalue(device)
    page.goto(f"/praticien/{long_names.pk}/?week={world.monday.isoformat()}")
    page.locator("button.slot").first.click()
    page.locator("main").get_by_role("link", name="Se connecter").click()
    page.get_by_label("Courriel").wait_for()
    recap = page.locator(".recap")
    assert "Rochefoucauld" in recap.inner_text()
    remaining = page.locator(".recap .countdown .remaining")
    remaining.wait_for()
    minutes = int(re.search(r"\((\d+):\d\d\)", remaining.inner_text())[1])
    assert 6 <= minutes <= 7
    check(page, "login-during-booking", device)
    page.get_by_label("Courriel").fill(member.email)
    page.get_by_label("Mot de passe").fill("Un-mot-de-passe-2026")
    page.get_by_role("button", name="Connexion").click()
    page.get_by_role(
        "heading", name=re.compile("Vos informations|Confirmez votre rendez-vous")
    ).wait_for()


@pytest.mark.parametrize("device", DEVICES)
def test_cancelling_asks_first_with_a_summary(request, device, world, user, patient, live_server):
    page = request.getfixturevalue(device)
    appointment = booking.book(
        agenda=world.agenda,
        motive=world.first,
        start=at(world.monday, 9),
        patient=patient,
        booked_by=user,
    )
    log_in(page, user, live_server)
    page.goto(f"/rendez-vous/{appointment.pk}/")
    page.get_by_role("link", name="Annuler ce rendez-vous").click()
    page.get_by_role("heading", name="Annuler le rendez-vous ?").wait_for()
    assert "Alice Durand" in page.locator(".summary").inner_text()
    check(page, "cancel-confirm", device)
    page.get_by_role("link", name="Non, le garder").click()
    page.get_by_role("heading", name="Rendez-vous", exact=True).wait_for()
    appointment.refresh_from_db()
    assert appointment.status == "booked"


@pytest.fixture
def member(django_user_model):
    from allauth.account.models import EmailAddress

    user = django_user_model.objects.create_user(
        email="lea@example.org", password="Un-mot-de-passe-2026"
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user
