"""Plain helpers of the calls tests (fixtures are in conftest.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any


def in_hours(hours: float, *, now: datetime | None = None) -> datetime:
    """A whole-minute UTC time this many hours from now."""
    moment = (now or datetime.now(UTC)) + timedelta(hours=hours)
    return moment.replace(second=0, microsecond=0)


def slot(start: datetime | str, minutes: int = 30) -> dict[str, Any]:
    return {"start": start if isinstance(start, str) else start.isoformat(),
            "duration_minutes": minutes}


def utc(value: datetime) -> str:
    """How the API writes a UTC time."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
