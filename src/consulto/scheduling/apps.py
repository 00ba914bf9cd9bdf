from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "consulto.scheduling"
    label = "scheduling"

    def ready(self) -> None:
        from . import signals  # noqa: F401 - connects the receivers
