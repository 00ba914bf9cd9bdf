"""API authentication: ``Authorization: Bearer <token>``, or a logged-in session with CSRF.

Without any credential the answer is 401. A session is an ambient credential (the browser sends
its cookie to any site's form), so an unsafe request on it needs the CSRF token too: without it,
403 ``csrf_failed``. A bearer token is never ambient and needs no CSRF token.
"""

from contextlib import suppress

from django.contrib.auth import get_user_model
from django.db import OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer, SessionAuth
from ninja.utils import check_csrf

from consulto.core import rows
from consulto.core.errors import PermissionDenied

from .models import ApiToken, digest

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}


class CsrfFailed(PermissionDenied):
    code = "csrf_failed"
    default_message = _(
        "This request uses your session: send the CSRF token in the X-CSRFToken header "
        "(from the csrftoken cookie), or authenticate with a bearer token instead."
    )


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        if not token or len(token) > 200:
            return None
        found = _live_token(digest(token))
        if found is None:
            return None
        now = timezone.now()
        if found.last_used_at is None or (now - found.last_used_at).total_seconds() > 300:
            # Bookkeeping for the token's owner: a database too busy to take it (SQLite under a
            # rush) must not turn the request into a 500; the next use writes it.
            with suppress(OperationalError), transaction.atomic():
                ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.user = found.user
        return found.user


def _live_token(key_digest: str) -> ApiToken | None:
    """The token of this digest, not revoked, of an active user (selected with it). Read on
    every API request: plain SQL (``core/rows.py``)."""
    token, user = rows.columns(ApiToken, "t"), rows.columns(get_user_model(), "u")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {token.sql}, {user.sql} FROM {ApiToken._meta.db_table} t"  # noqa: S608
            f" JOIN {get_user_model()._meta.db_table} u ON u.id = t.user_id"
            " WHERE t.key_digest = %s AND t.revoked_at IS NULL AND u.is_active = %s",
            [key_digest, True],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    found = token.load(row[: token.count])
    found.user = user.load(row[token.count :])
    return found


class ActiveSessionAuth(SessionAuth):
    def __call__(self, request):
        # No session, no user: not a CSRF matter but no credentials at all (401 follows).
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        if request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise CsrfFailed()
        return user


auth = [TokenAuth(), ActiveSessionAuth()]


def reader_of(request):
    """Who reads an endpoint open to everyone that answers more to whom it knows (the slots a
    reader may see): the bearer token's user, else the logged-in session's, else None (the
    public). A bearer token that is not valid is a 401, not the public."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _space, token = header.partition(" ")
        user = None
        if scheme.lower() == "bearer":
            user = TokenAuth().authenticate(request, token.strip())
        if user is None:
            raise AuthenticationError()
        return user
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_active:
        return user
    return None
