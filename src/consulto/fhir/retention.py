"""How long the record of partners' calls (``ApiCall``) is kept: CONSULTO_API_CALL_RETENTION_DAYS
(90 by default), long enough to answer a partner's "what did we send last month", short enough
not to keep a log of every search forever. The task worker purges older ones once a day
(``tasks.purge_api_calls``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from .models import ApiCall

# Rows deleted per statement: a purge of a busy month never holds a long lock.
BATCH = 5000


def purge_api_calls(*, now: datetime | None = None) -> int:
    """Delete the calls older than the retention period; return how many went."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.CONSULTO_API_CALL_RETENTION_DAYS)
    purged = 0
    while True:
        ids = list(
            ApiCall.objects.filter(at__lt=cutoff)
            .order_by("id")
            .values_list("id", flat=True)[:BATCH]
        )
        if not ids:
            return purged
        purged += ApiCall.objects.filter(pk__in=ids).delete()[0]
