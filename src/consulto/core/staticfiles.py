"""Static files for a server with DEBUG off: collected before it starts, served by WhiteNoise.

With DEBUG off, pages name static files by their hashed names (``consulto.3f2a….css``), which
browsers may cache for a year; the hashes come from the manifest that ``collectstatic`` writes
into STATIC_ROOT, and whitenoise serves what it collected there. Collecting takes seconds, so a
server start collects only when the sources changed since the last collect: a fingerprint of
every source file's path, size and modification time is kept beside STATIC_ROOT.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management import call_command
from django.http import HttpResponse
from whitenoise.middleware import WhiteNoiseMiddleware


def stamp_path() -> Path:
    root = Path(settings.STATIC_ROOT)
    return root.with_name(root.name + ".sources")


def sources_fingerprint() -> str:
    """A digest of what ``collectstatic`` would collect, and how (storage, URL)."""
    digest = hashlib.sha256()
    digest.update(
        f"{settings.STORAGES['staticfiles']['BACKEND']}\n{settings.STATIC_URL}\n".encode()
    )
    ignore = apps.get_app_config("staticfiles").ignore_patterns
    seen: set[str] = set()
    for finder in finders.get_finders():
        for path, storage in finder.list(ignore):
            name = os.path.join(getattr(storage, "prefix", None) or "", path)
            if name in seen:  # the first finder's file wins, as in collectstatic
                continue
            seen.add(name)
            found = os.stat(storage.path(path))
            digest.update(f"{name}\0{found.st_size}\0{found.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _manifest_present() -> bool:
    name = getattr(staticfiles_storage, "manifest_name", None)
    return name is None or staticfiles_storage.exists(name)


def collect_if_changed() -> bool:
    """Collect the static files unless the last collect had the same sources; True if it ran."""
    fingerprint = sources_fingerprint()
    stamp = stamp_path()
    if stamp.exists() and stamp.read_text() == fingerprint and _manifest_present():
        return False
    call_command("collectstatic", interactive=False, verbosity=0)
    stamp.write_text(fingerprint)
    return True


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise, answering with a file's bytes rather than a stream of them.

    Under ASGI, Django reads a synchronous stream (WhiteNoise's file response) into memory in a
    worker thread anyway, and warns about it at the first static file each process serves. Our
    static files are small (3 MB at most), so reading one at once is the same work, said
    plainly; the headers (cache lifetime, compression, ranges) stay WhiteNoise's.
    """

    @staticmethod
    def serve(static_file, request):
        found = static_file.get_response(request.method, request.META)
        body = b""
        if found.file is not None:
            with found.file:
                body = found.file.read()
        response = HttpResponse(body, status=int(found.status))
        del response["Content-Type"]
        for key, value in found.headers:
            response[key] = value
        return response
