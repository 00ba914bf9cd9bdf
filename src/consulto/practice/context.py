"""Template context: whether to show the practice space in the header (computed only if used)."""

from django.utils.functional import SimpleLazyObject

from .permissions import is_staff_member


def staff(request):
    return {
        "is_practice_staff": SimpleLazyObject(lambda: is_staff_member(request.user)),
        "staff_nav": SimpleLazyObject(lambda: nav(request)),
    }


def nav(request) -> dict:
    """Which back-office sections to show this user (the permissions decide, not the template)."""
    from .permissions import Perm, agenda_ids, organisations_with

    user = request.user
    return {
        "dashboard": bool(organisations_with(user, Perm.DASHBOARD)),
        "settings": bool(agenda_ids(user, Perm.SETTINGS) or agenda_ids(user, Perm.ABSENCES)),
        "audit": bool(organisations_with(user, Perm.AUDIT)),
        "team": bool(organisations_with(user, Perm.POLICY)),
        # Read once per request: the agenda permissions read it too (a substitute's agendas).
        "replacements": getattr(user, "practitioner", None) is not None,
    }
