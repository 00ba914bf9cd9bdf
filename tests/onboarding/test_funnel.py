"""The funnel page: who reached each screen, who stopped where, how long each took."""

import pytest

from consulto.onboarding.selectors import funnel

from .conftest import identity_data, sign_up

pytestmark = pytest.mark.django_db


def test_the_funnel_counts_reached_finished_and_stopped(client, mailoutbox, directory_gp):
    sign_up(client, mailoutbox, email="a@cabinet.test")
    client.get("/pro/demarrage/identite/")
    client.post("/pro/demarrage/identite/", identity_data())
    client.get("/pro/demarrage/horaires/")
    client.logout()
    client.post(
        "/pro/rejoindre/",
        {
            "email": "b@cabinet.test",
            "password": "Tr3s-bon-mot-de-passe!",
            "rpps": "19900000019",
            "terms": "on",
        },
    )
    client.get("/pro/demarrage/securite/")
    figures = funnel()
    by_step = {s.step: s for s in figures.steps}
    assert figures.started == 2 and figures.published == 0
    assert by_step["account"].reached == 2 and by_step["account"].finished == 2
    assert by_step["security"].reached == 2 and by_step["security"].finished == 1
    assert by_step["schedule"].reached == 1 and by_step["schedule"].stopped_here == 1
    assert by_step["identity"].median_seconds is not None
    assert figures.worst.step in ("security", "schedule")


def test_only_platform_staff_see_the_funnel(client, django_user_model, user):
    assert client.get("/pro/entonnoir/").status_code == 302  # to the admin login
    client.force_login(user)
    assert client.get("/pro/entonnoir/").status_code == 302
    staff = django_user_model.objects.create_user(email="ops@consulto.test", is_staff=True)
    client.force_login(staff)
    page = client.get("/pro/entonnoir/").content.decode()
    assert "<svg" in page and "Entonnoir" in page


def test_time_on_the_sign_up_screen_counts_from_when_the_page_was_shown(client, mailoutbox):
    import time

    from django.core import signing

    from consulto.onboarding.views import LANDED

    shown = signing.dumps(time.time() - 40, salt=LANDED)
    form = {"password": "Tr3s-bon-mot-de-passe!", "rpps": "19900000019", "terms": "on"}
    client.post("/pro/rejoindre/", {**form, "email": "a@cabinet.test", "landed": shown})
    client.post("/pro/rejoindre/", {**form, "email": "b@cabinet.test", "landed": shown + "x"})
    account = next(s for s in funnel().steps if s.step == "account")
    assert account.reached == 2
    assert 19 <= account.median_seconds <= 22  # (40 + 0) / 2: a forged stamp counts as 0
