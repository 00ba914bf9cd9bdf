"""Template context of the patient side that pages outside this app need."""

from django.utils.functional import SimpleLazyObject

from .selectors import held_slot_in_session


def held_slot(request):
    """The slot a visitor holds, for the account pages (log in, sign up, e-mail code) to recap
    while the visitor gets through them. Read only by the templates that show it."""
    session = getattr(request, "session", None)
    if session is None:
        return {}
    return {"held_slot": SimpleLazyObject(lambda: held_slot_in_session(session))}
