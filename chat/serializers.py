from __future__ import annotations

from rest_framework import serializers


class EventOutputSerializer(serializers.Serializer):
    room = serializers.IntegerField()
    seq = serializers.IntegerField()
    kind = serializers.CharField()
    actor = serializers.IntegerField(allow_null=True)
    at = serializers.DateTimeField()
    data = serializers.DictField()


class EventsQuerySerializer(serializers.Serializer):
    after = serializers.IntegerField(min_value=0, default=0)
    limit = serializers.IntegerField(min_value=1, default=100)
    wait = serializers.FloatField(min_value=0, default=0)


class EventPageOutputSerializer(serializers.Serializer):
    events = EventOutputSerializer(many=True)
    head = serializers.IntegerField()
    has_more = serializers.BooleanField()


class MessageInputSerializer(serializers.Serializer):
    body = serializers.CharField(trim_whitespace=False, allow_blank=True)
    client_id = serializers.CharField(max_length=64)


class MessageEditInputSerializer(serializers.Serializer):
    body = serializers.CharField(trim_whitespace=False, allow_blank=True)


class ReadInputSerializer(serializers.Serializer):
    seq = serializers.IntegerField(min_value=0)


class ReadOutputSerializer(serializers.Serializer):
    room = serializers.IntegerField()
    seq = serializers.IntegerField()
