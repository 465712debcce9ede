"""The download response: always an attachment, never sniffed, resumable with ``Range``.

Django serves no ranges itself, so this handles the one form clients use to resume or
seek: a single ``bytes=a-b`` (or ``a-``, or ``-n``) range → 206 with Content-Range, an
unsatisfiable one → 416. Several ranges, a malformed header or an ``If-Range`` that no
longer matches get the whole file (RFC 9110 lets a server ignore Range).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Generator

from asgiref.sync import sync_to_async
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse

from . import error_codes, names, storage
from .models import SharedFile

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class Unsatisfiable(Exception):
    pass


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte, inclusive; None for "send it all"; Unsatisfiable for 416."""
    if not header:
        return None
    match = _RANGE.match(header.strip().replace(" ", ""))
    if match is None:  # several ranges, another unit, or garbage: ignore
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last n bytes
        suffix = int(last)
        if suffix == 0:
            raise Unsatisfiable
        return max(size - suffix, 0), size - 1
    start = int(first)
    if last and int(last) < start:  # invalid, so ignored
        return None
    if start >= size:
        raise Unsatisfiable
    return start, min(int(last), size - 1) if last else size - 1


def etag(shared: SharedFile) -> str:
    # Versions are immutable, so the content hash is a strong validator.
    return f'"{shared.sha256}"'


def _headers(shared: SharedFile) -> dict[str, str]:
    return {
        "Content-Type": shared.content_type,
        "Content-Disposition": names.content_disposition(shared.name),
        "X-Content-Type-Options": "nosniff",
        # Should a browser render it anyway, it gets no script, no plugins, no origin.
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Accept-Ranges": "bytes",
        "ETag": etag(shared),
        "Cache-Control": "private, no-cache",
    }


async def _async_chunks(chunks: Generator[bytes, None, None]) -> AsyncIterator[bytes]:
    """The same chunks for an ASGI server, one storage read per step off the event loop.

    Django's ASGI handler turns a *synchronous* streaming body into a list first (the
    whole file in memory, then sent); an asynchronous one it sends chunk by chunk."""
    read = sync_to_async(next, thread_sensitive=False)
    try:
        while (chunk := await read(chunks, None)) is not None:
            yield chunk
    finally:
        chunks.close()


def file_response(shared: SharedFile, *, range_header: str | None = None,
                  if_range: str | None = None, if_none_match: str | None = None,
                  asynchronous: bool = False) -> HttpResponse:
    """``asynchronous``: the request came through ASGI (a WSGI server or the test client
    needs a synchronous body, which Django would otherwise gather into a list likewise)."""
    headers = _headers(shared)
    if if_none_match and etag(shared) in [tag.strip() for tag in if_none_match.split(",")]:
        response = HttpResponse(status=304)
        for name in ("ETag", "Cache-Control", "Accept-Ranges"):
            response[name] = headers[name]
        return response
    size = shared.size
    if if_range is not None and if_range.strip() != etag(shared):
        range_header = None
    try:
        wanted = parse_range(range_header, size)
    except Unsatisfiable:
        return JsonResponse(
            {"code": error_codes.RANGE_NOT_SATISFIABLE,
             "detail": f"The range asked for lies outside the file's {size} bytes."},
            status=416,
            headers={"Content-Range": f"bytes */{size}", "Accept-Ranges": "bytes",
                     "X-Content-Type-Options": "nosniff"},
        )
    start, end = wanted if wanted is not None else (0, size - 1)
    chunks = storage.read(shared.storage_key, start, end)
    response = StreamingHttpResponse(_async_chunks(chunks) if asynchronous else chunks,
                                     status=206 if wanted is not None else 200)
    for name, value in headers.items():
        response[name] = value
    response["Content-Length"] = str(end - start + 1)
    if wanted is not None:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    return response
