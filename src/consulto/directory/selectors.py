"""Read queries over the directory: practitioner search filters, distances."""

import math
from dataclasses import dataclass

from django.core.cache import cache
from django.db import connection
from django.db.models import Avg, Case, Q, QuerySet, Value, When
from django.utils.translation import get_language

from . import matching
from .models import DirectoryRecord, Practitioner, Site, Specialty
from .places import PlaceMatch, understand_place
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
    """Published practitioners matching the filters (a bounding box stands for the radius).
    ``specialty`` is a code or a specialty's name as typed; ``q`` words (see ``text_search``)."""
    return text_search(
        specialty=specialty,
        q=q,
        near=near,
        radius_km=radius_km,
        video=video,
        language=language,
        sector=sector,
    ).practitioners


@dataclass
class TextSearch:
    """Practitioners found for what was typed; ``approximate`` lists the words matched by
    their spelling only (no name or specialty contains them as typed)."""

    practitioners: QuerySet[Practitioner]
    approximate: tuple[str, ...] = ()


SPECIALTIES_CACHE = "directory:specialty-index:1"  # forgotten by Specialty.save / delete
SPECIALTY_LABELS_CACHE = "directory:specialty-labels:1"  # the same


def specialty_index() -> list[matching.SpecialtyWords]:
    """Every specialty with its words, shared by the workers for a few minutes: the list
    changes with a release, not with a request."""
    index = cache.get(SPECIALTIES_CACHE)
    if index is None:
        rows = Specialty.objects.values_list("pk", "code", "label_fr", "label_en")
        index = [matching.SpecialtyWords.of(pk, code, (fr, en)) for pk, code, fr, en in rows]
        cache.set(SPECIALTIES_CACHE, index, timeout=300)
    return index


def specialty_labels() -> dict[str, str]:
    """{code: label in the current language}, in the order of the French labels; read from
    the cache like ``specialty_index`` (the search page shows them all, on every search)."""
    rows = cache.get(SPECIALTY_LABELS_CACHE)
    if rows is None:
        rows = list(
            Specialty.objects.order_by("label_fr").values_list("code", "label_fr", "label_en")
        )
        cache.set(SPECIALTY_LABELS_CACHE, rows, timeout=300)
    english = (get_language() or "fr").startswith("en")
    return {code: english_label if english else french for code, french, english_label in rows}


def text_search(
    *,
    specialty: str | None = None,
    q: str | None = None,
    near: tuple[float, float] | None = None,
    radius_km: float | None = None,
    video: bool = False,
    language: str | None = None,
    sector: str | None = None,
) -> TextSearch:
    """``practitioners_matching``, saying which words of ``q`` were taken as misspelt.

    Each word of ``q`` must be in the practitioner's name or their specialty's (folded: no
    case, no accents; a word may begin a specialty's: "cardio"). When that finds nobody, each
    word that nobody's name or specialty contains is matched by spelling instead: trigram
    similarity on PostgreSQL (the index of ``search_name``), rapidfuzz over the names'
    words on SQLite.
    """
    published = Practitioner.objects.filter(is_published=True)
    qs = published
    words = matching.words_of(q or "")
    index = specialty_index() if specialty or words else []
    if specialty:
        named = next((s for s in index if s.code == specialty), None)
        named = named or matching.specialty_named(specialty, index)
        qs = qs.filter(specialty_id=named.id) if named else qs.none()
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
    if not words:
        return TextSearch(qs.distinct())
    exact = {w: _word_filter(w, index) for w in words}
    found = qs.filter(*exact.values()).distinct()
    if found.exists():
        return TextSearch(found)
    approximate = [
        w
        for w in words
        if len(w) >= matching.SHORTEST_TYPO and not published.filter(exact[w]).exists()
    ]
    if not approximate:
        return TextSearch(found)
    for word in approximate:
        exact[word] = _spelt_like_filter(word, index, published)
    return TextSearch(qs.filter(*exact.values()).distinct(), tuple(approximate))


def _word_filter(word: str, index) -> Q:
    return Q(search_name__contains=word) | Q(specialty_id__in=matching.specialties_for(word, index))


def _spelt_like_filter(word: str, index, published: QuerySet[Practitioner]) -> Q:
    specialties = Q(specialty_id__in=matching.specialties_spelt_like(word, index))
    if connection.vendor == "postgresql":
        # word_similarity(word, search_name) >= pg_trgm.word_similarity_threshold (0.45).
        return specialties | Q(search_name__trigram_word_similar=word)
    return specialties | _names_spelt_like(word, published)


NAME_WORDS_CACHE = "directory:name-words:1"  # forgotten by Practitioner.save


def _names_spelt_like(word: str, published: QuerySet[Practitioner]) -> Q:
    """Names with a word spelt close to ``word``: rapidfuzz over the distinct words of all
    names (kept in the cache for a few minutes: a few milliseconds for 10,000 names), then
    the names holding the closest of those words."""
    from rapidfuzz import fuzz, process

    words = cache.get(NAME_WORDS_CACHE)
    if words is None:
        names = published.values_list("search_name", flat=True).iterator(chunk_size=5000)
        words = sorted({part for name in names for part in name.split()})
        cache.set(NAME_WORDS_CACHE, words, timeout=300)
    close = process.extract(
        word, words, scorer=fuzz.ratio, score_cutoff=matching.TYPO_CUTOFF, limit=20
    )
    found = Q(pk__in=[])
    for part, _, _ in close:
        found |= (
            Q(search_name=part)
            | Q(search_name__startswith=f"{part} ")
            | Q(search_name__endswith=f" {part}")
            | Q(search_name__contains=f" {part} ")
        )
    return found


def specialties() -> QuerySet[Specialty]:
    return Specialty.objects.all()


def place_coordinates(place: str) -> tuple[float, float] | None:
    """The centre of a city (by name) or a postcode (or its first digits): from the bundled
    table of French places, else from the sites that are there."""
    return resolve_place(place).coordinates


def resolve_place(place: str) -> PlaceMatch:
    """What a typed place is (``places.understand_place``): the place, or the communes the
    patient may have meant; a place unknown to the bundled table may still be a site's city."""
    # Control characters name no place (and PostgreSQL refuses a NUL in a query).
    place = "".join(ch for ch in place if ch.isprintable()).strip()
    if not place:
        return PlaceMatch(None)
    found = understand_place(place)
    if found.coordinates is not None or found.choices:
        return found
    centre = _sites_centre(place)
    return PlaceMatch(centre) if centre is not None else found


def _sites_centre(place: str) -> tuple[float, float] | None:
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
