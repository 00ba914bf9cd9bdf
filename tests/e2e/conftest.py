"""Browser tests: Playwright driving Debian's Chromium against a live test server.

They skip with a visible reason when Playwright or Chromium is missing on a developer's machine;
under CI (``CI=true``) a missing browser is a failure, not a skip.
"""

import functools
import json
import os
import shutil
from pathlib import Path

import pytest

from tests.external import missing as _missing

CHROMIUM = os.environ.get("CONSULTO_CHROMIUM", "/usr/bin/chromium")
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 900}

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# between browser steps are still plain synchronous code. (Subprocesses that check production
# settings drop this variable: see tests/core/test_settings.py.)
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright is not installed (pip install -e '.[test]')")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _missing(f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _open(browser, live_server, **options):
    context = browser.new_context(base_url=live_server.url, locale="fr-FR", **options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    # Our pages must never break their own Content-Security-Policy (or load anything else).
    page.csp_violations = []
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text and page.csp_violations.append(message.text)
        ),
    )
    return context, page


@pytest.fixture
def page(browser, live_server):
    context, page = _open(browser, live_server, viewport=DESKTOP)
    yield page
    context.close()
    assert not page.csp_violations, page.csp_violations


@pytest.fixture
def phone(browser, live_server):
    context, page = _open(browser, live_server, viewport=PHONE, is_mobile=True, has_touch=True)
    yield page
    context.close()
    assert not page.csp_violations, page.csp_violations


def shoot(page, name: str) -> Path:
    """Keep a full-page screenshot under var/screenshots to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page, impacts=("serious", "critical")) -> list[dict]:
    """Run axe-core (WCAG 2.0/2.1 A and AA rules) and return the violations of those impacts."""
    # Evaluated through the DevTools protocol: our Content-Security-Policy forbids injected tags.
    page.wait_for_load_state()
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(_axe_source())
    result = page.evaluate(
        """async () => await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}
        })"""
    )
    found = [v for v in result["violations"] if v["impact"] in impacts]
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["html"][:200] for n in v["nodes"][:3]]}
        for v in found
    ]


@functools.cache
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


def assert_accessible(page):
    violations = axe_violations(page)
    assert not violations, json.dumps(violations, indent=2)


def htmx_settled(page) -> None:
    """Wait until htmx has swapped and settled its last answer: only then are the elements it
    brought wired to their own requests (htmx processes them when it settles)."""
    page.wait_for_function(
        "!document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )


def assert_fits_width(page):
    page.wait_for_load_state()  # not in the middle of a navigation
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


class Inbox:
    """What a real local SMTP server (aiosmtpd) received."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def to(self, address: str) -> list:
        """What reached ``address``, once the outbox is sent (as the task worker does)."""
        from consulto.notifications import services as notifications

        notifications.deliver_due()
        return [m for m in self.messages if address in m["To"]]


@pytest.fixture
def smtp(settings):
    """A real SMTP server on a free local port; Django sends through it."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield inbox
    controller.stop()


def log_in(page, user, live_server) -> None:
    """Open a session for ``user`` in this browser context, as a login would."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
