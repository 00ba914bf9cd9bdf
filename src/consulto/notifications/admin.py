from django.contrib import admin

from .models import Message, ReminderSettings


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "channel",
        "purpose",
        "recipient",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
    ]
    list_filter = ["status", "channel", "purpose", "language"]
    search_fields = ["recipient", "subject", "dedupe_key"]
    date_hierarchy = "created_at"
    list_select_related = ["appointment"]
    raw_id_fields = ["appointment"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ReminderSettings)
class ReminderSettingsAdmin(admin.ModelAdmin):
    list_display = ["practitioner", "email_7d", "email_1d", "sms_1d"]
    list_filter = ["email_7d", "email_1d", "sms_1d"]
    raw_id_fields = ["practitioner"]
    search_fields = ["practitioner__last_name", "practitioner__rpps"]
