from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import Skill, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "display_name", "role", "email", "is_staff"]
    list_filter = ["role", "is_staff", "is_active"]
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        ("Marketplace", {"fields": ["role", "display_name", "timezone", "skills", "bio",
                                     "notifications_enabled"]}),
    ]
    filter_horizontal = ["skills", "groups", "user_permissions"]


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ["slug", "name"]
    search_fields = ["slug", "name"]
