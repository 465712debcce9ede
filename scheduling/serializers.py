"""Input and output shapes of the calls API. Rules live in the services; these only parse.

Every time goes out twice: in UTC (``start``, ``end``: ``…Z``) and in the *requesting*
user's own time zone (``local_start``, ``local_end``: ISO 8601 with that moment's offset),
with the zone's name in ``timezone``. The serializers need ``context["zone"]``.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.serializers import PublicUserSerializer

from .ics import summary_for
from .models import MEETING_URL_MAX_LENGTH, NOTE_MAX_LENGTH, Call, CallSlot
from .times import local_iso, zone_name

# --- input -------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.DATETIME)
class IsoDateTimeField(serializers.Field):
    """An ISO 8601 date-time, parsed as given. Unlike DRF's DateTimeField it does not
    silently read a time without offset as server time: the service refuses it."""

    default_error_messages = {"invalid": "Give an ISO 8601 date-time with its UTC offset."}

    def to_internal_value(self, data: Any) -> datetime:
        if not isinstance(data, str) or len(data) > 64:
            self.fail("invalid")
        try:
            return datetime.fromisoformat(data)
        except ValueError:
            self.fail("invalid")

    def to_representation(self, value: datetime) -> str:
        return value.isoformat()


class SlotInputSerializer(serializers.Serializer):
    start = IsoDateTimeField(help_text="ISO 8601 with offset, e.g. 2026-05-04T09:00:00-05:00.")
    duration_minutes = serializers.IntegerField(help_text="15 to 240.")


class CallProposeInputSerializer(serializers.Serializer):
    # Counts and durations are checked by the service, which gives each its own error code;
    # the bound here only keeps absurd bodies from being parsed.
    slots = SlotInputSerializer(many=True, max_length=100, help_text="1 to 5 candidate slots.")
    note = serializers.CharField(max_length=NOTE_MAX_LENGTH, required=False, default="",
                                 allow_blank=True)
    meeting_url = serializers.CharField(
        max_length=MEETING_URL_MAX_LENGTH, required=False, default="", allow_blank=True,
        help_text="Optional; otherwise a link is generated when the call is confirmed.",
    )


class CallRescheduleInputSerializer(serializers.Serializer):
    slots = SlotInputSerializer(many=True, max_length=100, help_text="1 to 5 new slots.")
    note = serializers.CharField(max_length=NOTE_MAX_LENGTH, required=False, allow_blank=True,
                                 help_text="Omit to keep the old call's note.")
    meeting_url = serializers.CharField(
        max_length=MEETING_URL_MAX_LENGTH, required=False, allow_blank=True,
        help_text="Omit to keep the old call's link.",
    )


class CallAcceptInputSerializer(serializers.Serializer):
    slot = serializers.IntegerField(
        help_text="The 0-based index of the chosen slot, as in the call's slots[].index."
    )


class CallCloseInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=NOTE_MAX_LENGTH, required=False, default="",
                                   allow_blank=True)


class CallListQuerySerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=Call.State.choices, required=False)


class UpcomingQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=200, required=False, default=50)


# --- output ------------------------------------------------------------------------------


class _LocalTimes:
    """``local_start`` / ``local_end`` in the zone the view put in the context."""

    def _zone(self) -> tzinfo:
        return self.context["zone"]  # type: ignore[attr-defined]

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_local_start(self, obj: Any) -> str | None:
        return local_iso(obj.start_at, self._zone())

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_local_end(self, obj: Any) -> str | None:
        return local_iso(obj.end_at, self._zone())


class CallSlotOutputSerializer(_LocalTimes, serializers.ModelSerializer):
    start = serializers.DateTimeField(source="start_at", read_only=True)
    end = serializers.DateTimeField(source="end_at", read_only=True)
    local_start = serializers.SerializerMethodField()
    local_end = serializers.SerializerMethodField()

    class Meta:
        model = CallSlot
        fields = ["id", "index", "start", "end", "local_start", "local_end", "duration_minutes"]
        read_only_fields = fields


class CallOutputSerializer(_LocalTimes, serializers.ModelSerializer):
    engagement = serializers.IntegerField(source="engagement_id", read_only=True)
    proposed_by = PublicUserSerializer(read_only=True)
    invitee = PublicUserSerializer(read_only=True)
    slots = CallSlotOutputSerializer(many=True, read_only=True)
    slot = serializers.IntegerField(source="slot.index", read_only=True, allow_null=True,
                                    default=None, help_text="Index of the accepted slot.")
    start = serializers.DateTimeField(source="start_at", read_only=True, allow_null=True)
    end = serializers.DateTimeField(source="end_at", read_only=True, allow_null=True)
    local_start = serializers.SerializerMethodField()
    local_end = serializers.SerializerMethodField()
    duration_minutes = serializers.SerializerMethodField()
    timezone = serializers.SerializerMethodField()
    summary = serializers.SerializerMethodField()
    replaced_by = serializers.SerializerMethodField()
    ics_url = serializers.SerializerMethodField()

    class Meta:
        model = Call
        fields = [
            "id", "engagement", "state", "proposed_by", "invitee", "note", "meeting_url",
            "slots", "slot", "start", "end", "local_start", "local_end", "duration_minutes",
            "timezone", "summary", "replaces", "replaced_by", "reason", "closed_by",
            "confirmed_at", "closed_at", "created_at", "updated_at", "ics_url",
        ]
        read_only_fields = fields

    def get_duration_minutes(self, call: Call) -> int | None:
        if call.start_at is None or call.end_at is None:
            return None
        return int((call.end_at - call.start_at).total_seconds() // 60)

    def get_timezone(self, call: Call) -> str:
        """The zone of local_start/local_end: the requesting user's own."""
        return zone_name(self._zone())

    def get_summary(self, call: Call) -> str:
        return summary_for(call, self.context["viewer"])

    def get_replaced_by(self, call: Call) -> int | None:
        replacement = getattr(call, "replaced_by", None)
        return replacement.pk if replacement else None

    def get_ics_url(self, call: Call) -> str | None:
        if call.start_at is None:
            return None
        return reverse("call-ics", kwargs={"call_id": call.pk})


class CalendarFeedOutputSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="Private: anyone with it can read your calls.")
    created_at = serializers.DateTimeField()
