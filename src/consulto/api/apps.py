from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "consulto.api"
    label = "api"
