"""Reads of the regulator's console: a centre's cases, one case with what it booked, the search
near the patient, and the centre's figures."""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.http import Http404
from django.utils import timezone

from consulto.core.inputs import parse_id
from consulto.directory.models import Organisation
from consulto.directory.selectors import place_coordinates

from . import search
from .models import RegulationCase

Outcome = RegulationCase.Outcome
WIDE_HOURS = 72
WIDE_RADIUS_KM = 50.0


def case_of(*, centre: Organisation, case_id) -> RegulationCase:
    """A case of the centre; any other (another centre's, none) is not found."""
    pk = parse_id(case_id)
    case = (
        RegulationCase.objects.select_related(
            "centre",
            "opened_by",
            "closed_by",
            "specialty",
            "patient",
            "extra_practitioner",
            "appointment__agenda__site",
            "appointment__agenda__practitioner",
            "appointment__agenda__organisation",
            "appointment__motive",
        )
        .filter(pk=pk, centre=centre)
        .first()
        if pk is not None
        else None
    )
    if case is None:
        raise Http404
    return case


def cases_of(
    *, centre: Organisation, outcome: str = "", days: int = 7, now: datetime | None = None
):
    """The centre's cases opened in the last ``days`` days (today included), newest first."""
    now = now or timezone.now()
    zone = timezone.get_default_timezone()
    today = now.astimezone(zone).date()
    since = datetime.combine(today - timedelta(days=days - 1), datetime.min.time(), tzinfo=zone)
    cases = RegulationCase.objects.select_related(
        "opened_by", "appointment__agenda", "extra_practitioner"
    ).filter(centre=centre, opened_at__gte=since)
    if outcome:
        cases = cases.filter(outcome=outcome)
    return cases.order_by("-opened_at", "-pk")


def coordinates_of(case: RegulationCase) -> tuple[float, float] | None:
    """Where the patient is: the postcode, else a place named in the address."""
    for place in (case.postcode, *_places_in(case.address)):
        if place:
            found = place_coordinates(place)
            if found is not None:
                return found
    return None


def _places_in(address: str) -> list[str]:
    """ "12 rue X, 75019 Paris" -> ["75019", "Paris"]: what may name a place in it."""
    found = re.findall(r"\b\d{5}\b", address or "")
    tail = (address or "").split(",")[-1].strip()
    city = re.sub(r"^\d{5}\s*", "", tail)
    return [*found, city] if city else found


def offers_for(
    case: RegulationCase,
    *,
    wide: bool = False,
    in_person_only: bool = False,
    now: datetime | None = None,
) -> search.Results | None:
    """The slots and extra-patient practitioners for the case (None: the place is unknown)."""
    near = coordinates_of(case)
    if near is None:
        return None
    now = now or timezone.now()
    results = search.find(
        need=case.need,
        near=near,
        now=now,
        specialty=case.specialty.code if case.specialty_id else None,
        within_hours=WIDE_HOURS if wide else 48,
        radius_km=WIDE_RADIUS_KM if wide else search.DEFAULT_RADIUS_KM,
    )
    if in_person_only and case.need != RegulationCase.Need.VIDEO:
        results.offers = [o for o in results.offers if not o.is_video]
    return results


@dataclass
class Day:
    day: date
    cases: int
    booked: int


@dataclass
class Figures:
    since: date
    until: date
    days: list[Day]
    total: int
    booked: int
    median_minutes_to_book: float | None
    within_48h: int
    outcomes: dict[str, int] = field(default_factory=dict)

    @property
    def share_within_48h(self) -> float | None:
        return self.within_48h / self.total if self.total else None


def figures(*, centre: Organisation, days: int = 14, now: datetime | None = None) -> Figures:
    """The centre's last ``days`` days: cases per day, time from the call to the booking (the
    median), the share of cases booked with an appointment starting within 48 h of the call,
    and the outcomes."""
    now = now or timezone.now()
    zone = timezone.get_default_timezone()
    today = now.astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, datetime.min.time(), tzinfo=zone)
    rows = RegulationCase.objects.filter(centre=centre, opened_at__gte=since).values_list(
        "opened_at", "outcome", "appointment__created_at", "appointment__start"
    )
    per_day = {first + timedelta(days=i): Day(first + timedelta(days=i), 0, 0) for i in range(days)}
    outcomes = {value: 0 for value in Outcome.values}
    waits: list[float] = []
    within = booked = total = 0
    for opened_at, outcome, booked_at, starts_at in rows:
        day = per_day.get(opened_at.astimezone(zone).date())
        if day is None:
            continue
        total += 1
        day.cases += 1
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if outcome == Outcome.BOOKED and booked_at is not None:
            booked += 1
            day.booked += 1
            waits.append(max((booked_at - opened_at).total_seconds(), 0) / 60)
            if starts_at - opened_at <= timedelta(hours=48):
                within += 1
    return Figures(
        since=first,
        until=today,
        days=list(per_day.values()),
        total=total,
        booked=booked,
        median_minutes_to_book=statistics.median(waits) if waits else None,
        within_48h=within,
        outcomes=outcomes,
    )
