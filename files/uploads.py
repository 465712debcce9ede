"""Receiving an upload without holding it: the multipart parser hands each chunk to
:class:`StreamingUploadHandler`, which writes it to a temp file, hashes it and counts it,
and stops the upload the moment it passes the size limit.

Django's default handlers keep uploads under 2.5 MiB in memory and know no per-file limit;
this one always spools to disk (memory stays one chunk whatever the size) and refuses a
body whose Content-Length alone exceeds the limit before parsing a byte of it. Whether the
body is still unread at that point is the server's business: a WSGI server streams it,
while Django's ASGI handler (and daphne before it) buffer the whole body first, on disk.
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict

from config.errors import InvalidInput, ServiceError, TooLarge

from . import error_codes

FIELD = "file"
# Room for the multipart framing and small form fields around the file itself.
MULTIPART_OVERHEAD = 64 * 1024


def too_large(limit: int) -> TooLarge:
    mib = limit / (1024 * 1024)
    return TooLarge(f"A file may be at most {mib:g} MiB ({limit} bytes).",
                    code=error_codes.FILE_TOO_LARGE, max_bytes=limit)


class StreamedUpload(UploadedFile):
    """An upload spooled to a temp file, with its size and SHA-256 measured on the way in.

    Unlike Django's TemporaryUploadedFile the temp file's name never borrows the client's
    extension (a 255-character extension would overflow the file system's name limit).
    """

    def __init__(self, name: str, content_type: str | None, charset: str | None,
                 content_type_extra: dict | None) -> None:
        # Closed (and so deleted) by close(), or moved into storage before that.
        file = tempfile.NamedTemporaryFile(  # noqa: SIM115
            suffix=".upload", dir=settings.FILE_UPLOAD_TEMP_DIR
        )
        super().__init__(file, name, content_type, 0, charset, content_type_extra)
        self.sha256 = ""

    def temporary_file_path(self) -> str:
        return self.file.name

    def close(self) -> None:
        with contextlib.suppress(FileNotFoundError):  # moved into storage already
            self.file.close()


class StreamingUploadHandler(FileUploadHandler):
    """Accepts one file, in the ``file`` field, of at most ``max_bytes``.

    A refusal is kept in :attr:`error` for the view to raise: the multipart parser only
    knows how to stop, not how to answer.
    """

    chunk_size = 64 * 1024

    def __init__(self, request: Any = None, *, max_bytes: int) -> None:
        super().__init__(request)
        self.max_bytes = max_bytes
        self.error: ServiceError | None = None
        self.upload: StreamedUpload | None = None
        self._digest = hashlib.sha256()
        self._received = 0

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length and content_length > self.max_bytes + MULTIPART_OVERHEAD:
            self.error = too_large(self.max_bytes)
            # An empty parse result: the parser reads nothing of the body.
            return QueryDict(encoding=encoding), MultiValueDict()
        return None

    def new_file(self, field_name, file_name, content_type, content_length, charset=None,
                 content_type_extra=None):
        super().new_file(field_name, file_name, content_type, content_length, charset,
                         content_type_extra)
        if field_name != FIELD or self.upload is not None:
            self.error = InvalidInput(
                f"Send exactly one file, in the '{FIELD}' field.",
                code=error_codes.ONE_FILE_PER_REQUEST,
                fields={FIELD: ["Send exactly one file per request."]},
            )
            raise StopUpload(connection_reset=True)
        if content_length is not None and content_length > self.max_bytes:
            self.error = too_large(self.max_bytes)
            raise StopUpload(connection_reset=True)
        self.upload = StreamedUpload(file_name, content_type, charset, content_type_extra)
        # The parser closes handler.file when it stops early, which removes the temp file.
        self.file = self.upload

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self._received += len(raw_data)
        if self._received > self.max_bytes:
            self.error = too_large(self.max_bytes)
            raise StopUpload(connection_reset=True)
        self._digest.update(raw_data)
        self.upload.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> StreamedUpload:
        upload = self.upload
        upload.file.flush()
        upload.seek(0)
        upload.size = file_size
        upload.sha256 = self._digest.hexdigest()
        return upload

    def upload_interrupted(self) -> None:
        if self.upload is not None:
            self.upload.close()
