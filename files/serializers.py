from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.serializers import PublicUserSerializer

from .models import SharedFile

# --- input -------------------------------------------------------------------------------


class UploadInputSerializer(serializers.Serializer):
    """For the schema only: the upload is parsed by files.uploads, not by a serializer."""

    file = serializers.FileField(help_text="One file, sent as multipart/form-data.")


# --- output ------------------------------------------------------------------------------


class SharedFileOutputSerializer(serializers.ModelSerializer):
    uploader = PublicUserSerializer(read_only=True)
    removed = serializers.BooleanField(source="is_removed", read_only=True)
    removed_by = serializers.IntegerField(source="removed_by_id", read_only=True,
                                          allow_null=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = SharedFile
        fields = ["id", "room", "name", "version", "size", "sha256", "content_type",
                  "uploader", "created_at", "removed", "removed_at", "removed_by",
                  "download_url"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_download_url(self, shared: SharedFile) -> str | None:
        if shared.is_removed:
            return None
        return reverse("file-download", kwargs={"file_id": shared.pk})


class RoomFileOutputSerializer(SharedFileOutputSerializer):
    latest = serializers.BooleanField(
        source="is_latest", read_only=True,
        help_text="The newest version of this name that can still be downloaded.",
    )

    class Meta(SharedFileOutputSerializer.Meta):
        fields = [*SharedFileOutputSerializer.Meta.fields, "latest"]
        read_only_fields = fields
