"""Middleware of the whole site."""

from django.core.exceptions import BadRequest
from django.http import JsonResponse
from django.urls import get_resolver
from django.utils.translation import gettext_lazy as _

from .inputs import has_nul

API_PREFIX = "/api/"
FHIR_PREFIX = "/fhir/"
NUL_REFUSED = _("The request holds a NUL character, which is not allowed.")


class RefuseNulBytes:
    """A NUL byte in the path, the query string or a cookie is answered with a 400 before any
    view reads it: PostgreSQL cannot store one and SQLite would.

    The API's query strings are left to the API, whose parameter types refuse a NUL with a 422
    naming the parameter, as its schema declares. Posted form fields are left to the forms,
    whose text fields refuse NUL bytes with a form error (Django's
    ProhibitNullCharactersValidator); views that read a posted value by hand read it through
    ``core.inputs``. Uploaded files' names lose their unprintable characters in Django's
    multipart parser.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        api = request.path.startswith(API_PREFIX)
        # The FHIR facade's query strings are checked here too: it answers an OperationOutcome.
        if (
            has_nul(request.path)
            or (not api and "\x00" in request.META.get("QUERY_STRING", ""))
            or (not api and _any_nul(request.GET.lists()))
            or _any_nul(request.COOKIES.items())
        ):
            # Answered here rather than raised: the same 400 page (the API's JSON error body),
            # without a traceback in the logs for every probe.
            if request.path.startswith(FHIR_PREFIX):  # the FHIR facade's error: OperationOutcome
                issue = {"severity": "error", "code": "invalid", "diagnostics": str(NUL_REFUSED)}
                return JsonResponse(
                    {"resourceType": "OperationOutcome", "issue": [issue]},
                    status=400,
                    content_type="application/fhir+json; charset=utf-8",
                )
            if api:
                return JsonResponse({"error": "invalid", "message": str(NUL_REFUSED)}, status=400)
            handler = get_resolver().resolve_error_handler(400)
            return handler(request, BadRequest("NUL byte in the request"))
        return self.get_response(request)


def _any_nul(pairs) -> bool:
    for key, values in pairs:
        if has_nul(key):
            return True
        for value in values if isinstance(values, list) else [values]:
            if has_nul(value):
                return True
    return False
