"""WebSocket authentication: a one-time ticket, or the session cookie from an allowed
origin.

A browser attaches the session cookie to a WebSocket opened by *any* site, so a socket
that rides on the cookie must come from one of our origins (cross-site WebSocket
hijacking). A ticket is no ambient credential: a native app presents it without an
Origin and is accepted on the ticket alone.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

from channels.auth import get_user
from channels.db import database_sync_to_async
from channels.security.websocket import OriginValidator
from channels.sessions import SessionMiddlewareStack
from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from .tickets import redeem_ticket


def _origin_allowed(scope: dict[str, Any]) -> bool:
    origin = None
    for name, value in scope.get("headers", []):
        if name == b"origin":
            try:
                origin = urlparse(value.decode("latin1"))
            except UnicodeDecodeError:
                return False
    allowed = list(settings.ALLOWED_HOSTS) or ["localhost", "127.0.0.1", "[::1]"]
    return OriginValidator(None, allowed).valid_origin(origin)


class TicketOrSessionAuthMiddleware:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        scope = dict(scope)
        query = parse_qs(scope.get("query_string", b"").decode("latin1"))
        ticket = (query.get("ticket") or [""])[0]
        if ticket:
            user = await database_sync_to_async(redeem_ticket)(ticket)
            scope["user"] = user or AnonymousUser()
            scope["auth_error"] = None if user else "invalid_ticket"
        elif settings.SESSION_COOKIE_NAME not in scope.get("cookies", {}):
            scope["user"] = AnonymousUser()
            scope["auth_error"] = "not_signed_in"
        elif not _origin_allowed(scope):
            scope["user"] = AnonymousUser()
            scope["auth_error"] = "origin_not_allowed"
        else:
            scope["user"] = await get_user(scope)
            scope["auth_error"] = None if scope["user"].is_authenticated else "not_signed_in"
        return await self.inner(scope, receive, send)


def TicketOrSessionAuthStack(inner: Any) -> Any:  # noqa: N802 (reads like channels' stacks)
    return SessionMiddlewareStack(TicketOrSessionAuthMiddleware(inner))
