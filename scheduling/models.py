"""Calls between the two members of an engagement, and each user's private calendar feed.

A call is proposed with one to five candidate slots; the other member accepts one of them
(the call is then *confirmed* and carries that slot's time), or declines. Times are stored
in UTC; every reader sees them in their own time zone. Rescheduling never edits a call: it
cancels it and proposes a new one that points back at it (``replaces``), so the room's log
and every calendar that saw the old time stay truthful.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from deals.models import Engagement

# The contract's limits on a proposal.
MAX_SLOTS = 5
MIN_DURATION_MINUTES = 15
MAX_DURATION_MINUTES = 240
NOTE_MAX_LENGTH = 2000
MEETING_URL_MAX_LENGTH = 500


class Call(models.Model):
    class State(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        CONFIRMED = "confirmed", "Confirmed"
        DECLINED = "declined", "Declined"
        CANCELLED = "cancelled", "Cancelled"

    # engagement_id is also the room's id (they share a primary key).
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="calls")
    # The room's two members, by role in this call: clash checks and "my calls" need no join.
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calls_proposed"
    )
    invitee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calls_invited"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.PROPOSED)
    note = models.TextField(blank=True, max_length=NOTE_MAX_LENGTH)
    # Given by the proposer, or generated from CALL_MEETING_URL_TEMPLATE on confirmation.
    meeting_url = models.CharField(max_length=MEETING_URL_MAX_LENGTH, blank=True)
    # The accepted slot, copied here so clash checks, reminders and feeds read one row.
    # Kept after a cancellation so calendars can show the cancelled occurrence.
    slot = models.ForeignKey(
        "CallSlot", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    start_at = models.DateTimeField(null=True, blank=True)
    end_at = models.DateTimeField(null=True, blank=True)
    # A reschedule: this call replaces an older one, which was cancelled in the same step.
    replaces = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replaced_by"
    )
    # The iCalendar UID (stable, unguessable) and SEQUENCE (bumped on every change, so
    # subscribed calendars replace what they showed before).
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sequence = models.PositiveIntegerField(default=0)
    reason = models.TextField(blank=True, max_length=NOTE_MAX_LENGTH)  # decline/cancel
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)  # declined or cancelled
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(state="confirmed")
                | models.Q(start_at__isnull=False, end_at__isnull=False),
                name="call_confirmed_has_time",
            ),
            models.CheckConstraint(
                condition=models.Q(start_at__isnull=True)
                | models.Q(end_at__gt=models.F("start_at")),
                name="call_ends_after_start",
            ),
            models.CheckConstraint(
                condition=~models.Q(proposed_by=models.F("invitee")),
                name="call_two_people",
            ),
        ]
        indexes = [
            # Clash checks and upcoming lists: a member's confirmed calls by time.
            models.Index(fields=["proposed_by", "state", "start_at"]),
            models.Index(fields=["invitee", "state", "start_at"]),
            # The reminder sweep.
            models.Index(fields=["state", "reminder_sent_at", "start_at"]),
        ]

    def __str__(self) -> str:
        return f"call {self.pk} ({self.state})"

    @property
    def room_id(self) -> int:
        return self.engagement_id

    def other_member_id(self, user_id: int) -> int:
        return self.invitee_id if user_id == self.proposed_by_id else self.proposed_by_id


class CallSlot(models.Model):
    """One candidate time of a proposed call; ``index`` (0-based) is what accept names."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="slots")
    index = models.PositiveSmallIntegerField()
    start_at = models.DateTimeField()
    # start + duration on the UTC time line: a slot across a daylight-saving change keeps
    # its true length, whatever its local wall-clock times say.
    end_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["call_id", "index"]
        constraints = [
            models.UniqueConstraint(fields=["call", "index"], name="call_slot_index_unique"),
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gte=MIN_DURATION_MINUTES,
                                   duration_minutes__lte=MAX_DURATION_MINUTES),
                name="call_slot_duration_range",
            ),
            models.CheckConstraint(condition=models.Q(end_at__gt=models.F("start_at")),
                                   name="call_slot_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"slot {self.index} of call {self.call_id}"


class CalendarFeed(models.Model):
    """A user's private calendar subscription: whoever has the URL can read it, so the
    token is long, random and replaceable (rotating revokes the old URL at once)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"calendar feed of {self.user_id}"
