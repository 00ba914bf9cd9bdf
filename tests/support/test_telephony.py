"""Calling a customer's phone from the console: French numbers in any usual writing become the
trunk's E.164 SIP URIs and anything else a clear InvalidInput; phone calls are available only
when Janus and the trunk are configured, and then only to the agent who took the callback; the
phone WebSocket refuses everybody else and says "ended" when Janus cannot be reached."""

import asyncio
import re
import socket
from concurrent.futures import ThreadPoolExecutor

import pytest
from channels.routing import URLRouter
from channels.testing.websocket import WebsocketCommunicator
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import path, reverse
from hypothesis import given
from hypothesis import strategies as st

from consulto.core import crypto
from consulto.core.errors import InvalidInput, NotFound
from consulto.support import services, telephony
from consulto.support.consumers import PhoneConsumer
from consulto.support.models import Entry
from tests.core.test_settings import ROOT, base_env, run_manage

NOT_A_NUMBER, ABROAD, SURCHARGED = telephony.NOT_A_NUMBER, telephony.ABROAD, telephony.SURCHARGED
E164 = re.compile(r"\+(33|262|590|594|596)[1-9][0-9]{8}")
APP = URLRouter([path("ws/support/telephone/<int:contact_id>/", PhoneConsumer.as_asgi())])


@pytest.fixture
def trunk(settings):
    settings.CONSULTO_JANUS_URL = "http://127.0.0.1:8088/janus"
    settings.CONSULTO_JANUS_API_SECRET = "s3cret"
    settings.CONSULTO_SIP_PROXY = "sip:127.0.0.1:5060"
    settings.CONSULTO_SIP_DOMAIN = "sip.example.org"
    settings.CONSULTO_SIP_USERNAME = "consulto"
    settings.CONSULTO_SIP_SECRET = "trunk-password"
    settings.CONSULTO_SIP_CALLER_ID = "01 80 00 00 00"
    return settings


@pytest.mark.parametrize(
    "written",
    [
        "06 11 22 33 44",
        "0611223344",
        "06.11.22.33.44",
        "06-11-22-33-44",
        " 06 11 22 33 44 ",
        "06\u00a011\u00a022\u00a033\u00a044",
        "+33 6 11 22 33 44",
        "+33611223344",
        "+33 (0)6 11 22 33 44",
        "+33 06 11 22 33 44",
        "0033 6 11 22 33 44",
        "0033611223344",
    ],
)
def test_a_french_number_in_any_usual_writing_becomes_e164(written):
    assert telephony.e164(written) == "+33611223344"
    uri = telephony.sip_uri(written, domain="sip.example.org")
    assert uri == "sip:+33611223344@sip.example.org"


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("01 80 00 00 00", "+33180000000"),
        ("09 70 00 00 00", "+33970000000"),
        ("0800 00 00 00", "+33800000000"),
        ("0692 12 34 56", "+262692123456"),  # La Réunion's mobiles
        ("+262 692 12 34 56", "+262692123456"),
        ("+33 692 12 34 56", "+262692123456"),
        ("0590 12 34 56", "+590590123456"),  # Guadeloupe
        ("0696 12 34 56", "+596696123456"),  # Martinique
        ("0594 12 34 56", "+594594123456"),  # Guyane
        ("0639 12 34 56", "+262639123456"),  # Mayotte
    ],
)
def test_landlines_freephones_and_overseas_numbers_get_their_country_code(written, expected):
    assert telephony.e164(written) == expected


@pytest.mark.parametrize(
    ("written", "says"),
    [
        ("", NOT_A_NUMBER),
        ("123", NOT_A_NUMBER),
        ("06 11 22 33 4", NOT_A_NUMBER),
        ("06 11 22 33 44 5", NOT_A_NUMBER),
        ("6 11 22 33 44", NOT_A_NUMBER),
        ("00 11 22 33 44", ABROAD),  # 00: the international prefix
        ("06 11 22 33 4x", NOT_A_NUMBER),
        ("06 11 22 33 44;user=phone", NOT_A_NUMBER),
        ("+33 6 11 22 33 44@evil.example", NOT_A_NUMBER),
        ("sip:+33611223344@evil.example", NOT_A_NUMBER),
        ("06 11 22 33 44\x00", NOT_A_NUMBER),
        ("٠٦١١٢٢٣٣٤٤", NOT_A_NUMBER),  # Arabic-Indic digits
        ("+", NOT_A_NUMBER),
        ("+590 6 11 22 33 44", NOT_A_NUMBER),  # a metropolitan mobile under Guadeloupe's code
        ("0" * 41, NOT_A_NUMBER),
        ("+44 20 7946 0000", ABROAD),
        ("0044 20 7946 0000", ABROAD),
        ("+1 202 555 0100", ABROAD),
        ("08 99 12 34 56", SURCHARGED),
        ("0825 00 00 00", SURCHARGED),
    ],
)
def test_a_wrong_number_is_a_clear_invalid_input(written, says):
    with pytest.raises(InvalidInput) as refused:
        telephony.e164(written)
    assert refused.value.message == says
    assert refused.value.field == "phone"


