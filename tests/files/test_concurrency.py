"""Twenty uploads to one room at once: all stored, versions and events in order, no 500.

In-process threads need PostgreSQL: pytest-django's SQLite test database is a shared-cache
memory database, where a second writer gets "table is locked" at once instead of waiting
(no busy timeout applies). SQLite as the project runs it (a file in WAL mode, writers
queueing for up to 20 s) is exercised by the second test, against two real daphne
processes sharing one database; that one runs on PostgreSQL too.
"""

from __future__ import annotations

import hashlib
import threading

import pytest
from django.db import connection

from chat.models import Event
from files.models import SharedFile

from .conftest import files_in, multipart, pdf


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_uploads_to_one_room(postgres, client_user, advisor_user, engagement,
                                               api_for, file_dirs):
    eid = engagement["id"]
    payloads = [pdf(50_000 + i) for i in range(20)]
    members = [client_user, advisor_user]
    barrier = threading.Barrier(len(payloads))
    results: list[tuple[int, int, dict]] = []
    lock = threading.Lock()

    def attempt(index: int) -> None:
        api = api_for(members[index % 2])
        # Half share the same name (versions must not collide), half their own.
        name = "plan.pdf" if index % 2 == 0 else f"part-{index}.pdf"
        body, content_type = multipart([("file", name, payloads[index])])
        try:
            barrier.wait(timeout=30)
            response = api.generic("POST", f"/api/engagements/{eid}/files/", body,
                                   content_type=content_type)
            with lock:
                results.append((index, response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(payloads))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)

    assert sorted(status for _, status, _ in results) == [201] * 20, results
    for index, _, body in results:
        assert body["sha256"] == hashlib.sha256(payloads[index]).hexdigest()
        assert body["size"] == len(payloads[index])

    rows = list(SharedFile.objects.filter(room_id=eid).order_by("pk"))
    assert len(rows) == 20
    assert len(files_in(file_dirs["media"])) == 20
    assert sorted(r.version for r in rows if r.name == "plan.pdf") == list(range(1, 11))
    assert {r.version for r in rows if r.name != "plan.pdf"} == {1}

    # One event per file, seqs gapless, in the order the files were committed.
    events = list(Event.objects.filter(room_id=eid).order_by("seq"))
    assert [e.seq for e in events] == list(range(1, 22))
    shared = [e for e in events if e.kind == "file.shared"]
    assert [e.data["file"]["id"] for e in shared] == [r.pk for r in rows]
    plan_versions = [e.data["file"]["version"] for e in shared
                     if e.data["file"]["name"] == "plan.pdf"]
    assert plan_versions == list(range(1, 11))


@pytest.mark.e2e
def test_twenty_concurrent_uploads_on_real_servers():
    import httpx

    from tests.e2e.stack import running_stack

    password = "a-long-enough-Pa55word"
    with running_stack() as stack:
        bases = [stack.start_daphne(), stack.start_daphne()]

        def member(username: str, role: str, **extra) -> httpx.Client:
            response = httpx.post(f"{bases[0]}/api/auth/register/", json={
                "username": username, "password": password, "email": f"{username}@example.com",
                "role": role, "display_name": username.title(), **extra}, timeout=30)
            assert response.status_code == 201, response.text
            return {"Authorization": f"Token {response.json()['token']}"}

        client, advisor = member("carla", "client"), member("ada", "advisor", skills=["x"])
        project = httpx.post(f"{bases[0]}/api/projects/", headers=client, timeout=30, json={
            "title": "Pricing", "description": "Help", "skills": ["x"]}).json()
        eid = httpx.post(f"{bases[0]}/api/projects/{project['id']}/proposals/", headers=advisor,
                         timeout=30, json={"fee_amount": "900.00", "fee_currency": "EUR",
                                           "statement": "Plan", "estimated_days": 3,
                                           "included_revisions": 0}).json()["id"]

        payloads = [pdf(200_000 + i) for i in range(20)]
        barrier = threading.Barrier(len(payloads))
        results: list[tuple[int, int, dict]] = []
        lock = threading.Lock()

        def attempt(index: int) -> None:
            headers = client if index % 2 == 0 else advisor
            barrier.wait(timeout=30)
            response = httpx.post(f"{bases[index % 2]}/api/engagements/{eid}/files/",
                                  headers=headers, timeout=60,
                                  files={"file": ("plan.pdf", payloads[index])})
            with lock:
                results.append((index, response.status_code, response.json()))

        threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(payloads))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

        assert sorted(status for _, status, _ in results) == [201] * 20, (
            results, stack.log_text())
        assert sorted(body["version"] for _, _, body in results) == list(range(1, 21))
        events = httpx.get(f"{bases[1]}/api/engagements/{eid}/events/?limit=100",
                           headers=client, timeout=30).json()["events"]
        assert [e["seq"] for e in events] == list(range(1, 22))
        versions = [e["data"]["file"]["version"] for e in events if e["kind"] == "file.shared"]
        assert versions == list(range(1, 21))
        # Every file comes back as it went in, from either server.
        for index, _, body in results:
            download = httpx.get(f"{bases[index % 2 - 1]}{body['download_url']}",
                                 headers=advisor, timeout=30)
            assert hashlib.sha256(download.content).hexdigest() == body["sha256"]
            assert download.content == payloads[index]
