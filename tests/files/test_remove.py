"""Removing a file: the uploader only; the bytes go, the record says so."""

from __future__ import annotations

from chat.models import Event
from files.models import SharedFile

from .conftest import files_in, pdf


def test_the_uploader_removes_a_file(client_user, advisor_user, engagement, shared, api_for,
                                     file_dirs, django_capture_on_commit_callbacks):
    eid = engagement["id"]
    record = shared(client_user, eid, "draft.pdf", pdf())
    keep = shared(client_user, eid, "keep.pdf", pdf())
    assert len(files_in(file_dirs["media"])) == 2

    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(client_user).delete(f"/api/files/{record['id']}/")
    assert response.status_code == 200
    body = response.json()
    assert body["removed"] is True
    assert body["removed_by"] == client_user.pk
    assert body["removed_at"] is not None
    assert body["download_url"] is None

    # The bytes are gone; the other file's are not.
    remaining = files_in(file_dirs["media"])
    assert [p.name for p in remaining] == [
        SharedFile.objects.get(pk=keep["id"]).storage_key.rsplit("/", 1)[1]]
    # The record stays, and says so, in the listing too.
    listing = api_for(advisor_user).get(f"/api/engagements/{eid}/files/").json()
    removed = next(f for f in listing if f["id"] == record["id"])
    assert removed["removed"] is True and removed["latest"] is False

    event = Event.objects.filter(room_id=eid).order_by("-seq").first()
    assert event.kind == "file.removed"
    assert event.actor_id == client_user.pk
    assert event.data == {"file": {"id": record["id"], "name": "draft.pdf", "version": 1}}


def test_removing_the_newest_version_leaves_the_older_one_latest(
        client_user, engagement, shared, api_for):
    eid = engagement["id"]
    first = shared(client_user, eid, "plan.pdf")
    second = shared(client_user, eid, "plan.pdf")
    api_for(client_user).delete(f"/api/files/{second['id']}/")
    listing = api_for(client_user).get(f"/api/engagements/{eid}/files/").json()
    assert [(f["id"], f["latest"], f["removed"]) for f in listing] == [
        (second["id"], False, True), (first["id"], True, False)]
    # A new upload continues the numbering.
    assert shared(client_user, eid, "plan.pdf")["version"] == 3


def test_only_the_uploader_may_remove(client_user, advisor_user, engagement, shared, api_for,
                                      file_dirs):
    record = shared(client_user, engagement["id"])
    response = api_for(advisor_user).delete(f"/api/files/{record['id']}/")
    assert response.status_code == 403
    assert response.json()["code"] == "not_uploader"
    assert SharedFile.objects.get(pk=record["id"]).removed_at is None
    assert len(files_in(file_dirs["media"])) == 1


def test_removing_twice_is_409(client_user, engagement, shared, api_for):
    record = shared(client_user, engagement["id"])
    api = api_for(client_user)
    assert api.delete(f"/api/files/{record['id']}/").status_code == 200
    again = api.delete(f"/api/files/{record['id']}/")
    assert again.status_code == 409
    assert again.json()["code"] == "file_removed"
    assert again.json()["state"] == "removed"
    assert Event.objects.filter(kind="file.removed").count() == 1


def test_a_file_can_be_taken_back_after_the_room_closes(client_user, advisor_user, engagement,
                                                       shared, api_for):
    record = shared(advisor_user, engagement["id"], "proposal-detail.pdf")
    api_for(client_user).post(f"/api/engagements/{engagement['id']}/decline/", {},
                              format="json")
    response = api_for(advisor_user).delete(f"/api/files/{record['id']}/")
    assert response.status_code == 200
    assert response.json()["removed"] is True


def test_a_rolled_back_removal_keeps_the_bytes(client_user, engagement, shared, file_dirs,
                                               monkeypatch, api_for,
                                               django_capture_on_commit_callbacks):
    from chat import events

    record = shared(client_user, engagement["id"])

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(events, "record", broken)
    import pytest

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        api_for(client_user).delete(f"/api/files/{record['id']}/")
    assert SharedFile.objects.get(pk=record["id"]).removed_at is None
    assert len(files_in(file_dirs["media"])) == 1
