"""A confirmed call's reminder, as a django-q2 one-off schedule.

Created in the transaction that confirms the call, so a rolled-back confirmation leaves no
timer and a committed one cannot lose it. The task re-checks the call under a lock (still
confirmed, same start, not yet reminded), so a timer left behind by a cancelled call sends
nothing; cancelling also deletes it, to keep the schedule table tidy. The periodic sweep
in :func:`scheduling.tasks.sweep_calls` catches a timer that a down worker missed.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from django_q.models import Schedule

from .models import Call

REMINDER_TASK = "scheduling.tasks.call_reminder_task"


def _name(call: Call) -> str:
    assert call.start_at is not None
    return f"call-reminder-{call.pk}-{call.start_at.timestamp():.0f}"


def schedule_call_reminder(call: Call) -> Schedule:
    assert call.start_at is not None
    # A call confirmed inside the reminder window is reminded right away.
    remind_at = max(call.start_at - settings.CALL_REMINDER_BEFORE, timezone.now())
    return Schedule.objects.create(
        name=_name(call),
        func=REMINDER_TASK,
        args=repr((call.pk, call.start_at.isoformat())),
        schedule_type=Schedule.ONCE,
        repeats=-1,
        next_run=remind_at,
    )


def cancel_call_reminder(call: Call) -> None:
    if call.start_at is not None:
        Schedule.objects.filter(name=_name(call), func=REMINDER_TASK).delete()
