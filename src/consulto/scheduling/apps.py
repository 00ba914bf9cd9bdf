from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "consulto.scheduling"
    label = "scheduling"
