"""The same documents on S3-compatible storage (django-storages), against moto's S3.

Runs where the `s3` extra and moto are installed; the rest of the suite covers the
local storage the embedded default uses.
"""

from __future__ import annotations

import hashlib

import pytest

from .conftest import body_of, pdf

pytest.importorskip("storages")
moto = pytest.importorskip("moto")


@pytest.fixture
def bucket(settings, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with moto.mock_aws():
        import boto3

        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="documents")
        settings.STORAGES = {**settings.STORAGES, "files": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {"bucket_name": "documents", "location": "files",
                        "default_acl": "private", "file_overwrite": False,
                        "max_memory_size": 2 * 1024 * 1024}}}
        yield s3


def _keys(s3) -> list[str]:
    return [item["Key"] for item in s3.list_objects_v2(Bucket="documents").get("Contents", [])]


def test_upload_ranged_download_and_removal_on_s3(bucket, client_user, advisor_user, engagement,
                                                  shared, upload, api_for,
                                                  django_capture_on_commit_callbacks):
    data = pdf(300_000)
    record = shared(client_user, engagement["id"], "report.pdf", data)
    (key,) = _keys(bucket)
    assert key.startswith(f"files/rooms/{engagement['id']}/") and "report" not in key

    api = api_for(advisor_user)
    whole = api.get(record["download_url"])
    assert hashlib.sha256(body_of(whole)).hexdigest() == record["sha256"]
    part = api.get(record["download_url"], HTTP_RANGE="bytes=100000-100099")
    assert part.status_code == 206
    assert body_of(part) == data[100_000:100_100]

    # A refused upload leaves no object behind.
    assert upload(client_user, engagement["id"], "x.pdf", b"MZ" + b"\0" * 100).status_code == 400
    assert _keys(bucket) == [key]

    with django_capture_on_commit_callbacks(execute=True):
        assert api_for(client_user).delete(f"/api/files/{record['id']}/").status_code == 200
    assert _keys(bucket) == []
