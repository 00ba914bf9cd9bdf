"""What a customer's request is about, in their words, and where it goes: each category names
the product and the kind of support (technical or account management) that routing needs. The
customer chooses a sentence; they never have to know our teams."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .models import Kind, Product


@dataclass(frozen=True)
class Category:
    code: str
    label: str | Promise
    product: str
    kind: str
    professional: bool  # offered to professionals (True) or to patients (False)
    # Marks a practitioner who cannot consult right now: they come first.
    blocking: bool = False


CATEGORIES = (
    Category(
        "video_now",
        _("I cannot hold a video consultation right now"),
        Product.VIDEO,
        Kind.TECHNICAL,
        True,
        blocking=True,
    ),
    Category(
        "video", _("Video consultation: set-up, camera, sound"), Product.VIDEO, Kind.TECHNICAL, True
    ),
    Category(
        "agenda_settings",
        _("My agenda: opening hours, motives, online booking"),
        Product.AGENDA,
        Kind.ACCOUNT_MANAGEMENT,
        True,
    ),
    Category(
        "agenda_bug", _("My agenda does not work as expected"), Product.AGENDA, Kind.TECHNICAL, True
    ),
    Category(
        "practice",
        _("Patient files, documents, team, secretaries"),
        Product.PRACTICE,
        Kind.ACCOUNT_MANAGEMENT,
        True,
    ),
    Category(
        "account_pro",
        _("Logging in, my account, my profile"),
        Product.ACCOUNT,
        Kind.TECHNICAL,
        True,
    ),
    Category(
        "billing",
        _("Subscription and invoices"),
        Product.BILLING,
        Kind.ACCOUNT_MANAGEMENT,
        True,
    ),
    Category(
        "appointment",
        _("One of my appointments"),
        Product.AGENDA,
        Kind.ACCOUNT_MANAGEMENT,
        False,
    ),
    Category(
        "video_patient",
        _("Joining a video consultation"),
        Product.VIDEO,
        Kind.TECHNICAL,
        False,
    ),
    Category(
        "account_patient",
        _("Logging in, my account, my relatives"),
        Product.ACCOUNT,
        Kind.TECHNICAL,
        False,
    ),
)
BY_CODE = {c.code: c for c in CATEGORIES}


def offered(*, professional: bool) -> list[Category]:
    return [c for c in CATEGORIES if c.professional == professional]
