"""Every write of calls: one function per use case.

Each runs in a transaction, finds the call or engagement *as seen by the acting user* (a
stranger gets 404), checks who acts (403) and from which state (409, naming it), locks what
it changes and records its room event through :func:`chat.events.record`.

Lock order, to keep concurrent use cases free of deadlocks: the two members' user rows in
primary-key order (only when a call is confirmed: that is what makes the clash check
safe, since two accepts that could double-book a person queue on that person's row), then
the call row, then the room row (locked last, just before the event is recorded; the deal
flow also takes the room last).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from chat import events
from chat.error_codes import ROOM_NOT_FOUND
from chat.models import Room
from config.errors import Conflict, Forbidden, InvalidInput, NotFound
from deals.models import Engagement

from . import error_codes, notifications, selectors, timers
from .models import (
    MAX_DURATION_MINUTES,
    MAX_SLOTS,
    MEETING_URL_MAX_LENGTH,
    MIN_DURATION_MINUTES,
    CalendarFeed,
    Call,
    CallSlot,
)
from .times import describe_span, utc_iso, zone_of

State = Call.State
LIVE = (State.PROPOSED, State.CONFIRMED)


# --- helpers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    start: datetime  # aware, UTC
    end: datetime
    duration_minutes: int


def _slot_error(index: int, field: str, message: str, code: str) -> InvalidInput:
    # The shape of DRF's own errors for a list of objects: {"slots": {"1": {"start": [...]}}}.
    return InvalidInput(f"slots[{index}].{field}: {message}", code=code,
                        fields={"slots": {str(index): {field: [message]}}})


def _clean_slots(
    slots: Iterable[Mapping[str, Any]],
    *,
    user_ids: list[int],
    viewer: User,
    now: datetime,
    exclude_call_id: int | None = None,
) -> list[Slot]:
    """One to five future, non-overlapping slots that clash with neither member's confirmed
    calls. Errors name times in the viewer's own zone and never another engagement."""
    slots = list(slots)
    if not 1 <= len(slots) <= MAX_SLOTS:
        raise InvalidInput(f"Propose between 1 and {MAX_SLOTS} slots.",
                           code=error_codes.SLOT_COUNT,
                           fields={"slots": [f"Give 1 to {MAX_SLOTS} slots."]})
    zone = zone_of(viewer)
    cleaned: list[Slot] = []
    for index, raw in enumerate(slots):
        start, minutes = raw["start"], raw["duration_minutes"]
        if start.tzinfo is None or start.utcoffset() is None:
            raise _slot_error(index, "start", "Give the time with its UTC offset, e.g. "
                              "2026-05-04T09:00:00-05:00.", error_codes.START_WITHOUT_OFFSET)
        if not MIN_DURATION_MINUTES <= minutes <= MAX_DURATION_MINUTES:
            raise _slot_error(index, "duration_minutes",
                              f"A call lasts {MIN_DURATION_MINUTES} to {MAX_DURATION_MINUTES} "
                              "minutes.", error_codes.INVALID_DURATION)
        start = start.astimezone(UTC)
        # Adding on the UTC line keeps the true length across a daylight-saving change.
        end = start + timedelta(minutes=minutes)
        if start <= now:
            raise _slot_error(index, "start",
                              f"{describe_span(start, end, zone)} is in the past.",
                              error_codes.SLOT_IN_PAST)
        cleaned.append(Slot(start, end, minutes))

    by_start = sorted(enumerate(cleaned), key=lambda pair: pair[1].start)
    for (_, earlier), (index, later) in zip(by_start, by_start[1:], strict=False):
        if later.start < earlier.end:
            raise _slot_error(
                index, "start",
                f"{describe_span(later.start, later.end, zone)} overlaps "
                f"{describe_span(earlier.start, earlier.end, zone)}.",
                error_codes.SLOTS_OVERLAP,
            )

    for index, slot in enumerate(cleaned):
        clash = _clash(slot, user_ids=user_ids, viewer=viewer, exclude_call_id=exclude_call_id)
        if clash:
            raise _slot_error(index, "start", clash, error_codes.SLOT_CLASH)
    return cleaned


def _clash(slot: Slot, *, user_ids: list[int], viewer: User,
           exclude_call_id: int | None) -> str | None:
    """Why the slot clashes, or None. Names the slot's time and whose calendar is busy,
    never the other call or its engagement."""
    other = selectors.clashing_calls(user_ids=user_ids, start=slot.start, end=slot.end,
                                     exclude_call_id=exclude_call_id).first()
    if other is None:
        return None
    busy = {other.proposed_by_id, other.invitee_id} & set(user_ids)
    whose = "you have" if viewer.pk in busy else "the other member has"
    span = describe_span(slot.start, slot.end, zone_of(viewer))
    return f"{span} clashes with another confirmed call {whose} at that time."


