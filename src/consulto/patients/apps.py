from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "consulto.patients"
    label = "patients"
