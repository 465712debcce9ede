"""The WebSocket of a browser tab: ``/ws/`` multiplexes the rooms the user opens.

This first version authenticates by session and forwards room events of joined rooms;
the full protocol (replay with ``after``, gap filling, acks, typing, presence) follows.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from . import selectors
from .events import room_group, serialize_event, user_group

# 4401: the HTTP 401 of WebSocket close codes (the 4000–4999 range is the application's).
CLOSE_UNAUTHENTICATED = 4401


class RoomsConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        self.rooms: dict[int, int] = {}
        await self.accept()
        await self.channel_layer.group_add(user_group(user.pk), self.channel_name)

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "user"):
            return
        await self.channel_layer.group_discard(user_group(self.user.pk), self.channel_name)
        for room_id in list(self.rooms):
            await self.channel_layer.group_discard(room_group(room_id), self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            await self.send_json({"type": "error", "code": "bad_frame", "detail": "Not an object."})
            return
        kind = content.get("type")
        if kind == "join":
            await self._join(content)
        elif kind == "ping":
            await self.send_json({"type": "pong", "heads": {}})
        else:
            await self.send_json({"type": "error", "code": "unknown_type",
                                  "detail": f"Unknown frame type {kind!r}."})

    async def _join(self, content: dict) -> None:
        room_id = content.get("room")
        after = content.get("after", 0)
        if not isinstance(room_id, int) or not await database_sync_to_async(
            selectors.is_member
        )(room_id=room_id, user_id=self.user.pk):
            await self.send_json({"type": "error", "code": "room_not_found",
                                  "detail": "No such room."})
            return
        await self.channel_layer.group_add(room_group(room_id), self.channel_name)
        events = await database_sync_to_async(selectors.events_after)(
            room_id=room_id, after=after, limit=10_000
        )
        last = after
        for event in events:
            await self.send_json({"type": "event", **serialize_event(event)})
            last = event.seq
        self.rooms[room_id] = last
        await self.send_json({"type": "joined", "room": room_id, "seq": last})

    async def room_event(self, message: dict) -> None:
        event = message["event"]
        room_id = event["room"]
        if room_id in self.rooms and event["seq"] > self.rooms[room_id]:
            self.rooms[room_id] = event["seq"]
            await self.send_json({"type": "event", **event})

    async def room_read(self, message: dict) -> None:
        await self.send_json({k: v for k, v in message.items() if k != "type"} | {"type": "read"})

    async def user_notify(self, message: dict) -> None:
        await self.send_json({"type": "notify", **message["notification"]})
