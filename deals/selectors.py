"""Reads of the deal flow, shared by the API, the consumer and the pages.

Each list is a fixed number of queries whatever its length (joins and prefetches, and
the unread count as a subquery).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Avg, Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from chat.selectors import annotate_unread
from config.errors import NotFound

from . import error_codes
from .models import Engagement, Project, ProposalVersion, Review


def projects_for(*, user: User, skill: str | None = None, text: str | None = None) -> QuerySet:
    """Clients see their own requests; advisors see every open one."""
    if user.is_advisor:
        queryset = Project.objects.filter(state=Project.State.OPEN)
    else:
        queryset = Project.objects.filter(client=user)
    if skill:
        queryset = queryset.filter(skills__slug=skill)
    if text:
        queryset = queryset.filter(Q(title__icontains=text) | Q(description__icontains=text))
    return (
        queryset.select_related("client")
        .prefetch_related("skills")
        .annotate(proposal_count=Count("engagements", distinct=True))
        .distinct()
    )


def visible_projects(*, user: User) -> Q:
    """Who sees a request: its client; advisors while it is open, and afterwards those
    who answered it. Anyone else is told it does not exist (404)."""
    visible = Q(client=user)
    if user.is_advisor:
        visible |= Q(state=Project.State.OPEN) | Q(
            pk__in=Engagement.objects.filter(advisor=user).values("project_id")
        )
    return visible


def project_for(*, project_id: int, user: User) -> Project:
    visible = visible_projects(user=user)
    project = (
        Project.objects.select_related("client")
        .prefetch_related("skills")
        .filter(visible, pk=project_id)
        .annotate(proposal_count=Count("engagements", distinct=True))
        .first()
    )
    if project is None:
        raise NotFound("No such request.", code=error_codes.NOT_FOUND)
    return project


def engagements_for(*, user: User, state: str | None = None) -> QuerySet:
    queryset = Engagement.objects.filter(Q(client=user) | Q(advisor=user))
    if state:
        queryset = queryset.filter(state=state)
    queryset = queryset.select_related(
        "project", "client", "advisor", "current_proposal", "room"
    )
    return annotate_unread(queryset, user=user, room_field="room_id")


def engagement_for(*, engagement_id: int, user: User) -> Engagement:
    engagement = (
        engagements_for(user=user)
        .filter(pk=engagement_id)
        .prefetch_related(
            Prefetch("versions", queryset=ProposalVersion.objects.order_by("version")),
            "deliveries",
            Prefetch("reviews", queryset=Review.objects.select_related("author")),
        )
        .first()
    )
    if engagement is None:
        raise NotFound("No such engagement.", code=error_codes.NOT_FOUND)
    return engagement


def proposals_for_project(*, project: Project, user: User) -> QuerySet:
    """The client compares all proposals; an advisor sees only their own."""
    queryset = engagements_for(user=user).filter(project=project)
    return queryset.order_by("created_at")


def review_visible_to(review: Review, *, viewer: User, engagement: Engagement,
                      now: datetime | None = None) -> bool:
    """Double-blind: your own review always; the other's once both are in or time is up."""
    if review.author_id == viewer.pk:
        return True
    now = now or timezone.now()
    both_in = len({r.author_id for r in engagement.reviews.all()}) == 2
    blind_over = (
        engagement.completed_at is not None
        and engagement.completed_at + settings.REVIEW_BLIND_PERIOD <= now
    )
    return both_in or blind_over


def revealed_reviews(*, now: datetime | None = None) -> QuerySet:
    """Reviews anyone may see: both sides are in, or the blind period has passed."""
    now = now or timezone.now()
    counterpart = Review.objects.filter(engagement=OuterRef("engagement")).exclude(
        author=OuterRef("author")
    )
    return Review.objects.filter(
        Exists(counterpart)
        | Q(engagement__completed_at__lte=now - settings.REVIEW_BLIND_PERIOD)
    )


def advisor_profile(*, advisor_id: int) -> dict[str, Any]:
    advisor = (
        User.objects.filter(pk=advisor_id, role=User.Role.ADVISOR, is_active=True)
        .prefetch_related("skills")
        .first()
    )
    if advisor is None:
        raise NotFound("No such advisor.", code=error_codes.NOT_FOUND)
    received = revealed_reviews().filter(subject=advisor, engagement__advisor=advisor)
    aggregate = received.aggregate(average=Avg("rating"), count=Count("pk"))
    recent = list(received.select_related("author").order_by("-created_at")[:20])
    skills = [skill.slug for skill in advisor.skills.all()]
    return {"advisor": advisor, "skills": skills, "rating": aggregate, "reviews": recent}
