"""A fault-injecting channel layer for tests.

``DroppingChannelLayer`` is the project's pub/sub layer that silently drops every Nth
room push, as any at-most-once layer may (a Redis reconnect, a subscriber that fell
behind). It exists to prove that clients still get every event exactly once: the
consumer fills gaps from the event log.
"""

from __future__ import annotations

import itertools
from typing import Any

from channels_redis.pubsub import RedisPubSubChannelLayer


class DroppingChannelLayer(RedisPubSubChannelLayer):
    def __init__(self, *args: Any, drop_every: int = 3, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.drop_every = drop_every
        self._sends = itertools.count(1)
        self.dropped = 0

    async def group_send(self, group: str, message: dict) -> None:
        if group.startswith("room.") and next(self._sends) % self.drop_every == 0:
            self.dropped += 1
            return
        await self._get_layer().group_send(group, message)
