"""The help panel's first answers, before any contact: short articles about the product, each
shown first on the pages it is about, and found by a search that forgives accents, case and
plurals. The knowledge base (a later part) replaces this list with articles written in the
back office; the panel's search keeps this interface (``suggestions``, ``search``).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Answer:
    code: str
    title: str | Promise
    text: str | Promise
    pages: tuple[str, ...]  # path prefixes (without the language prefix) it is shown first on
    link_name: str = ""  # a page of the product that does what the answer says
    professional: bool = True


ANSWERS = (
    Answer(
        "opening_hours",
        _("Set your opening hours"),
        _(
            "Settings > Opening hours: add a period for each day you work, with the motives "
            "patients may book in it. A change applies at once to the slots patients see."
        ),
        ("/pro/reglages", "/pro/"),
        "practice:settings_home",
    ),
    Answer(
        "online_booking",
        _("Open or close online booking"),
        _(
            "Settings > Agenda: “Open to online booking” lets patients book themselves. Closed, "
            "only you and your secretaries book; patients see your phone number instead."
        ),
        ("/pro/reglages", "/pro/"),
        "practice:settings_home",
    ),
    Answer(
        "motives",
        _("Create a consultation motive"),
        _(
            "Settings > Motives: a label, a duration, in person or by video, open to new "
            "patients or not, the notice and how far ahead patients may book."
        ),
        ("/pro/reglages", "/pro/"),
        "practice:settings_home",
    ),
    Answer(
        "camera",
        _("Camera or microphone not working in a video consultation"),
        _(
            "Run the device test: it says what fails and how to allow the camera in your "
            "browser. Close other applications that use the camera (another video call). On a "
            "company network, the relay server may be blocked: try your phone's 4G."
        ),
        ("/pro/visio", "/pro/demarrage/video"),
        "onboarding:video",
    ),
    Answer(
        "substitute",
        _("Let a substitute work on your agenda"),
        _(
            "Replacements: name the substitute, the period and the scope (video only or the "
            "whole agenda). They act on your behalf and everything they do is recorded."
        ),
        ("/pro/remplacements",),
        "replacements",
    ),
    Answer(
        "secretary",
        _("Give a secretary access to your agenda"),
        _(
            "Team: invite the secretary by e-mail and choose the agendas they manage. They "
            "set up their own login and second factor."
        ),
        ("/pro/equipe",),
        "practice:team",
    ),
    Answer(
        "second_factor",
        _("Lost phone: I cannot log in with my second factor"),
        _(
            "Use one of your recovery codes. Without them, ask to be called back: support checks "
            "your identity before resetting the second factor."
        ),
        ("/accounts", "/pro"),
        "mfa_index",
    ),
    Answer(
        "patient_cancel",
        _("Cancel or move an appointment"),
        _(
            "My appointments: open the appointment, then “Move” or “Cancel”. Up to the "
            "practitioner's deadline it is done online; after it, call the practice."
        ),
        ("/rendez-vous",),
        "appointments",
        professional=False,
    ),
    Answer(
        "patient_video",
        _("Join a video consultation"),
        _(
            "Open the link of your confirmation e-mail a few minutes before the time, allow the "
            "camera and microphone, and wait in the waiting room: the practitioner lets you in."
        ),
        ("/visio", "/rendez-vous"),
        "appointments",
        professional=False,
    ),
    Answer(
        "patient_relatives",
        _("Book for a child or a parent"),
        _(
            "My relatives: add the person once (name and birth date), then choose them when you "
            "book. Their appointments appear in your account."
        ),
        ("/proches", "/liste-attente"),
        "relatives",
        professional=False,
    ),
)


def fold(text: str) -> str:
    """Lower case, without accents: “Téléconsultation” and “teleconsultation” are one word."""
    decomposed = unicodedata.normalize("NFKD", str(text).casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith(("s", "x")) else word


def _strip_language(path: str) -> str:
    return path[3:] if path.startswith("/en/") else path


def suggestions(*, page: str, professional: bool, limit: int = 3) -> list[Answer]:
    path = _strip_language(page or "")
    mine = [a for a in ANSWERS if a.professional == professional]
    first = [a for a in mine if any(path.startswith(p) for p in a.pages)]
    return (first or mine)[:limit]


def search(query: str, *, professional: bool, limit: int = 5) -> list[Answer]:
    words = [_stem(w) for w in fold(query).split() if len(w) > 1][:10]
    if not words:
        return []
    scored = []
    for answer in ANSWERS:
        if answer.professional != professional:
            continue
        title = {_stem(w) for w in fold(answer.title).split()}
        body = fold(f"{answer.title} {answer.text}")
        hits = sum(1 for w in words if w in body)
        if hits == len(words):
            scored.append((-(hits + sum(1 for w in words if w in title)), answer.code, answer))
    return [a for *_key, a in sorted(scored, key=lambda s: (s[0], s[1]))][:limit]


def link(answer: Answer) -> str:
    return reverse(answer.link_name) if answer.link_name else ""
