from django.contrib import admin

from .models import SharedFile


@admin.register(SharedFile)
class SharedFileAdmin(admin.ModelAdmin):
    """Read-only: staff settling a dispute look at what was shared, they do not edit it."""

    list_display = ["id", "room", "name", "version", "size", "content_type", "uploader",
                    "created_at", "removed_at"]
    list_filter = ["content_type"]
    search_fields = ["name", "sha256"]
    readonly_fields = [field.name for field in SharedFile._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
