"""SMS backends, chosen by the CONSULTO_SMS_BACKEND setting (a dotted path), like e-mail ones.

A backend has one method, ``send(to, text)``, which raises on failure; the outbox retries.
``to`` is already normalised to E.164 by ``normalise_phone``.
"""

import re
import sys
import threading
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

# National prefixes of the overseas departments that have their own country code.
_OVERSEAS = {
    "262": "262",  # La Réunion, Mayotte (landlines)
    "263": "262",
    "269": "262",
    "639": "262",  # Mayotte (mobiles)
    "692": "262",  # La Réunion (mobiles)
    "693": "262",
    "590": "590",  # Guadeloupe, Saint-Martin, Saint-Barthélemy
    "690": "590",
    "691": "590",
    "594": "594",  # Guyane
    "694": "594",
    "596": "596",  # Martinique
    "696": "596",
    "697": "596",
}


class InvalidPhoneNumber(ValueError):
    """Not a phone number an SMS can be sent to."""


def normalise_phone(value: str) -> str:
    """A French number (``06 12 34 56 78``, ``+33 6 12...``, ``0033...``) as E.164.

    Numbers already in international form (``+32...``) are kept as they are.
    """
    raw = re.sub(r"[\s.\-()/]", "", value or "")
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    if re.fullmatch(r"0[1-9]\d{8}", raw):
        national = raw[1:]
        return "+" + _OVERSEAS.get(national[:3], "33") + national
    if re.fullmatch(r"\+33[1-9]\d{8}", raw):
        return raw
    if re.fullmatch(r"\+33\d*", raw) is None and re.fullmatch(r"\+[1-9]\d{7,14}", raw):
        return raw
    raise InvalidPhoneNumber(value)


def get_backend():
    return import_string(settings.CONSULTO_SMS_BACKEND)()


def send_sms(to: str, text: str) -> None:
    get_backend().send(normalise_phone(to), text)


class ConsoleBackend:
    """Prints each SMS on standard output: for development."""

    def send(self, to: str, text: str) -> None:
        sys.stdout.write(f"SMS to {to}: {text}\n")
        sys.stdout.flush()


class FileBackend:
    """Appends each SMS to ``<data dir>/sms/outbox.log``: development, and a safe default."""

    _lock = threading.Lock()

    @property
    def path(self) -> Path:
        return Path(settings.DATA_DIR) / "sms" / "outbox.log"

    def send(self, to: str, text: str) -> None:
        path = self.path
        path.parent.mkdir(parents=True, exist_ok=True)
        line = f"{timezone.now().isoformat()}\t{to}\t{text.replace(chr(10), ' ')}\n"
        with self._lock, path.open("a", encoding="utf-8") as file:
            file.write(line)


outbox: list[dict] = []


class LocmemBackend:
    """Keeps each SMS in ``sms.outbox``, like Django's ``mail.outbox``: for tests."""

    def send(self, to: str, text: str) -> None:
        outbox.append({"to": to, "text": text})
