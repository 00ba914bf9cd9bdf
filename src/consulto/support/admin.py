"""The support desk's set-up in the back office (platform staff): teams and providers, agents
with their skills and weekly shifts, the routing policy, reply templates. Tickets, contacts and
snapshots are not here: they hold customers' data and are read through the console, audited."""

from django.contrib import admin

from .models import Agent, ReplyTemplate, RoutingPolicy, Shift, Skill, Team


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "provider"]
    list_filter = ["provider"]
    search_fields = ["name"]


class SkillInline(admin.TabularInline):
    model = Skill
    extra = 1


class ShiftInline(admin.TabularInline):
    model = Shift
    extra = 1


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ["user", "team", "role", "kind", "languages", "presence", "is_active"]
    list_filter = ["team", "role", "kind", "presence", "is_active"]
    search_fields = ["user__email", "user__last_name"]
    raw_id_fields = ["user"]
    list_select_related = ["user", "team"]
    inlines = [SkillInline, ShiftInline]
    readonly_fields = ["presence_since", "idle_since"]


@admin.register(RoutingPolicy)
class RoutingPolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "offer_seconds", "chat_unanswered_minutes"]

    def has_add_permission(self, request):
        return not RoutingPolicy.objects.exists()


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(admin.ModelAdmin):
    list_display = ["title", "product", "language"]
    list_filter = ["product", "language"]
    search_fields = ["title", "body"]