def test_what_is_not_text_is_refused_too():
    for value in (None, 611223344, ["06 11 22 33 44"]):
        with pytest.raises(InvalidInput):
            telephony.e164(value)


@given(st.text(max_size=50))
def test_any_text_is_a_valid_e164_number_or_a_clear_refusal(text):
    try:
        number = telephony.e164(text)
    except InvalidInput as refused:
        assert refused.message
    else:
        assert E164.fullmatch(number), number


@given(
    st.sampled_from("12345679"),
    st.text(alphabet="0123456789", min_size=8, max_size=8),
    st.integers(min_value=0, max_value=7),
)
def test_every_writing_of_a_number_gives_the_same_uri(first, rest, writing):
    national = first + rest
    ten = "0" + national
    pairs = [ten[i : i + 2] for i in range(0, 10, 2)]
    written = [
        ten,
        " ".join(pairs),
        ".".join(pairs),
        "-".join(pairs),
        "+33" + national,
        "0033 " + national,
        "+33 (0)" + " ".join(pairs)[1:],
        "+33 " + " ".join(pairs),
    ][writing]
    assert telephony.e164(written) == telephony.e164(ten)


def test_phone_calls_are_unavailable_until_janus_and_the_trunk_are_configured(settings):
    settings.CONSULTO_JANUS_URL = ""
    assert not telephony.available()
    assert telephony.panel("06 11 22 33 44") == {
        "available": False,
        "number": "+33611223344",
        "error": "",
    }
    settings.CONSULTO_JANUS_URL = "http://127.0.0.1:8088/janus"
    settings.CONSULTO_JANUS_API_SECRET = ""
    assert not telephony.available()


def test_a_configured_trunk_makes_phone_calls_available(trunk):
    found = telephony.trunk()
    assert telephony.available()
    assert found.caller_id == "+33180000000"
    assert found.janus_url == "http://127.0.0.1:8088/janus"
    assert telephony.panel("0899 12 34 56")["error"]


def test_a_caller_id_that_is_not_a_french_number_is_a_configuration_error(trunk):
    trunk.CONSULTO_SIP_CALLER_ID = "Consulto"
    with pytest.raises(ImproperlyConfigured, match="CONSULTO_SIP_CALLER_ID"):
        telephony.trunk()


def test_janus_without_its_secret_or_the_trunk_is_refused_at_start(tmp_path):
    env = base_env(tmp_path)
    env.update(CONSULTO_JANUS_URL="http://127.0.0.1:8088/janus", CONSULTO_SIP_DOMAIN="sip.test")
    env["PYTHONPATH"] = str(ROOT / "src")  # this checkout's settings, whatever is installed
    result = run_manage("check", env=env)
    assert result.returncode != 0
    missing = "CONSULTO_JANUS_API_SECRET, CONSULTO_SIP_PROXY, CONSULTO_SIP_USERNAME"
    assert missing in result.stderr


@pytest.mark.django_db(transaction=True)
def test_only_the_agent_who_took_the_callback_may_call_its_number(desk, trunk):
    contact = services.ask_for_help(
        user=desk.pro_user, channel="call", category="video_now", phone="06 11 22 33 44"
    )
    assert telephony.target(desk.alice.user, contact.pk) is None  # offered, not taken
    services.accept(agent=desk.alice, contact_id=contact.pk)
    assert telephony.target(desk.alice.user, contact.pk) == "sip:+33611223344@sip.example.org"
    assert telephony.target(desk.bruno.user, contact.pk) is None
    assert telephony.target(desk.pro_user, contact.pk) is None
    trunk.CONSULTO_JANUS_URL = ""
    assert telephony.target(desk.alice.user, contact.pk) is None
    trunk.CONSULTO_JANUS_URL = "http://127.0.0.1:8088/janus"
    services.end(agent=desk.alice, contact_id=contact.pk)
    assert telephony.target(desk.alice.user, contact.pk) is None


@pytest.mark.django_db(transaction=True)
def test_a_number_that_cannot_be_called_gives_no_target(desk, trunk):
    contact = services.ask_for_help(
        user=desk.pro_user, channel="call", category="video_now", phone="0899 12 34 56"
    )
    services.accept(agent=desk.alice, contact_id=contact.pk)
    assert telephony.target(desk.alice.user, contact.pk) is None


def _contact_page(desk, phone: str) -> str:
    contact = services.ask_for_help(
        user=desk.pro_user, channel="call", category="video_now", phone=phone
    )
    services.accept(agent=desk.alice, contact_id=contact.pk)
    client = Client()
    client.force_login(desk.alice.user)
    return client.get(reverse("support:contact", args=[contact.pk])).content.decode()


