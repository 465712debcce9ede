"""Channel layers for production, and a fault-injecting one for tests.

``PooledRedisChannelLayer`` is channels-redis' core layer with a *bounded, blocking*
connection pool. The stock pool opens a new Redis connection for every concurrent
command; a storm of sockets (hundreds opening at once after a deploy) then opens hundreds
of connections per process, and a capped pool raises "Too many connections" and fails
handshakes. A blocking pool makes the burst wait its turn for a few milliseconds instead.

``DroppingRedisChannelLayer`` silently drops every Nth ``group_send``, as channels-redis
itself does for a member over capacity. It exists to prove that clients still get every
event exactly once (the consumer fills gaps from the event log).
"""

from __future__ import annotations

import itertools
from typing import Any

from channels_redis.core import RedisChannelLayer
from django.conf import settings
from redis import asyncio as aioredis


class PooledRedisChannelLayer(RedisChannelLayer):
    def create_pool(self, index: int) -> aioredis.ConnectionPool:
        host = dict(self.hosts[index])
        address = host.pop("address")
        return aioredis.BlockingConnectionPool.from_url(
            address,
            max_connections=settings.CHANNEL_POOL_SIZE,
            timeout=settings.CHANNEL_POOL_TIMEOUT_SECONDS,
            **host,
        )


class DroppingRedisChannelLayer(PooledRedisChannelLayer):
    def __init__(self, *args: Any, drop_every: int = 3, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.drop_every = drop_every
        self._sends = itertools.count(1)
        self.dropped = 0

    async def group_send(self, group: str, message: dict) -> None:
        if group.startswith("room.") and next(self._sends) % self.drop_every == 0:
            self.dropped += 1
            return
        await super().group_send(group, message)
