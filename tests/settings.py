"""Test settings: the project's settings, with plain HTTP and a data dir of their own."""

import os
from pathlib import Path

os.environ.setdefault("CONSULTO_HTTPS", "0")
os.environ.setdefault(
    "CONSULTO_DATA_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test")
)

from consulto.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CONSULTO_SMS_BACKEND = "consulto.notifications.sms.LocmemBackend"