@pytest.mark.django_db(transaction=True)
def test_without_janus_the_console_says_to_call_from_ones_own_phone(desk, settings):
    settings.CONSULTO_JANUS_URL = ""
    html = _contact_page(desk, "06 11 22 33 44")
    assert (
        "Les appels téléphoniques ne sont pas configurés sur cette plateforme : appelez le "
        "06 11 22 33 44 depuis votre propre téléphone." in html
    )
    assert "data-phone-ws" not in html and "phone.js" not in html
    assert "Appeler dans Consulto" in html  # the call in the product is still there


@pytest.mark.django_db(transaction=True)
def test_with_janus_the_console_offers_to_call_their_phone(desk, trunk):
    html = _contact_page(desk, "06 11 22 33 44")
    assert "Appeler son téléphone" in html and "phone.js" in html
    assert 'href="tel:+33611223344"' in html


@pytest.mark.django_db(transaction=True)
def test_a_number_that_cannot_be_called_is_explained_on_the_console(desk, trunk):
    html = _contact_page(desk, "0899 12 34 56")
    assert "Les numéros surtaxés (08 1 à 08 9) ne peuvent pas être appelés d’ici." in html
    assert "Appeler son téléphone" not in html and "phone.js" not in html


def _run(scenario) -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, scenario()).result()


async def _join(user, contact_id):
    communicator = WebsocketCommunicator(APP, f"/ws/support/telephone/{contact_id}/")
    if user is not None:
        communicator.scope["user"] = user
    connected, _code = await communicator.connect(timeout=3)
    assert connected
    first = await communicator.receive_output(timeout=3)
    if first["type"] == "websocket.close":
        return communicator, first["code"]
    return communicator, first


@pytest.mark.django_db(transaction=True)
def test_the_phone_socket_refuses_everybody_but_the_agent(desk, trunk):
    contact = services.ask_for_help(
        user=desk.pro_user, channel="call", category="video_now", phone="06 11 22 33 44"
    )
    services.accept(agent=desk.alice, contact_id=contact.pk)

    async def scenario():
        assert (await _join(None, contact.pk))[1] == 4401
        assert (await _join(desk.pro_user, contact.pk))[1] == 4403
        assert (await _join(desk.bruno.user, contact.pk))[1] == 4403
        agent, hello = await _join(desk.alice.user, contact.pk)
        assert '"type": "hello"' in hello["text"]
        await agent.disconnect()

    _run(scenario)


@pytest.mark.django_db(transaction=True)
def test_the_call_ends_plainly_when_janus_cannot_be_reached(desk, trunk):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    trunk.CONSULTO_JANUS_URL = f"http://127.0.0.1:{port}/janus"
    contact = services.ask_for_help(
        user=desk.pro_user, channel="call", category="video_now", phone="06 11 22 33 44"
    )
    services.accept(agent=desk.alice, contact_id=contact.pk)

    async def scenario():
        agent, _hello = await _join(desk.alice.user, contact.pk)
        await agent.send_json_to({"type": "ping"})
        assert (await agent.receive_json_from(timeout=3)) == {"type": "pong"}
        await agent.send_json_to({"type": "chat", "text": "hello"})
        assert (await agent.receive_json_from(timeout=3))["code"] == "unknown_type"
        await agent.send_json_to({"type": "offer", "sdp": "v=0"})
        assert (await agent.receive_json_from(timeout=3)) == {"type": "calling"}
        ended = await agent.receive_json_from(timeout=5)
        assert ended == {"type": "ended", "outcome": "failed"}
        await agent.disconnect()

    _run(scenario)
    assert _history(contact) == ["Appel de son numéro : l’appel n’a pas pu être passé."]


def _history(contact) -> list[str]:
    return [
        crypto.decrypt_text(e.body)
        for e in Entry.objects.filter(contact=contact, kind=Entry.Kind.EVENT).order_by("pk")
        if "Appel" in crypto.decrypt_text(e.body)
    ]


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        (486, "busy"),
        (600, "busy"),
        (480, "no_answer"),
        (487, "no_answer"),
        (408, "no_answer"),
        (404, "unreachable"),
        (484, "unreachable"),
        (503, "failed"),
        (None, "failed"),
    ],
)
def test_why_an_unanswered_call_ended_comes_from_its_sip_status(code, outcome):
    assert telephony.outcome(code) == outcome


@pytest.mark.django_db(transaction=True)
def test_what_a_phone_call_came_to_goes_into_the_tickets_history(desk):
    contact = services.ask_for_help(
        user=desk.pro_user, channel="call", category="video_now", phone="06 11 22 33 44"
    )
    services.accept(agent=desk.alice, contact_id=contact.pk)
    services.record_phone_call(agent=desk.alice, contact_id=contact.pk, talked_seconds=185)
    services.record_phone_call(
        agent=desk.alice, contact_id=contact.pk, talked_seconds=None, outcome="busy"
    )
    assert _history(contact) == [
        "Appel de son numéro : 3 min 05 s.",
        "Appel de son numéro : sa ligne était occupée.",
    ]
    with pytest.raises(NotFound):
        services.record_phone_call(agent=desk.bruno, contact_id=contact.pk, talked_seconds=1)
