from django.contrib import admin

from .models import WaitlistEntry, WaitlistOffer


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(admin.ModelAdmin):
    list_display = ("patient", "motive", "before", "status", "created_at")
    list_filter = ("status",)
    raw_id_fields = ("user", "patient", "motive", "appointment")


@admin.register(WaitlistOffer)
class WaitlistOfferAdmin(admin.ModelAdmin):
    list_display = ("entry", "start", "status", "created_at")
    list_filter = ("status",)
    raw_id_fields = ("entry", "hold")
