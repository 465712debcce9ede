"""The WebSocket of a browser tab: ``/ws/`` multiplexes the rooms the user opens.

Delivery guarantee: the channel layer delivers at most once, so a push is only a hint.
For every joined room the consumer remembers the last seq it sent. An event arriving
with a higher seq than the next one first pulls the missing ones from the log; one at
or below it is a duplicate and is dropped; and every heartbeat compares the rooms' head
seqs with what was sent and fills any difference, so even a lost *last* event reaches
the client within one heartbeat. Replay on join and the live stream meet the same way:
group messages that arrive while the replay is read wait in the consumer's queue and are
deduplicated by seq afterwards.

Every write calls the same service as the REST API (``chat.services``).
"""

from __future__ import annotations

import json
import time
from typing import Any

from channels.consumer import get_handler_name
from channels.db import DatabaseSyncToAsync
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from config.errors import ServiceError

from . import presence, selectors, services
from .auth import authenticate
from .events import room_group, serialize_event, user_group
from .group_commit import GroupCommit

# Close codes in the application's 4000–4999 range, after HTTP's 401 and 403.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_ORIGIN_NOT_ALLOWED = 4403


# Every socket's messages go through one writer per process (see chat.group_commit).
message_writer = GroupCommit(services.send_messages)


class FrameError(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def _int_field(content: dict, name: str, *, default: int | None = None, minimum: int = 0) -> int:
    value = content.get(name, default)
    if value is None:
        raise FrameError("missing_field", f"'{name}' is required.")
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise FrameError("invalid_field", f"'{name}' must be an integer ≥ {minimum}.")
    return value


def _str_field(content: dict, name: str) -> str:
    value = content.get(name)
    if value is None:
        raise FrameError("missing_field", f"'{name}' is required.")
    if not isinstance(value, str):
        raise FrameError("invalid_field", f"'{name}' must be a string.")
    return value


class TokenBucket:
    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def db(function: Any) -> Any:
    """Run a database call off the event loop, on the loop's pool of threads rather than
    channels' default single thread per process: sockets of different rooms then write
    in parallel (each thread takes a pooled connection and returns it after the call).
    Frames of one socket still run one at a time, so a sender's messages keep their order.
    """
    return DatabaseSyncToAsync(function, thread_sensitive=False)


class RoomsConsumer(AsyncWebsocketConsumer):
    user_id: int | None = None

    # --- connection ----------------------------------------------------------------------

    async def dispatch(self, message: dict) -> None:
        # channels' dispatch first runs close_old_connections() on the process's one
        # database thread before *every* handler. Every database call here goes through
        # DatabaseSyncToAsync, which does that around the call anyway; skipping it
        # keeps the handshake (and each push) off that thread, where in a storm of
        # sockets the accepts queued behind all the others' lookups (chat.auth).
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        # Accept first: a close code (and its reason) can only be sent on an open socket;
        # a refused handshake tells the client nothing. And the handshake does not wait
        # for the database (see chat.auth.authenticate); frames wait until this returns.
        await self.accept()
        user, error = await authenticate(self.scope)
        self.scope["user"] = user
        if not user.is_authenticated:
            await self.close(code=CLOSE_ORIGIN_NOT_ALLOWED if error == "origin_not_allowed"
                             else CLOSE_UNAUTHENTICATED)
            return
        self.user_id = user.pk
        self.rooms: dict[int, int] = {}  # room id → last seq sent on this socket
        self.members: dict[int, list[int]] = {}  # room id → member user ids
        self.typing_at: dict[int, float] = {}
        self.bucket = TokenBucket(settings.WS_RATE_PER_SECOND, settings.WS_RATE_BURST)
        await self.channel_layer.group_add(user_group(self.user_id), self.channel_name)
        await db(presence.touch)(self.user_id, self.channel_name)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        # disconnect() runs only when the disconnect message is handled; a consumer that
        # fails first (a frame sent just after the client went away raises in daphne)
        # would otherwise stay in its groups and keep its channel subscribed.
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._clean_up()

    async def disconnect(self, code: int) -> None:
        await self._clean_up()

    async def _clean_up(self) -> None:
        if getattr(self, "_cleaned_up", False):
            return
        self._cleaned_up = True
        try:
            if self.user_id is not None:
                await self._leave_everything()
        finally:
            release = getattr(self.channel_layer, "release_channel", None)
            if release is not None and getattr(self, "channel_name", None):
                await release(self.channel_name)  # see chat.layers

    async def _leave_everything(self) -> None:
        await self.channel_layer.group_discard(user_group(self.user_id), self.channel_name)
        for room_id in list(self.rooms):
            await self.channel_layer.group_discard(room_group(room_id), self.channel_name)
        went_offline = await db(presence.drop)(self.user_id, self.channel_name)
        if went_offline:
            for room_id in self.rooms:
                await self._broadcast_presence(room_id, online=False)

    # --- frames in -------------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.user_id is None:
            return
        content: Any = None
        try:
            if text_data is None:
                raise FrameError("bad_frame", "Frames must be JSON text, not binary.")
            if len(text_data.encode()) > settings.WS_MAX_FRAME_BYTES:
                raise FrameError("frame_too_large",
                                 f"Frames are limited to {settings.WS_MAX_FRAME_BYTES} bytes.")
            if not self.bucket.take():
                raise FrameError("rate_limited", "Too many frames; slow down.")
            try:
                content = json.loads(text_data)
            except ValueError:
                raise FrameError("bad_json", "The frame is not valid JSON.") from None
            if not isinstance(content, dict):
                raise FrameError("bad_frame", "A frame is a JSON object with a 'type'.")
            handler = self.HANDLERS.get(content.get("type"))
            if handler is None:
                raise FrameError("unknown_type", f"Unknown frame type {content.get('type')!r}.")
            await handler(self, content)
        except FrameError as exc:
            await self._error(exc.code, exc.detail, content)
        except ServiceError as exc:
            await self._error(exc.code, exc.detail, content, **exc.extra)

    async def _error(self, code: str, detail: str, content: Any, **extra: Any) -> None:
        frame: dict[str, Any] = {"type": "error", "code": code, "detail": detail, **extra}
        if isinstance(content, dict):
            for echo in ("client_id", "room"):  # lets the client match error to request
                if echo in content and echo not in frame:
                    frame[echo] = content[echo]
        await self._send(frame)

    async def _join(self, content: dict) -> None:
        room_id = _int_field(content, "room", minimum=1)
        after = _int_field(content, "after", default=0)
        members, head = await db(selectors.members_and_head)(room_id=room_id)
        if self.user_id not in members:
            # The same answer whether the room exists or not.
            raise FrameError("room_not_found", "No such room.")
        # The log is read only after subscribing, so an event committed in between comes
        # from the log (and its push is dropped as a duplicate).
        await self.channel_layer.group_add(room_group(room_id), self.channel_name)
        self.members[room_id] = members
        # An `after` past the head (a client's stale state, say after a restore) would
        # make every new event look like a duplicate: start from the head instead.
        self.rooms[room_id] = min(after, head)
        await self._send_from_log(room_id)
        await self._send({"type": "joined", "room": room_id, "seq": self.rooms[room_id]})
        online = await db(presence.online)(members)
        for member in members:
            if member != self.user_id:
                await self._send({"type": "presence", "user": member,
                                  "online": member in online})
        await self._broadcast_presence(room_id, online=True)

    async def _leave(self, content: dict) -> None:
        room_id = _int_field(content, "room", minimum=1)
        if self.rooms.pop(room_id, None) is not None:
            self.members.pop(room_id, None)
            await self.channel_layer.group_discard(room_group(room_id), self.channel_name)

    async def _message(self, content: dict) -> None:
        room_id = _int_field(content, "room", minimum=1)
        body = _str_field(content, "body")
        client_id = _str_field(content, "client_id")
        sent = await message_writer.submit(services.MessageDraft(
            room_id=room_id, sender=self.scope["user"], body=body, client_id=client_id))
        if isinstance(sent, ServiceError):
            raise sent
        await self._send({"type": "ack", "client_id": client_id, "seq": sent.event.seq,
                          "room": room_id})
        # Deliver our own event now rather than wait for the push (which may be lost).
        await self._deliver(serialize_event(sent.event))

    async def _edit(self, content: dict) -> None:
        message_id = _int_field(content, "message", minimum=1)
        body = _str_field(content, "body")
        event = await db(services.edit_message)(message_id=message_id,
                                                by=self.scope["user"], body=body)
        await self._ack_change(content, event)

    async def _delete(self, content: dict) -> None:
        message_id = _int_field(content, "message", minimum=1)
        event = await db(services.delete_message)(message_id=message_id, by=self.scope["user"])
        await self._ack_change(content, event)

    async def _ack_change(self, content: dict, event: Any) -> None:
        frame = {"type": "ack", "room": event.room_id, "seq": event.seq}
        if isinstance(content.get("client_id"), str):
            frame["client_id"] = content["client_id"]
        await self._send(frame)
        await self._deliver(serialize_event(event))

    async def _typing(self, content: dict) -> None:
        room_id = _int_field(content, "room", minimum=1)
        if room_id not in self.rooms:
            raise FrameError("not_joined", "Join the room first.")
        now = time.monotonic()
        if now - self.typing_at.get(room_id, 0) < settings.TYPING_THROTTLE_SECONDS:
            return  # throttled: typing is a hint, dropping repeats loses nothing
        self.typing_at[room_id] = now
        await self.channel_layer.group_send(
            room_group(room_id), {"type": "room.typing", "room": room_id, "user": self.user_id}
        )

    async def _read(self, content: dict) -> None:
        room_id = _int_field(content, "room", minimum=1)
        seq = _int_field(content, "seq")
        # The service broadcasts the marker to the room after its commit.
        await db(services.mark_read)(room_id=room_id, user=self.scope["user"], seq=seq)

    async def _ping(self, content: dict) -> None:
        await db(presence.touch)(self.user_id, self.channel_name)
        heads = await db(selectors.head_seqs)(room_ids=list(self.rooms))
        for room_id, head in heads.items():
            if room_id in self.rooms and head > self.rooms[room_id]:
                await self._send_from_log(room_id)  # a push was lost: fill from the log
        watched = {m for members in self.members.values() for m in members} - {self.user_id}
        online = await db(presence.online)(watched)
        await self._send({
            "type": "pong",
            "heads": {str(room_id): self.rooms[room_id] for room_id in self.rooms},
            "online": sorted(online),
        })

    HANDLERS = {
        "join": _join,
        "leave": _leave,
        "message": _message,
        "edit": _edit,
        "delete": _delete,
        "typing": _typing,
        "read": _read,
        "ping": _ping,
    }

    # --- delivery --------------------------------------------------------------------------

    async def _send(self, frame: dict) -> None:
        await self.send(text_data=json.dumps(frame, separators=(",", ":")))

    async def _send_from_log(self, room_id: int) -> None:
        """Send every logged event after the last one sent, in order, in pages."""
        while room_id in self.rooms:
            events = await db(selectors.events_after)(
                room_id=room_id, after=self.rooms[room_id], limit=settings.WS_REPLAY_PAGE
            )
            for event in events:
                await self._send({"type": "event", **serialize_event(event)})
                self.rooms[room_id] = event.seq
            if len(events) < settings.WS_REPLAY_PAGE:
                return

    async def _deliver(self, event: dict) -> None:
        room_id = event["room"]
        last = self.rooms.get(room_id)
        if last is None or event["seq"] <= last:
            return  # not joined here, or already sent
        if event["seq"] > last + 1:
            await self._send_from_log(room_id)  # a gap: earlier pushes were lost
            return  # the log read included this event
        self.rooms[room_id] = event["seq"]
        await self._send({"type": "event", **event})

    async def _broadcast_presence(self, room_id: int, *, online: bool) -> None:
        await self.channel_layer.group_send(
            room_group(room_id),
            {"type": "room.presence", "user": self.user_id, "online": online},
        )

    # --- channel layer handlers ---------------------------------------------------------

    async def room_event(self, message: dict) -> None:
        await self._deliver(message["event"])

    async def room_typing(self, message: dict) -> None:
        if message["user"] != self.user_id and message["room"] in self.rooms:
            await self._send({"type": "typing", "room": message["room"],
                              "user": message["user"]})

    async def room_read(self, message: dict) -> None:
        if message["room"] in self.rooms:
            await self._send({"type": "read", "room": message["room"],
                              "user": message["user"], "seq": message["seq"]})

    async def room_presence(self, message: dict) -> None:
        if message["user"] != self.user_id:
            await self._send({"type": "presence", "user": message["user"],
                              "online": message["online"]})

    async def user_notify(self, message: dict) -> None:
        await self._send({"type": "notify", **message["notification"]})

    async def user_activity(self, message: dict) -> None:
        # Activity in a room open on this socket arrives as its event; others notify.
        if message["notification"]["room"] not in self.rooms:
            await self._send({"type": "notify", **message["notification"]})
