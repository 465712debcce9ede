"""iCalendar (RFC 5545) for calls: one call's ``.ics`` and a user's subscription feed.

Times are written in UTC (``…Z``), which every calendar converts to its own zone and which
keeps a call's true length across a daylight-saving change. Each call is one VEVENT with a
stable UID and a SEQUENCE bumped on every change, so a subscribed calendar updates the
event in place; a cancelled call stays, with STATUS:CANCELLED.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from icalendar import Calendar, Event

from .models import Call

PRODID = "-//Engagements//Calls//EN"
# How often subscribed calendars should fetch the feed again (Apple and Outlook honour it).
REFRESH_INTERVAL = timedelta(minutes=15)


def summary_for(call: Call, viewer: Any) -> str:
    """What the viewer's calendar calls it: who with, and about what."""
    other = call.invitee if viewer.pk == call.proposed_by_id else call.proposed_by
    return f"Call with {other.display_name}: {call.engagement.project.title}"


def _event(call: Call, viewer: Any, room_url: str) -> Event:
    assert call.start_at is not None and call.end_at is not None
    event = Event()
    event.add("uid", f"call-{call.uid}@engagements")
    event.add("dtstamp", call.updated_at)
    event.add("created", call.created_at)
    event.add("last-modified", call.updated_at)
    event.add("sequence", call.sequence)
    event.add("dtstart", call.start_at)
    event.add("dtend", call.end_at)
    event.add("summary", summary_for(call, viewer))
    event.add("status", "CANCELLED" if call.state == Call.State.CANCELLED else "CONFIRMED")
    description = [call.note] if call.note else []
    if call.meeting_url:
        event.add("url", call.meeting_url)
        event.add("location", call.meeting_url)
        description.append(f"Join: {call.meeting_url}")
    description.append(f"Engagement: {room_url}")
    event.add("description", "\n\n".join(description))
    return event


def _calendar(name: str | None = None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    if name:
        calendar.add("x-wr-calname", name)
        calendar.add("refresh-interval", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", REFRESH_INTERVAL)
    return calendar


def call_ics(call: Call, *, viewer: Any, room_url: str) -> bytes:
    calendar = _calendar()
    calendar.add_component(_event(call, viewer, room_url))
    return calendar.to_ical()


def feed_ics(
    calls: Iterable[Call], *, viewer: Any, room_url: Callable[[Call], str], name: str
) -> bytes:
    calendar = _calendar(name)
    for call in calls:
        calendar.add_component(_event(call, viewer, room_url(call)))
    return calendar.to_ical()
