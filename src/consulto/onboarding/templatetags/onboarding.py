"""The onboarding checklist, shown on the back-office home while something is left to do."""

from django import template

from ..selectors import checklist

register = template.Library()


@register.inclusion_tag("onboarding/_checklist.html", takes_context=True)
def onboarding_checklist(context):
    request = context.get("request")
    return {"checklist": checklist(request.user) if request is not None else None}
