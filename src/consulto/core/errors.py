"""The error type that carries a message for the user.

Services raise a DomainError subclass when a rule says no; views and API endpoints turn it into a
form error, a message or a 4xx answer. ``code`` is stable and machine-readable (the API's "error"
field); ``message`` is translated for people.
"""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    code = "invalid"
    status = 400
    default_message = _("The request could not be carried out.")

    def __init__(self, message=None, *, code: str | None = None, field: str | None = None):
        self.message = message or self.default_message
        if code:
            self.code = code
        self.field = field
        super().__init__(str(self.message))


class NotFound(DomainError):
    code = "not_found"
    status = 404
    default_message = _("Not found.")


class PermissionDenied(DomainError):
    code = "forbidden"
    status = 403
    default_message = _("You are not allowed to do this.")


class InvalidInput(DomainError):
    code = "invalid"
    status = 422
    default_message = _("Some fields are invalid.")
