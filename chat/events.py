"""The one way any app records a room event: persist, then publish.

``record`` (one event) and ``record_many`` (a batch, e.g. the socket messages written by
group commit) must run inside the transaction of the change they report. They bump the
rooms' head seqs with one ``UPDATE … RETURNING`` (which also takes the row locks, so
concurrent writers to one room queue up and seqs are gapless and in commit order), insert
the event rows, and register the pushes to the channel layer for after the commit, all
of a batch in one pipelined round trip. A push is only a hint: the channel layer delivers
at most once, and a client that missed it fetches ``events after seq N`` from the log.
"""

from __future__ import annotations

import asyncio
import logging
import os
import weakref
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
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


@dataclass(frozen=True)
class NewEvent:
    room_id: int
    kind: str
    actor_id: int | None
    data: dict[str, Any]


def _advance_heads(counts: dict[int, int]) -> dict[int, int]:
    """Bump each room's head seq by its count in one statement; returns the new heads.

    The UPDATE takes the rows' locks. With several rooms the order in which it takes
    them is the plan's, so a caller writing several rooms locks them first in id order
    (the order every multi-room writer takes: ``chat.services.send_messages``, a hire
    declining the other proposals) and cannot deadlock with another. Raw SQL because
    Django's ``update()`` returns a count, not the rows.
    """
    room_ids = list(counts)
    cases = " ".join("WHEN %s THEN %s" for _ in room_ids)
    marks = ", ".join("%s" for _ in room_ids)
    params: list[int] = [x for room_id in room_ids for x in (room_id, counts[room_id])]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Room._meta.db_table} SET head_seq = head_seq + CASE id {cases} END "
            f"WHERE id IN ({marks}) RETURNING id, head_seq",
            [*params, *room_ids],
        )
        heads = {int(room_id): int(head) for room_id, head in cursor.fetchall()}
    missing = set(room_ids) - set(heads)
    if missing:
        raise Room.DoesNotExist(f"room {min(missing)} does not exist")
    return heads


def record_many(entries: Sequence[NewEvent], *,
                members: Mapping[int, list[tuple[int, str]]] | None = None) -> list[Event]:
    """Append events to one or more rooms' logs in one go: one UPDATE for the seqs, one
    INSERT for the rows, one push after the commit. A room's entries get consecutive
    seqs in the order given. Must run inside the transaction of the change it reports.

    ``members`` (room id → [(user id, display name)]) spares the notifications a query
    when the caller has read them already."""
    if not connection.in_atomic_block:
        raise RuntimeError("chat.events.record() must run inside the change's transaction")
    if not entries:
        return []
    counts = Counter(entry.room_id for entry in entries)
    heads = _advance_heads(counts)
    next_seq = {room_id: heads[room_id] - count + 1 for room_id, count in counts.items()}
    events = []
    for entry in entries:
        events.append(Event(room_id=entry.room_id, seq=next_seq[entry.room_id],
                            kind=entry.kind, actor_id=entry.actor_id, data=entry.data))
        next_seq[entry.room_id] += 1
    Event.objects.bulk_create(events)
    payloads = [serialize_event(event) for event in events]
    transaction.on_commit(lambda: publish_events(payloads, members=members))
    return events


def record(
    room: Room | int,
    kind: str,
    *,
    actor: Any | None,
    data: dict[str, Any] | None = None,
) -> Event:
    """Append an event to the room's log and publish it once the transaction commits."""
    room_id = room if isinstance(room, int) else room.pk
    (event,) = record_many([NewEvent(room_id=room_id, kind=kind,
                                     actor_id=getattr(actor, "pk", actor), data=data or {})])
    return event


# Kinds that do not deserve a notification outside the open room.
QUIET_KINDS = {"message.edited", "message.deleted"}


