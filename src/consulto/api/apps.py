from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "consulto.api"
    label = "api"

    def ready(self):
        # A person's API token opens the FHIR facade too (reads of what they may see).
        from consulto.fhir import access

        from .auth import TokenAuth

        check = TokenAuth().authenticate
        if all(type(getattr(c, "__self__", None)) is not TokenAuth for c in access.person_token_checks):
            access.person_token_checks.append(check)
