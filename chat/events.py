"""The one way any app records a room event: persist, then publish.

``record`` must run inside the transaction of the change it reports. It bumps the room's
head seq with a single ``UPDATE … RETURNING`` (which also takes the row lock, so
concurrent writers to one room queue up and seqs are gapless and in commit order), inserts
the event row, and registers a push to the channel layer for after the commit. The push is
only a hint: the channel layer delivers at most once, and a client that missed it fetches
``events after seq N`` from the log.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction

from .models import Event, Room, RoomMember
from .notifications import activity_notification

logger = logging.getLogger(__name__)


def room_group(room_id: int) -> str:
    return f"room.{room_id}"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def serialize_event(event: Event) -> dict[str, Any]:
    """The wire shape of an event, the same over REST and WebSocket."""
    return {
        "room": event.room_id,
        "seq": event.seq,
        "kind": event.kind,
        "actor": event.actor_id,
        "at": event.created_at.isoformat().replace("+00:00", "Z"),
        "data": event.data,
    }


def _next_seq(room_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Room._meta.db_table} SET head_seq = head_seq + 1 "
            "WHERE id = %s RETURNING head_seq",
            [room_id],
        )
        row = cursor.fetchone()
    if row is None:
        raise Room.DoesNotExist(f"room {room_id} does not exist")
    return int(row[0])


def record(
    room: Room | int,
    kind: str,
    *,
    actor: Any | None,
    data: dict[str, Any] | None = None,
) -> Event:
    """Append an event to the room's log and publish it once the transaction commits."""
    if not connection.in_atomic_block:
        raise RuntimeError("chat.events.record() must run inside the change's transaction")
    room_id = room if isinstance(room, int) else room.pk
    seq = _next_seq(room_id)
    event = Event.objects.create(
        room_id=room_id,
        seq=seq,
        kind=kind,
        actor_id=getattr(actor, "pk", actor),
        data=data or {},
    )
    payload = serialize_event(event)
    transaction.on_commit(lambda: publish_event(payload))
    return event


# Kinds that do not deserve a notification outside the open room.
QUIET_KINDS = {"message.edited", "message.deleted"}


def publish_event(payload: dict[str, Any]) -> None:
    """Push a committed event to the room's group, and a notification to the user group
    of every other member (their sockets show it if the room is not open there).
    A failure here loses nothing: the event is in the log."""
    send_to_group(room_group(payload["room"]), {"type": "room.event", "event": payload})
    if payload["kind"] in QUIET_KINDS:
        return
    members = list(
        RoomMember.objects.filter(room_id=payload["room"]).values_list(
            "user_id", "user__display_name"
        )
    )
    names = dict(members)
    notification = activity_notification(payload, actor_name=names.get(payload["actor"]))
    for user_id, _ in members:
        if user_id != payload["actor"]:
            send_to_group(user_group(user_id), {"type": "user.activity",
                                                "notification": notification})


def notify_user(user_id: int, notification: dict[str, Any]) -> None:
    """Push a notification to every socket of one user (not stored)."""
    send_to_group(user_group(user_id), {"type": "user.notify", "notification": notification})


def _serving_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop of the server process, when this thread is a sync_to_async worker
    of it (a consumer's or an async view's database call)."""
    if os.getpid() != getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None):
        return None
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    return loop if loop is not None and loop.is_running() else None


def send_to_group(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    loop = _serving_loop()
    if loop is not None:
        # Hand the push to the server's loop and return: the database thread (one per
        # process for consumers) need not wait for Redis. Pushes may then overtake each
        # other, which consumers already handle by seq (gap fill, duplicates dropped).
        loop.call_soon_threadsafe(_spawn, layer.group_send(group, message), group)
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:  # the log has the event; clients catch up by seq
        logger.exception("could not publish to %s", group)


_pending: set[asyncio.Task] = set()


def _spawn(coroutine: Any, group: str) -> None:
    task = asyncio.ensure_future(coroutine)
    _pending.add(task)  # keep a reference until done (the loop holds only weak ones)

    def done(finished: asyncio.Task) -> None:
        _pending.discard(finished)
        if not finished.cancelled() and finished.exception() is not None:
            logger.error("could not publish to %s", group, exc_info=finished.exception())

    task.add_done_callback(done)
