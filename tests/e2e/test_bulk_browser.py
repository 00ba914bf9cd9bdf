"""An organisation admin onboards practitioners from a CSV in a real browser, and an invitee
accepts: every page checked with axe-core, on a desktop and a 375 px phone (screenshots in
var/screenshots/bulk-*).
"""

import re

import pytest

from consulto.directory.models import DirectoryRecord
from consulto.onboarding.models import Journey
from tests.onboarding.conftest import rpps, totp_now
from tests.practice.conftest import practice  # noqa: F401 (fixture)

from .conftest import assert_accessible, assert_fits_width, log_in, shoot

pytestmark = pytest.mark.django_db(transaction=True)
GP, CARDIO = rpps(11), rpps(12)


def _record(number, first, last, specialty):
    DirectoryRecord.objects.create(
        rpps=number,
        structure_id="S",
        civility="DR",
        first_name=first,
        last_name=last,
        specialty_code=specialty,
        postcode="75019",
        city="PARIS",
    )


@pytest.mark.parametrize("device", ["page", "phone"])
def test_an_admin_invites_from_a_csv_and_an_invitee_accepts(
    request, device, live_server, browser, tmp_path, smtp, settings
):
    settings.CONSULTO_SITE_URL = live_server.url  # where the invitation's link leads
    world = request.getfixturevalue("practice")
    page = request.getfixturevalue(device)
    _record(GP, "CAMILLE", "ROUSSEAU", "medecin-generaliste")
    _record(CARDIO, "MARC", "LE GALL", "cardiologue")
    log_in(page, world.admin, live_server)

    def check(name):
        shoot(page, f"bulk-{name}-{device}")
        assert_accessible(page)
        if device == "phone":
            assert_fits_width(page)

    page.goto("/pro/equipe/")
    check("team")
    page.goto("/pro/equipe/importer/")
    check("empty")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "rpps;email;service;horaires;motifs\n"
        f"{GP};x@h.test;Urgences;standard;\n123;pas-un-mail;;inconnu;\n{GP};x@h.test;;;\n",
        encoding="utf-8",
    )
    page.set_input_files("input[type=file]", str(bad))
    page.get_by_role("button", name=re.compile("Vérifier|Check")).click()
    check("errors")
    good = tmp_path / "good.csv"
    good.write_text(
        "rpps;email;service;horaires;motifs\n"
        f"{GP};camille@h.test;Médecine interne;standard;\n"
        f"{CARDIO};marc@h.test;Cardiologie;mornings;cardiologue\n",
        encoding="utf-8",
    )
    page.set_input_files("input[type=file]", str(good))
    page.get_by_role("button", name=re.compile("Vérifier|Check")).click()
    check("valid")
    page.locator("form[action$='confirmer/'] button").click()
    check("invitations")
    # The worker sends them.
    from tests.onboarding.test_bulk import run_tasks

    run_tasks()
    body = smtp.to("camille@h.test")[-1].get_body(("plain",)).get_content()
    link = re.search(r"(http://\S+/pro/invitation/[\w-]+/)", body).group(1)
    page.goto("/pro/equipe/importer/")
    check("invitations-sent")
    page.context.clear_cookies()
    page.goto(link)
    check("invitation")
    page.fill("#id_password", "camille")
    page.get_by_role("button", name=re.compile("compte|account")).click()
    check("invitation-errors")
    secret = page.locator("#totp-secret").inner_text()
    page.fill("#id_password", "Un-Mot-de-passe-2026!")
    page.fill("#id_totp_code", totp_now(secret))
    page.check("#id_terms")
    page.get_by_role("button", name=re.compile("compte|account")).click()
    page.wait_for_url("**/demarrage/video/")
    check("video")
    journey = Journey.objects.get(email="camille@h.test")
    assert journey.user is not None and journey.practitioner.user == journey.user
    page.goto("/pro/demarrage/identite/")
    check("identity")
    page.goto(link)
    check("used")
    assert "déjà été acceptée" in page.inner_text("main") or "already accepted" in page.inner_text(
        "main"
    )
    page.goto("/pro/invitation/nope/")
    check("unknown")
