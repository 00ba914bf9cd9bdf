"""The regulator's console in a real browser, two contexts side by side: a regulating doctor of
SAMU 75 logs in with TOTP, opens a case from a call, finds a GP within 48 h near the patient's
postcode and books with the keyboard; the GP's open agenda shows the appointment live; the
patient's SMS carries the details and their signed link. A regulator of another centre gets 404
on that case; every console page passes axe and fits a 375 px phone."""

from datetime import time, timedelta

from django.urls import reverse
from django.utils import timezone

from consulto.notifications import services as notifications
from consulto.notifications import sms
from consulto.referral.models import RegulationCase
from consulto.scheduling.models import Appointment, Opening
from tests.practice.conftest import practice  # noqa: F401 (fixture)
from tests.referral.conftest import regulation  # noqa: F401 (fixture)

from .conftest import DESKTOP, PHONE, _open, assert_accessible, assert_fits_width, log_in, shoot
from .test_practice import asgi_server, staff_log_in, wait_live  # noqa: F401 (fixture)


def _snp_tomorrow(w):
    """The GP's only opening: tomorrow morning, for regulation only (SAS slots)."""
    day = timezone.localdate() + timedelta(days=1)
    Opening.objects.filter(agenda=w.agenda).delete()
    opening = Opening.objects.create(
        agenda=w.agenda, site=w.site, weekday=day.weekday(), start_time=time(9),
        end_time=time(12), valid_from=day - timedelta(days=7),
        visibility=Opening.Visibility.REGULATION,
    )  # fmt: skip
    opening.motives.set([w.first])
    return day


def test_a_regulator_books_for_a_caller_and_the_gp_sees_it_live(
    practice, regulation, browser, asgi_server  # noqa: F811
):  # fmt: skip
    w = regulation
    day = _snp_tomorrow(w)
    sms.outbox.clear()
    gp_context, gp = _open(browser, asgi_server, viewport=DESKTOP)
    desk_context, desk = _open(browser, asgi_server, viewport=DESKTOP)
    try:
        staff_log_in(
            gp, w.gp_user, "x" * 12, w.totp[w.gp_user.pk],
            next_url=f"/pro/?agendas={w.agenda.pk}&date={day}",
        )  # fmt: skip
        wait_live(gp)
        assert gp.locator(".fc-event").count() == 0

        staff_log_in(desk, w.regulator, "x" * 12, w.totp[w.regulator.pk], next_url="/regulation/")
        assert_accessible(desk)
        # Keyboard only: the caller's select has the focus; Tab through, type, Enter.
        assert desk.evaluate("document.activeElement.name") == "caller"
        desk.fill("#id_last_name", "Morel")
        desk.fill("#id_first_name", "Louise")
        desk.fill("#id_birth_date", "02/04/1988")
        desk.fill("#id_phone", "06 11 22 33 44")
        desk.fill("#id_reason", "Fièvre à 39 depuis deux jours.")
        desk.fill("#id_postcode", "75019")
        desk.press("#id_postcode", "Enter")
        desk.wait_for_url("**/regulation/dossiers/*/")
        case = RegulationCase.objects.get()
        first_offer = desk.locator(".offer").first
        assert "Dr Claire Martin" in first_offer.inner_text()
        assert "09:00" in first_offer.inner_text()
        assert_accessible(desk)
        shoot(desk, "regulation-case")
        # The first offer's "Réserver" has the focus: Enter books it.
        assert desk.evaluate("document.activeElement.textContent.trim()").startswith("Réserver")
        desk.keyboard.press("Enter")
        desk.wait_for_selector(".message:has-text('Réservé')")
        assert_accessible(desk)

        gp.wait_for_selector(".fc-event:has-text('Louise Morel')", timeout=5000)
        appointment = Appointment.objects.get()
        assert appointment.agenda == w.agenda and appointment.referral.referrer_label == "SAMU 75"
        # Marked in the agenda, and the GP reads why the regulator sent the patient.
        gp.wait_for_selector(".fc-event:has-text('Adressé par SAMU 75')", timeout=5000)
        gp.goto(reverse("practice:appointment", args=[appointment.pk]))
        assert "Fièvre à 39 depuis deux jours." in gp.inner_text("main")
        assert_accessible(gp)

        notifications.deliver_due()
        [sent] = [m for m in sms.outbox if m["to"] == "+33611223344"]
        assert "Dr Claire Martin" in sent["text"] and "09:00" in sent["text"]
        assert "/rdv/" in sent["text"]

        desk.goto("/regulation/dossiers/")
        assert "MOREL" in desk.inner_text("main")
        assert_accessible(desk)
    finally:
        gp_context.close()
        desk_context.close()

    other_context, other = _open(browser, asgi_server, viewport=DESKTOP)
    try:
        log_in(other, w.regulator13, asgi_server)
        response = other.goto(f"/regulation/dossiers/{case.pk}/")
        assert response.status == 404
    finally:
        other_context.close()


def test_the_console_on_a_phone(practice, regulation, browser, asgi_server):  # noqa: F811
    w = regulation
    _snp_tomorrow(w)
    w.gp.takes_extra_patients = True
    w.gp.regulation_phone = "01 42 00 00 00"
    w.gp.save()
    context, page = _open(
        browser, asgi_server, viewport=PHONE, is_mobile=True, has_touch=True
    )  # fmt: skip
    try:
        log_in(page, w.centre_admin, asgi_server)
        page.goto("/regulation/")
        assert_fits_width(page)
        assert_accessible(page)
        page.fill("#id_last_name", "de La Rochefoucauld-Montmorency")
        page.fill("#id_first_name", "Marie-Christine")
        page.fill("#id_birth_date", "1/1/1")
        page.fill("#id_phone", "12")
        page.fill("#id_postcode", "75019")
        page.click("main form button[type=submit]")
        assert page.locator("[aria-invalid=true]").count() == 2
        assert_accessible(page)
        page.fill("#id_birth_date", "02/04/1958")
        page.fill("#id_phone", "0611223344")
        page.click("main form button[type=submit]")
        page.wait_for_url("**/regulation/dossiers/*/")
        page.wait_for_selector(".offer")
        assert page.locator(".extra a[href^='tel:']").count() == 1
        assert_fits_width(page)
        assert_accessible(page)
        shoot(page, "regulation-case-phone")
        page.goto("/regulation/dossiers/")
        assert_fits_width(page)
        assert_accessible(page)
        page.goto("/regulation/chiffres/")
        assert page.locator("svg[role=img]").count() == 2
        assert_fits_width(page)
        assert_accessible(page)
        shoot(page, "regulation-figures-phone")
    finally:
        context.close()
    assert not page.csp_violations, page.csp_violations
