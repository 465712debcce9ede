"""Reads of the chat domain, shared by the API, the consumer and the pages."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from config.errors import NotFound

from . import error_codes
from .models import Event, Room, RoomMember


def member_room(*, room_id: int, user: Any) -> Room:
    """The room if the user is a member; 404 alike for a missing room and a stranger's."""
    room = Room.objects.filter(pk=room_id, memberships__user=user).first()
    if room is None:
        raise NotFound("No such engagement.", code=error_codes.ROOM_NOT_FOUND)
    return room


def is_member(*, room_id: int, user_id: int) -> bool:
    return RoomMember.objects.filter(room_id=room_id, user_id=user_id).exists()


def members_and_head(*, room_id: int) -> tuple[list[int], int]:
    """The room's member ids and its head seq, in one query; ([], 0) for no such room."""
    rows = list(Room.objects.filter(pk=room_id)
                .values_list("memberships__user_id", "head_seq"))
    members = [user_id for user_id, _ in rows if user_id is not None]
    return members, (rows[0][1] if rows else 0)


def read_markers(*, room_id: int) -> dict[str, int]:
    """Each member's read marker, keyed by user id (as a string, for JSON)."""
    return {
        str(user_id): seq
        for user_id, seq in RoomMember.objects.filter(room_id=room_id).values_list(
            "user_id", "last_read_seq"
        )
    }


def events_after(*, room_id: int, after: int, limit: int) -> list[Event]:
    """Events with seq > after, oldest first: one query whatever the page size."""
    return list(
        Event.objects.filter(room_id=room_id, seq__gt=after).order_by("seq")[:limit]
    )


def head_seqs(*, room_ids: list[int]) -> dict[int, int]:
    return dict(Room.objects.filter(pk__in=room_ids).values_list("id", "head_seq"))


def annotate_unread(queryset: QuerySet, *, user: Any, room_field: str = "room") -> QuerySet:
    """Annotate ``unread`` (events by others after the user's read marker) in one query."""
    last_read = RoomMember.objects.filter(
        room_id=OuterRef(room_field), user=user
    ).values("last_read_seq")[:1]
    unread = (
        Event.objects.filter(room_id=OuterRef(room_field))
        .filter(seq__gt=Coalesce(Subquery(last_read), Value(0)))
        .filter(~Q(actor=user) | Q(actor__isnull=True))
        .order_by()
        .values("room_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return queryset.annotate(unread=Coalesce(Subquery(unread), Value(0)))
