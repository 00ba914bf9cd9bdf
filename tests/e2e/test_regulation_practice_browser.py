"""The practitioner's side of regulation in a browser: the settings page (who sees each opening,
the preview per audience, extra patients for the SAS), a referred appointment and the dashboard's
SAS participation. French, axe-clean, at 1280 px and 375 px."""

from datetime import timedelta

import pytest
from django.urls import reverse

from consulto.core.crypto import encrypt_text
from consulto.scheduling.models import Appointment, Opening, Referral
from tests.conftest import at
from tests.practice.conftest import practice  # noqa: F401 (fixture)

from .conftest import assert_accessible, assert_fits_width, log_in


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_regulation_pages_of_the_practice_are_accessible(
    live_server, practice, request, size  # noqa: F811
):  # fmt: skip
    w = practice
    page = request.getfixturevalue("page" if size == "desktop" else "phone")
    Opening.objects.filter(agenda=w.agenda, weekday=0, start_time__hour=14).update(
        visibility=Opening.Visibility.REGULATION
    )
    start = at(w.monday, 9)
    referred = Appointment.objects.create(
        agenda=w.agenda, motive=w.follow_up, patient=w.profile, start=start,
        end=start + timedelta(minutes=15), status=Appointment.Status.BOOKED,
        channel=Appointment.Channel.REGULATOR,
    )  # fmt: skip
    Referral.objects.create(
        appointment=referred, kind=Referral.Kind.REGULATION, referrer_label="SAMU 75",
        reason=encrypt_text("Fièvre depuis trois jours"), urgency=Referral.Urgency.TWO_DAYS,
    )  # fmt: skip
    log_in(page, w.gp_user, live_server)

    page.goto(live_server.url + reverse("practice:settings_agenda", args=[w.agenda.pk]))
    assert page.locator("#regulation").is_visible()
    page.select_option("#preview-for", "regulator")
    page.locator(".preview-audience button").click()
    page.wait_for_selector("#preview-for option[value=regulator][selected]", state="attached")
    assert_fits_width(page)
    assert_accessible(page)
    # A bad weekly cap: the form says so, in French, no server error.
    page.fill("#id_sas-extra_patients_weekly_cap", "500")
    page.locator("#regulation button[type=submit]").click()
    assert page.locator("#id_sas-extra_patients_weekly_cap_error").is_visible()
    assert_accessible(page)

    page.goto(live_server.url + reverse("practice:appointment", args=[referred.pk]))
    assert "Fièvre depuis trois jours" in page.content()
    assert_fits_width(page)
    assert_accessible(page)

    page.goto(live_server.url + reverse("practice:dashboard"))
    assert page.locator("#sas-title").is_visible()
    assert_fits_width(page)
    assert_accessible(page)
