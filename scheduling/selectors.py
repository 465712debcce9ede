"""Reads of calls, shared by the API, the feed and the services.

Only the two members of a call's room see it; anyone else gets the same 404 as for a call
that does not exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from chat.selectors import member_room
from config.errors import Conflict, NotFound

from . import error_codes
from .models import CalendarFeed, Call


def _with_joins(queryset: QuerySet) -> QuerySet:
    return queryset.select_related(
        "engagement__project", "proposed_by", "invitee", "slot", "replaced_by"
    ).prefetch_related("slots")


def calls_of(user: Any) -> QuerySet:
    """Every call the user takes part in (the two members of a room are its two people)."""
    return Call.objects.filter(Q(proposed_by=user) | Q(invitee=user))


def not_found() -> NotFound:
    return NotFound("No such call.", code=error_codes.CALL_NOT_FOUND)


def call_for(*, call_id: int, user: Any) -> Call:
    call = _with_joins(calls_of(user).filter(pk=call_id)).first()
    if call is None:
        raise not_found()
    return call


def scheduled_call_for(*, call_id: int, user: Any) -> Call:
    """A call that has (or had, if cancelled since) a confirmed time: what an .ics shows."""
    call = call_for(call_id=call_id, user=user)
    if call.start_at is None:
        raise Conflict("This call has no time yet: it was never confirmed.",
                       state=call.state, code=error_codes.NOT_SCHEDULED)
    return call


def calls_of_engagement(*, engagement_id: int, user: Any, state: str | None = None) -> QuerySet:
    """The calls of one engagement, newest first; 404 for a stranger, as for its room."""
    room = member_room(room_id=engagement_id, user=user)
    calls = Call.objects.filter(engagement_id=room.pk)
    if state:
        calls = calls.filter(state=state)
    return _with_joins(calls).order_by("-created_at", "-id")


def upcoming_calls(*, user: Any, limit: int, now: datetime | None = None) -> QuerySet:
    """Confirmed calls not yet over, soonest first (a call in progress is still listed)."""
    now = now or timezone.now()
    calls = calls_of(user).filter(
        state=Call.State.CONFIRMED, end_at__gt=now, engagement__room__is_closed=False
    )
    return _with_joins(calls).order_by("start_at", "id")[:limit]


def clashing_calls(
    *,
    user_ids: Iterable[int],
    start: datetime,
    end: datetime,
    exclude_call_id: int | None = None,
) -> QuerySet:
    """Live confirmed calls of any of these users that overlap [start, end).

    Back-to-back calls do not clash. Calls left confirmed in a closed room are dead (the
    sweep cancels them) and block nobody.
    """
    user_ids = list(user_ids)
    calls = Call.objects.filter(
        Q(proposed_by_id__in=user_ids) | Q(invitee_id__in=user_ids),
        state=Call.State.CONFIRMED,
        start_at__lt=end,
        end_at__gt=start,
        engagement__room__is_closed=False,
    )
    if exclude_call_id is not None:
        calls = calls.exclude(pk=exclude_call_id)
    return calls.order_by("start_at")


def feed_calls(*, user: Any, now: datetime | None = None) -> QuerySet:
    """What the user's calendar feed lists: every call that got a time, confirmed or
    cancelled afterwards (so a subscribed calendar marks it cancelled rather than losing
    it), from CALL_FEED_PAST_DAYS ago on."""
    now = now or timezone.now()
    since = now - timedelta(days=settings.CALL_FEED_PAST_DAYS)
    calls = calls_of(user).filter(
        start_at__isnull=False,
        end_at__gt=since,
        state__in=[Call.State.CONFIRMED, Call.State.CANCELLED],
    )
    return _with_joins(calls).order_by("start_at", "id")


def feed_of(*, user: Any) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=user).first()


def feed_by_token(*, token: str) -> CalendarFeed | None:
    if not token or len(token) > CalendarFeed._meta.get_field("token").max_length:
        return None
    return (
        CalendarFeed.objects.select_related("user")
        .filter(token=token, user__is_active=True)
        .first()
    )


def due_reminders(*, now: datetime | None = None) -> list[int]:
    """Confirmed calls whose reminder time has come, which have not started and got no
    reminder yet (a reminder after the start would be stale)."""
    now = now or timezone.now()
    return list(
        Call.objects.filter(
            state=Call.State.CONFIRMED,
            reminder_sent_at__isnull=True,
            start_at__lte=now + settings.CALL_REMINDER_BEFORE,
            start_at__gt=now,
            engagement__room__is_closed=False,
        ).values_list("pk", flat=True)
    )


def live_calls_in_closed_rooms() -> list[int]:
    return list(
        Call.objects.filter(
            state__in=[Call.State.PROPOSED, Call.State.CONFIRMED],
            engagement__room__is_closed=True,
        ).order_by("pk").values_list("pk", flat=True)
    )
