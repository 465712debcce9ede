"""The review window's timers, as django-q2 schedules.

Two one-off schedules per delivery: the reminder 24 h before the deadline and the
automatic approval at it. Both tasks re-check state and deadline themselves, so a stale
timer (the client answered, a revision reset the deadline) is harmless. The periodic sweep
in :func:`deals.tasks.sweep_review_deadlines` catches any timer a down worker missed.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from django_q.models import Schedule

from .models import Engagement


def schedule_review_timers(engagement: Engagement) -> None:
    deadline = engagement.review_deadline
    assert deadline is not None
    reminder_at = deadline - settings.REVIEW_REMINDER_BEFORE
    if reminder_at > timezone.now():
        Schedule.objects.create(
            name=f"review-reminder-{engagement.pk}-{deadline.timestamp():.0f}",
            func="deals.tasks.review_reminder_task",
            args=repr((engagement.pk,)),
            schedule_type=Schedule.ONCE,
            repeats=-1,
            next_run=reminder_at,
        )
    Schedule.objects.create(
        name=f"auto-approve-{engagement.pk}-{deadline.timestamp():.0f}",
        func="deals.tasks.auto_approve_task",
        args=repr((engagement.pk,)),
        schedule_type=Schedule.ONCE,
        repeats=-1,
        next_run=deadline,
    )
