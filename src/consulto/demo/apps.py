from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "consulto.demo"
    label = "demo"
