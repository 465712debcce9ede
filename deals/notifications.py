"""Notifications of the deal flow: pushed to users' own groups, never stored as events.

They run after the commit of the change they announce.
"""

from __future__ import annotations

from accounts.models import User
from chat.events import notify_user

from .models import Engagement, Project


def alert_matching_advisors(*, project_id: int) -> int:
    """Tell every advisor whose skills match a new request; returns how many were told."""
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        return 0
    skill_ids = list(project.skills.values_list("pk", flat=True))
    if not skill_ids:
        return 0
    advisors = (
        User.objects.filter(role=User.Role.ADVISOR, is_active=True, skills__in=skill_ids)
        .distinct()
        .values_list("pk", flat=True)
    )
    notification = {
        "event": "project.posted",
        "title": "New request matching your skills",
        "body": project.title,
        "project": project.pk,
        "url": f"/projects/{project.pk}/",
    }
    count = 0
    for advisor_id in advisors.iterator():
        notify_user(advisor_id, notification)
        count += 1
    return count


def remind_review_deadline(*, engagement_id: int) -> None:
    engagement = Engagement.objects.select_related("project").filter(pk=engagement_id).first()
    if engagement is None or engagement.review_deadline is None:
        return
    notify_user(
        engagement.client_id,
        {
            "event": "review.deadline_soon",
            "title": "Delivery will be approved automatically soon",
            "body": f"{engagement.project.title}: approve, ask for a revision or reject "
            f"before {engagement.review_deadline.isoformat()}.",
            "room": engagement.pk,
            "deadline": engagement.review_deadline.isoformat(),
            "url": f"/engagements/{engagement.pk}/",
        },
    )
