"""Every role against every files endpoint. Outsiders get the 404 a missing id gets, so
they learn nothing, not even that the room or the file exists."""

from __future__ import annotations

import pytest

from chat.models import Event
from files.models import SharedFile

from .conftest import multipart, pdf

ACTIONS = ["upload", "list", "detail", "download", "remove"]


@pytest.fixture
def cast(client_user, advisor_user, engagement, make_user, shared) -> dict:
    """The room's two members, outsiders of both roles, staff, and one file in the room
    shared by the client."""
    staff = make_user("client")
    staff.is_staff = True
    staff.save()
    return {
        "client": client_user,
        "advisor": advisor_user,
        "other_client": make_user("client"),
        "other_advisor": make_user("advisor"),
        "staff": staff,
        "room": engagement["id"],
        "file": shared(client_user, engagement["id"], "brief.pdf", pdf()),
    }


def _call(api, action: str, room_id: int, file_id: int):
    if action == "upload":
        body, content_type = multipart([("file", "x.pdf", pdf())])
        return api.generic("POST", f"/api/engagements/{room_id}/files/", body,
                           content_type=content_type)
    if action == "list":
        return api.get(f"/api/engagements/{room_id}/files/")
    if action == "detail":
        return api.get(f"/api/files/{file_id}/")
    if action == "download":
        return api.get(f"/api/files/{file_id}/download/")
    return api.delete(f"/api/files/{file_id}/")


EXPECTED = {
    # role: status per action
    "client": {"upload": 201, "list": 200, "detail": 200, "download": 200, "remove": 200},
    "advisor": {"upload": 201, "list": 200, "detail": 200, "download": 200, "remove": 403},
    "other_client": dict.fromkeys(ACTIONS, 404),
    "other_advisor": dict.fromkeys(ACTIONS, 404),
    "staff": dict.fromkeys(ACTIONS, 404),  # staff read disputes in the admin, not here
    "anonymous": dict.fromkeys(ACTIONS, 401),
}


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("role", list(EXPECTED))
def test_every_role_against_every_action(cast, api_for, role, action):
    user = None if role == "anonymous" else cast[role]
    events_before = Event.objects.filter(room_id=cast["room"]).count()
    files_before = list(SharedFile.objects.values_list("id", "removed_at"))

    response = _call(api_for(user), action, cast["room"], cast["file"]["id"])
    assert response.status_code == EXPECTED[role][action], getattr(response, "data", None)

    if response.status_code >= 400:
        body = response.json()
        assert set(body) >= {"code", "detail"}
        # A refusal changes nothing.
        assert Event.objects.filter(room_id=cast["room"]).count() == events_before
        assert list(SharedFile.objects.values_list("id", "removed_at")) == files_before
    if response.status_code == 404:
        # Exactly what a room or file that does not exist answers.
        missing = _call(api_for(user), action, 999_999, 999_999)
        assert missing.status_code == 404
        assert missing.json() == response.json()
        assert "brief" not in response.content.decode()


def test_an_outsider_upload_is_refused_before_its_body_is_read(cast, api_for):
    body, content_type = multipart([("file", "x.pdf", pdf(1000))])
    # The payload claims more than is there: reading it would fail the test client.
    response = api_for(cast["other_advisor"]).generic(
        "POST", f"/api/engagements/{cast['room']}/files/", body,
        content_type=content_type, CONTENT_LENGTH=str(len(body) + 10_000))
    assert response.status_code == 404


def test_membership_of_another_room_opens_nothing_here(cast, api_for, post_project, propose):
    # The other advisor has a room of their own with the same client.
    own = propose(cast["other_advisor"], post_project(cast["client"])["id"])
    api = api_for(cast["other_advisor"])
    assert api.get(f"/api/engagements/{own['id']}/files/").status_code == 200
    assert api.get(f"/api/files/{cast['file']['id']}/download/").status_code == 404
