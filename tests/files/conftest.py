"""Fixtures for the files tests: private storage and temp dirs per test, sample files
made here (no binary fixtures in the repo), and uploads sent as real multipart bodies."""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from files.models import SharedFile


@pytest.fixture(autouse=True)
def file_dirs(settings, tmp_path) -> dict[str, Path]:
    """Documents and upload temp files go to this test's own directories."""
    media, temp = tmp_path / "media", tmp_path / "upload-tmp"
    media.mkdir()
    temp.mkdir()
    settings.MEDIA_ROOT = str(media)
    settings.FILE_UPLOAD_TEMP_DIR = str(temp)
    return {"media": media, "temp": temp}


def files_in(directory: Path) -> list[Path]:
    return sorted(path for path in directory.rglob("*") if path.is_file())


# --- sample content ------------------------------------------------------------------------


def pdf(size: int = 2048) -> bytes:
    head, tail = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", b"\n%%EOF\n"
    body = os.urandom(max(size - len(head) - len(tail), 0))
    return (head + body + tail)[:size] if size >= len(head) else head[:size]


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


def zipped(entries: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def docx() -> bytes:
    return zipped([("[Content_Types].xml", b"<Types/>"), ("_rels/.rels", b"<Relationships/>"),
                   ("word/document.xml", b"<w:document/>")])


def exe() -> bytes:
    return b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 56 + b"PE\x00\x00" + os.urandom(512)


HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg">'
       b"<script>alert(1)</script></svg>")


# --- multipart -------------------------------------------------------------------------------


def multipart(parts: list[tuple[str, str | None, bytes]],
              boundary: str = "----files-test-boundary") -> tuple[bytes, str]:
    """A multipart body built by hand, so file names reach the server exactly as given
    (Django's test client would strip path parts itself)."""
    out = io.BytesIO()
    for field, filename, data in parts:
        out.write(f"--{boundary}\r\n".encode())
        disposition = f'form-data; name="{field}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out.write(f"Content-Disposition: {disposition}\r\n".encode())
        if filename is not None:
            # The client's claim, which the server must ignore.
            out.write(b"Content-Type: application/octet-stream\r\n")
        out.write(b"\r\n" + data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


@pytest.fixture
def upload(api_for) -> Callable[..., Any]:
    """POST one file to a room as ``user``; returns the response."""

    def send(user: User | None, room_id: int, name: str, data: bytes, **extra: Any):
        body, content_type = multipart([("file", name, data)])
        api: APIClient = api_for(user)
        return api.generic("POST", f"/api/engagements/{room_id}/files/", body,
                           content_type=content_type, **extra)

    return send


@pytest.fixture
def shared(upload) -> Callable[..., dict]:
    """Upload that must succeed; returns the file record."""

    def send(user: User, room_id: int, name: str = "plan.pdf", data: bytes | None = None):
        response = upload(user, room_id, name, pdf() if data is None else data)
        assert response.status_code == 201, response.json()
        return response.json()

    return send


@pytest.fixture
def hired(client_user, advisor_user, engagement, api_for) -> dict:
    """The engagement fixture, hired: active."""
    response = api_for(client_user).post(f"/api/engagements/{engagement['id']}/hire/",
                                         {"version": 1}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def nothing_stored(file_dirs) -> Callable[[int], None]:
    """Assert a refused upload left nothing: no row, no stored or temp file, no event."""
    from chat.models import Event

    def check(room_id: int) -> None:
        assert not SharedFile.objects.filter(room_id=room_id).exists()
        assert files_in(file_dirs["media"]) == []
        assert files_in(file_dirs["temp"]) == []
        assert not Event.objects.filter(room_id=room_id, kind="file.shared").exists()

    return check
