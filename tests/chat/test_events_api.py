"""The room's event log over REST: after, limit, long-poll wait, and constant query cost."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat import services as chat_services


def _post_messages(room_id: int, sender, count: int, prefix: str = "m") -> None:
    for i in range(count):
        chat_services.send_message(room_id=room_id, sender=sender, body=f"hello {i}",
                                   client_id=f"{prefix}-{i}")


def _events_queries(api, room_id: int, limit: int) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        response = api.get(f"/api/engagements/{room_id}/events/?after=0&limit={limit}")
    assert response.status_code == 200
    return len(captured.captured_queries), len(response.json()["events"])


def test_events_cost_the_same_queries_for_10_and_500(client_user, advisor_user, engagement,
                                                     api_for):
    api = api_for(client_user)
    room_id = engagement["id"]
    _post_messages(room_id, advisor_user, 9)
    small = _events_queries(api, room_id, 1000)
    _post_messages(room_id, client_user, 490, prefix="bulk")
    large = _events_queries(api, room_id, 1000)
    assert small[1] == 10 and large[1] == 500
    assert small[0] == large[0]


def test_after_and_limit_page_through_the_log_in_order(client_user, advisor_user, engagement,
                                                       api_for):
    api = api_for(advisor_user)
    room_id = engagement["id"]
    _post_messages(room_id, client_user, 24)  # 25 events with the proposal
    seen: list[int] = []
    after = 0
    while True:
        page = api.get(f"/api/engagements/{room_id}/events/?after={after}&limit=10").json()
        seen += [e["seq"] for e in page["events"]]
        assert page["head"] == 25
        if not page["has_more"]:
            break
        after = page["events"][-1]["seq"]
    assert seen == list(range(1, 26))
    empty = api.get(f"/api/engagements/{room_id}/events/?after=25").json()
    assert empty == {"events": [], "head": 25, "has_more": False}


@pytest.mark.parametrize("query", ["after=-1", "limit=0", "after=x", "wait=-3"])
def test_bad_query_is_400(client_user, engagement, api_for, query):
    response = api_for(client_user).get(f"/api/engagements/{engagement['id']}/events/?{query}")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_event_shape(client_user, engagement, api_for):
    event = api_for(client_user).get(
        f"/api/engagements/{engagement['id']}/events/").json()["events"][0]
    assert set(event) == {"room", "seq", "kind", "actor", "at", "data"}
    assert event["room"] == engagement["id"]
    assert event["actor"] == engagement["advisor"]["id"]
    assert event["data"]["version"] == 1


@pytest.mark.django_db(transaction=True)
def test_long_poll_returns_when_an_event_arrives(client_user, advisor_user, engagement,
                                                 api_for):
    room_id = engagement["id"]

    def later() -> None:
        try:
            time.sleep(1.0)
            chat_services.send_message(room_id=room_id, sender=advisor_user, body="ping",
                                       client_id="late")
        finally:
            connection.close()

    thread = threading.Thread(target=later)
    started = time.monotonic()
    thread.start()
    response = api_for(client_user).get(f"/api/engagements/{room_id}/events/?after=1&wait=10")
    elapsed = time.monotonic() - started
    thread.join()
    assert [e["kind"] for e in response.json()["events"]] == ["message.created"]
    assert 0.9 < elapsed < 8


def test_unread_counts_events_by_others_after_the_read_marker(client_user, advisor_user,
                                                              engagement, api_for):
    room_id = engagement["id"]
    _post_messages(room_id, advisor_user, 3)
    _post_messages(room_id, client_user, 2, prefix="own")

    def unread() -> int:
        return api_for(client_user).get("/api/engagements/").json()[0]["unread"]

    assert unread() == 4  # the proposal and three messages; own messages never count
    response = api_for(client_user).post(f"/api/engagements/{room_id}/read/", {"seq": 3},
                                         format="json")
    assert response.json() == {"room": room_id, "seq": 3}
    assert unread() == 1  # seq 4, the advisor's third message
    # The marker never moves back, and cannot pass the head.
    api_for(client_user).post(f"/api/engagements/{room_id}/read/", {"seq": 1}, format="json")
    assert unread() == 1
    too_far = api_for(client_user).post(f"/api/engagements/{room_id}/read/", {"seq": 99},
                                        format="json")
    assert too_far.status_code == 400
    assert api_for(advisor_user).get("/api/engagements/").json()[0]["unread"] == 2
