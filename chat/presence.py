"""Who is online, kept in the shared cache with a short time-to-live.

Each socket stamps itself into its user's entry on connect and on every heartbeat; an
entry older than the TTL no longer counts, and the whole key expires with it. So a
process that crashes (and never runs ``disconnect``) leaves its users "online" for one
TTL at most. Updates are read-modify-write without a lock: a lost update is repaired by
that socket's next heartbeat.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from django.conf import settings

from .shared_cache import shared_cache


def _key(user_id: int) -> str:
    return f"presence:{user_id}"


def _live(connections: dict[str, float] | None, now: float) -> dict[str, float]:
    ttl = settings.PRESENCE_TTL_SECONDS
    return {conn: at for conn, at in (connections or {}).items() if at > now - ttl}


def touch(user_id: int, connection: str) -> bool:
    """Mark a socket alive; returns True if the user was offline before."""
    now = time.time()
    connections = _live(shared_cache().get(_key(user_id)), now)
    was_offline = not connections
    connections[connection] = now
    shared_cache().set(_key(user_id), connections, timeout=settings.PRESENCE_TTL_SECONDS)
    return was_offline


def drop(user_id: int, connection: str) -> bool:
    """Forget a closed socket; returns True if the user has no other live socket."""
    now = time.time()
    connections = _live(shared_cache().get(_key(user_id)), now)
    connections.pop(connection, None)
    if connections:
        shared_cache().set(_key(user_id), connections, timeout=settings.PRESENCE_TTL_SECONDS)
        return False
    shared_cache().delete(_key(user_id))
    return True


def online(user_ids: Iterable[int]) -> set[int]:
    ids = list(user_ids)
    if not ids:
        return set()
    now = time.time()
    entries = shared_cache().get_many([_key(user_id) for user_id in ids])
    return {user_id for user_id in ids if _live(entries.get(_key(user_id)), now)}
