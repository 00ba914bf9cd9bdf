"""Referring a patient in a real browser: the practitioner finds the patient and a
cardiologist's slot, sends the referral with its letter; the cardiologist reads it on a 375 px
phone. No accessibility violation (axe), no sideways scrolling, no CSP violation."""

from django.urls import reverse

from consulto.scheduling.models import Referral
from tests.referral.adressage_world import (  # noqa: F401 (fixtures)
    PDF,
    REASON,
    practice,
    referral_world,
)

from .conftest import assert_accessible, assert_fits_width, log_in, shoot


def test_a_practitioner_refers_and_the_receiver_reads_it(referral_world, page, phone, live_server):  # noqa: F811
    w = referral_world
    log_in(page, w.gp_user, live_server)

    page.goto(reverse("adressage:referrals_sent"))
    page.get_by_role("link", name="Adresser un patient").click()
    page.fill("#id_q", "Petit")
    page.press("#id_q", "Enter")
    page.get_by_role("link", name="PETIT Jeanne").click()
    page.select_option("#id_specialty", "cardiologue")
    page.fill("#id_place", "75010")
    page.get_by_role("button", name="Trouver des créneaux").click()
    page.wait_for_selector(".offer")
    assert "Dr Henri Coeur" in page.inner_text(".offer h3")
    assert_accessible(page)
    shoot(page, "adressage-slots")

    page.locator(".offer-slots a").first.click()
    page.wait_for_selector("#id_reason")
    page.select_option("#id_urgency", "48h")
    page.fill("#id_reason", REASON)
    page.set_input_files(
        "#id_letter", files=[{"name": "courrier.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    assert_accessible(page)
    page.get_by_role("button", name="Réserver et envoyer l'adressage").click()
    page.wait_for_url(lambda url: "/envoyes/" in url)
    referral = Referral.objects.get()
    assert referral.letter_document_id and referral.urgency == "48h"
    assert_accessible(page)

    log_in(phone, w.cardio_user, live_server)
    phone.goto(reverse("adressage:referrals_received"))
    assert "PETIT Jeanne" in phone.inner_text("table.data")
    assert_fits_width(phone)
    assert_accessible(phone)
    shoot(phone, "adressage-incoming-phone")
    phone.get_by_role("link", name="PETIT Jeanne").click()
    phone.wait_for_selector(".reason-text")
    assert "Souffle systolique" in phone.inner_text(".reason-text")
    assert_fits_width(phone)
    assert_accessible(phone)

    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(reverse("adressage:refer") + f"?file={w.file.pk}&specialty=cardiologue")
    assert_fits_width(page)
    assert_accessible(page)
