"""What the console's templates show, computed once: times on the wall clock of the place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format, number_format

from ..search import ExtraOffer, Offer


def local_text(moment: datetime, zone=None, fmt: str = "D j M H:i") -> str:
    zone = zone or timezone.get_default_timezone()
    return date_format(moment.astimezone(zone), fmt)


@dataclass(frozen=True)
class OfferRow:
    offer: Offer
    when: str
    day: str
    time: str
    iso: str
    who: str
    distance: str

    @property
    def is_video(self) -> bool:
        return self.offer.is_video


def offer_rows(offers: list[Offer]) -> list[OfferRow]:
    rows = []
    for offer in offers:
        zone = offer.site.zone
        agenda = offer.agenda
        who = agenda.practitioner.display_name if agenda.practitioner_id else agenda.name
        rows.append(
            OfferRow(
                offer=offer,
                when=local_text(offer.start, zone, "l j F H:i"),
                day=local_text(offer.start, zone, "D j M"),
                time=local_text(offer.start, zone, "H:i"),
                iso=offer.start.isoformat(),
                who=who,
                distance=(
                    ""
                    if offer.distance_km is None
                    else number_format(offer.distance_km, decimal_pos=1) + " km"
                ),
            )
        )
    return rows


@dataclass(frozen=True)
class ExtraRow:
    extra: ExtraOffer
    distance: str
    tel: str


def extra_rows(extras: list[ExtraOffer]) -> list[ExtraRow]:
    return [
        ExtraRow(
            extra=e,
            distance=number_format(e.distance_km, decimal_pos=1) + " km",
            tel="".join(ch for ch in e.phone if ch.isdigit() or ch == "+"),
        )
        for e in extras
    ]