def _clean_meeting_url(url: str) -> str:
    url = (url or "").strip()
    if not url:
        return ""
    try:
        if len(url) > MEETING_URL_MAX_LENGTH:
            raise ValidationError("too long")
        URLValidator(schemes=["https", "http"])(url)
    except ValidationError:
        raise InvalidInput("meeting_url must be an http(s) URL.",
                           code=error_codes.INVALID_MEETING_URL,
                           fields={"meeting_url": ["Enter a valid http(s) URL."]}) from None
    return url


def generate_meeting_url() -> str:
    """A room URL from CALL_MEETING_URL_TEMPLATE with an unguessable name."""
    return settings.CALL_MEETING_URL_TEMPLATE.replace("{token}", secrets.token_urlsafe(18))


def _member_engagement(engagement_id: int, user: User) -> Engagement:
    engagement = (
        Engagement.objects.select_related("room")
        .filter(Q(client=user) | Q(advisor=user), pk=engagement_id)
        .first()
    )
    if engagement is None:
        # The room's own 404, as chat's /api/engagements/{id}/… paths give it.
        raise NotFound("No such engagement.", code=ROOM_NOT_FOUND)
    return engagement


def _member_call(call_id: int, user: User, *, lock: bool) -> Call:
    calls = selectors.calls_of(user).filter(pk=call_id)
    if lock:
        calls = calls.select_for_update()
    call = calls.first()
    if call is None:
        raise selectors.not_found()
    return call


def _lock_people(*user_ids: int) -> None:
    """Lock the members' rows in primary-key order: any two confirmations that could
    double-book a person queue here, so each sees the other's call in its clash check.

    ``FOR NO KEY UPDATE``, not ``FOR UPDATE``: it still queues confirmations against each
    other, but not the foreign-key checks of rows that merely point at a user (a message's
    event, a new call), which would otherwise deadlock with a message sent to the room."""
    list(User.objects.select_for_update(no_key=True).filter(pk__in=user_ids).order_by("pk")
         .values_list("pk", flat=True))


def _room_closed() -> Conflict:
    return Conflict("This engagement's room is closed; its calls cannot change.",
                    state="closed", code=error_codes.ROOM_CLOSED)


def _require_open_room(room_id: int, *, lock: bool = False) -> None:
    rooms = Room.objects.filter(pk=room_id)
    if lock:
        # The lock record() takes next anyway (its UPDATE), taken a moment earlier.
        rooms = rooms.select_for_update(no_key=True)
    if rooms.values_list("is_closed", flat=True).first():
        raise _room_closed()


def _require_state(call: Call, allowed: Iterable[str], action: str) -> None:
    if call.state not in allowed:
        raise Conflict(f"Cannot {action} a call that is {call.state}.", state=call.state,
                       code=error_codes.WRONG_STATE)


def _require_invitee(call: Call, user: User, action: str) -> None:
    if call.invitee_id != user.pk:
        raise Forbidden(f"Only the member invited to the call can {action} it.",
                        code=error_codes.NOT_INVITEE)


def _slot_data(slot: CallSlot) -> dict[str, Any]:
    return {
        "index": slot.index,
        "start": utc_iso(slot.start_at),
        "end": utc_iso(slot.end_at),
        "duration_minutes": slot.duration_minutes,
    }


def _create_call(
    *, engagement: Engagement, by: User, slots: list[Slot], note: str, meeting_url: str,
    replaces: Call | None = None,
) -> Call:
    invitee_id = engagement.advisor_id if by.pk == engagement.client_id else engagement.client_id
    call = Call.objects.create(
        engagement=engagement, proposed_by=by, invitee_id=invitee_id, note=note,
        meeting_url=meeting_url, replaces=replaces,
    )
    CallSlot.objects.bulk_create([
        CallSlot(call=call, index=index, start_at=slot.start, end_at=slot.end,
                 duration_minutes=slot.duration_minutes)
        for index, slot in enumerate(slots)
    ])
    return call


def _record_proposed(call: Call, by: User) -> None:
    events.record(call.room_id, "call.proposed", actor=by, data={
        "call": call.pk,
        "slots": [_slot_data(slot) for slot in call.slots.order_by("index")],
        "note": call.note,
        "meeting_url": call.meeting_url,
        "replaces": call.replaces_id,
    })


