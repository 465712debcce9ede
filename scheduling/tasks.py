"""django-q2 jobs of calls. Each is idempotent: it re-checks the call under a lock."""

from __future__ import annotations

import logging
from datetime import datetime

from . import selectors, services

logger = logging.getLogger(__name__)


def call_reminder_task(call_id: int, start: str | None = None) -> bool:
    """The one-off timer of a confirmed call; ``start`` is the time it was set for, so a
    call that has moved since is not reminded at its old time."""
    expected = datetime.fromisoformat(start) if start else None
    return services.send_call_reminder(call_id=call_id, start=expected)


def sweep_calls() -> dict[str, int]:
    """Every minute: send reminders whose one-off timer was lost or ran while a worker was
    down, and cancel calls left live in rooms that closed. Each step is the same
    idempotent service the timers use."""
    reminded = sum(services.send_call_reminder(call_id=pk) for pk in selectors.due_reminders())
    cancelled = sum(services.cancel_for_closed_room(call_id=pk)
                    for pk in selectors.live_calls_in_closed_rooms())
    if reminded or cancelled:
        logger.info("call sweep reminded %d and cancelled %d", reminded, cancelled)
    return {"reminded": reminded, "cancelled": cancelled}
