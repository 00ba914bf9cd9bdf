from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "consulto.api"
    label = "api"

    def ready(self):
        # A person's API token opens the FHIR facade too (reads of what they may see).
        from consulto.fhir import access

        from .auth import TokenAuth

        checks = access.person_token_checks
        if all(type(getattr(check, "__self__", None)) is not TokenAuth for check in checks):
            checks.append(TokenAuth().authenticate)