def _close(call: Call, *, state: str, by: User | None, reason: str, now: datetime) -> None:
    was_confirmed = call.state == State.CONFIRMED
    call.state = state
    call.closed_by = by
    call.closed_at = now
    call.reason = reason
    call.sequence += 1
    call.save()
    if was_confirmed:
        timers.cancel_call_reminder(call)


def _record_cancelled(call: Call, *, by: User | None, automatic: bool = False,
                      replaced_by: Call | None = None) -> None:
    events.record(call.room_id, "call.cancelled", actor=by, data={
        "call": call.pk,
        "reason": call.reason,
        "automatic": automatic,
        "replaced_by": replaced_by.pk if replaced_by else None,
        # The time it had, if it was confirmed: clients strike it through.
        "start": utc_iso(call.start_at),
        "end": utc_iso(call.end_at),
    })


# --- use cases -----------------------------------------------------------------------------


@transaction.atomic
def propose_call(
    *,
    engagement_id: int,
    by: User,
    slots: Iterable[Mapping[str, Any]],
    note: str = "",
    meeting_url: str = "",
) -> Call:
    """Either member proposes a call with 1–5 candidate slots; the other member answers."""
    engagement = _member_engagement(engagement_id, by)
    if engagement.room.is_closed:
        raise _room_closed()
    cleaned = _clean_slots(slots, user_ids=[engagement.client_id, engagement.advisor_id],
                           viewer=by, now=timezone.now())
    call = _create_call(engagement=engagement, by=by, slots=cleaned, note=note.strip(),
                        meeting_url=_clean_meeting_url(meeting_url))
    _require_open_room(call.room_id, lock=True)  # again, under the room's lock
    _record_proposed(call, by)
    return call


@transaction.atomic
def accept_call(*, call_id: int, by: User, slot: int) -> Call:
    """The invitee picks one slot (by its 0-based ``index``): the call is confirmed, gets
    its meeting link and its reminder. Refused if the slot has passed or either member has
    meanwhile confirmed another call at that time."""
    peek = _member_call(call_id, by, lock=False)
    _lock_people(peek.proposed_by_id, peek.invitee_id)
    call = _member_call(call_id, by, lock=True)
    _require_invitee(call, by, "accept")
    _require_open_room(call.room_id)
    _require_state(call, [State.PROPOSED], "accept")
    chosen = call.slots.filter(index=slot).first() if 0 <= slot < MAX_SLOTS else None
    if chosen is None:
        raise InvalidInput(f"This call has no slot {slot}.", code=error_codes.INVALID_SLOT,
                           fields={"slot": [f"Choose an index from 0 to "
                                            f"{call.slots.count() - 1}."]})
    now = timezone.now()
    zone = zone_of(by)
    if chosen.start_at <= now:
        raise Conflict(f"{describe_span(chosen.start_at, chosen.end_at, zone)} has passed.",
                       state=call.state, code=error_codes.SLOT_IN_PAST)
    clash = _clash(Slot(chosen.start_at, chosen.end_at, chosen.duration_minutes),
                   user_ids=[call.proposed_by_id, call.invitee_id], viewer=by,
                   exclude_call_id=call.pk)
    if clash:
        raise Conflict(clash, state=call.state, code=error_codes.SLOT_CLASH)

    call.state = State.CONFIRMED
    call.slot = chosen
    call.start_at, call.end_at = chosen.start_at, chosen.end_at
    call.meeting_url = call.meeting_url or generate_meeting_url()
    call.confirmed_at = now
    call.reminder_sent_at = None
    call.sequence += 1
    call.save()
    _require_open_room(call.room_id, lock=True)
    events.record(call.room_id, "call.confirmed", actor=by, data={
        "call": call.pk,
        **_slot_data(chosen),
        "slot": chosen.index,
        "meeting_url": call.meeting_url,
    })
    timers.schedule_call_reminder(call)
    return call


@transaction.atomic
def decline_call(*, call_id: int, by: User, reason: str = "") -> Call:
    call = _member_call(call_id, by, lock=True)
    _require_invitee(call, by, "decline")
    _require_open_room(call.room_id)
    _require_state(call, [State.PROPOSED], "decline")
    _close(call, state=State.DECLINED, by=by, reason=reason.strip(), now=timezone.now())
    _require_open_room(call.room_id, lock=True)
    events.record(call.room_id, "call.declined", actor=by,
                  data={"call": call.pk, "reason": call.reason})
    return call


