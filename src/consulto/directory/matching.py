"""What a patient types in the search box, matched to specialties as any French user writes
them: without accents or capitals, abbreviated ("kiné", "ophtalmo"), in everyday words
("dentiste", "médecin traitant") or misspelt ("cardiolgue").

Pure functions over a list of ``SpecialtyWords`` (the 34 specialties: compared in Python, in
microseconds); the database is the caller's (``selectors``).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from .folding import fold

# Everyday names that the labels do not contain, folded. Abbreviations need none: a word typed
# matches the start of a label's word ("cardio", "gyneco", "kine").
SYNONYMS: dict[str, tuple[str, ...]] = {
    "medecin-generaliste": ("medecin traitant", "medecin de famille", "generaliste"),
    "chirurgien-dentiste": ("dentiste", "orthodontiste"),
    "kinesitherapeute": ("kinesitherapie", "physiotherapeute"),
    "infirmier": ("infirmiere", "soins infirmiers"),
    "ophtalmologue": ("ophtalmologiste", "oculiste", "ophtalmologie"),
    "dermatologue": ("dermatologie",),
    "gynecologue": ("gynecologie",),
    "pediatre": ("pediatrie",),
    "cardiologue": ("cardiologie",),
    "radiologue": ("radiologie", "radio", "echographie"),
    "gastro-enterologue": ("gastroenterologue", "gastro"),
    "endocrinologue": ("diabetologue", "endocrinologie"),
    "dieteticien": ("dieteticienne", "nutritionniste"),
    "podologue": ("pedicure", "podologie"),
    "angiologue": ("phlebologue",),
    "centre-de-vaccination": ("vaccin", "vaccins"),
    "laboratoire": ("prise de sang", "analyses", "labo"),
}
# Words that say nothing about whom to find.
STOP_WORDS = frozenset(
    {
        "a", "au", "aux", "chez", "d", "de", "des", "doc", "docteur", "doctor", "dr", "du", "en",
        "et", "l", "la", "le", "les", "m", "madame", "mme", "monsieur", "mr", "pour", "pr",
        "professeur", "un", "une",
    }
)  # fmt: skip
MAX_WORDS = 5
# rapidfuzz's normalised InDel similarity (0-100): one letter wrong in a word of eight is ~88.
TYPO_CUTOFF = 80
SHORTEST_PREFIX = 3  # "orl" matches; "ca" does not mean cardiologue
SHORTEST_TYPO = 4  # below, any word is a typo of too many others


@dataclass(frozen=True, slots=True)
class SpecialtyWords:
    id: int
    code: str
    phrases: tuple[str, ...]  # folded labels (French, English) and everyday names
    words: frozenset[str]  # every word of those phrases, stop words left out

    @classmethod
    def of(cls, id: int, code: str, labels: Iterable[str]) -> "SpecialtyWords":
        phrases = tuple(dict.fromkeys(fold(label) for label in (*labels, *SYNONYMS.get(code, ()))))
        words = frozenset(w for p in phrases for w in p.split() if w not in STOP_WORDS)
        return cls(id, code, phrases, words)


def words_of(text: str) -> list[str]:
    """The words of a search, folded, without stop words or repeats, five at most."""
    return list(dict.fromkeys(w for w in fold(text).split() if w not in STOP_WORDS))[:MAX_WORDS]


def _word_matches(typed: str, word: str) -> bool:
    # "cardio" starts "cardiologue"; "infirmiere" starts with "infirmier".
    return word.startswith(typed) if len(typed) >= SHORTEST_PREFIX else word == typed


def specialties_for(typed: str, index: Sequence[SpecialtyWords]) -> set[int]:
    """Ids of the specialties one of whose words ``typed`` (a folded word) spells or begins,
    or that begins ``typed`` (a feminine or plural form)."""
    return {
        s.id
        for s in index
        if any(
            _word_matches(typed, word) or (len(word) >= 5 and typed.startswith(word))
            for word in s.words
        )
    }


def specialties_spelt_like(typed: str, index: Sequence[SpecialtyWords]) -> set[int]:
    """Ids of the specialties with a word spelt close to ``typed``: "cardiolgue", "pediatr"."""
    if len(typed) < SHORTEST_TYPO:
        return set()
    return {
        s.id
        for s in index
        if any(len(w) >= SHORTEST_TYPO and fuzz.ratio(typed, w) >= TYPO_CUTOFF for w in s.words)
    }


def specialty_named(text: str, index: Sequence[SpecialtyWords]) -> SpecialtyWords | None:
    """The one specialty the whole text names, if it names one: a label or everyday name in
    any case and without accents ("MÉDECIN GÉNÉRALISTE", "generaliste"), words that all point
    to it ("médecin traitant"), or a label misspelt ("dermatolog", "pediatere")."""
    phrase = " ".join(words_of(text))
    if not phrase:
        return None
    exact = [s for s in index if fold(text) in s.phrases or phrase in s.phrases]
    if len(exact) == 1:
        return exact[0]
    common: set[int] | None = None
    for word in phrase.split():
        found = specialties_for(word, index)
        common = found if common is None else common & found
    if common and len(common) == 1:
        return next(s for s in index if s.id in common)
    if len(phrase) < SHORTEST_TYPO:
        return None
    scored = sorted(
        ((max(fuzz.ratio(phrase, p) for p in s.phrases), s.code, s) for s in index),
        key=lambda t: (-t[0], t[1]),
    )
    best, second = scored[0], scored[1] if len(scored) > 1 else None
    if best[0] >= TYPO_CUTOFF and (second is None or best[0] - second[0] >= 5):
        return best[2]
    return None
