"""The phone leg of a support callback: the agent's console calls the customer's phone through
Janus's SIP plugin and the platform's SIP trunk (settings CONSULTO_JANUS_* and CONSULTO_SIP_*).

Only our server talks to Janus's API (``consumers.PhoneConsumer``, with Janus's ``api_secret``):
the browser sends its offer and ICE candidates over our WebSocket, gets Janus's answer back, and
its audio then flows to Janus directly. We chose that over janus.js in the browser with a token
per call (``token_auth`` and the admin API's ``add_token``): there, the browser would also hold
the trunk account's password (the SIP plugin's ``register`` takes it) and could dial any number
through our trunk. Here one secret stays on the server, the number dialled is the contact's,
chosen by the server, and there is no token to add, expire and remove.

Numbers: French ones (metropolitan France and the overseas departments) in any usual writing,
called in E.164 (``sip:+33611223344@DOMAIN``); surcharged numbers are refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from consulto.core.errors import InvalidInput

MAX_INPUT = 40
# The overseas departments share France's national numbering ("0" and nine digits) but have
# their own country codes: the first three digits after the "0" tell which.
OVERSEAS = {
    "262": "262",  # La Réunion
    "263": "262",
    "692": "262",
    "693": "262",
    "269": "262",  # Mayotte
    "639": "262",
    "590": "590",  # Guadeloupe, Saint-Martin, Saint-Barthélemy
    "690": "590",
    "691": "590",
    "594": "594",  # Guyane
    "694": "594",
    "596": "596",  # Martinique
    "696": "596",
    "697": "596",
}
COUNTRY_CODES = ("33", *sorted(set(OVERSEAS.values())))
SEPARATORS = re.compile(r"[\s.\-/\u00a0\u202f]")
WRITTEN = re.compile(r"(\+|00)?[0-9]+")

NOT_A_NUMBER = _("This phone number is not valid: give its 10 digits, like 06 12 34 56 78.")
ABROAD = _("Only numbers in France (overseas departments included) can be called from here.")
SURCHARGED = _("Numbers with a surcharge (08 1 to 08 9) cannot be called from here.")


@dataclass(frozen=True)
class Trunk:
    janus_url: str
    api_secret: str
    proxy: str
    domain: str
    username: str
    secret: str
    caller_id: str  # E.164, or empty


def trunk() -> Trunk | None:
    """The configured Janus and SIP trunk, or None when phone calls are not set up."""
    required = (
        settings.CONSULTO_JANUS_URL,
        settings.CONSULTO_JANUS_API_SECRET,
        settings.CONSULTO_SIP_PROXY,
        settings.CONSULTO_SIP_DOMAIN,
        settings.CONSULTO_SIP_USERNAME,
    )
    if not all(required):
        return None
    caller_id = settings.CONSULTO_SIP_CALLER_ID
    try:
        caller_id = e164(caller_id) if caller_id else ""
    except InvalidInput as error:
        raise ImproperlyConfigured(f"CONSULTO_SIP_CALLER_ID: {error.message}") from error
    return Trunk(
        janus_url=settings.CONSULTO_JANUS_URL.rstrip("/"),
        api_secret=settings.CONSULTO_JANUS_API_SECRET,
        proxy=settings.CONSULTO_SIP_PROXY,
        domain=settings.CONSULTO_SIP_DOMAIN,
        username=settings.CONSULTO_SIP_USERNAME,
        secret=settings.CONSULTO_SIP_SECRET,
        caller_id=caller_id,
    )


def available() -> bool:
    return trunk() is not None


def e164(number: str) -> str:
    """``number`` as written by a person ("06 11 22 33 44", "+33 (0)6 11...", "0033 6...") in
    E.164 ("+33611223344"); InvalidInput says what is wrong with anything else."""
    if not isinstance(number, str) or len(number) > MAX_INPUT:
        raise InvalidInput(NOT_A_NUMBER, field="phone")
    written = SEPARATORS.sub("", number).replace("(0)", "")
    if not WRITTEN.fullmatch(written):
        raise InvalidInput(NOT_A_NUMBER, field="phone")
    if written.startswith(("+", "00")):
        digits = written.removeprefix("+") if written[0] == "+" else written[2:]
        given = next((code for code in COUNTRY_CODES if digits.startswith(code)), None)
        if given is None:
            raise InvalidInput(ABROAD, field="phone")
        national = digits[len(given) :]
        if len(national) == 10 and national.startswith("0"):  # "+33 06...": the 0 is extra
            national = national[1:]
    else:
        if len(written) != 10 or not written.startswith("0"):
            raise InvalidInput(NOT_A_NUMBER, field="phone")
        given, national = None, written[1:]
    if len(national) != 9 or national[0] == "0":
        raise InvalidInput(NOT_A_NUMBER, field="phone")
    if national[0] == "8" and not national.startswith("80"):
        raise InvalidInput(SURCHARGED, field="phone")
    country = OVERSEAS.get(national[:3], "33")
    if given not in (None, "33", country):
        raise InvalidInput(NOT_A_NUMBER, field="phone")
    return f"+{country}{national}"


def outcome(code: int | None) -> str:
    """Why a call that was never answered ended, from the SIP status that ended it."""
    if code in (486, 600):
        return "busy"
    if code in (408, 480, 487):  # 487: cancelled while it rang
        return "no_answer"
    if code in (404, 484, 604):
        return "unreachable"
    return "failed"


def panel(number: str) -> dict:
    """What the console's phone panel shows for a contact's number: whether the console can call
    it, the number in E.164, or what is wrong with it."""
    if not number:
        return {"available": available(), "number": "", "error": ""}
    try:
        return {"available": available(), "number": e164(number), "error": ""}
    except InvalidInput as error:
        return {"available": available(), "number": "", "error": error.message}


def sip_uri(number: str, *, domain: str) -> str:
    """The trunk's SIP URI of a number as a person wrote it (InvalidInput if it is not one)."""
    return f"sip:{e164(number)}@{domain}"


def target(user, contact_id: int) -> str | None:
    """The SIP URI ``user`` may call for this contact: the agent who took the callback, while it
    is in progress and phone calls are set up, calls the contact's number; nobody else calls
    anything (None)."""
    from consulto.practice.access import has_second_factor

    from . import access
    from .models import Contact

    found = trunk()
    if found is None:
        return None
    agent = access.agent_of(user)
    if agent is None or not has_second_factor(user):
        return None
    contact = Contact.objects.filter(
        pk=contact_id,
        agent=agent,
        channel=Contact.Channel.CALL,
        status=Contact.Status.ACTIVE,
    ).first()
    if contact is None:
        return None
    try:
        return sip_uri(contact.phone, domain=found.domain)
    except InvalidInput:
        return None
