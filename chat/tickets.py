"""One-time WebSocket tickets for clients that have no session cookie (mobile, desktop).

A ticket is an unguessable token in the shared cache, valid for 30 seconds and for one
socket: redeeming deletes it, and only the caller whose delete succeeded gets the user.
"""

from __future__ import annotations

import secrets

from django.conf import settings

from accounts.models import User

from .shared_cache import shared_cache

PREFIX = "ws-ticket:"


def issue_ticket(*, user: User) -> str:
    ticket = secrets.token_urlsafe(32)
    shared_cache().set(PREFIX + ticket, user.pk, timeout=settings.WS_TICKET_TTL_SECONDS)
    return ticket


def redeem_ticket(ticket: str) -> User | None:
    if not ticket or len(ticket) > 100:
        return None
    key = PREFIX + ticket
    user_id = shared_cache().get(key)
    # delete() reports whether it removed the key: of two sockets racing with one ticket,
    # only one wins.
    if user_id is None or not shared_cache().delete(key):
        return None
    return User.objects.filter(pk=user_id, is_active=True).first()
