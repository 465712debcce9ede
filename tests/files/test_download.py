"""Downloading: an attachment with a safe name, never sniffed, resumable with Range."""

from __future__ import annotations

import pytest

from .conftest import body_of, pdf


@pytest.fixture
def document(client_user, engagement, shared) -> tuple[dict, bytes]:
    data = pdf(200_000)
    return shared(client_user, engagement["id"], "Q3 report.pdf", data), data


def test_download_headers(advisor_user, api_for, document):
    record, data = document
    response = api_for(advisor_user).get(record["download_url"])
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="Q3 report.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Length"] == str(len(data))
    assert response["Accept-Ranges"] == "bytes"
    assert response["ETag"] == f'"{record["sha256"]}"'
    assert "private" in response["Cache-Control"]
    assert "sandbox" in response["Content-Security-Policy"]
    assert body_of(response) == data


def test_text_is_served_as_utf8_text_yet_still_as_an_attachment(client_user, advisor_user,
                                                                 engagement, shared, api_for):
    record = shared(client_user, engagement["id"], "notes.md", "# Ñandú\n".encode())
    response = api_for(advisor_user).get(record["download_url"])
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    assert body_of(response).decode() == "# Ñandú\n"


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-9", 0, 9),
        ("bytes=100-", 100, 199_999),
        ("bytes=-500", 199_500, 199_999),
        ("bytes=199990-300000", 199_990, 199_999),
        ("bytes=-999999", 0, 199_999),
        ("bytes=65530-65545", 65_530, 65_545),  # across a chunk boundary
    ],
)
def test_a_single_range_is_206(advisor_user, api_for, document, header, start, end):
    record, data = document
    response = api_for(advisor_user).get(record["download_url"], HTTP_RANGE=header)
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {start}-{end}/{len(data)}"
    assert response["Content-Length"] == str(end - start + 1)
    assert body_of(response) == data[start:end + 1]


@pytest.mark.parametrize("header", ["bytes=200000-", "bytes=300000-300010", "bytes=-0"])
def test_an_unsatisfiable_range_is_416(advisor_user, api_for, document, header):
    record, data = document
    response = api_for(advisor_user).get(record["download_url"], HTTP_RANGE=header)
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(data)}"
    assert response.json()["code"] == "range_not_satisfiable"


@pytest.mark.parametrize("header", ["bytes=0-1,5-6", "items=0-5", "bytes=9-2", "nonsense",
                                    "bytes=-"])
def test_ranges_we_do_not_serve_get_the_whole_file(advisor_user, api_for, document, header):
    record, data = document
    response = api_for(advisor_user).get(record["download_url"], HTTP_RANGE=header)
    assert response.status_code == 200
    assert body_of(response) == data


def test_if_range_resumes_only_the_same_version(advisor_user, api_for, document):
    record, data = document
    api = api_for(advisor_user)
    same = api.get(record["download_url"], HTTP_RANGE="bytes=10-19",
                   HTTP_IF_RANGE=f'"{record["sha256"]}"')
    assert same.status_code == 206
    assert body_of(same) == data[10:20]
    changed = api.get(record["download_url"], HTTP_RANGE="bytes=10-19",
                      HTTP_IF_RANGE='"something-else"')
    assert changed.status_code == 200
    assert body_of(changed) == data


def test_if_none_match_is_304(advisor_user, api_for, document):
    record, _ = document
    response = api_for(advisor_user).get(record["download_url"],
                                         HTTP_IF_NONE_MATCH=f'"{record["sha256"]}"')
    assert response.status_code == 304
    assert response.content == b""


def test_any_accept_header_gets_the_file(advisor_user, api_for, document):
    record, data = document
    response = api_for(advisor_user).get(record["download_url"],
                                         HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200
    assert body_of(response) == data


def test_a_removed_file_is_gone(client_user, advisor_user, api_for, document):
    record, _ = document
    api_for(client_user).delete(f"/api/files/{record['id']}/")
    response = api_for(advisor_user).get(record["download_url"])
    assert response.status_code == 410
    assert response.json()["code"] == "file_removed"


def test_file_details(client_user, api_for, document):
    record, _ = document
    response = api_for(client_user).get(f"/api/files/{record['id']}/")
    assert response.status_code == 200
    assert response.json() == record


def test_under_asgi_the_file_streams_chunk_by_chunk(advisor_user, document):
    """Django gathers a synchronous streaming body into one list under ASGI; the download
    hands it an asynchronous one instead, so the file is never whole in memory."""
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient
    from rest_framework.authtoken.models import Token

    record, data = document
    token, _ = Token.objects.get_or_create(user=advisor_user)
    client = AsyncClient()

    async def fetch(**headers):
        response = await client.get(record["download_url"],
                                    headers={"Authorization": f"Token {token.key}", **headers})
        assert response.status_code in (200, 206), response.content
        return response, [chunk async for chunk in response.streaming_content]

    whole, chunks = async_to_sync(fetch)()
    assert whole.status_code == 200
    assert len(chunks) == 4  # 200 000 bytes in 64 KiB reads
    assert b"".join(chunks) == data
    part, chunks = async_to_sync(fetch)(Range="bytes=70000-70009")
    assert part.status_code == 206
    assert b"".join(chunks) == data[70_000:70_010]
