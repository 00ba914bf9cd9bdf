"""The phone leg of a support callback, through a real SIP stack (tests/e2e/sip.py): the agent's
console (Chromium, fake microphone) calls the practitioner's phone number; our server drives
Janus's SIP plugin, which calls through the trunk (Kamailio, checking the platform's password
and seeing its caller ID) to the practitioner's phone (baresip, answering by itself with a
440 Hz tone). Audio must flow both ways: packets and sound received in the browser (getStats of
the Janus PeerConnection) and at the phone (its RTCP figures and the WAV of what it heard).
Hold silences both ways; the agent hangs up and files the contact; the call is in the ticket's
history. A number the trunk does not know ends plainly ("could not be reached"), in the history
too.

The call needs WebSockets: this test runs against the ASGI application (uvicorn in a thread).
"""

import re
import time

import pytest

from consulto.core import crypto
from consulto.support import services
from consulto.support.models import Contact, Entry
from tests.support.conftest import desk  # noqa: F401 (fixture)

from .conftest import DESKTOP, _open, assert_accessible, log_in, shoot
from .sip import CALLER_ID, PHONE, telephony  # noqa: F401 (fixture)
from .test_practice import asgi_server  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db(transaction=True)

AUDIO = """async () => {
  const pc = window.supportPhone && window.supportPhone.pc;
  const found = {received: 0, energy: 0, sent: 0};
  if (!pc) return found;
  (await pc.getStats()).forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'audio') {
      found.received = s.packetsReceived || 0;
      found.energy = s.totalAudioEnergy || 0;
    }
    if (s.type === 'outbound-rtp' && s.kind === 'audio') found.sent = s.packetsSent || 0;
  });
  return found;
}"""
PANEL = "document.querySelector('[data-phone-ws]')"


def _history(contact) -> list[str]:
    """The events of the contact's ticket history (the server records a phone call's outcome
    right after telling the page)."""
    events = contact.entries.filter(kind=Entry.Kind.EVENT).order_by("pk")
    return [crypto.decrypt_text(e.body) for e in events]


def _until(check, what, timeout: float = 15.0):
    """``check()`` once it is true; ``what()`` says what was seen if it never is."""
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, what()
        time.sleep(0.05)
    return found


