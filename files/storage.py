"""Where the bytes live: Django's storage API, alias ``files`` in settings.STORAGES.

Local files under MEDIA_ROOT (outside any URL) by default; S3-compatible storage through
django-storages when ``AWS_STORAGE_BUCKET_NAME`` is set. Keys are random, never the
uploader's name, so no name can reach a path and no key can be guessed.
"""

from __future__ import annotations

import secrets
from collections.abc import Generator

from django.core.files import File
from django.core.files.storage import Storage, storages

ALIAS = "files"
CHUNK = 64 * 1024


def file_storage() -> Storage:
    return storages[ALIAS]


def new_key(room_id: int) -> str:
    return f"rooms/{room_id}/{secrets.token_hex(16)}"


def save(key: str, content: File) -> str:
    """Store the content under ``key``; returns the key the storage actually used."""
    return file_storage().save(key, content)


def delete(key: str) -> None:
    file_storage().delete(key)


def exists(key: str) -> bool:
    return file_storage().exists(key)


def read(key: str, start: int, end: int) -> Generator[bytes, None, None]:
    """Bytes ``start``..``end`` (inclusive) of the stored file, a chunk at a time.

    The object is opened here, before the response starts, so that missing bytes fail the
    request cleanly instead of cutting a 200 short.
    """
    storage = file_storage()
    bucket = getattr(storage, "bucket", None)
    normalize = getattr(storage, "_normalize_name", None)
    if bucket is not None and normalize is not None:
        # S3: a ranged GET streams just those bytes, where opening the object through the
        # storage API would first copy all of it into a local temp file.
        body = bucket.Object(normalize(key)).get(Range=f"bytes={start}-{end}")["Body"]
        return _s3_chunks(body)
    stored = storage.open(key, "rb")
    return _file_chunks(stored, start, end)


def _s3_chunks(body) -> Generator[bytes, None, None]:
    try:
        yield from body.iter_chunks(CHUNK)
    finally:
        body.close()


def _file_chunks(stored: File, start: int, end: int) -> Generator[bytes, None, None]:
    with stored:
        stored.seek(start)
        remaining = end - start + 1
        while remaining > 0:
            chunk = stored.read(min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