def publish_events(payloads: Sequence[dict[str, Any]], *,
                   members: Mapping[int, list[tuple[int, str]]] | None = None) -> None:
    """Push committed events to their rooms' groups, and a notification to the user
    group of every other member (their sockets show it if the room is not open there).
    At most one members query whatever the number of events. A failure here loses
    nothing: the events are in the log."""
    pushes = [(room_group(p["room"]), {"type": "room.event", "event": p}) for p in payloads]
    loud = [p for p in payloads if p["kind"] not in QUIET_KINDS]
    if loud and members is None:
        members = {}
        for room_id, user_id, name in RoomMember.objects.filter(
            room_id__in={p["room"] for p in loud}
        ).values_list("room_id", "user_id", "user__display_name"):
            members.setdefault(room_id, []).append((user_id, name))
    for payload in loud:
        in_room = members.get(payload["room"], []) if members else []
        notification = activity_notification(
            payload, actor_name=dict(in_room).get(payload["actor"]))
        for user_id, _ in in_room:
            if user_id != payload["actor"]:
                pushes.append((user_group(user_id), {"type": "user.activity",
                                                     "notification": notification}))
    send_to_groups(pushes)


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
    send_to_groups([(group, message)])


def send_to_groups(pushes: Sequence[tuple[str, dict[str, Any]]]) -> None:
    layer = get_channel_layer()
    if layer is None or not pushes:
        return
    loop = _serving_loop()
    if loop is not None:
        # Hand the pushes to the server's loop and return: the database thread need not
        # wait for Redis. Pushes may then overtake each other, which consumers already
        # handle by seq (gap fill, duplicates dropped).
        loop.call_soon_threadsafe(_spawn, _push_all(layer, pushes))
        return
    async_to_sync(_push_all)(layer, pushes)


async def _push_all(layer: Any, pushes: Sequence[tuple[str, dict[str, Any]]]) -> None:
    await _push_all_now(layer, _coalescer().admit(layer, pushes))


async def _push_all_now(layer: Any, pushes: Sequence[tuple[str, dict[str, Any]]]) -> None:
    if not pushes:
        return
    try:
        if hasattr(layer, "group_send_many"):  # chat.layers: one pipelined round trip
            await layer.group_send_many(pushes)
        else:
            for group, message in pushes:
                await layer.group_send(group, message)
    except Exception:  # the log has the events; clients catch up by seq
        logger.exception("could not publish %d pushes", len(pushes))


_pending: set[asyncio.Task] = set()


class ActivityCoalescer:
    """At most one activity notification per (user, room) per window, per process.

    A notification of activity in a room the user is not looking at is a nudge: a busy
    room nudged every other tab of its members once per message, and each nudge makes
    the tab refresh its unread counts over REST. So the first activity of a (user, room)
    goes out at once, and later ones within ``ACTIVITY_COALESCE_SECONDS`` fold into one
    sent when the window ends: the latest wins, so the last message is never missed.
    Room events themselves are never held back.
    """

    def __init__(self, window: float) -> None:
        self.window = window
        self.quiet_until: dict[tuple[str, int], float] = {}
        self.held: dict[tuple[str, int], dict[str, Any]] = {}

    def admit(self, layer: Any,
              pushes: Sequence[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
        if self.window <= 0:
            return list(pushes)
        loop = asyncio.get_running_loop()
        now = loop.time()
        out = []
        for group, message in pushes:
            if message.get("type") != "user.activity":
                out.append((group, message))
                continue
            key = (group, message["notification"]["room"])
            until = self.quiet_until.get(key, 0.0)
            if now >= until:
                self.quiet_until[key] = now + self.window
                out.append((group, message))
                continue
            if key not in self.held:
                loop.call_at(until, self._release, layer, key)
            self.held[key] = message
        if len(self.quiet_until) > 10_000:  # forget windows long past
            self.quiet_until = {k: t for k, t in self.quiet_until.items()
                                if t > now or k in self.held}
        return out

    def _release(self, layer: Any, key: tuple[str, int]) -> None:
        message = self.held.pop(key, None)
        if message is not None:
            self.quiet_until[key] = asyncio.get_running_loop().time() + self.window
            _spawn(_push_all_now(layer, [(key[0], message)]))


_coalescers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ActivityCoalescer] = (
    weakref.WeakKeyDictionary())


def _coalescer() -> ActivityCoalescer:
    loop = asyncio.get_running_loop()
    if loop not in _coalescers:
        _coalescers[loop] = ActivityCoalescer(settings.ACTIVITY_COALESCE_SECONDS)
    return _coalescers[loop]


def _spawn(coroutine: Any) -> None:
    task = asyncio.ensure_future(coroutine)
    _pending.add(task)  # keep a reference until done (the loop holds only weak ones)
    task.add_done_callback(_pending.discard)
