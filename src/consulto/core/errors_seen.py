"""The server errors each user hit, kept for support (``core.models.ServerError``).

Django sends ``got_request_exception`` for every exception a view lets escape (the request then
answers the 500 page). The row is written on its own, outside any transaction of the request,
and a failure to write it (the database being the cause of the 500) is only logged.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.core.signals import got_request_exception
from django.db import DatabaseError, transaction
from django.dispatch import receiver
from django.utils import timezone

from .models import ServerError

log = logging.getLogger(__name__)
KEPT = timedelta(days=7)


@receiver(got_request_exception, dispatch_uid="core.errors_seen")
def remember(sender, request=None, **kwargs) -> None:
    if request is None:
        return
    import sys

    error = sys.exc_info()[0]
    # The user only if the request loaded them already: loading them needs the database, which
    # may be what failed.
    user = getattr(request, "_cached_user", None)
    user_id = user.pk if getattr(user, "is_authenticated", False) else None
    try:
        if transaction.get_connection().in_atomic_block:
            return  # a broken transaction of the request: nothing can be written in it
        ServerError.objects.create(
            user_id=user_id,
            method=(request.method or "")[:8],
            path=request.path[:300],
            error=(error.__name__ if error else "Error")[:120],
        )
    except DatabaseError:
        log.warning("could not record a server error", exc_info=True)
    except Exception:  # recording must never break the error page
        log.exception("could not record a server error")


def recent(user_id: int, *, now: datetime | None = None, hours: int = 24) -> list[ServerError]:
    now = now or timezone.now()
    since = now - timedelta(hours=hours)
    return list(ServerError.objects.filter(user_id=user_id, at__gte=since).order_by("-at")[:20])


def purge(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    return ServerError.objects.filter(at__lt=now - KEPT).delete()[0]
