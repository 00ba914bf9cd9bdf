"""Platform staff's side of onboarding: journeys, invitations, RPPS numbers to verify, funnel."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from consulto.directory.models import Practitioner

from . import services
from .models import Invitation, Journey, StepRecord


class StepRecordInline(admin.TabularInline):
    model = StepRecord
    extra = 0
    readonly_fields = ("step", "reached_at", "finished_at")
    can_delete = False


@admin.register(Journey)
class JourneyAdmin(admin.ModelAdmin):
    list_display = ("email", "kind", "step", "rpps", "in_directory", "created_at", "published_at")
    list_filter = ("kind", "step", "in_directory")
    search_fields = ("email", "rpps")
    date_hierarchy = "created_at"
    inlines = [StepRecordInline]
    exclude = ("password_hash", "code_hash")
    readonly_fields = ("user", "practitioner", "agenda", "invitation", "device_check")

    def changelist_view(self, request, extra_context=None):
        extra_context = dict(extra_context or {})
        extra_context["title"] = format_html(
            '{} — <a href="{}">{}</a>',
            _("Onboarding journeys"),
            reverse("onboarding:funnel"),
            _("see the funnel"),
        )
        return super().changelist_view(request, extra_context)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("email", "organisation", "department", "created_at", "sent_at", "accepted_at")
    list_filter = ("organisation",)
    search_fields = ("email",)
    exclude = ("token_hash",)


class PractitionerToVerify(Practitioner):
    class Meta:
        proxy = True
        verbose_name = _("RPPS number to verify")
        verbose_name_plural = _("RPPS numbers to verify")


@admin.register(PractitionerToVerify)
class PractitionerToVerifyAdmin(admin.ModelAdmin):
    list_display = ("rpps", "last_name", "first_name", "specialty", "user")
    search_fields = ("rpps", "last_name", "user__email")
    actions = ["confirm"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(rpps_status=Practitioner.RppsStatus.TO_VERIFY)
            .select_related("specialty", "user")
        )

    @admin.action(description=_("Confirm the RPPS number (checked by other means)"))
    def confirm(self, request, queryset):
        count = 0
        for practitioner in queryset:
            services.confirm_rpps(practitioner=practitioner, by=request.user)
            count += 1
        self.message_user(
            request,
            ngettext("%d number confirmed.", "%d numbers confirmed.", count) % count,
            messages.SUCCESS,
        )
