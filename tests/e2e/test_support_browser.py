"""The support desk in two Chromium contexts (fake microphones): a practitioner on their agenda
asks to be called back now from the help panel on their phone; the agent's open console shows
the request with the snapshot within a second; the agent accepts and calls in the product; the
audio call connects both ways (audio packets received, read with getStats); hold; hang-up and
wrap-up; the practitioner gets the satisfaction survey by e-mail on a real SMTP server.

The call needs WebSockets: these tests run against the ASGI application (uvicorn in a thread).
"""

import time

import pytest

from consulto.support.models import Contact, Survey
from tests.practice.conftest import with_totp
from tests.support.conftest import desk  # noqa: F401 (fixture)

from .conftest import (
    DESKTOP,
    PHONE,
    _open,
    assert_accessible,
    assert_fits_width,
    log_in,
    shoot,
)
from .test_practice import asgi_server  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db(transaction=True)

AUDIO_PACKETS = """async () => {
  const pc = window.supportCall && window.supportCall.pc;
  if (!pc) return 0;
  let packets = 0;
  (await pc.getStats()).forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'audio') packets = s.packetsReceived || 0;
  });
  return packets;
}"""


def _audio_flows(page, timeout=15.0) -> int:
    page.wait_for_function(
        "() => window.supportCall && window.supportCall.pc"
        " && window.supportCall.pc.connectionState === 'connected'",
        timeout=timeout * 1000,
    )
    deadline = time.monotonic() + timeout
    while (packets := page.evaluate(AUDIO_PACKETS)) < 20:
        assert time.monotonic() < deadline, "no audio packet received"
        page.wait_for_timeout(50)
    return packets


def test_a_practitioner_called_back_now_talks_with_the_agent_in_the_product(
    desk,  # noqa: F811
    browser,
    asgi_server,  # noqa: F811
    smtp,
):
    with_totp(desk.pro_user)
    agent_context, agent = _open(browser, asgi_server, viewport=DESKTOP)
    pro_context, pro = _open(browser, asgi_server, viewport=PHONE, is_mobile=True, has_touch=True)
    log_in(agent, desk.alice.user, asgi_server)
    log_in(pro, desk.pro_user, asgi_server)
    try:
        agent.goto("/support/")
        agent.get_by_role("heading", name="Console du support").wait_for()
        agent.get_by_text("Rien de proposé pour le moment.").wait_for()
        agent.locator("#console-live[data-live=on]").wait_for()  # its WebSocket is open

        pro.goto("/pro/")
        pro.get_by_role("link", name="Aide").click()
        pro.get_by_role("heading", name="Aide", exact=True).wait_for()
        shoot(pro, "support-1-help-phone")
        assert_accessible(pro)
        assert_fits_width(pro)
        pro.get_by_label("De quoi s’agit-il ?").select_option("video_now")
        pro.get_by_label("Me rappeler maintenant").check()
        pro.get_by_label("Numéro de téléphone à appeler").fill("06 11 22 33 44")
        pro.get_by_role("button", name="Envoyer ma demande").click()
        pro.wait_for_url("**/aide/demandes/*/")
        asked = time.monotonic()

        # The agent's open console shows who asks, from the snapshot, without a reload.
        offer = agent.locator(".offer-item")
        offer.get_by_text("Dr Claire Martin").wait_for(timeout=5_000)
        shown_after = time.monotonic() - asked
        assert shown_after < 1.0, f"the offer took {shown_after:.2f} s to show"
        offer.get_by_text("Cabinet des Lilas").wait_for()
        offer.get_by_text("Inscription").count()  # onboarding line when a journey exists
        offer.get_by_text("Dernier appel").wait_for()
        shoot(agent, "support-2-console-offer")
        assert_accessible(agent)

        pro.get_by_text("Restez sur cette page").wait_for()
        shoot(pro, "support-3-request-phone")
        assert_accessible(pro)
        assert_fits_width(pro)

        offer.get_by_role("button", name="Accepter").click()
        agent.wait_for_url("**/support/contacts/*/")
        agent.get_by_role("heading", name="Qui demande").wait_for()
        agent.get_by_text(desk.gp.rpps).wait_for()
        agent.get_by_text("La page du client est ouverte").wait_for()
        assert_accessible(agent)
        agent.get_by_role("button", name="Appeler dans Consulto").click()

        pro.get_by_text("Un conseiller vous appelle").wait_for()
        pro.get_by_role("button", name="Décrocher").click()
        assert _audio_flows(pro) >= 20
        assert _audio_flows(agent) >= 20
        shoot(agent, "support-4-call-agent")
        shoot(pro, "support-4-call-phone")
        assert_accessible(pro)

        # Hold keeps the call (the form goes in the background) and silences both ways.
        agent.get_by_role("button", name="Mettre en attente").click()
        agent.locator("[data-on-hold]").wait_for()
        assert agent.evaluate("window.supportCall.pc.connectionState") == "connected"
        assert agent.evaluate("document.querySelector('.call-panel audio').muted") is True
        agent.get_by_role("button", name="Reprendre").click()
        agent.locator("[data-on-hold]").wait_for(state="detached")

        agent.get_by_role("button", name="Raccrocher").click()
        pro.get_by_text("L’appel est terminé").wait_for()
        agent.get_by_label("Motif").select_option("solved")
        agent.get_by_label("Statut du ticket").select_option("solved")
        agent.get_by_role("button", name="Clôturer le contact").click()
        agent.wait_for_url("**/support/")
    finally:
        agent_context.close()
        pro_context.close()

    contact = Contact.objects.get(ticket__customer=desk.pro_user)
    assert contact.status == Contact.Status.DONE
    assert contact.talk_seconds > 0 and contact.hold_seconds >= 0
    survey = Survey.objects.get(ticket=contact.ticket)
    mails = smtp.to(desk.pro_user.email)
    assert any(f"/aide/avis/{survey.token}/" in m.get_body().get_content() for m in mails)


