"""Staff view of calls: read-only, since every change must go through the services (which
record the room event and keep the reminder in step)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import CalendarFeed, Call, CallSlot


class CallSlotInline(admin.TabularInline):
    model = CallSlot
    extra = 0
    can_delete = False
    readonly_fields = ["index", "start_at", "end_at", "duration_minutes"]

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = ["id", "engagement", "state", "proposed_by", "invitee", "start_at",
                    "reminder_sent_at", "created_at"]
    list_filter = ["state"]
    raw_id_fields = ["engagement", "proposed_by", "invitee", "closed_by", "replaces", "slot"]
    inlines = [CallSlotInline]

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return [field.name for field in Call._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    """Staff can revoke a leaked feed URL by deleting it; the token itself stays hidden."""

    list_display = ["user", "created_at"]
    raw_id_fields = ["user"]
    exclude = ["token"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
