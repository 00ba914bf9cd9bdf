"""What a new practitioner starts from: opening-hour templates and motive presets by specialty.

Plain data, no Django import: the wizard shows them, the organisation CSV names them, the
services turn them into openings and motives. Labels come in French and English; the practice's
motives are written in the language the practitioner set up in (patients read them as written).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

WEEKDAYS = range(7)  # Monday = 0, as Opening.weekday


@dataclass(frozen=True, slots=True)
class Period:
    weekday: int
    start: time
    end: time


@dataclass(frozen=True, slots=True)
class HoursTemplate:
    code: str
    label_fr: str
    label_en: str
    periods: tuple[Period, ...]

    def label(self, language: str) -> str:
        return self.label_en if language.startswith("en") else self.label_fr


def _days(days, *ranges: tuple[str, str]) -> tuple[Period, ...]:
    return tuple(
        Period(day, time.fromisoformat(start), time.fromisoformat(end))
        for day in days
        for start, end in ranges
    )


MON_FRI = range(5)
HOURS_TEMPLATES: tuple[HoursTemplate, ...] = (
    HoursTemplate(
        "standard",
        "Lun–ven, 9 h–12 h et 14 h–18 h",
        "Mon–Fri, 9–12 and 14–18",
        _days(MON_FRI, ("09:00", "12:00"), ("14:00", "18:00")),
    ),
    HoursTemplate(
        "mornings",
        "Matins seulement, lun–ven 8 h 30–12 h 30",
        "Mornings only, Mon–Fri 8:30–12:30",
        _days(MON_FRI, ("08:30", "12:30")),
    ),
    HoursTemplate(
        "afternoons",
        "Après-midi seulement, lun–ven 13 h 30–19 h",
        "Afternoons only, Mon–Fri 13:30–19:00",
        _days(MON_FRI, ("13:30", "19:00")),
    ),
    HoursTemplate(
        "long_days",
        "Journées longues, lun–ven 8 h–12 h 30 et 13 h 30–19 h 30",
        "Long days, Mon–Fri 8–12:30 and 13:30–19:30",
        _days(MON_FRI, ("08:00", "12:30"), ("13:30", "19:30")),
    ),
    HoursTemplate(
        "wednesday_off",
        "Mercredi libre, 9 h–12 h et 14 h–18 h",
        "Wednesdays off, 9–12 and 14–18",
        _days((0, 1, 3, 4), ("09:00", "12:00"), ("14:00", "18:00")),
    ),
    HoursTemplate(
        "with_saturday",
        "Lun–ven 9 h–12 h et 14 h–18 h, samedi matin",
        "Mon–Fri 9–12 and 14–18, Saturday morning",
        _days(MON_FRI, ("09:00", "12:00"), ("14:00", "18:00")) + _days((5,), ("09:00", "12:00")),
    ),
)
HOURS_BY_CODE = {t.code: t for t in HOURS_TEMPLATES}
DEFAULT_HOURS = "standard"


@dataclass(frozen=True, slots=True)
class MotivePreset:
    label_fr: str
    label_en: str
    duration_minutes: int
    video: bool = False
    new_patients: bool = True
    colour: str = "#2e6fd8"

    def label(self, language: str) -> str:
        return self.label_en if language.startswith("en") else self.label_fr


def _consultation(first: int, follow_up: int, *, video: bool = True, extra=()):
    presets = [
        MotivePreset("Première consultation", "First consultation", first, colour="#2e6fd8"),
        MotivePreset(
            "Consultation de suivi",
            "Follow-up consultation",
            follow_up,
            new_patients=False,
            colour="#1b7f5a",
        ),
        *extra,
    ]
    if video:
        presets.append(
            MotivePreset(
                "Téléconsultation de suivi",
                "Video follow-up",
                follow_up,
                video=True,
                new_patients=False,
                colour="#7a4fc2",
            )
        )
    return tuple(presets)


# The motives a practitioner of that specialty offers most, as they would name them. A specialty
# not listed here gets the general set.
MOTIVE_PRESETS: dict[str, tuple[MotivePreset, ...]] = {
    "medecin-generaliste": (
        MotivePreset("Consultation", "Consultation", 15, colour="#2e6fd8"),
        MotivePreset(
            "Première consultation (nouveau patient)",
            "First consultation (new patient)",
            20,
            colour="#0b6e99",
        ),
        MotivePreset("Renouvellement d'ordonnance", "Prescription renewal", 10, new_patients=False),
        MotivePreset("Vaccination", "Vaccination", 10, colour="#1b7f5a"),
        MotivePreset(
            "Certificat médical (sport)", "Medical certificate (sport)", 15, colour="#946200"
        ),
        MotivePreset("Téléconsultation", "Video consultation", 15, video=True, colour="#7a4fc2"),
    ),
    "pediatre": (
        MotivePreset("Consultation", "Consultation", 20),
        MotivePreset("Suivi du nourrisson", "Infant check-up", 30, colour="#0b6e99"),
        MotivePreset("Vaccination", "Vaccination", 15, colour="#1b7f5a"),
        MotivePreset(
            "Téléconsultation de suivi",
            "Video follow-up",
            15,
            video=True,
            new_patients=False,
            colour="#7a4fc2",
        ),
    ),
    "chirurgien-dentiste": (
        MotivePreset("Première consultation", "First consultation", 30),
        MotivePreset("Contrôle et détartrage", "Check-up and scaling", 30, colour="#1b7f5a"),
        MotivePreset("Urgence dentaire", "Dental emergency", 20, colour="#b3261e"),
        MotivePreset("Soins", "Treatment", 45, new_patients=False, colour="#946200"),
    ),
    "kinesitherapeute": (
        MotivePreset("Bilan (première séance)", "Assessment (first session)", 45),
        MotivePreset(
            "Séance de rééducation",
            "Rehabilitation session",
            30,
            new_patients=False,
            colour="#1b7f5a",
        ),
        MotivePreset(
            "Téléconsultation de suivi",
            "Video follow-up",
            20,
            video=True,
            new_patients=False,
            colour="#7a4fc2",
        ),
    ),
    "infirmier": (
        MotivePreset("Soins au cabinet", "Care at the practice", 15),
        MotivePreset("Prise de sang", "Blood test", 10, colour="#b3261e"),
        MotivePreset("Vaccination", "Vaccination", 10, colour="#1b7f5a"),
    ),
    "sage-femme": (
        MotivePreset("Consultation de grossesse", "Pregnancy consultation", 30),
        MotivePreset("Suivi gynécologique", "Gynaecological follow-up", 30, colour="#0b6e99"),
        MotivePreset("Préparation à la naissance", "Birth preparation", 60, colour="#1b7f5a"),
        MotivePreset("Téléconsultation", "Video consultation", 20, video=True, colour="#7a4fc2"),
    ),
    "psychologue": (
        MotivePreset("Premier entretien", "First session", 50),
        MotivePreset(
            "Séance de suivi", "Follow-up session", 45, new_patients=False, colour="#1b7f5a"
        ),
        MotivePreset(
            "Séance en vidéo",
            "Video session",
            45,
            video=True,
            new_patients=False,
            colour="#7a4fc2",
        ),
    ),
    "psychiatre": _consultation(45, 30),
    "ophtalmologue": _consultation(
        20,
        15,
        video=False,
        extra=(MotivePreset("Fond d'œil", "Eye fundus examination", 20, colour="#946200"),),
    ),
    "radiologue": (
        MotivePreset("Radiographie", "X-ray", 15),
        MotivePreset("Échographie", "Ultrasound", 20, colour="#0b6e99"),
        MotivePreset("Mammographie", "Mammography", 20, colour="#946200"),
    ),
    "dermatologue": _consultation(
        20,
        15,
        extra=(MotivePreset("Contrôle des grains de beauté", "Mole check", 20, colour="#946200"),),
    ),
    "cardiologue": _consultation(
        30,
        20,
        extra=(MotivePreset("Électrocardiogramme", "Electrocardiogram", 15, colour="#946200"),),
    ),
}
DEFAULT_PRESETS = _consultation(20, 15)


def motive_presets(specialty_code: str | None) -> tuple[MotivePreset, ...]:
    return MOTIVE_PRESETS.get(specialty_code or "", DEFAULT_PRESETS)
