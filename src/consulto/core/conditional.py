"""Conditional GET (RFC 9110) for answers derived from versioned data.

The view computes an ETag from what its answer depends on (an agenda's version...) *before* the
work, answers 304 Not Modified when the request's ``If-None-Match`` names it, and otherwise does
the work and sends the ETag with it. Answers are ``no-cache``: a cache may keep them but asks
each time (a booking by someone else must show at once), and a 304 costs the client nothing to
download and the server nothing to compute. An answer that depends on who reads it is
``private`` (no shared cache keeps it) and its ETag holds the reader, so one reader's ETag never
validates another's copy.
"""

from django.http import HttpResponseNotModified
from django.middleware.csrf import get_token
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.crypto import salted_hmac
from django.utils.http import parse_etags
from django.utils.translation import get_language


def etag(*parts: object) -> str:
    """A weak ETag of ``parts``: a digest keyed by SECRET_KEY, so that the ids, versions and
    secrets it is made of do not show. Weak: equal answers, not equal bytes (a page's CSRF token
    is masked anew at each rendering)."""
    digest = salted_hmac("consulto.core.conditional", "\x1f".join(map(str, parts)))
    return f'W/"{digest.hexdigest()[:32]}"'


def page_reader(request) -> tuple:
    """What a page fragment holds of its reader, to put in its ETag: the CSRF secret its forms'
    tokens are made from (a 304 keeps the browser's copy, whose token must match its cookie),
    the account, the language, and the full path (the fragment's links carry the query)."""
    get_token(request)  # makes the secret when the browser has none yet; the cookie follows
    user = getattr(request, "user", None)
    account = user.pk if user is not None and user.is_authenticated else ""
    return request.META["CSRF_COOKIE"], account, get_language(), request.get_full_path()


def matches(request, tag: str) -> bool:
    """Does the request's If-None-Match name ``tag`` (weak comparison, as RFC 9110 says)?"""
    header = request.headers.get("If-None-Match")
    if not header or request.method not in ("GET", "HEAD"):
        return False
    wanted = tag.removeprefix("W/")
    return any(t == "*" or t.removeprefix("W/") == wanted for t in parse_etags(header))


def validated(response, tag: str, *, private: bool, vary: tuple[str, ...] = ()):
    """``response`` with its ETag and caching headers (a 304 carries the same as the 200)."""
    response["ETag"] = tag
    if private:
        patch_cache_control(response, private=True, no_cache=True)
    else:
        patch_cache_control(response, no_cache=True)
    if vary:
        patch_vary_headers(response, vary)
    return response


def not_modified(tag: str, *, private: bool, vary: tuple[str, ...] = ()):
    return validated(HttpResponseNotModified(), tag, private=private, vary=vary)
