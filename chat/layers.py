"""The project's channel layer, and a fault-injecting one for tests.

``PubSubChannelLayer`` is channels-redis' pub/sub layer plus ``group_send_many``: the
pushes of a whole batch of events (each to its room's group and its members' user
groups) go to Redis as one pipeline, one write and one read, instead of a round trip
each. On a small machine the system calls were the cost: a quarter of the server's
event loop went to writing PUBLISH commands one by one (profiled in bench/).

``DroppingChannelLayer`` silently drops every Nth room push, as any at-most-once layer
may (a Redis reconnect, a subscriber that fell behind). It exists to prove that clients
still get every event exactly once: the consumer fills gaps from the event log.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from channels_redis.pubsub import RedisPubSubChannelLayer


class PubSubChannelLayer(RedisPubSubChannelLayer):
    async def group_send_many(self, messages: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """``group_send`` for each (group, message), pipelined per Redis shard."""
        # The loop layer's shard and naming helpers are private to channels-redis (pinned
        # <4.4 in pyproject.toml); group_send itself goes through the same ones.
        layer = self._get_layer()
        by_shard: dict[Any, list[tuple[str, bytes]]] = defaultdict(list)
        for group, message in messages:
            channel = layer._get_group_channel_name(group)
            by_shard[layer._get_shard(channel)].append((channel, self.serialize(message)))
        for shard, items in by_shard.items():
            async with shard._lock:
                shard._ensure_redis()
                pipe = shard._redis.pipeline(transaction=False)
                for channel, data in items:
                    pipe.publish(channel, data)
                await pipe.execute()


    async def release_channel(self, channel: str) -> None:
        """Forget a consumer's own channel as it closes.

        The pub/sub layer unsubscribes a channel only when its pending ``receive`` is
        cancelled. A consumer whose last receive had just *completed* when its socket
        closed (a group message and the disconnect in the same loop turn) never gets
        there, and its subscription and queue stay for the life of the process
        (channels_redis#276; seen in bench/ as one stale channel per thousand sockets
        closed at once)."""
        layer = self._get_layer()
        if layer.channels.pop(channel, None) is not None:
            await layer._get_shard(channel).unsubscribe(channel)


class DroppingChannelLayer(PubSubChannelLayer):
    def __init__(self, *args: Any, drop_every: int = 3, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.drop_every = drop_every
        self._sends = itertools.count(1)
        self.dropped = 0

    def _keep(self, group: str) -> bool:
        if group.startswith("room.") and next(self._sends) % self.drop_every == 0:
            self.dropped += 1
            return False
        return True

    async def group_send(self, group: str, message: dict) -> None:
        if self._keep(group):
            await self._get_layer().group_send(group, message)

    async def group_send_many(self, messages: Sequence[tuple[str, dict[str, Any]]]) -> None:
        await super().group_send_many([(g, m) for g, m in messages if self._keep(g)])
