"""Documents shared in a room.

Each upload is one :class:`SharedFile`: one version of the document its name stands for
(same name in the same room, ignoring case, means a new version). The bytes live in the
``files`` storage under a random key; removing a file deletes the bytes and keeps the
row, which then says who removed it and when.

``files`` depends on ``chat`` (rooms, membership, the event log) and on nothing above it:
``deals`` asks it which files a delivery may list, never the other way round.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from chat.models import Room


class SharedFile(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="shared_files")
    uploader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shared_files"
    )
    # As given, made safe to display and to send back in Content-Disposition.
    name = models.CharField(max_length=255)
    # The versioning key: the name case-folded.
    name_key = models.CharField(max_length=255)
    version = models.PositiveIntegerField()
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    # Detected from the bytes at upload; sent back on download.
    content_type = models.CharField(max_length=120)
    storage_key = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["room_id", "name_key", "version"]
        constraints = [
            models.UniqueConstraint(fields=["room", "name_key", "version"],
                                    name="shared_file_version_unique"),
            models.CheckConstraint(condition=models.Q(size__gt=0), name="shared_file_not_empty"),
        ]
        indexes = [models.Index(fields=["room", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.name} v{self.version} in room {self.room_id}"

    @property
    def is_removed(self) -> bool:
        return self.removed_at is not None

    def summary(self) -> dict[str, object]:
        """How other apps' events refer to the file (e.g. a delivery's list)."""
        return {"id": self.pk, "name": self.name, "size": self.size,
                "content_type": self.content_type}
