"""Sharing a file: what is stored, what is refused, and that a refusal leaves nothing."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from django.test import override_settings

from chat.models import Event, Room
from files.models import SharedFile

from .conftest import HTML, SVG, body_of, docx, exe, files_in, multipart, pdf, png, zipped


def _events(room_id: int, kind: str) -> list[Event]:
    return list(Event.objects.filter(room_id=room_id, kind=kind).order_by("seq"))


def test_upload_stores_the_bytes_under_a_random_key_and_tells_the_room(
        client_user, advisor_user, engagement, upload, api_for, file_dirs):
    data = pdf(10_000)
    response = upload(client_user, engagement["id"], "Brief.pdf", data,
                      HTTP_X_IGNORED="x")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body | {"id": 0, "created_at": "", "download_url": ""} == {
        "id": 0, "room": engagement["id"], "name": "Brief.pdf", "version": 1, "size": 10_000,
        "sha256": hashlib.sha256(data).hexdigest(), "content_type": "application/pdf",
        "uploader": {"id": client_user.pk, "display_name": "Carla Client", "role": "client",
                     "timezone": "UTC"},
        "created_at": "", "removed": False, "removed_at": None, "removed_by": None,
        "download_url": "",
    }
    assert body["download_url"] == f"/api/files/{body['id']}/download/"

    stored = SharedFile.objects.get(pk=body["id"])
    on_disk = files_in(file_dirs["media"])
    assert len(on_disk) == 1
    assert on_disk[0].read_bytes() == data
    # The key is random and says nothing of the name.
    assert "brief" not in stored.storage_key.lower()
    assert on_disk[0] == Path(file_dirs["media"], stored.storage_key)
    assert oct(on_disk[0].stat().st_mode & 0o777) == oct(0o600)
    # The temp file the upload streamed into was moved, not left behind.
    assert files_in(file_dirs["temp"]) == []

    (event,) = _events(engagement["id"], "file.shared")
    assert event.actor_id == client_user.pk
    assert event.data == {"file": {"id": body["id"], "name": "Brief.pdf", "version": 1,
                                   "size": 10_000, "content_type": "application/pdf"}}
    # The advisor sees it in the room's log.
    log = api_for(advisor_user).get(f"/api/engagements/{engagement['id']}/events/").json()
    assert log["events"][-1]["kind"] == "file.shared"


@pytest.mark.parametrize("size", [1, 64 * 1024 + 1, 1024 * 1024])
def test_bytes_out_equal_bytes_in(client_user, advisor_user, engagement, shared, api_for,
                                  size):
    data = pdf(size) if size > 64 else b"x"
    name = "notes.pdf" if size > 64 else "x.txt"
    record = shared(client_user, engagement["id"], name, data)
    downloaded = body_of(api_for(advisor_user).get(record["download_url"]))
    assert hashlib.sha256(downloaded).hexdigest() == record["sha256"]
    assert downloaded == data


def test_a_file_of_exactly_the_default_limit_goes_through_whole(
        client_user, advisor_user, engagement, shared, api_for, settings):
    assert settings.FILES_MAX_BYTES == 25 * 1024 * 1024
    data = pdf(settings.FILES_MAX_BYTES)
    record = shared(client_user, engagement["id"], "big.pdf", data)
    assert record["size"] == settings.FILES_MAX_BYTES
    downloaded = body_of(api_for(advisor_user).get(record["download_url"]))
    assert hashlib.sha256(downloaded).hexdigest() == hashlib.sha256(data).hexdigest()


def test_one_byte_over_the_limit_is_413_and_nothing_is_kept(
        client_user, engagement, upload, settings, nothing_stored):
    settings.FILES_MAX_BYTES = 100 * 1024
    assert upload(client_user, engagement["id"], "ok.pdf",
                  pdf(100 * 1024)).status_code == 201
    SharedFile.objects.all().delete()
    for path in files_in(Path(settings.MEDIA_ROOT)):
        path.unlink()
    Event.objects.filter(kind="file.shared").delete()

    response = upload(client_user, engagement["id"], "big.pdf", pdf(100 * 1024 + 1))
    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    assert response.json()["max_bytes"] == 100 * 1024
    nothing_stored(engagement["id"])


def test_a_body_announced_too_big_is_refused_without_being_read(
        client_user, engagement, api_for, settings, nothing_stored):
    settings.FILES_MAX_BYTES = 1024 * 1024
    body, content_type = multipart([("file", "huge.pdf", pdf(1000))])
    # The body claims 30 MiB; the test client's payload asserts if anyone reads past the
    # thousand-odd bytes really there, so a 413 here means nobody tried.
    response = api_for(client_user).generic(
        "POST", f"/api/engagements/{engagement['id']}/files/", body,
        content_type=content_type, CONTENT_LENGTH=str(30 * 1024 * 1024))
    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    nothing_stored(engagement["id"])


def test_an_empty_file_is_refused(client_user, engagement, upload, nothing_stored):
    response = upload(client_user, engagement["id"], "empty.pdf", b"")
    assert response.status_code == 400
    assert response.json()["code"] == "file_empty"
    nothing_stored(engagement["id"])


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("setup.exe", exe(), "unsupported_type"),
        # An executable dressed as a PDF.
        ("invoice.pdf", exe(), "unsupported_type"),
        ("tool.pdf", b"\x7fELF\x02\x01\x01\x00" + os.urandom(200), "unsupported_type"),
        ("page.html", HTML, "unsupported_type"),
        ("page.txt", HTML, "unsupported_type"),
        ("notes.md", b"# Notes\n\n<script>fetch('/api/me/')</script>\n", "unsupported_type"),
        ("logo.svg", SVG, "unsupported_type"),
        ("logo.png", SVG, "unsupported_type"),
        ("plain.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>',
         "unsupported_type"),
        ("script.sh", b"#!/bin/sh\necho hi\n", "unsupported_type"),
        ("latin1.txt", "caf\xe9 cr\xe8me".encode("latin-1"), "unsupported_type"),
        ("blob.bin", os.urandom(4096), "unsupported_type"),
        # Real content, wrong name.
        ("photo.pdf", png(), "type_mismatch"),
        ("report.docx", pdf(), "type_mismatch"),
        ("report.txt", pdf(), "type_mismatch"),
        ("data.csv", docx(), "type_mismatch"),
        ("readme.pdf", b"just text\n", "type_mismatch"),
        ("noextension", pdf(), "type_mismatch"),
    ],
)
def test_wrong_and_disguised_types_are_refused_with_a_code(
        client_user, engagement, upload, nothing_stored, name, data, code):
    response = upload(client_user, engagement["id"], name, data)
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["code"] == code
    assert body["fields"]["file"]
    assert name in body["detail"] or "cannot be shared" in body["detail"]
    nothing_stored(engagement["id"])


def test_a_disguised_executable_says_what_it_really_is(client_user, engagement, upload):
    body = upload(client_user, engagement["id"], "invoice.pdf", exe()).json()
    assert "Windows executable" in body["detail"]
    assert body["detected"] == "application/x-msdownload"


def test_a_mismatch_names_both_sides(client_user, engagement, upload):
    body = upload(client_user, engagement["id"], "photo.pdf", png()).json()
    assert body["detail"] == ("photo.pdf is named .pdf but its content is a PNG image; "
                              "rename it to .png or share the right file.")
    assert body["detected"] == "image/png"


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("deck.png", png(), "image/png"),
        ("Plan.DOCX", docx(), "application/vnd.openxmlformats-officedocument"
                              ".wordprocessingml.document"),
        ("bundle.zip", zipped([("a.txt", b"a")]), "application/zip"),
        ("figures.csv", b"month,revenue\n2026-01,100\n", "text/csv; charset=utf-8"),
        ("README.md", "# Plan\n\nÜber <a href='x'>link</a> ✓\n".encode(),
         "text/markdown; charset=utf-8"),
        ("notes.txt", "\ufeffcafé\n".encode(), "text/plain; charset=utf-8"),
    ],
)
def test_accepted_types_are_stored_with_the_type_their_bytes_show(
        client_user, engagement, shared, name, data, content_type):
    assert shared(client_user, engagement["id"], name, data)["content_type"] == content_type


def test_the_clients_content_type_claim_is_ignored(client_user, engagement, api_for):
    boundary = "b0undary"
    data = pdf()
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"a.pdf\"\r\nContent-Type: text/html\r\n\r\n").encode() + data + (
        f"\r\n--{boundary}--\r\n").encode()
    response = api_for(client_user).generic(
        "POST", f"/api/engagements/{engagement['id']}/files/", body,
        content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 201
    assert response.json()["content_type"] == "application/pdf"


def test_a_missing_file_field_is_400(client_user, engagement, api_for, nothing_stored):
    url = f"/api/engagements/{engagement['id']}/files/"
    api = api_for(client_user)
    for response in (
        api.post(url, {"note": "no file"}, format="multipart"),
        api.post(url, {}, format="multipart"),
        api.generic("POST", url, *multipart([("document", "a.pdf", pdf())])[:1],
                    content_type=multipart([])[1]),
    ):
        assert response.status_code == 400, response.json()
        assert response.json()["code"] in {"file_missing", "one_file_per_request"}
    assert api.post(url, {}, format="multipart").json()["code"] == "file_missing"
    nothing_stored(engagement["id"])


def test_two_files_in_one_request_are_refused(client_user, engagement, api_for,
                                              nothing_stored):
    body, content_type = multipart([("file", "a.pdf", pdf()), ("file", "b.pdf", pdf())])
    response = api_for(client_user).generic(
        "POST", f"/api/engagements/{engagement['id']}/files/", body, content_type=content_type)
    assert response.status_code == 400
    assert response.json()["code"] == "one_file_per_request"
    nothing_stored(engagement["id"])


def test_json_instead_of_multipart_is_refused(client_user, engagement, api_for):
    response = api_for(client_user).post(f"/api/engagements/{engagement['id']}/files/",
                                         {"file": "aGVsbG8="}, format="json")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


# --- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../x.txt", "x.txt"),
        ("..\\..\\windows\\system32\\evil.txt", "evil.txt"),
        ("/etc/passwd.txt", "passwd.txt"),
        (" . .hidden.txt", "hidden.txt"),
        (".htaccess.txt", "htaccess.txt"),
        ("CON.txt", "_CON.txt"),
        ("a<b>c:d|e?f*.txt", "a_b_c_d_e_f_.txt"),
        # A right-to-left override would show this as "rapportexe.txt".
        ("rapport\u202etxt.exe.txt", "rapporttxt.exe.txt"),
        ("tab\there\x07.txt", "tabhere.txt"),
    ],
)
def test_names_with_path_parts_and_tricks_are_stored_and_served_safely(
        client_user, advisor_user, engagement, shared, api_for, file_dirs, given, kept):
    record = shared(client_user, engagement["id"], given, b"content\n")
    assert record["name"] == kept
    on_disk = files_in(file_dirs["media"])
    assert len(on_disk) == 1 and on_disk[0].is_relative_to(file_dirs["media"])
    assert kept not in str(on_disk[0])
    response = api_for(advisor_user).get(record["download_url"])
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    assert "/" not in disposition.split("filename=")[1].split(";")[0]
    assert "\\" not in disposition and "\r" not in disposition and "\n" not in disposition


def test_unicode_names_round_trip_through_the_download_header(
        client_user, advisor_user, engagement, shared, api_for):
    name = "Informe financiero — Año 2026 «final» 東京.pdf"
    record = shared(client_user, engagement["id"], name)
    assert record["name"] == name
    response = api_for(advisor_user).get(record["download_url"])
    assert response["Content-Disposition"] == (
        'attachment; filename="Informe financiero  Ano 2026 final .pdf"; '
        "filename*=UTF-8''Informe%20financiero%20%E2%80%94%20A%C3%B1o%202026%20%C2%ABfinal"
        "%C2%BB%20%E6%9D%B1%E4%BA%AC.pdf"
    )


def test_very_long_names_are_cut_keeping_the_extension(client_user, advisor_user, engagement,
                                                        shared, api_for):
    name = "é" * 300 + ".pdf"
    record = shared(client_user, engagement["id"], name)
    assert len(record["name"]) == 255
    assert record["name"].endswith("é.pdf")
    response = api_for(advisor_user).get(record["download_url"])
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith("%C3%A9.pdf")


def test_an_absurd_extension_is_refused_cleanly_not_with_a_500(client_user, engagement, upload,
                                                nothing_stored):
    response = upload(client_user, engagement["id"], "report." + "x" * 300, pdf())
    assert response.status_code == 400
    assert response.json()["code"] == "type_mismatch"
    nothing_stored(engagement["id"])


# --- versions, rooms, limits -----------------------------------------------------------------


def test_the_same_name_again_is_a_new_version_and_the_room_shows_the_history(
        client_user, advisor_user, engagement, shared, api_for):
    eid = engagement["id"]
    first = shared(client_user, eid, "Plan.pdf", pdf(1000))
    other = shared(advisor_user, eid, "notes.txt", b"notes\n")
    second = shared(advisor_user, eid, "plan.PDF", pdf(2000))
    assert (first["version"], other["version"], second["version"]) == (1, 1, 2)

    listing = api_for(client_user).get(f"/api/engagements/{eid}/files/").json()
    assert [(f["name"], f["version"], f["latest"]) for f in listing] == [
        ("plan.PDF", 2, True), ("Plan.pdf", 1, False), ("notes.txt", 1, True),
    ]
    assert listing[0]["uploader"]["id"] == advisor_user.pk
    shared_events = Event.objects.filter(room_id=eid, kind="file.shared").order_by("seq")
    assert [e.data["file"]["version"] for e in shared_events] == [1, 1, 2]


def test_uploads_into_a_closed_room_are_409(client_user, advisor_user, engagement, upload,
                                            api_for, nothing_stored):
    api_for(client_user).post(f"/api/engagements/{engagement['id']}/decline/", {},
                              format="json")
    response = upload(advisor_user, engagement["id"], "late.pdf", pdf())
    assert response.status_code == 409
    assert response.json() | {"detail": ""} == {"code": "room_closed", "state": "closed",
                                                "detail": ""}
    nothing_stored(engagement["id"])


@pytest.mark.parametrize("state_action", ["hire", "deliver"])
def test_uploads_work_in_every_open_state(client_user, advisor_user, engagement, api_for,
                                          shared, state_action):
    eid = engagement["id"]
    api_for(client_user).post(f"/api/engagements/{eid}/hire/", {"version": 1}, format="json")
    if state_action == "deliver":
        api_for(advisor_user).post(f"/api/engagements/{eid}/deliver/", {"note": "done"},
                                   format="json")
    shared(client_user, eid, "feedback.txt", b"looks good\n")


def test_a_full_room_refuses_more_files(client_user, engagement, shared, upload, settings,
                                        api_for):
    settings.FILES_MAX_PER_ROOM = 2
    eid = engagement["id"]
    first = shared(client_user, eid, "a.txt", b"a\n")
    shared(client_user, eid, "b.txt", b"b\n")
    response = upload(client_user, eid, "c.txt", b"c\n")
    assert response.status_code == 409
    assert response.json()["code"] == "too_many_files"
    assert response.json()["state"] == "full"
    # Removing one makes room.
    api_for(client_user).delete(f"/api/files/{first['id']}/")
    shared(client_user, eid, "c.txt", b"c\n")


def test_a_failed_commit_deletes_the_stored_bytes(client_user, engagement, upload, monkeypatch,
                                                  nothing_stored):
    from chat import events

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(events, "record", broken)
    with pytest.raises(RuntimeError):
        upload(client_user, engagement["id"], "plan.pdf", pdf())
    nothing_stored(engagement["id"])
    assert Room.objects.get(pk=engagement["id"]).head_seq == 1


@override_settings(FILES_ALLOWED_TYPES=["pdf"])
def test_allowed_types_are_a_setting(client_user, engagement, upload, shared):
    shared(client_user, engagement["id"], "a.pdf", pdf())
    response = upload(client_user, engagement["id"], "a.png", png())
    assert response.status_code == 400
    assert response.json()["code"] == "unsupported_type"
    assert "Accepted: .pdf" in response.json()["detail"]


def test_browser_uploads_with_session_and_csrf_get_the_same_checks(client_user, engagement,
                                                                   settings, nothing_stored):
    """Session auth's CSRF check reads the form before the view runs; the streaming
    handler is already in place then, so the limit holds there too."""
    from django.middleware.csrf import _get_new_csrf_string
    from rest_framework.test import APIClient

    settings.FILES_MAX_BYTES = 50 * 1024
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(client_user)
    secret = _get_new_csrf_string()
    browser.cookies["csrftoken"] = secret
    url = f"/api/engagements/{engagement['id']}/files/"

    body, content_type = multipart([("file", "big.pdf", pdf(60 * 1024))])
    refused = browser.generic("POST", url, body, content_type=content_type,
                              HTTP_X_CSRFTOKEN=secret)
    assert refused.status_code == 413
    assert refused.json()["code"] == "file_too_large"
    nothing_stored(engagement["id"])

    body, content_type = multipart([("file", "small.pdf", pdf(10 * 1024))])
    no_token = browser.generic("POST", url, body, content_type=content_type)
    assert no_token.status_code == 403
    accepted = browser.generic("POST", url, body, content_type=content_type,
                               HTTP_X_CSRFTOKEN=secret)
    assert accepted.status_code == 201, accepted.json()
