from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "consulto.directory"
    label = "directory"
