"""django-q2 jobs of the deal flow. Each is idempotent: it re-checks state under a lock."""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils import timezone

from . import services
from .models import Engagement

logger = logging.getLogger(__name__)


def auto_approve_task(engagement_id: int) -> bool:
    return services.auto_approve(engagement_id=engagement_id)


def review_reminder_task(engagement_id: int) -> bool:
    return services.send_review_reminder(engagement_id=engagement_id)


def sweep_review_deadlines() -> dict[str, int]:
    """Catch deadlines and reminders whose one-off task was lost or ran while a worker
    was down. Runs every minute; each step is the same idempotent service."""
    now = timezone.now()
    delivered = Engagement.objects.filter(state=Engagement.State.DELIVERED)
    due = list(delivered.filter(review_deadline__lte=now).values_list("pk", flat=True))
    approved = sum(services.auto_approve(engagement_id=pk, now=now) for pk in due)
    remind = list(
        delivered.filter(
            reminder_sent_at__isnull=True,
            review_deadline__gt=now,
            review_deadline__lte=now + settings.REVIEW_REMINDER_BEFORE,
        ).values_list("pk", flat=True)
    )
    reminded = sum(services.send_review_reminder(engagement_id=pk, now=now) for pk in remind)
    if approved or reminded:
        logger.info("sweep approved %d and reminded %d", approved, reminded)
    return {"approved": approved, "reminded": reminded}
