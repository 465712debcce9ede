"""A delivery lists files shared in the room; they stay while it is under review."""

from __future__ import annotations

import pytest

from chat.models import Event
from deals.models import Delivery, Engagement

from .conftest import pdf


def _deliver(api, eid: int, files: list[int], note: str = "Here it is"):
    return api.post(f"/api/engagements/{eid}/deliver/", {"note": note, "files": files},
                    format="json")


def test_the_delivery_event_lists_its_files(client_user, advisor_user, hired, shared, api_for):
    eid = hired["id"]
    report = shared(advisor_user, eid, "Final report.pdf", pdf(3000))
    model = shared(advisor_user, eid, "model.csv", b"a,b\n1,2\n")
    response = _deliver(api_for(advisor_user), eid, [model["id"], report["id"], model["id"]])
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "delivered"
    assert response.json()["deliveries"][0]["files"] == [model["id"], report["id"]]
    assert Delivery.objects.get(engagement_id=eid).file_ids == [model["id"], report["id"]]

    event = Event.objects.filter(room_id=eid, kind="engagement.delivered").get()
    assert event.data["files"] == [
        {"id": model["id"], "name": "model.csv", "size": 8,
         "content_type": "text/csv; charset=utf-8"},
        {"id": report["id"], "name": "Final report.pdf", "size": 3000,
         "content_type": "application/pdf"},
    ]


def test_a_delivery_without_files_still_works(advisor_user, hired, api_for):
    response = _deliver(api_for(advisor_user), hired["id"], [])
    assert response.status_code == 200
    event = Event.objects.get(room_id=hired["id"], kind="engagement.delivered")
    assert event.data["files"] == []


def test_files_that_are_not_the_advisors_in_this_room_are_refused(
        client_user, advisor_user, hired, shared, api_for, make_user, post_project, propose):
    eid = hired["id"]
    mine = shared(advisor_user, eid, "mine.pdf")
    clients = shared(client_user, eid, "brief.pdf")
    removed = shared(advisor_user, eid, "old.pdf")
    api_for(advisor_user).delete(f"/api/files/{removed['id']}/")
    # The same advisor's file in another engagement's room.
    other_client = make_user("client")
    other = propose(advisor_user, post_project(other_client)["id"])
    elsewhere = shared(advisor_user, other["id"], "elsewhere.pdf")

    api = api_for(advisor_user)
    for bad in (clients["id"], removed["id"], elsewhere["id"], 999_999):
        response = _deliver(api, eid, [mine["id"], bad])
        assert response.status_code == 400, response.json()
        assert response.json()["code"] == "invalid_files"
        assert response.json()["invalid"] == [bad]
        assert response.json()["fields"]["files"]
    # Nothing happened.
    assert Engagement.objects.get(pk=eid).state == "active"
    assert not Delivery.objects.filter(engagement_id=eid).exists()
    assert not Event.objects.filter(room_id=eid, kind="engagement.delivered").exists()


def test_delivered_files_cannot_be_removed_while_under_review(client_user, advisor_user, hired,
                                                             shared, api_for):
    eid = hired["id"]
    report = shared(advisor_user, eid, "report.pdf")
    scratch = shared(advisor_user, eid, "scratch.pdf")
    _deliver(api_for(advisor_user), eid, [report["id"]])

    refused = api_for(advisor_user).delete(f"/api/files/{report['id']}/")
    assert refused.status_code == 409
    assert refused.json()["code"] == "file_in_review"
    assert refused.json()["state"] == "delivered"
    # A file the delivery does not list may go.
    assert api_for(advisor_user).delete(f"/api/files/{scratch['id']}/").status_code == 200

    # Once the client asks for a revision, the delivery is answered: the file may go.
    api_for(client_user).post(f"/api/engagements/{eid}/request-revision/", {"note": "more"},
                              format="json")
    assert api_for(advisor_user).delete(f"/api/files/{report['id']}/").status_code == 200


@pytest.mark.parametrize(("answer", "body", "removable"), [
    ("approve", {}, True),
    ("reject", {"reason": "Not what we agreed"}, False),  # a dispute keeps the evidence
])
def test_the_hold_after_the_answer(client_user, advisor_user, hired, shared, api_for, answer,
                                   body, removable):
    eid = hired["id"]
    report = shared(advisor_user, eid, "report.pdf")
    _deliver(api_for(advisor_user), eid, [report["id"]])
    api_for(client_user).post(f"/api/engagements/{eid}/{answer}/", body, format="json")
    response = api_for(advisor_user).delete(f"/api/files/{report['id']}/")
    if removable:
        assert response.status_code == 200
    else:
        assert response.status_code == 409
        assert response.json() | {"detail": ""} == {
            "code": "file_in_review", "state": "disputed", "detail": ""}


def test_a_redelivery_holds_its_own_files(client_user, advisor_user, hired, shared, api_for):
    eid = hired["id"]
    draft = shared(advisor_user, eid, "draft.pdf")
    final = shared(advisor_user, eid, "final.pdf")
    _deliver(api_for(advisor_user), eid, [draft["id"]])
    api_for(client_user).post(f"/api/engagements/{eid}/request-revision/", {"note": "more"},
                              format="json")
    _deliver(api_for(advisor_user), eid, [final["id"]])
    assert api_for(advisor_user).delete(f"/api/files/{draft['id']}/").status_code == 200
    assert api_for(advisor_user).delete(f"/api/files/{final['id']}/").status_code == 409


def test_the_client_can_download_the_deliverables(client_user, advisor_user, hired, shared,
                                                  api_for):
    from .conftest import body_of

    data = pdf(4096)
    report = shared(advisor_user, hired["id"], "report.pdf", data)
    _deliver(api_for(advisor_user), hired["id"], [report["id"]])
    event = api_for(client_user).get(f"/api/engagements/{hired['id']}/events/").json()
    files = event["events"][-1]["data"]["files"]
    response = api_for(client_user).get(f"/api/files/{files[0]['id']}/download/")
    assert body_of(response) == data
