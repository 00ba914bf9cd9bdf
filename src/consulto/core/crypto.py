"""Encryption at rest for health data (notes, documents): Fernet keys from the environment.

``CONSULTO_ENCRYPTION_KEYS`` holds one or more Fernet keys, comma-separated, newest first. New
data is encrypted with the first; any of them decrypts (``MultiFernet``), so a key is rotated by
putting a new one in front, running ``consulto manage rotate_keys`` and then dropping the old one.
Without the variable (development, demo, tests) a key is generated once in the data directory.
"""

from __future__ import annotations

import os
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = ["InvalidToken", "decrypt", "decrypt_text", "encrypt", "encrypt_text", "keys", "rotate"]


def keys() -> list[bytes]:
    raw = os.environ.get("CONSULTO_ENCRYPTION_KEYS", "").strip()
    if raw:
        found = [k.strip().encode() for k in raw.split(",") if k.strip()]
    else:
        path = settings.DATA_DIR / "encryption_key"
        if not path.exists():
            path.write_bytes(Fernet.generate_key())
            path.chmod(0o600)
        found = [path.read_bytes().strip()]
    for key in found:
        try:
            Fernet(key)
        except ValueError as error:
            raise ImproperlyConfigured(
                "CONSULTO_ENCRYPTION_KEYS must hold Fernet keys (32 url-safe base64 bytes)"
            ) from error
    return found


@lru_cache(maxsize=4)
def _fernet(key_list: tuple[bytes, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k) for k in key_list])


def _current() -> MultiFernet:
    return _fernet(tuple(keys()))


def encrypt(data: bytes) -> bytes:
    return _current().encrypt(data)


def decrypt(token: bytes) -> bytes:
    return _current().decrypt(token)


def encrypt_text(text: str) -> str:
    return encrypt(text.encode()).decode("ascii")


def decrypt_text(token: str) -> str:
    return decrypt(token.encode("ascii")).decode()


def rotate(token: bytes) -> bytes:
    """Re-encrypt ``token`` with the newest key (it may have been made with an older one)."""
    return _current().rotate(token)
