"""French places (cities, arrondissements, overseas towns) with coordinates, bundled with the code.

Searches by city or postcode resolve here first, never through a network service; the sites in
the database are the fallback for a place the table does not hold.
"""

import csv
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PLACES_CSV = Path(__file__).resolve().parent / "data" / "places.csv"


@dataclass(frozen=True, slots=True)
class Place:
    name: str
    postcode: str
    lat: float
    lon: float
    timezone: str


@cache
def load_places() -> tuple[Place, ...]:
    with PLACES_CSV.open(encoding="utf-8", newline="") as handle:
        return tuple(
            Place(
                row["name"], row["postcode"], float(row["lat"]), float(row["lon"]), row["timezone"]
            )
            for row in csv.DictReader(handle)
        )


def folded(text: str) -> str:
    """Compare place names without case, accents, hyphens or apostrophes: "st etienne"."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    words = text.replace("-", " ").replace("'", " ").split()
    abbreviations = {"saint": "st", "sainte": "ste"}
    return " ".join(abbreviations.get(word, word) for word in words)


def find_place(text: str) -> tuple[float, float] | None:
    """The centre of a city (by name) or of the places whose postcode starts with ``text``."""
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        matches = [p for p in load_places() if p.postcode.startswith(text)]
    else:
        wanted = folded(text)
        matches = [p for p in load_places() if folded(p.name) == wanted]
    if not matches:
        return None
    return (
        sum(p.lat for p in matches) / len(matches),
        sum(p.lon for p in matches) / len(matches),
    )
