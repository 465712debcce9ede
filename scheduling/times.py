"""Time zones and wording of times: stored in UTC, shown in each reader's own zone."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, tzinfo
from typing import Any


def zone_of(user: Any) -> tzinfo:
    """The user's own time zone; UTC if it is unset or unknown to this machine."""
    name = getattr(user, "timezone", "") or "UTC"
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC


def zone_name(zone: tzinfo) -> str:
    return getattr(zone, "key", None) or "UTC"


def utc_iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``, the shape of every other time in the API."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def local_iso(value: datetime | None, zone: tzinfo) -> str | None:
    """ISO 8601 wall-clock time in ``zone``, with that moment's offset."""
    if value is None:
        return None
    return value.astimezone(zone).isoformat()


def describe_span(start: datetime, end: datetime, zone: tzinfo) -> str:
    """``Mon 4 May 2026, 09:00–10:00 (America/Bogota)`` for error messages and reminders."""
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    day = f"{local_start:%a} {local_start.day} {local_start:%b %Y}"
    if local_end.date() == local_start.date():
        until = f"{local_end:%H:%M}"
    else:
        until = f"{local_end:%a} {local_end.day} {local_end:%b %Y}, {local_end:%H:%M}"
    return f"{day}, {local_start:%H:%M}–{until} ({zone_name(zone)})"
