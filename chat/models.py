"""Rooms and their event log.

``chat`` stores and delivers events; it knows nothing of deals, files or calls. Other
apps create rooms, add members and record events through :mod:`chat.events`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Room(models.Model):
    # The seq of the newest event; bumped in the same statement that takes the row lock,
    # so seqs are gapless and ordered by commit within a room.
    head_seq = models.PositiveBigIntegerField(default=0)
    # A closed room keeps its history readable but accepts no new messages (a declined or
    # withdrawn proposal, a cancelled engagement).
    is_closed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"room {self.pk}"


class RoomMember(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="room_memberships"
    )
    # The last seq this member has read; unread = events after it by someone else.
    last_read_seq = models.PositiveBigIntegerField(default=0)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["room", "user"], name="room_member_unique"),
        ]
        indexes = [models.Index(fields=["user", "room"])]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.room_id}"


class Event(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["room", "seq"], name="event_room_seq_unique"),
        ]
        ordering = ["room_id", "seq"]

    def __str__(self) -> str:
        return f"{self.room_id}#{self.seq} {self.kind}"


class Message(models.Model):
    """The current state of a message; its history is the events that point at it."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="messages"
    )
    client_id = models.CharField(max_length=64)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # Sends are idempotent: a retry with the same client_id finds this row.
            models.UniqueConstraint(
                fields=["room", "sender", "client_id"], name="message_client_id_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"message {self.pk} in {self.room_id}"
