"""Pages of the practice space tried as a user (and a careless one) would: what people type,
however long, wraps instead of widening the page; the security page's buttons look like buttons;
the patient file keeps an address and books for its patient; a secretary manages the absences
of her agendas when the organisation allows it. French, axe-clean, at 1280 px and 375 px."""

from datetime import timedelta

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from consulto.practice import files
from consulto.scheduling import booking
from consulto.scheduling.models import Absence, Appointment, Motive
from tests.conftest import at
from tests.practice.conftest import practice  # noqa: F401 (fixture)

from .conftest import assert_accessible, assert_fits_width, log_in, shoot

LONG_WORD = "Allergie" + "x" * 10_000  # one "word" of 10,000 characters, as pasted by mistake


def _long_texts(w):
    w.profile.first_name = "Marie-Christine-Alexandrine-Josephine"
    w.profile.last_name = "de-La-Rochefoucauld-Montmorency-" + "y" * 60
    w.profile.save()
    files.add_note(user=w.gp_user, file_id=w.file.pk, text=LONG_WORD)
    files.add_document(
        user=w.gp_user, file_id=w.file.pk, name="ordonnance-" + "z" * 180 + ".png",
        content=b"\x89PNG\r\n\x1a\n" + b"0" * 64,
    )  # fmt: skip
    w.file.address = "Résidence-" + "w" * 200
    w.file.save()
    motive = Motive.objects.create(agenda=w.agenda, label="Motif" + "m" * 190, duration_minutes=30)
    w.agenda.openings.first().motives.add(motive)
    kept = booking.book(
        agenda=w.agenda, motive=motive, start=at(w.monday, 9), patient=w.profile,
        booked_by=w.secretary, channel=Appointment.Channel.SECRETARY,
    )  # fmt: skip
    gone = booking.book(
        agenda=w.agenda, motive=w.first, start=at(w.monday, 11), patient=w.profile,
        booked_by=w.secretary, channel=Appointment.Channel.SECRETARY,
    )  # fmt: skip
    booking.cancel(appointment=gone, by=w.secretary, reason="R" * 255, as_staff=True)
    Absence.objects.create(
        agenda=w.agenda, start=at(w.monday, 14), end=at(w.monday, 15), reason="Raison" + "q" * 190
    )
    return kept, gone


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_long_user_text_wraps_everywhere_in_the_practice_space(
    live_server, practice, request, size  # noqa: F811
):  # fmt: skip
    w = practice
    page = request.getfixturevalue("page" if size == "desktop" else "phone")
    kept, gone = _long_texts(w)
    log_in(page, w.gp_user, live_server)
    pages = {
        "file": reverse("practice:file", args=[w.file.pk]),
        "files": reverse("practice:files") + "?q=rochefoucauld",
        "appointment": reverse("practice:appointment", args=[kept.pk]),
        "cancelled": reverse("practice:appointment", args=[gone.pk]),
        "agenda": reverse("practice:agenda") + f"?agendas={w.agenda.pk}&date={w.monday}",
        "settings": reverse("practice:settings_agenda", args=[w.agenda.pk]),
        "new": reverse("practice:appointment_new") + f"?file={w.file.pk}",
    }
    for name, url in pages.items():
        page.goto(url)
        assert_fits_width(page)
        assert_accessible(page)
        if name in ("file", "cancelled"):
            shoot(page, f"practice-long-text-{name}-{size}")


def test_the_security_page_buttons_look_like_buttons(practice, page, live_server):  # noqa: F811
    w = practice
    Authenticator.objects.create(
        user=w.secretary, type=Authenticator.Type.WEBAUTHN,
        data={"name": "Clé USB du secrétariat",
              "credential": {"clientExtensionResults": {"credProps": {"rk": False}}}},
    )  # fmt: skip
    log_in(page, w.secretary, live_server)
    page.goto("/accounts/2fa/")
    for name in ("Désactiver", "Gérer", "Générer"):
        link = page.get_by_role("link", name=name)
        assert "button" in link.get_attribute("class"), name
    assert (
        page.evaluate("getComputedStyle(document.querySelector('main a.button')).backgroundColor")
        != "rgba(0, 0, 0, 0)"
    )
    assert_accessible(page)
    shoot(page, "practice-2fa")
    page.get_by_role("link", name="Gérer").click()
    page.wait_for_selector("text=Clé USB du secrétariat")
    assert "Pas encore utilisée." in page.inner_text("main")
    for name in ("Modifier", "Retirer", "Ajouter"):
        assert "button" in page.get_by_role("link", name=name).get_attribute("class"), name
    assert_accessible(page)
    shoot(page, "practice-2fa-keys")
    page.set_viewport_size({"width": 375, "height": 740})
    assert_fits_width(page)


def test_the_patient_file_keeps_the_address_and_books_for_its_patient(practice, phone, live_server):  # noqa: F811
    w = practice
    page = phone
    log_in(page, w.secretary, live_server)
    page.goto(reverse("practice:file", args=[w.file.pk]))
    page.get_by_role("link", name="Modifier l'identité et les coordonnées").click()
    page.fill("input[name=phone]", "06 98 76 54 32")
    page.fill("input[name=address]", "12 rue des Lilas")
    page.fill("input[name=postcode]", "75019")
    page.fill("input[name=city]", "Paris")
    assert_fits_width(page)
    assert_accessible(page)
    shoot(page, "practice-file-edit-phone")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_selector("text=Identité et coordonnées enregistrées.")
    assert "75019 Paris" in page.inner_text("main")
    assert "06 98 76 54 32" in page.inner_text("main")
    assert_accessible(page)
    shoot(page, "practice-file-phone")

    page.get_by_role("link", name="Prendre rendez-vous pour ce patient").click()
    page.wait_for_url("**/rendez-vous/nouveau/**")
    chosen = page.locator(f"input[name=file][value='{w.file.pk}']")
    assert chosen.is_checked()
    page.fill("input[name=date]", w.monday.isoformat())
    # That day's slots, not those the page opened with (today's, which may hold a 9:30 too).
    nine_thirty = page.locator(f"#slots[data-day='{w.monday}'] input[name=time][value='09:30']")
    nine_thirty.check()
    assert_fits_width(page)
    assert_accessible(page)
    shoot(page, "practice-book-for-patient-phone")
    page.get_by_role("button", name="Réserver", exact=True).click()
    page.wait_for_selector("text=Rendez-vous réservé.")
    booked = Appointment.objects.get(patient=w.profile)
    assert booked.start == at(w.monday, 9, 30) and booked.motive == w.first


def test_a_secretary_blocks_a_holiday_when_the_organisation_allows_it(practice, page, live_server):  # noqa: F811
    w = practice
    log_in(page, w.secretary, live_server)
    page.goto("/pro/reglages/")
    page.get_by_role("link", name="Absences de Dr Martin").click()
    assert_accessible(page)
    page.get_by_role("link", name="Nouvelle absence").click()
    friday = w.monday + timedelta(days=4)
    page.fill("input[name=start_date]", w.monday.isoformat())
    page.fill("input[name=end_date]", friday.isoformat())
    page.fill("input[name=reason]", "Congés d'hiver")
    assert_accessible(page)
    page.get_by_role("button", name="Enregistrer l'absence").click()
    page.wait_for_selector("text=Congés d'hiver")
    assert Absence.objects.get(agenda=w.agenda).reason == "Congés d'hiver"
    assert_accessible(page)
    shoot(page, "practice-secretary-absences")
