"""Reads of the files domain, shared by the API and the services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chat.models import Event
from chat.selectors import member_room
from config.errors import NotFound

from . import error_codes
from .models import SharedFile


def file_for(*, file_id: int, user: Any) -> SharedFile:
    """The file if the user is a member of its room; 404 alike for a missing file and a
    stranger's."""
    shared = (
        SharedFile.objects.select_related("uploader", "removed_by")
        .filter(pk=file_id, room__memberships__user=user)
        .first()
    )
    if shared is None:
        raise NotFound("No such file.", code=error_codes.FILE_NOT_FOUND)
    return shared


def room_files(*, room_id: int, user: Any) -> list[SharedFile]:
    """Every version shared in the room, removed ones included (they say so), grouped by
    document: the most recently updated document first, its versions newest first. Each
    carries ``is_latest``: the newest version of its name that can still be downloaded.
    One query whatever their number."""
    room = member_room(room_id=room_id, user=user)
    documents: dict[str, list[SharedFile]] = {}
    for shared in (SharedFile.objects.filter(room=room)
                   .select_related("uploader")
                   .order_by("name_key", "-version")):
        documents.setdefault(shared.name_key, []).append(shared)
    ordered = sorted(documents.values(), key=lambda versions: versions[0].pk, reverse=True)
    listing = []
    for versions in ordered:
        latest = next((v for v in versions if not v.is_removed), None)
        for shared in versions:
            shared.is_latest = shared is latest
            listing.append(shared)
    return listing


# --- deliverables under review ---------------------------------------------------------
#
# ``deals`` sits above ``files``: deliver() asks files which files it may list (see
# services.lock_deliverables), so files must not import deals back. Whether a delivery is
# still open is read from the room's log instead: the delivery events are public contract
# (DESIGN §5), recorded in the same transaction as the state they report.

DELIVERED = "engagement.delivered"
REJECTED = "engagement.rejected"  # a dispute: staff settle it looking at the same files
DELIVERY_CLOSED = ("engagement.approved", "engagement.revision_requested",
                   "engagement.resolved")


@dataclass(frozen=True)
class Review:
    state: str  # "delivered" or "disputed"
    file_ids: frozenset[int]


def _file_ids(data: dict[str, Any]) -> frozenset[int]:
    ids = set()
    for item in data.get("files", []):
        # Deliveries made before files existed listed bare ids.
        ids.add(item["id"] if isinstance(item, dict) else item)
    return frozenset(ids)


def open_review(*, room_id: int) -> Review | None:
    """The files held by the room's delivery under review (or in dispute), if any."""
    last = (
        Event.objects.filter(room_id=room_id, kind__in=[DELIVERED, REJECTED, *DELIVERY_CLOSED])
        .order_by("-seq")
        .first()
    )
    if last is None or last.kind in DELIVERY_CLOSED:
        return None
    if last.kind == DELIVERED:
        return Review(state="delivered", file_ids=_file_ids(last.data))
    delivered = (Event.objects.filter(room_id=room_id, kind=DELIVERED, seq__lt=last.seq)
                 .order_by("-seq").first())
    return Review(state="disputed",
                  file_ids=_file_ids(delivered.data) if delivered else frozenset())
