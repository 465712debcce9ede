from __future__ import annotations

import zoneinfo

from rest_framework import serializers

from .models import User


class RegisterInputSerializer(serializers.Serializer):
    username = serializers.RegexField(r"^[\w.@+-]+\Z", max_length=150)
    password = serializers.CharField(write_only=True, max_length=128)
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=User.Role.choices)
    display_name = serializers.CharField(max_length=100)
    timezone = serializers.CharField(max_length=64, default="UTC")
    skills = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, default=list, max_length=30
    )
    bio = serializers.CharField(max_length=5000, required=False, default="", allow_blank=True)

    def validate_timezone(self, value: str) -> str:
        if value not in zoneinfo.available_timezones():
            raise serializers.ValidationError(f"Unknown time zone {value!r}.")
        return value


class ProfileUpdateInputSerializer(serializers.Serializer):
    display_name = serializers.CharField(max_length=100, required=False)
    timezone = serializers.CharField(max_length=64, required=False)
    bio = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    skills = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, max_length=30
    )
    notifications_enabled = serializers.BooleanField(required=False)

    validate_timezone = RegisterInputSerializer.validate_timezone


class TokenInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, write_only=True)


class TokenOutputSerializer(serializers.Serializer):
    token = serializers.CharField()


class UserOutputSerializer(serializers.ModelSerializer):
    skills = serializers.SlugRelatedField(many=True, read_only=True, slug_field="slug")

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "role",
            "display_name",
            "timezone",
            "skills",
            "bio",
            "notifications_enabled",
        ]
        read_only_fields = fields


class PublicUserSerializer(serializers.ModelSerializer):
    """What the other party of an engagement may see of a user."""

    class Meta:
        model = User
        fields = ["id", "display_name", "role", "timezone"]
        read_only_fields = fields
