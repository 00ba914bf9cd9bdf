from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "consulto.notifications"
    label = "notifications"
