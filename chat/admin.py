from django.contrib import admin

from .models import Event, Room


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["id", "head_seq", "is_closed", "created_at"]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["room", "seq", "kind", "actor", "created_at"]
    list_filter = ["kind"]
    readonly_fields = ["room", "seq", "kind", "actor", "data", "created_at"]
