"""Who is online: each socket stamps itself into its user's entry in the shared cache on
connect and on every heartbeat, and removes itself on disconnect.

An entry is a map of socket → last stamp. A stamp older than the TTL no longer counts
and the whole entry expires with it, so a process that crashes (and never runs
``disconnect``) leaves its users "online" for one TTL at most.

Every change touches only its own socket's field, atomically: with Redis a hash
(HSET/HDEL in one MULTI with the read that says whether the user was offline before);
with the local-memory cache of the embedded default (one process) a dict under a lock.
A read-modify-write of the whole map lost updates once sockets were handled on several
threads: tabs closing together left their user "online" for a minute (seen in bench/).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.cache.backends.redis import RedisCache

from .shared_cache import shared_cache


def _key(user_id: int) -> str:
    return shared_cache().make_and_validate_key(f"presence:{user_id}")


def _live(stamps: dict[Any, Any], now: float) -> set[str]:
    ttl = settings.PRESENCE_TTL_SECONDS
    return {_text(conn) for conn, at in stamps.items() if float(at) > now - ttl}


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _redis() -> Any | None:
    cache = shared_cache()
    if isinstance(cache, RedisCache):
        return cache._cache.get_client(write=True)  # Django's own client and pool
    return None


# --- the embedded default: one process, so a lock makes the dict atomic ------------------

_local: dict[str, dict[str, float]] = {}
_local_lock = threading.Lock()


def _local_update(key: str, connection: str, stamp: float | None) -> tuple[dict, dict]:
    with _local_lock:
        before = dict(_local.get(key, {}))
        oldest = time.time() - settings.PRESENCE_TTL_SECONDS
        after = {conn: at for conn, at in before.items() if at > oldest}
        if stamp is None:
            after.pop(connection, None)
        else:
            after[connection] = stamp
        if after:
            _local[key] = after
        else:
            _local.pop(key, None)
        return before, after


def touch(user_id: int, connection: str) -> bool:
    """Mark a socket alive; returns True if the user was offline before."""
    now, key = time.time(), _key(user_id)
    client = _redis()
    if client is None:
        before, _ = _local_update(key, connection, now)
    else:
        pipe = client.pipeline(transaction=True)
        pipe.hgetall(key)
        pipe.hset(key, connection, now)
        pipe.expire(key, settings.PRESENCE_TTL_SECONDS)
        before = pipe.execute()[0]
        stale = [conn for conn, at in before.items()
                 if float(at) <= now - settings.PRESENCE_TTL_SECONDS]
        if stale:  # sockets of a crashed process: forget them
            client.hdel(key, *stale)
    return not _live(before, now)


def drop(user_id: int, connection: str) -> bool:
    """Forget a closed socket; returns True if the user has no other live socket."""
    now, key = time.time(), _key(user_id)
    client = _redis()
    if client is None:
        _, after = _local_update(key, connection, None)
    else:
        pipe = client.pipeline(transaction=True)
        pipe.hdel(key, connection)
        pipe.hgetall(key)
        after = pipe.execute()[1]
        if after and not _live(after, now):
            client.delete(key)  # only stale stamps left
    return not _live(after, now)


def online(user_ids: Iterable[int]) -> set[int]:
    ids = list(user_ids)
    if not ids:
        return set()
    now = time.time()
    client = _redis()
    if client is None:
        with _local_lock:
            entries = [dict(_local.get(_key(user_id), {})) for user_id in ids]
    else:
        pipe = client.pipeline(transaction=False)
        for user_id in ids:
            pipe.hgetall(_key(user_id))
        entries = pipe.execute()
    return {user_id for user_id, stamps in zip(ids, entries, strict=True)
            if _live(stamps, now)}
