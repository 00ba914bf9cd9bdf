"""The page's language as the code names its labels: "fr" (the default) or "en"."""

from django.utils.translation import get_language


def current_language() -> str:
    return "en" if (get_language() or "fr").startswith("en") else "fr"
