from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "consulto.core"
    label = "core"