def test_the_agent_calls_the_practitioners_phone_and_audio_flows_both_ways(
    desk,  # noqa: F811
    browser,
    asgi_server,  # noqa: F811
    telephony,  # noqa: F811
    settings,
):
    telephony.use(settings)
    contact = services.ask_for_help(
        user=desk.pro_user, channel="call", category="video_now", phone="06 11 22 33 44"
    )
    services.accept(agent=desk.alice, contact_id=contact.pk)
    context, agent = _open(browser, asgi_server, viewport=DESKTOP)
    log_in(agent, desk.alice.user, asgi_server)
    figures = {}
    try:
        agent.goto(f"/support/contacts/{contact.pk}/")
        panel = agent.locator("[data-phone-ws]")
        call_button = panel.get_by_role("button", name="Appeler son téléphone", exact=True)
        call_button.wait_for()
        assert_accessible(agent)

        clicked = time.monotonic()
        call_button.click()
        agent.wait_for_function(f"() => {PANEL}.dataset.phone === 'connected'", timeout=15_000)
        figures["answered_s"] = round(time.monotonic() - clicked, 2)
        panel.get_by_text("Connecté : vous pouvez parler.").wait_for()

        # The phone's tone reaches the browser, the browser's beeps reach the phone.
        heard = _until(
            lambda: (a := agent.evaluate(AUDIO))["received"] >= 50 and a["energy"] > 0 and a,
            lambda: f"no sound from the phone reached the browser: {agent.evaluate(AUDIO)}",
        )
        figures["first_50_packets_s"] = round(time.monotonic() - clicked, 2)
        shoot(agent, "support-6-phone-call")
        assert_accessible(agent)

        # Hold keeps the phone call and silences both ways; resume brings the sound back.
        agent.get_by_role("button", name="Mettre en attente").click()
        agent.locator("[data-on-hold]").wait_for()
        panel.get_by_text("En attente.").wait_for()
        assert agent.evaluate("window.supportPhone.pc.connectionState") == "connected"
        assert agent.evaluate(f"{PANEL}.querySelector('audio').muted") is True
        assert agent.evaluate("window.supportPhone.stream.getAudioTracks()[0].enabled") is False
        agent.get_by_role("button", name="Reprendre").click()
        agent.locator("[data-on-hold]").wait_for(state="detached")
        panel.get_by_text("Connecté : vous pouvez parler.").wait_for()
        assert agent.evaluate(f"{PANEL}.querySelector('audio').muted") is False

        agent.wait_for_timeout(1000)
        heard = agent.evaluate(AUDIO)
        figures["browser_received"], figures["browser_sent"] = heard["received"], heard["sent"]
        panel.get_by_role("button", name="Raccrocher le téléphone", exact=True).click()
        panel.get_by_text("L’appel téléphonique est terminé.").wait_for()
        summary = _until(telephony.phone.summary, lambda: "the phone did not end the call", 10)
        figures["phone"] = summary

        agent.get_by_role("button", name="Raccrocher", exact=True).click()
        agent.get_by_label("Motif").select_option("solved")
        agent.get_by_label("Statut du ticket").select_option("solved")
        agent.get_by_role("button", name="Clôturer le contact").click()
        agent.wait_for_url("**/support/")
    finally:
        context.close()
        print("phone call figures:", figures)
    assert not agent.csp_violations, agent.csp_violations

    # The trunk was asked for this number with the platform's caller ID (after its challenge).
    invites = telephony.trunk_saw("INVITE")
    assert any(f"sip:{PHONE}@" in line and CALLER_ID in line for line in invites), invites
    assert telephony.trunk_saw("BYE")
    # The phone received the browser's packets and sent its own, and heard sound, not silence.
    assert summary["received"] >= 50 and summary["sent"] >= 50, summary
    # The phone writes the WAV's length into its header when it closes the call's audio.
    sound = _until(
        lambda: (heard := telephony.phone.heard())["seconds"] >= 1.0 and heard,
        lambda: f"the phone heard nothing: {telephony.phone.heard()}",
        5,
    )
    print("what the phone heard:", sound)
    assert sound["rms"] > 100, sound
    talked = re.compile(r"Appel de son numéro : \d+ min \d\d s\.")
    _until(
        lambda: any(talked.fullmatch(text) for text in _history(contact)),
        lambda: f"the call is not in the history: {_history(contact)}",
        5,
    )
    contact.refresh_from_db()
    assert contact.status == Contact.Status.DONE
    assert contact.talk_seconds > 0 and contact.hold_seconds >= 0


def test_a_number_nobody_answers_at_is_said_plainly_and_kept_in_the_history(
    desk,  # noqa: F811
    browser,
    asgi_server,  # noqa: F811
    telephony,  # noqa: F811
    settings,
):
    telephony.use(settings)
    contact = services.ask_for_help(
        user=desk.pro_user, channel="call", category="video_now", phone="07 99 99 99 99"
    )
    services.accept(agent=desk.alice, contact_id=contact.pk)
    context, agent = _open(browser, asgi_server, viewport=DESKTOP)
    log_in(agent, desk.alice.user, asgi_server)
    try:
        agent.goto(f"/support/contacts/{contact.pk}/")
        panel = agent.locator("[data-phone-ws]")
        panel.get_by_role("button", name="Appeler son téléphone", exact=True).click()
        # The trunk knows no phone at that number: it answers 404.
        panel.get_by_text("Ce numéro n’a pas pu être joint.").wait_for()
        panel.get_by_role("button", name="Appeler son téléphone", exact=True).wait_for()
        assert agent.evaluate("window.supportPhone.pc") is None
        assert_accessible(agent)
    finally:
        context.close()
    assert not agent.csp_violations, agent.csp_violations
    assert any("sip:+33799999999@" in line for line in telephony.trunk_saw("INVITE"))
    _until(
        lambda: "Appel de son numéro : le numéro n’a pas pu être joint." in _history(contact),
        lambda: f"the call is not in the history: {_history(contact)}",
        5,
    )