@transaction.atomic
def cancel_call(*, call_id: int, by: User, reason: str = "") -> Call:
    """Either member calls off a confirmed call (or a proposal not yet answered). Its
    reminder goes with it; calendars keep showing it, as cancelled."""
    call = _member_call(call_id, by, lock=True)
    _require_open_room(call.room_id)
    _require_state(call, LIVE, "cancel")
    _close(call, state=State.CANCELLED, by=by, reason=reason.strip(), now=timezone.now())
    _require_open_room(call.room_id, lock=True)
    _record_cancelled(call, by=by)
    return call


@transaction.atomic
def reschedule_call(
    *,
    call_id: int,
    by: User,
    slots: Iterable[Mapping[str, Any]],
    note: str | None = None,
    meeting_url: str | None = None,
) -> Call:
    """Replace a proposed or confirmed call by a new proposal from ``by``: the old call is
    cancelled (``call.cancelled`` with ``replaced_by``) and the new one proposed
    (``call.proposed`` with ``replaces``). Note and meeting link carry over unless given.
    The old call's own time does not count as a clash."""
    call = _member_call(call_id, by, lock=True)
    _require_open_room(call.room_id)
    _require_state(call, LIVE, "reschedule")
    engagement = Engagement.objects.get(pk=call.engagement_id)
    cleaned = _clean_slots(slots, user_ids=[call.proposed_by_id, call.invitee_id], viewer=by,
                           now=timezone.now(), exclude_call_id=call.pk)
    new = _create_call(
        engagement=engagement, by=by, slots=cleaned,
        note=call.note if note is None else note.strip(),
        meeting_url=call.meeting_url if meeting_url is None else _clean_meeting_url(meeting_url),
        replaces=call,
    )
    _close(call, state=State.CANCELLED, by=by, reason="rescheduled", now=timezone.now())
    _require_open_room(call.room_id, lock=True)
    _record_cancelled(call, by=by, replaced_by=new)
    _record_proposed(new, by)
    return new


# --- the system's own steps (tasks) ---------------------------------------------------------


@transaction.atomic
def send_call_reminder(
    *, call_id: int, start: datetime | None = None, now: datetime | None = None
) -> bool:
    """Remind both members once, CALL_REMINDER_BEFORE the start. Safe to call any number
    of times: it acts only on a call still confirmed, at the same start (when the timer
    names one), whose reminder time has come, that has not started and was not reminded."""
    now = now or timezone.now()
    call = Call.objects.select_for_update().filter(pk=call_id).first()
    if (
        call is None
        or call.state != State.CONFIRMED
        or call.reminder_sent_at is not None
        or call.start_at is None
        or (start is not None and call.start_at != start)
        or call.start_at <= now
        or call.start_at - settings.CALL_REMINDER_BEFORE > now
        or Room.objects.filter(pk=call.room_id, is_closed=True).exists()
    ):
        return False
    call.reminder_sent_at = now
    call.save(update_fields=["reminder_sent_at"])
    transaction.on_commit(lambda: notifications.remind_call(call_id=call.pk))
    return True


@transaction.atomic
def cancel_for_closed_room(*, call_id: int) -> bool:
    """A call left proposed or confirmed in a room that closed (proposal declined or
    withdrawn, engagement cancelled) is cancelled by the system, with its event."""
    call = Call.objects.select_for_update().filter(pk=call_id).first()
    if call is None or call.state not in LIVE:
        return False
    if not Room.objects.filter(pk=call.room_id, is_closed=True).exists():
        return False
    _close(call, state=State.CANCELLED, by=None, reason="room_closed", now=timezone.now())
    _record_cancelled(call, by=None, automatic=True)
    return True


# --- calendar feed -------------------------------------------------------------------------


def _new_token() -> str:
    return secrets.token_urlsafe(32)


@transaction.atomic
def get_or_create_feed(*, user: User) -> CalendarFeed:
    feed, _ = CalendarFeed.objects.get_or_create(user=user, defaults={"token": _new_token()})
    return feed


@transaction.atomic
def rotate_feed(*, user: User) -> CalendarFeed:
    """A new private URL; the old one stops working at once."""
    feed = CalendarFeed.objects.select_for_update().filter(user=user).first()
    if feed is None:
        return CalendarFeed.objects.create(user=user, token=_new_token())
    feed.token = _new_token()
    feed.created_at = timezone.now()
    feed.save(update_fields=["token", "created_at"])
    return feed


@transaction.atomic
def revoke_feed(*, user: User) -> None:
    CalendarFeed.objects.filter(user=user).delete()
