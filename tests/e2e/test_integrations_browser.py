"""An organisation admin connects its software on a phone: a new API client, its secret shown
once with a copy button, the call log; axe-clean and no sideways scroll at 375 px."""

import pytest

from consulto.fhir.models import ApiCall, Partner
from tests.practice.conftest import practice  # noqa: F401 (fixture)

from .conftest import assert_accessible, assert_fits_width, log_in, shoot


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_an_admin_creates_an_api_client_and_copies_its_secret(
    live_server, practice, request, size  # noqa: F811
):  # fmt: skip
    page = request.getfixturevalue("page" if size == "desktop" else "phone")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    log_in(page, practice.admin, live_server)
    page.goto("/pro/integrations/")
    assert_accessible(page)
    assert_fits_width(page)
    page.click("a[href*='clients/nouveau']")
    page.fill("#id_name", "Logiciel de régulation " + "x" * 150)
    page.check("input[name=scopes][value='system/Slot.read']")
    page.check("input[name=scopes][value='system/Appointment.write']")
    page.fill("#id_rate_per_minute", "99999999999999999999999999")
    page.click("form.stacked button[type=submit]")
    assert page.locator("#id_rate_per_minute[aria-invalid=true]").count() == 1
    assert_accessible(page)
    page.fill("#id_rate_per_minute", "300")
    page.click("form.stacked button[type=submit]")

    secret = page.input_value("#client-secret")
    partner = Partner.objects.get(organisation=practice.organisation)
    assert len(secret) > 30 and partner.rate_per_minute == 300
    assert_accessible(page)
    assert_fits_width(page)
    shoot(page, f"integrations-new-client-{size}")
    page.click("button[data-copy='client-secret']")
    page.wait_for_function("document.getElementById('copy-status').textContent.length > 0")
    assert page.evaluate("navigator.clipboard.readText()") == secret

    page.reload()
    assert page.locator("#client-secret").count() == 0
    ApiCall.objects.create(
        at=partner.created_at, partner=partner, method="GET", path="/fhir/r4/Slot" + "/x" * 100,
        parameters="_count,_include,start,status", status=200, duration_ms=12,
    )  # fmt: skip
    page.click("a[href$='/appels/']")
    assert page.locator("table caption").count() == 1
    assert_accessible(page)
    assert_fits_width(page)
