"""Read queries over the directory: practitioner search filters, distances."""

import math

from django.db.models import Avg, Case, Q, QuerySet, Value, When

from .models import DirectoryRecord, Practitioner, Site, Specialty
from .places import find_place
from .rpps import normalise_rpps

EARTH_RADIUS_KM = 6371.0088


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def bounding_box(lat: float, lon: float, radius_km: float) -> tuple[float, float, float, float]:
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM)
    dlon = math.degrees(radius_km / (EARTH_RADIUS_KM * max(math.cos(math.radians(lat)), 0.01)))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


def practitioners_matching(
    *,
    specialty: str | None = None,
    q: str | None = None,
    near: tuple[float, float] | None = None,
    radius_km: float | None = None,
    video: bool = False,
    language: str | None = None,
    sector: str | None = None,
) -> QuerySet[Practitioner]:
    """Published practitioners matching the filters (a bounding box stands for the radius)."""
    qs = Practitioner.objects.filter(is_published=True)
    if specialty:
        qs = qs.filter(specialty__code=specialty)
    if q:
        for word in q.split()[:5]:
            qs = qs.filter(
                Q(last_name__icontains=word)
                | Q(first_name__icontains=word)
                | Q(specialty__label_fr__icontains=word)
                | Q(specialty__label_en__icontains=word)
            )
    if video:
        qs = qs.filter(video_enabled=True)
    if language:
        # ``languages`` holds ISO codes separated by commas: "fr,en,ar".
        qs = qs.filter(
            Q(languages=language)
            | Q(languages__startswith=f"{language},")
            | Q(languages__endswith=f",{language}")
            | Q(languages__contains=f",{language},")
        )
    if sector:
        qs = qs.filter(convention_sector=sector)
    if near is not None and radius_km:
        lat0, lat1, lon0, lon1 = bounding_box(near[0], near[1], radius_km)
        sites = Site.objects.filter(latitude__range=(lat0, lat1), longitude__range=(lon0, lon1))
        qs = qs.filter(agendas__site__in=sites, agendas__is_active=True)
    return qs.distinct()


def specialties() -> QuerySet[Specialty]:
    return Specialty.objects.all()


def place_coordinates(place: str) -> tuple[float, float] | None:
    """The centre of a city (by name) or a postcode (or its first digits): from the bundled
    table of French places, else from the sites that are there."""
    place = place.strip()
    if not place:
        return None
    known = find_place(place)
    if known is not None:
        return known
    sites = Site.objects.all()
    if place.isdigit():
        sites = sites.filter(postcode__startswith=place)
    else:
        sites = sites.filter(city__iexact=place)
    centre = sites.aggregate(lat=Avg("latitude"), lon=Avg("longitude"))
    if centre["lat"] is None:
        return None
    return centre["lat"], centre["lon"]


def directory_activities(rpps: str) -> list[DirectoryRecord]:
    """A professional's activities in the imported public directory, the likeliest place of
    a practice first: libéral before salaried, then those with an address, then by city.

    An RPPS number that is not 11 digits (once spaces are removed) finds nothing.
    """
    rpps = normalise_rpps(rpps)
    if len(rpps) != 11 or not rpps.isdigit():
        return []
    return list(
        DirectoryRecord.objects.filter(rpps=rpps)
        .annotate(
            mode_rank=Case(When(mode__istartswith="lib", then=Value(0)), default=Value(1)),
            no_address=Case(When(postcode="", then=Value(1)), default=Value(0)),
        )
        .order_by("mode_rank", "no_address", "city", "site_name", "pk")
    )
