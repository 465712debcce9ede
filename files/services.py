"""Every write of the files domain: share, remove, and lock the files a delivery lists.

Sharing stores the bytes first and then, in one short transaction under the room's row
lock, re-checks who acts and the room's state, numbers the version and records the
``file.shared`` event; if that transaction fails the stored bytes are deleted again, so a
refused upload leaves nothing behind. Bytes are never written inside the transaction: a
25 MiB copy must not hold the room's lock.

Lock order (with deals.deliver): the engagement row, then file rows in id order, then the
room row (taken by ``select_for_update`` here or by ``chat.events.record``).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import User
from chat import events
from chat.models import Room
from chat.selectors import is_member
from config.errors import Conflict, Forbidden, InvalidInput, NotFound

from . import content_types, error_codes, names, selectors, storage
from .models import SharedFile
from .uploads import too_large

logger = logging.getLogger(__name__)


def _room_not_found() -> NotFound:
    return NotFound("No such engagement.", code="room_not_found")


def _check_room(room: Room | None, by: User) -> Room:
    if room is None or not is_member(room_id=room.pk, user_id=by.pk):
        raise _room_not_found()
    if room.is_closed:
        raise Conflict("This room is closed: nothing new can be shared in it.",
                       state="closed", code=error_codes.ROOM_CLOSED)
    live = SharedFile.objects.filter(room=room, removed_at__isnull=True).count()
    if live >= settings.FILES_MAX_PER_ROOM:
        raise Conflict(
            f"This room already holds {settings.FILES_MAX_PER_ROOM} files; remove one first.",
            state="full", code=error_codes.TOO_MANY_FILES,
            max_files=settings.FILES_MAX_PER_ROOM,
        )
    return room


def ensure_can_share(*, room_id: int, by: User) -> None:
    """Refuse early, before the body is read: strangers (404), closed or full rooms (409).
    :func:`share_file` checks again under the lock."""
    _check_room(Room.objects.filter(pk=room_id).first(), by)


def _sha256(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def share_file(*, room_id: int, by: User, upload: UploadedFile) -> SharedFile:
    """Store an upload as the next version of its name in the room and tell the room."""
    ensure_can_share(room_id=room_id, by=by)
    name = names.sanitise(upload.name or "")
    if not upload.size:
        raise InvalidInput(f"{name} is empty.", code=error_codes.FILE_EMPTY,
                           fields={"file": ["The submitted file is empty."]})
    if upload.size > settings.FILES_MAX_BYTES:
        raise too_large(settings.FILES_MAX_BYTES)
    kind = content_types.detect(upload, name=name, extension=names.extension_of(name))
    # The upload handler hashed the bytes as they arrived; other callers' uploads are
    # hashed here.
    sha256 = getattr(upload, "sha256", "") or _sha256(upload)
    size = upload.size

    key = storage.save(storage.new_key(room_id), upload)
    try:
        with transaction.atomic():
            room = _check_room(Room.objects.select_for_update().filter(pk=room_id).first(), by)
            name_key = names.version_key(name)
            latest = (SharedFile.objects.filter(room=room, name_key=name_key)
                      .aggregate(latest=Max("version"))["latest"])
            shared = SharedFile.objects.create(
                room=room, uploader=by, name=name, name_key=name_key,
                version=(latest or 0) + 1, size=size, sha256=sha256,
                content_type=kind.content_type, storage_key=key,
            )
            events.record(room, "file.shared", actor=by, data=_event_data(shared))
    except BaseException:
        storage.delete(key)
        raise
    return shared


def _event_data(shared: SharedFile) -> dict[str, object]:
    return {"file": {**shared.summary(), "version": shared.version}}


def _locked_file(file_id: int, by: User) -> SharedFile:
    shared = (SharedFile.objects.select_for_update(of=("self",))
              .filter(pk=file_id, room__memberships__user=by).first())
    if shared is None:
        raise NotFound("No such file.", code=error_codes.FILE_NOT_FOUND)
    return shared


@transaction.atomic
def remove_file(*, file_id: int, by: User) -> SharedFile:
    """The uploader removes a version: the bytes go (after the commit), the record stays.

    Allowed in a closed room too: whoever shared a document may take it back after a
    proposal is declined. Refused while a delivery that lists it is under review or in
    dispute.
    """
    shared = _locked_file(file_id, by)
    if shared.uploader_id != by.pk:
        raise Forbidden("Only the person who shared a file may remove it.",
                        code=error_codes.NOT_UPLOADER)
    if shared.is_removed:
        raise Conflict("The file was already removed.", state="removed",
                       code=error_codes.FILE_REMOVED)
    review = selectors.open_review(room_id=shared.room_id)
    if review is not None and shared.pk in review.file_ids:
        raise Conflict(
            "The file is part of a delivery under review; it can be removed once the "
            "delivery is answered.",
            state=review.state, code=error_codes.FILE_IN_REVIEW,
        )
    shared.removed_at = timezone.now()
    shared.removed_by = by
    shared.save(update_fields=["removed_at", "removed_by"])
    events.record(shared.room_id, "file.removed", actor=by,
                  data={"file": {"id": shared.pk, "name": shared.name,
                                 "version": shared.version}})
    key = shared.storage_key
    # Only once the removal is committed: a rolled-back removal must still find its bytes.
    transaction.on_commit(lambda: _delete_bytes(key))
    return shared


def _delete_bytes(key: str) -> None:
    try:
        storage.delete(key)
    except Exception:  # the record says removed; an orphan blob is logged for clean-up
        logger.exception("could not delete removed file %s from storage", key)


def lock_deliverables(*, room_id: int, by: User, file_ids: Iterable[int]) -> list[SharedFile]:
    """The files a delivery lists, in the order given (duplicates dropped), each one shared
    in this room by the deliverer and not removed; 400 ``invalid_files`` otherwise.

    The rows stay locked until the caller's transaction ends, so a removal cannot slip in
    between this check and the delivery's commit (and once the delivery is committed,
    :func:`remove_file` sees it under review).
    """
    if not connection.in_atomic_block:
        raise RuntimeError("lock_deliverables() must run inside the delivery's transaction")
    wanted = list(dict.fromkeys(file_ids))
    if not wanted:
        return []
    found = {
        shared.pk: shared
        for shared in SharedFile.objects.select_for_update()
        .filter(pk__in=wanted, room_id=room_id, uploader=by, removed_at__isnull=True)
        .order_by("pk")
    }
    invalid = [file_id for file_id in wanted if file_id not in found]
    if invalid:
        listed = ", ".join(str(file_id) for file_id in invalid)
        raise InvalidInput(
            f"A delivery can list only files you shared in this room and have not removed; "
            f"not so: {listed}.",
            code=error_codes.INVALID_FILES,
            fields={"files": [f"Not a file of yours in this room: {listed}."]},
            invalid=invalid,
        )
    return [found[file_id] for file_id in wanted]