def test_a_chat_goes_both_ways_live(desk, browser, asgi_server):  # noqa: F811
    agent_context, agent = _open(browser, asgi_server, viewport=DESKTOP)
    pro_context, pro = _open(browser, asgi_server, viewport=PHONE, is_mobile=True, has_touch=True)
    log_in(agent, desk.alice.user, asgi_server)
    log_in(pro, desk.pro_user, asgi_server)
    try:
        agent.goto("/support/")
        agent.locator("#console-live[data-live=on]").wait_for()
        pro.goto("/aide/")
        pro.get_by_label("De quoi s’agit-il ?").select_option("video")
        pro.get_by_label("Discuter avec un conseiller").check()
        pro.get_by_label("Votre message").fill("Le son ne passe pas chez mes patients.")
        pro.get_by_role("button", name="Envoyer ma demande").click()
        pro.wait_for_url("**/aide/demandes/*/")
        agent.locator(".offer-item").get_by_role("button", name="Accepter").click()
        agent.locator("#history-entries").get_by_text("Le son ne passe pas").wait_for()

        pro.get_by_label("Ajouter un message à votre demande").fill("Je suis sur Firefox.")
        pro.get_by_role("button", name="Envoyer").click()
        agent.locator("#history-entries").get_by_text("Je suis sur Firefox.").wait_for()

        agent.get_by_label("Réponse au client").fill("Autorisez le micro dans Firefox.")
        agent.get_by_role("button", name="Envoyer la réponse").click()
        pro.locator("#request-live").get_by_text("Autorisez le micro dans Firefox.").wait_for()
        shoot(pro, "support-5-chat-phone")
        assert_accessible(pro)
        assert_fits_width(pro)
        assert_accessible(agent)
    finally:
        agent_context.close()
        pro_context.close()


def test_the_help_panel_opens_over_the_agenda_and_knows_the_page(desk, browser, asgi_server):  # noqa: F811
    with_totp(desk.pro_user)
    context, pro = _open(browser, asgi_server, viewport=DESKTOP)
    log_in(pro, desk.pro_user, asgi_server)
    try:
        pro.goto("/pro/reglages/")
        pro.get_by_role("link", name="Aide").click()
        panel = pro.get_by_role("dialog", name="Aide")
        panel.get_by_text("Définir vos horaires d’ouverture").wait_for()
        assert pro.url.endswith("/pro/reglages/")  # the page stays behind the panel
        shoot(pro, "support-6-help-panel")
        assert_accessible(pro)
        pro.keyboard.press("Escape")
        assert panel.is_hidden()
        pro.get_by_role("link", name="Aide").click()
        panel.get_by_label("De quoi s’agit-il ?").select_option("agenda_settings")
        panel.get_by_label("Nous écrire").check()
        panel.get_by_label("Votre message").fill("Comment ouvrir le samedi ?")
        panel.get_by_role("button", name="Envoyer ma demande").click()
        pro.wait_for_url("**/aide/demandes/*/")
    finally:
        context.close()
    contact = Contact.objects.get(ticket__customer=desk.pro_user)
    from consulto.support.services import read_snapshot

    assert read_snapshot(agent=desk.alice, snapshot=contact.snapshot)["page"] == "/pro/reglages/"
