"""Requests, proposals (versioned), engagements, deliveries and reviews.

An engagement is one client and one advisor talking about one request. It shares its
primary key with its chat room, so ``/api/engagements/7/`` and the WebSocket's room 7 are
the same conversation.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Skill
from chat.models import Room


class Project(models.Model):
    """A client's consulting request (called a project in the API paths)."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        HIRED = "hired", _("Hired")
        CANCELLED = "cancelled", _("Cancelled")

    client = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="projects"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(max_length=20_000)
    skills = models.ManyToManyField(Skill, blank=True, related_name="projects")
    budget_min = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    budget_max = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    due_date = models.DateField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(budget_min__isnull=True)
                | models.Q(budget_max__isnull=True)
                | models.Q(budget_min__lte=models.F("budget_max")),
                name="project_budget_range",
            )
        ]

    def __str__(self) -> str:
        return self.title


class Engagement(models.Model):
    class State(models.TextChoices):
        PROPOSED = "proposed", _("Proposal pending")
        ACTIVE = "active", _("In progress")
        DELIVERED = "delivered", _("Delivered, under review")
        COMPLETED = "completed", _("Completed")
        DISPUTED = "disputed", _("Disputed")
        DECLINED = "declined", _("Declined")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        CANCELLED = "cancelled", _("Cancelled")

    room = models.OneToOneField(
        Room, primary_key=True, on_delete=models.CASCADE, related_name="engagement"
    )
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="engagements")
    client = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="client_engagements"
    )
    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="advisor_engagements"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.PROPOSED)
    current_proposal = models.ForeignKey(
        "ProposalVersion", on_delete=models.PROTECT, null=True, related_name="+"
    )
    hired_version = models.PositiveIntegerField(null=True, blank=True)
    # Snapshot of the hired version's promise, so later checks need no join.
    included_revisions = models.PositiveIntegerField(default=0)
    revisions_used = models.PositiveIntegerField(default=0)
    review_deadline = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    hired_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-room_id"]
        constraints = [
            # One proposal per advisor per request; a second is refused with 409.
            models.UniqueConstraint(fields=["project", "advisor"], name="one_proposal_each"),
            # Exactly one hire per request, enforced by the database as a last line.
            models.UniqueConstraint(
                fields=["project"],
                condition=models.Q(hired_version__isnull=False),
                name="one_hire_per_project",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "review_deadline"]),
        ]

    def __str__(self) -> str:
        return f"engagement {self.pk} ({self.state})"

    @property
    def id(self) -> int:  # the API calls it id; it is the room's id
        return self.room_id


class ProposalVersion(models.Model):
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    fee_amount = models.DecimalField(max_digits=12, decimal_places=2)
    fee_currency = models.CharField(max_length=3)
    statement = models.TextField(max_length=20_000)
    estimated_days = models.PositiveIntegerField()
    included_revisions = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["engagement_id", "version"]
        constraints = [
            models.UniqueConstraint(fields=["engagement", "version"], name="version_unique"),
        ]

    def __str__(self) -> str:
        return f"proposal {self.engagement_id} v{self.version}"


class Delivery(models.Model):
    class Outcome(models.TextChoices):
        PENDING = "pending", _("Under review")
        APPROVED = "approved", _("Approved")
        AUTO_APPROVED = "auto_approved", _("Approved automatically")
        REVISION_REQUESTED = "revision_requested", _("Revision requested")
        REJECTED = "rejected", _("Rejected")

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="deliveries"
    )
    number = models.PositiveIntegerField()
    note = models.TextField(max_length=20_000)
    file_ids = models.JSONField(default=list, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default=Outcome.PENDING)
    response_note = models.TextField(blank=True, max_length=20_000)
    created_at = models.DateTimeField(auto_now_add=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["engagement_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["engagement", "number"], name="delivery_unique"),
        ]

    def __str__(self) -> str:
        return f"delivery {self.engagement_id}#{self.number}"


class Review(models.Model):
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="reviews")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviews_written"
    )
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviews_received"
    )
    rating = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(max_length=5000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["engagement", "author"], name="one_review_each"),
            models.CheckConstraint(
                condition=models.Q(rating__gte=1, rating__lte=5), name="rating_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"review of {self.subject_id} on {self.engagement_id}"
