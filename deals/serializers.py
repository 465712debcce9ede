from __future__ import annotations

from decimal import Decimal

from django.utils import timezone
from rest_framework import serializers

from accounts.serializers import PublicUserSerializer

from .models import Delivery, Engagement, Project, ProposalVersion, Review

# --- input -------------------------------------------------------------------------------


class ProjectInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=20_000)
    skills = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, default=list, max_length=20
    )
    budget_min = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal(0),
                                          required=False, allow_null=True)
    budget_max = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal(0),
                                          required=False, allow_null=True)
    currency = serializers.RegexField(r"^[A-Za-z]{3}\Z", max_length=3, required=False,
                                      default="USD")
    due_date = serializers.DateField(required=False, allow_null=True)

    def validate_due_date(self, value):
        if value is not None and value < timezone.localdate():
            raise serializers.ValidationError("The due date is in the past.")
        return value


class ProjectListQuerySerializer(serializers.Serializer):
    skill = serializers.SlugField(required=False)
    q = serializers.CharField(required=False, max_length=200)


class ProposalInputSerializer(serializers.Serializer):
    fee_amount = serializers.DecimalField(max_digits=12, decimal_places=2,
                                          min_value=Decimal("0.01"))
    fee_currency = serializers.RegexField(r"^[A-Za-z]{3}\Z", max_length=3)
    statement = serializers.CharField(max_length=20_000)
    estimated_days = serializers.IntegerField(min_value=1, max_value=3650)
    included_revisions = serializers.IntegerField(min_value=0, max_value=20)


class ProposalReviseInputSerializer(ProposalInputSerializer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


class HireInputSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)


class DeclineInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)


class DeliverInputSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=20_000)
    files = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False,
                                  default=list, max_length=50)


class RevisionInputSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=20_000)


class RejectInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=20_000)


class ReviewInputSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(max_length=5000, required=False, default="", allow_blank=True)


class EngagementListQuerySerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=Engagement.State.choices, required=False)


# --- output ------------------------------------------------------------------------------


class ProjectOutputSerializer(serializers.ModelSerializer):
    client = PublicUserSerializer(read_only=True)
    skills = serializers.SlugRelatedField(many=True, read_only=True, slug_field="slug")
    proposal_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Project
        fields = [
            "id", "client", "title", "description", "skills", "budget_min", "budget_max",
            "currency", "due_date", "state", "proposal_count", "created_at", "updated_at",
        ]
        read_only_fields = fields


class ProposalVersionOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProposalVersion
        fields = ["version", "fee_amount", "fee_currency", "statement", "estimated_days",
                  "included_revisions", "created_at"]
        read_only_fields = fields


class ProjectBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = ["id", "title", "state"]
        read_only_fields = fields


class EngagementOutputSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="pk", read_only=True)
    project = ProjectBriefSerializer(read_only=True)
    client = PublicUserSerializer(read_only=True)
    advisor = PublicUserSerializer(read_only=True)
    proposal = ProposalVersionOutputSerializer(source="current_proposal", read_only=True)
    unread = serializers.IntegerField(read_only=True)
    last_seq = serializers.IntegerField(source="room.head_seq", read_only=True)

    class Meta:
        model = Engagement
        fields = [
            "id", "project", "client", "advisor", "state", "proposal", "hired_version",
            "included_revisions", "revisions_used", "review_deadline", "unread", "last_seq",
            "created_at", "updated_at",
        ]
        read_only_fields = fields


class DeliveryOutputSerializer(serializers.ModelSerializer):
    files = serializers.ListField(source="file_ids", child=serializers.IntegerField())

    class Meta:
        model = Delivery
        fields = ["number", "note", "files", "outcome", "response_note", "created_at",
                  "responded_at"]
        read_only_fields = fields


class ReviewOutputSerializer(serializers.ModelSerializer):
    author = PublicUserSerializer(read_only=True)

    class Meta:
        model = Review
        fields = ["id", "author", "subject", "rating", "comment", "created_at"]
        read_only_fields = fields


class EngagementDetailOutputSerializer(EngagementOutputSerializer):
    versions = ProposalVersionOutputSerializer(many=True, read_only=True)
    deliveries = DeliveryOutputSerializer(many=True, read_only=True)
    reviews = serializers.SerializerMethodField()
    read_markers = serializers.SerializerMethodField()

    class Meta(EngagementOutputSerializer.Meta):
        fields = [*EngagementOutputSerializer.Meta.fields, "versions", "deliveries", "reviews",
                  "read_markers"]
        read_only_fields = fields

    def get_read_markers(self, engagement: Engagement) -> dict[str, int]:
        from chat.selectors import read_markers

        return read_markers(room_id=engagement.pk)

    def get_reviews(self, engagement: Engagement) -> list[dict]:
        from .selectors import review_visible_to

        viewer = self.context["request"].user
        return [
            ReviewOutputSerializer(review).data
            for review in engagement.reviews.all()
            if review_visible_to(review, viewer=viewer, engagement=engagement)
        ]


class RatingOutputSerializer(serializers.Serializer):
    average = serializers.FloatField(allow_null=True)
    count = serializers.IntegerField()


class AdvisorProfileOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="advisor.pk")
    display_name = serializers.CharField(source="advisor.display_name")
    bio = serializers.CharField(source="advisor.bio")
    timezone = serializers.CharField(source="advisor.timezone")
    skills = serializers.ListField(child=serializers.CharField())
    rating = RatingOutputSerializer()
    reviews = ReviewOutputSerializer(many=True)


class ReviewPostedOutputSerializer(serializers.Serializer):
    review = ReviewOutputSerializer()
    revealed = serializers.BooleanField()
