"""Every write of the chat domain: rooms, members, messages, read markers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from config.errors import Conflict, Forbidden, InvalidInput, NotFound, ServiceError

from . import error_codes, events
from .models import Event, Message, Room, RoomMember


def create_room(*, members: Iterable[Any]) -> Room:
    room = Room.objects.create()
    RoomMember.objects.bulk_create([RoomMember(room=room, user=user) for user in members])
    return room


def close_room(*, room: Room | int) -> None:
    room_id = room if isinstance(room, int) else room.pk
    Room.objects.filter(pk=room_id).update(is_closed=True)


def _membership(room_id: int, user: Any) -> RoomMember:
    try:
        return RoomMember.objects.select_related("room").get(room_id=room_id, user=user)
    except RoomMember.DoesNotExist:
        # The same answer whether the room exists or not.
        raise NotFound("No such engagement.", code=error_codes.ROOM_NOT_FOUND) from None


def _clean_body(body: str) -> str:
    body = body.strip()
    if not body:
        raise InvalidInput("A message needs some text.", code=error_codes.MESSAGE_EMPTY,
                           fields={"body": ["This field may not be blank."]})
    if len(body) > settings.MESSAGE_MAX_LENGTH:
        raise InvalidInput(
            f"A message holds at most {settings.MESSAGE_MAX_LENGTH} characters.",
            code=error_codes.MESSAGE_TOO_LONG,
            fields={"body": [f"Ensure this field has at most {settings.MESSAGE_MAX_LENGTH} "
                             "characters."]},
        )
    return body


@dataclass(frozen=True)
class SentMessage:
    message: Message
    event: Event
    created: bool  # False when the client_id was seen before (a retry)


@dataclass(frozen=True)
class MessageDraft:
    room_id: int
    sender: Any
    body: str
    client_id: str


def send_message(*, room_id: int, sender: Any, body: str, client_id: str) -> SentMessage:
    """Post a message; the same (room, sender, client_id) returns the original event."""
    (result,) = send_messages(
        [MessageDraft(room_id=room_id, sender=sender, body=body, client_id=client_id)]
    )
    if isinstance(result, ServiceError):
        raise result
    return result


def send_messages(drafts: Sequence[MessageDraft]) -> list[SentMessage | ServiceError]:
    """Post messages to any rooms, by any senders, in one transaction: each draft gets
    what ``send_message`` would have returned for it alone, or the error it would have
    raised. The socket path hands over everything that arrived while the previous batch
    was being written (``chat.group_commit``), so under load one transaction carries
    many messages and the per-message cost of the database falls with the load."""
    results: list[SentMessage | ServiceError | None] = [None] * len(drafts)
    bodies: dict[int, str] = {}
    for index, draft in enumerate(drafts):
        try:
            bodies[index] = _clean_body(draft.body)
            if not draft.client_id or len(draft.client_id) > 64:
                raise InvalidInput("client_id must be 1 to 64 characters.",
                                   code="invalid_client_id",
                                   fields={"client_id": ["Must be 1 to 64 characters."]})
        except ServiceError as exc:
            results[index] = exc
            bodies.pop(index, None)
    if bodies:
        try:
            # Retries are rare (a client resending after a reconnect), so the first
            # attempt does not look for them: the unique index on (room, sender,
            # client_id) catches one, and the batch is written again, looking this time.
            with transaction.atomic():
                _write_messages(drafts, bodies, results, look_up_retries=False)
        except IntegrityError:
            with transaction.atomic():
                _write_messages(drafts, bodies, results, look_up_retries=True)
    return results  # type: ignore[return-value]


def _write_messages(drafts: Sequence[MessageDraft], bodies: dict[int, str],
                    results: list[SentMessage | ServiceError | None], *,
                    look_up_retries: bool) -> None:
    room_ids = sorted({drafts[index].room_id for index in bodies})
    # One read for three answers, under the rooms' locks taken in id order (the order
    # every writer of several rooms takes, so that none deadlocks): who may post where,
    # whether a room is closed (a close can't slip in between) and the members' names,
    # which the notifications after the commit need.
    names: dict[int, list[tuple[int, str]]] = {}
    closed: dict[int, bool] = {}
    for room_id, is_closed, user_id, name in (
        Room.objects.filter(id__in=room_ids).order_by("id")
        .select_for_update(of=("self",))
        .values_list("id", "is_closed", "memberships__user_id",
                     "memberships__user__display_name")
    ):
        closed[room_id] = is_closed
        if user_id is not None:
            names.setdefault(room_id, []).append((user_id, name))
    members = {(room_id, user_id) for room_id, users in names.items() for user_id, _ in users}
    # A retry of a message sent before its room closed still gets the original, so a
    # closed room is always looked in. The rooms are locked: a concurrent send of the
    # same client_id has committed by now, and the lookup sees it.
    seen: dict[tuple[int, int, str], Message] = {}
    if look_up_retries or any(closed.values()):
        seen = {
            (message.room_id, message.sender_id, message.client_id): message
            for message in Message.objects.filter(
                room_id__in=room_ids, client_id__in={drafts[i].client_id for i in bodies})
        }
    new: dict[int, Message] = {}
    repeats: dict[int, tuple[int, int, str]] = {}
    for index in bodies:
        draft = drafts[index]
        key = (draft.room_id, draft.sender.pk, draft.client_id)
        if (draft.room_id, draft.sender.pk) not in members:
            # The same answer whether the room exists or not.
            results[index] = NotFound("No such engagement.", code=error_codes.ROOM_NOT_FOUND)
        elif key in seen:
            repeats[index] = key  # a retry (or the same draft twice): the original answers
        elif closed.get(draft.room_id):
            results[index] = Conflict("This room is closed to new messages.", state="closed",
                                      code=error_codes.ROOM_CLOSED)
        else:
            new[index] = Message(room_id=draft.room_id, sender=draft.sender,
                                 client_id=draft.client_id, body=bodies[index])
            seen[key] = new[index]
    Message.objects.bulk_create(list(new.values()))
    recorded = events.record_many([
        events.NewEvent(room_id=message.room_id, kind="message.created",
                        actor_id=message.sender_id,
                        data={"message_id": message.pk, "client_id": message.client_id,
                              "body": message.body})
        for message in new.values()
    ], members=names)
    by_message = {event.data["message_id"]: event for event in recorded}
    for index, message in new.items():
        results[index] = SentMessage(message, by_message[message.pk], created=True)
    originals = [seen[key] for key in repeats.values() if seen[key].pk not in by_message]
    if originals:
        by_message.update(
            (event.data["message_id"], event)
            for event in Event.objects.filter(
                room_id__in={m.room_id for m in originals}, kind="message.created",
                data__message_id__in=[m.pk for m in originals])
        )
    for index, key in repeats.items():
        results[index] = SentMessage(seen[key], by_message[seen[key].pk], created=False)


def _own_message(message_id: int, user: Any) -> Message:
    message = (
        Message.objects.select_for_update()
        .filter(pk=message_id, room__memberships__user=user)
        .first()
    )
    if message is None:
        raise NotFound("No such message.", code=error_codes.MESSAGE_NOT_FOUND)
    if message.sender_id != user.pk:
        raise Forbidden("Only the author may change a message.", code=error_codes.NOT_AUTHOR)
    if message.deleted_at is not None:
        raise Conflict("The message was deleted.", state="deleted",
                       code=error_codes.MESSAGE_DELETED)
    return message


@transaction.atomic
def edit_message(*, message_id: int, by: Any, body: str) -> Event:
    body = _clean_body(body)
    message = _own_message(message_id, by)
    if timezone.now() - message.created_at > settings.MESSAGE_EDIT_WINDOW:
        raise Conflict("Messages can only be edited for a while after sending.",
                       state="edit_window_passed", code=error_codes.EDIT_WINDOW_PASSED)
    message.body = body
    message.edited_at = timezone.now()
    message.save(update_fields=["body", "edited_at"])
    return events.record(
        message.room_id,
        "message.edited",
        actor=by,
        data={"message_id": message.pk, "body": body},
    )


@transaction.atomic
def delete_message(*, message_id: int, by: Any) -> Event:
    message = _own_message(message_id, by)
    message.body = ""
    message.deleted_at = timezone.now()
    message.save(update_fields=["body", "deleted_at"])
    # A deletion must not leave the text readable in the log: redact the original event
    # and its edits, leaving a tombstone that clients render as "message deleted".
    for event in Event.objects.select_for_update().filter(
        room_id=message.room_id, data__message_id=message.pk
    ):
        event.data = {**event.data, "body": "", "deleted": True}
        event.save(update_fields=["data"])
    return events.record(
        message.room_id,
        "message.deleted",
        actor=by,
        data={"message_id": message.pk},
    )


@transaction.atomic
def mark_read(*, room_id: int, user: Any, seq: int) -> int:
    """Move the read marker forward (never back); returns the marker now in force."""
    membership = _membership(room_id, user)
    if seq < 0 or seq > membership.room.head_seq:
        raise InvalidInput(f"seq must be between 0 and {membership.room.head_seq}.",
                           code=error_codes.SEQ_OUT_OF_RANGE,
                           fields={"seq": ["Out of range."]})
    if seq > membership.last_read_seq:
        RoomMember.objects.filter(pk=membership.pk, last_read_seq__lt=seq).update(
            last_read_seq=seq
        )
        transaction.on_commit(
            lambda: events.send_to_group(
                events.room_group(room_id),
                {"type": "room.read", "room": room_id, "user": user.pk, "seq": seq},
            )
        )
        return seq
    return membership.last_read_seq
