"""An organisation admin wires a webhook in a real browser, desktop and 375 px: adds it, copies
the secret shown once, sends a test event to a real local receiver and reads the delivery log.
Each page is checked with axe-core and must not scroll sideways."""

import re

import pytest

from consulto.fhir import webhooks
from tests.fhir.hook_receiver import Receiver
from tests.practice import conftest as practice_fixtures

from .conftest import assert_accessible, assert_fits_width, log_in, shoot

pytestmark = pytest.mark.django_db(transaction=True)

practice = practice_fixtures.practice


def either(french: str, english: str):
    """The French text, or the English one while the new strings await their translation."""
    return re.compile(f"^\\s*({re.escape(french)}|{re.escape(english)})(\\s*:)?$")


@pytest.mark.parametrize("device", ["page", "phone"])
def test_an_admin_adds_a_webhook_and_tests_it(request, device, practice, live_server, settings):
    settings.CONSULTO_WEBHOOKS_ALLOW_LOOPBACK = True
    page = request.getfixturevalue(device)
    log_in(page, practice.admin, live_server)
    with Receiver() as receiver:
        page.goto("/pro/integrations/webhooks/")
        page.get_by_role("heading", name="Webhooks", level=1).wait_for()
        assert_accessible(page)
        page.get_by_role("link", name=either("Ajouter un webhook", "Add a webhook")).click()
        address = page.get_by_label(either("Adresse (https://…)", "Address (https://…)"))
        address.fill("http://example.org/" + "x" * 30)
        page.get_by_role("button", name=either("Ajouter le webhook", "Add the webhook")).click()
        page.locator(".error").first.wait_for()  # not https, no event chosen
        shoot(page, f"webhook-errors-{device}")
        assert_accessible(page)
        assert_fits_width(page)
        address.fill(f"{receiver.url}/consulto/webhooks/un-chemin-assez-long-pour-un-telephone")
        page.get_by_label("Rendez-vous pris").check()
        page.get_by_label(either("Rendez-vous annulé", "Appointment cancelled")).check()
        page.get_by_role("button", name=either("Ajouter le webhook", "Add the webhook")).click()
        secret = page.locator("#webhook-secret").input_value()
        assert secret.startswith("whsec_")
        shoot(page, f"webhook-secret-{device}")
        assert_accessible(page)
        assert_fits_width(page)
        page.get_by_role("link", name=either("Envois", "Deliveries")).click()
        page.get_by_role(
            "button", name=either("Envoyer un événement de test", "Send a test event")
        ).click()
        page.get_by_role("table").wait_for()
        webhooks.deliver_due()
        page.reload()
        page.get_by_role("cell", name="HTTP 200").wait_for()
        shoot(page, f"webhook-deliveries-{device}")
        assert_accessible(page)
        assert_fits_width(page)
        assert [r.headers["consulto-event"] for r in receiver.requests] == ["ping"]
