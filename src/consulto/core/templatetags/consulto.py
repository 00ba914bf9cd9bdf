"""Template helpers shared by every page."""

from django import template

register = template.Library()


@register.filter
def accessible(field):
    """Render a form field tied to its error message and help text for screen readers."""
    described = []
    if field.errors:
        described.append(f"{field.auto_id}_error")
    if field.help_text:
        described.append(f"{field.auto_id}_helptext")
    attrs = {"aria-describedby": " ".join(described)} if described else {}
    if field.errors:
        attrs["aria-invalid"] = "true"
    return field.as_widget(attrs=attrs)
