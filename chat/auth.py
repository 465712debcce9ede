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
from channels.db import DatabaseSyncToAsync
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


async def authenticate(scope: dict[str, Any]) -> tuple[Any, str | None]:
    """The socket's user, or AnonymousUser and why not (``invalid_ticket``,
    ``not_signed_in``, ``origin_not_allowed``).

    This is database work, so the consumer calls it *after* accepting the handshake: all
    of a process's database calls run on one thread, and in a storm of sockets a
    handshake that waits for its lookup queues behind every other socket's, past
    daphne's 5 s handshake timeout (300 sockets at once on a loaded host, or 600 on an
    idle one, all failed).
    """
    query = parse_qs(scope.get("query_string", b"").decode("latin1"))
    ticket = (query.get("ticket") or [""])[0]
    if ticket:
        user = await DatabaseSyncToAsync(redeem_ticket, thread_sensitive=False)(ticket)
        return (user, None) if user else (AnonymousUser(), "invalid_ticket")
    if settings.SESSION_COOKIE_NAME not in scope.get("cookies", {}):
        return AnonymousUser(), "not_signed_in"
    if not _origin_allowed(scope):
        return AnonymousUser(), "origin_not_allowed"
    user = await get_user(scope)
    return user, None if user.is_authenticated else "not_signed_in"


def TicketOrSessionAuthStack(inner: Any) -> Any:  # noqa: N802 (reads like channels' stacks)
    """Cookies and the (lazy) session in the scope; the consumer calls
    :func:`authenticate`."""
    return SessionMiddlewareStack(inner)
