"""One cache client per process for the socket path.

``django.core.cache.cache`` is context-local: under ASGI every consumer (each a task of
its own) got its own client and so its own Redis connection, 10,000 sockets meaning
10,000 connections (Redis' maxclients) and ~11 KiB more per socket. The Redis client is
thread-safe with its pool, so presence and tickets share one.
"""

from __future__ import annotations

from functools import cache

from django.core.cache import BaseCache, caches


@cache
def shared_cache() -> BaseCache:
    return caches.create_connection("default")
