from __future__ import annotations

from django.http import HttpRequest


def site(request: HttpRequest) -> dict:
    """What every page's script needs to know about the signed-in user."""
    user = request.user
    if not user.is_authenticated:
        return {"page_user": None}
    return {
        "page_user": {
            "id": user.pk,
            "username": user.username,
            "display_name": user.display_name or user.username,
            "role": user.role,
            "timezone": user.timezone,
            "notifications_enabled": user.notifications_enabled,
        }
    }
