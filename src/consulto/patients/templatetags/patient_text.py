"""Small text filters of the patient pages."""

from django import template
from django.utils.translation import get_language

register = template.Library()


@register.filter
def in_sentence(text: str) -> str:
    """A date inside a French sentence: "Déplacé au lundi 21 décembre", where Django's French
    format capitalises the weekday ("Lundi 21 décembre"). English keeps its capitals."""
    text = str(text)
    if (get_language() or "fr").startswith("fr"):
        return text[:1].lower() + text[1:]
    return text
