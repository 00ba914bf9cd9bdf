"""How much one visitor may hold and book, whatever the door (the patient pages, the API).

Two kinds of limit, both settings:

- rates over a window, counted in the cache (Redis in production, so all workers count
  together; the process's memory on the embedded default, where one process serves): holds per
  account, per browser session and per address (``CONSULTO_HOLD_LIMITS``), bookings per
  account, per patient identity and per address (``CONSULTO_BOOKING_LIMITS``). Counted with
  django-ratelimit's fixed windows; past a limit the door answers 429 with ``Retry-After``, the
  end of the window.
- holds kept at once: an account's holds, or an anonymous browser session's, at most
  ``CONSULTO_HOLDS_AT_ONCE``; and the anonymous holds made from one address at most
  ``CONSULTO_ANONYMOUS_HOLDS_PER_ADDRESS``, a wider ceiling because a mobile operator puts many
  subscribers behind one public address, yet one that a script dropping its cookies cannot pass.
  Counted in the database inside the hold's own transaction (``booking.hold``), so it is exact
  under concurrency: an anonymous visitor cannot empty an agenda by holding its slots for the
  minutes of a hold.

Neither an address nor a session key is stored: each becomes a keyed digest (of the address's
/64 for IPv6, what one subscriber gets), kept on a hold to count that visitor's holds.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django_ratelimit.core import get_usage

from consulto.core.errors import DomainError


class TooManyRequests(DomainError):
    code = "rate_limited"
    status = 429
    default_message = _(
        "You have made many requests in a short time. Please wait a few minutes and try again."
    )

    def __init__(self, message=None, *, retry_after: int, code: str | None = None):
        super().__init__(message, code=code)
        self.retry_after = max(1, int(retry_after))


class TooManyHolds(TooManyRequests):
    code = "too_many_holds"
    default_message = _(
        "You already hold as many slots as one person may at once. Finish one of those "
        "bookings, or wait until those slots are released."
    )


@dataclass(frozen=True)
class Visitor:
    """Who is holding or booking: their account when logged in, and where they come from."""

    account_id: int | None
    address: str  # a digest of the client's address, never the address itself
    session: str = ""  # a digest of the browser session's key (the pages that hold slots)


def visitor_of(request, *, with_session: bool = False) -> Visitor:
    """Who makes this request; ``with_session`` also names their browser session (opened if
    it has no key yet), which the pages that hold slots count holds by."""
    user = getattr(request, "user", None)
    account_id = user.pk if user is not None and user.is_authenticated else None
    session = ""
    store = getattr(request, "session", None)
    if with_session and store is not None:
        if not store.session_key:
            store.save()
        session = _digest("session", store.session_key)
    return Visitor(
        account_id=account_id, address=address_digest(client_address(request)), session=session
    )


def client_address(request) -> str:
    """The client's address as django-ratelimit sees it (``RATELIMIT_IP_META_KEY`` behind a
    proxy), reduced to its /64 when it is IPv6."""
    meta_key = getattr(settings, "RATELIMIT_IP_META_KEY", None) or "REMOTE_ADDR"
    raw = (request.META.get(meta_key) or "").split(",")[0].strip()
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw[:64]
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address) + "/64"
    return str(address)


def address_digest(address: str) -> str:
    return _digest("address", address)


def _digest(kind: str, value: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:32]


def identity_digest(first_name: str, last_name: str, birth_date: date) -> str:
    """One person whatever the account or the case and spacing their name is typed with."""
    name = "|".join(" ".join(part.casefold().split()) for part in (first_name, last_name))
    key = settings.SECRET_KEY.encode()
    value = f"identity:{name}|{birth_date.isoformat()}".encode()
    return hmac.new(key, value, hashlib.sha256).hexdigest()[:32]


def count_hold(visitor: Visitor) -> None:
    """Count one hold attempt; raise ``TooManyRequests`` past ``CONSULTO_HOLD_LIMITS``."""
    keys = {
        "account": visitor.account_id,
        "session": visitor.session or None,
        "address": visitor.address,
    }
    _count("hold", settings.CONSULTO_HOLD_LIMITS, keys)


def count_booking(visitor: Visitor, *, identity: str | None) -> None:
    """Count one booking attempt; raise ``TooManyRequests`` past ``CONSULTO_BOOKING_LIMITS``."""
    keys = {"account": visitor.account_id, "patient": identity, "address": visitor.address}
    _count("booking", settings.CONSULTO_BOOKING_LIMITS, keys)


def _count(action: str, rates: dict[str, str], keys: dict[str, object]) -> None:
    waits = []
    for name, value in keys.items():
        rate = rates.get(name)
        if not rate or value is None:
            continue
        usage = get_usage(
            None,
            group=f"consulto.{action}.{name}",
            key=lambda _group, _request, value=str(value): value,
            rate=rate,
            increment=True,
        )
        if usage is not None and usage["should_limit"]:
            waits.append(usage["time_left"])
    if waits:
        raise TooManyRequests(retry_after=math.ceil(max(waits)))
