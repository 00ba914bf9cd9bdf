"""A new practitioner's whole sign-up in a real browser, from the home page to a published profile.

Shared by the browser test (tests/e2e/test_onboarding_browser.py) and the benchmark
(bench/onboarding_journey.py): both drive exactly the same clicks, and count them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

WIZARD = re.compile(r"/pro/(rejoindre|demarrage)/")


@dataclass
class JourneyRun:
    screens: list[str] = field(default_factory=list)  # wizard pages shown, in order
    clicks: int = 0
    seconds: float = 0.0
    per_screen: list[tuple[str, float]] = field(default_factory=list)


def totp_now(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def run_journey(
    page,
    *,
    email: str,
    password: str,
    rpps: str,
    read_code: Callable[[str], str],
    check: Callable[[object, str], None] | None = None,
    stop_at_video: bool = False,
) -> JourneyRun:
    """Sign up as a practitioner found in the directory and publish, accepting every default.

    ``read_code(email)`` returns the code e-mailed to that address; ``check(page, name)`` runs on
    each screen (screenshots, accessibility) and is not counted in the time.
    """
    run = JourneyRun()
    started = time.perf_counter()
    paused = 0.0
    screen_started = started

    def screen(name: str) -> None:
        nonlocal paused, screen_started
        path = page.url.split("://", 1)[-1].split("/", 1)[-1]
        if WIZARD.search("/" + path) and (not run.screens or run.screens[-1] != path):
            run.screens.append(path)
        if check is not None:
            before = time.perf_counter()
            check(page, name)
            spent = time.perf_counter() - before
            paused += spent
            screen_started += spent

    def click(locator) -> None:
        run.clicks += 1
        locator.click()

    def next_screen(label: str) -> None:
        nonlocal screen_started
        now = time.perf_counter()
        run.per_screen.append((label, round(now - screen_started, 2)))
        screen_started = now

    page.goto("/")
    click(page.get_by_role("link", name="Professionnel de santé ? Rejoignez-nous"))

    page.get_by_role("heading", name="Créez votre compte professionnel").wait_for()
    screen("1-account")
    page.get_by_label("E-mail professionnel").fill(email)
    page.get_by_label(re.compile(r"^Mot de passe\W*$")).fill(password)
    page.get_by_label("Numéro RPPS").fill(rpps)
    click(page.get_by_label("J'accepte les conditions"))
    click(page.get_by_role("button", name="Créer mon compte"))
    next_screen("account")

    page.get_by_role("heading", name="Confirmez votre e-mail et protégez votre compte").wait_for()
    screen("2-security")
    page.get_by_label("Code reçu par e-mail").fill(read_code(email))
    secret = page.locator("#totp-secret").inner_text().strip()
    page.get_by_label("Code affiché par votre application d'authentification").fill(
        totp_now(secret)
    )
    click(page.get_by_role("button", name="Confirmer et continuer"))
    next_screen("security")

    page.get_by_role("heading", name="Vous et votre cabinet").wait_for()
    screen("3-identity")
    click(page.get_by_role("button", name="Enregistrer et continuer"))
    next_screen("identity")

    page.get_by_role("heading", name="Vos horaires d'ouverture").wait_for()
    screen("4-schedule")
    click(page.get_by_role("button", name="Enregistrer et continuer"))
    next_screen("schedule")

    page.get_by_role("heading", name=re.compile("Téléconsultation : testez")).wait_for()
    if stop_at_video:
        return run
    page.get_by_text("Caméra : fonctionne.").wait_for()
    page.get_by_text(re.compile(r"Connexion à Consulto : (bonne|lente)")).wait_for()
    screen("5-video")
    click(page.get_by_role("button", name="Continuer"))
    next_screen("video")

    page.get_by_role("heading", name="Votre profil, tel que les patients le verront").wait_for()
    screen("6-publish")
    click(page.get_by_role("button", name="Publier mon profil"))
    page.get_by_text("Votre profil est en ligne").wait_for()
    next_screen("publish")
    run.seconds = round(time.perf_counter() - started - paused, 2)
    return run
