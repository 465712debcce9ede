"""Every write of the chat domain: rooms, members, messages, read markers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from config.errors import Conflict, Forbidden, InvalidInput, NotFound

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


def send_message(*, room_id: int, sender: Any, body: str, client_id: str) -> SentMessage:
    """Post a message; the same (room, sender, client_id) returns the original event."""
    body = _clean_body(body)
    if not client_id or len(client_id) > 64:
        raise InvalidInput("client_id must be 1 to 64 characters.", code="invalid_client_id",
                           fields={"client_id": ["Must be 1 to 64 characters."]})
    try:
        with transaction.atomic():
            membership = _membership(room_id, sender)
            if membership.room.is_closed:
                existing = Message.objects.filter(
                    room_id=room_id, sender=sender, client_id=client_id
                ).first()
                if existing is not None:  # a retry of a message sent before it closed
                    return SentMessage(existing, _created_event(existing), created=False)
                raise Conflict("This room is closed to new messages.", state="closed",
                               code=error_codes.ROOM_CLOSED)
            # No lookup first: a retry is rare, and the unique index finds it for free.
            # The insert comes before the seq: a concurrent retry with the same client_id
            # blocks on the index here and fails once we commit, before it takes a seq.
            message = Message.objects.create(
                room_id=room_id, sender=sender, client_id=client_id, body=body
            )
            event = events.record(
                room_id,
                "message.created",
                actor=sender,
                data={"message_id": message.pk, "client_id": client_id, "body": body},
            )
            return SentMessage(message, event, created=True)
    except IntegrityError:
        existing = Message.objects.get(room_id=room_id, sender=sender, client_id=client_id)
        return SentMessage(existing, _created_event(existing), created=False)


def _created_event(message: Message) -> Event:
    return Event.objects.get(
        room_id=message.room_id, kind="message.created", data__message_id=message.pk
    )


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
