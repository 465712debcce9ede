"""Only the two members see or touch a call; everyone else gets the 404 of a missing one."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine

from scheduling.models import Call

from .helpers import in_hours, slot

CALL_ACTIONS = [
    ("get", "/api/calls/{id}/", None),
    ("get", "/api/calls/{id}/ics/", None),
    ("post", "/api/calls/{id}/accept/", {"slot": 0}),
    ("post", "/api/calls/{id}/decline/", {}),
    ("post", "/api/calls/{id}/cancel/", {}),
    ("post", "/api/calls/{id}/reschedule/", {"slots": [slot(in_hours(60))]}),
]


@pytest.mark.parametrize("method, path, body", CALL_ACTIONS,
                         ids=[f"{m} {p}" for m, p, _ in CALL_ACTIONS])
def test_strangers_get_the_404_of_a_missing_call(method, path, body, stranger, make_user,
                                                 client_user, api_for, confirmed_call):
    call = confirmed_call()
    for outsider in (stranger, make_user("client")):
        api = api_for(outsider)
        theirs = getattr(api, method)(path.format(id=call["id"]), body, format="json")
        missing = getattr(api, method)(path.format(id=call["id"] + 1000), body, format="json")
        assert theirs.status_code == missing.status_code == 404
        assert theirs.json() == missing.json() == {"code": "call_not_found",
                                                   "detail": "No such call."}
    assert Call.objects.get(pk=call["id"]).state == "confirmed"
    assert Call.objects.count() == 1


def test_strangers_cannot_list_or_propose_calls_of_an_engagement(stranger, client_user,
                                                                 engagement, api_for,
                                                                 confirmed_call):
    confirmed_call()
    eid = engagement["id"]
    api = api_for(stranger)
    for response in (api.get(f"/api/engagements/{eid}/calls/"),
                     api.get(f"/api/engagements/{eid + 1000}/calls/"),
                     api.post(f"/api/engagements/{eid}/calls/",
                              {"slots": [slot(in_hours(30))]}, format="json")):
        assert response.status_code == 404
        assert response.json()["code"] == "room_not_found"
    assert api.get("/api/calls/upcoming/").json() == []
    assert Call.objects.count() == 1


@pytest.mark.parametrize("method, path", [
    ("get", "/api/engagements/1/calls/"), ("post", "/api/engagements/1/calls/"),
    ("get", "/api/calls/upcoming/"), ("get", "/api/calls/1/"), ("post", "/api/calls/1/accept/"),
    ("post", "/api/calls/1/decline/"), ("post", "/api/calls/1/cancel/"),
    ("post", "/api/calls/1/reschedule/"), ("get", "/api/calls/1/ics/"),
    ("get", "/api/me/calendar/"), ("post", "/api/me/calendar/rotate/"),
])
def test_anonymous_requests_are_401(method, path, api_for, db):
    assert getattr(api_for(None), method)(path).status_code == 401


def test_upcoming_lists_my_confirmed_calls_soonest_first(client_user, advisor_user, engagement,
                                                         second_engagement, api_for,
                                                         propose_call, accept_call,
                                                         confirmed_call):
    later = confirmed_call(hours=48)
    sooner = confirmed_call(hours=24)
    propose_call(client_user, engagement["id"], [slot(in_hours(30))])  # not confirmed
    dropped = confirmed_call(hours=36)
    api_for(advisor_user).post(f"/api/calls/{dropped['id']}/cancel/")
    other = second_engagement()
    elsewhere = accept_call(advisor_user, propose_call(other["client_user"], other["id"],
                                                       [slot(in_hours(12))])["id"])

    advisor = [c["id"] for c in api_for(advisor_user).get("/api/calls/upcoming/").json()]
    assert advisor == [elsewhere["id"], sooner["id"], later["id"]]
    client = [c["id"] for c in api_for(client_user).get("/api/calls/upcoming/").json()]
    assert client == [sooner["id"], later["id"]]
    assert [c["id"] for c in api_for(advisor_user).get("/api/calls/upcoming/?limit=1").json()
            ] == [elsewhere["id"]]
    assert api_for(advisor_user).get("/api/calls/upcoming/?limit=0").status_code == 400

    # A call in progress is still upcoming; one that ended is not.
    start = datetime.fromisoformat(sooner["start"])
    with time_machine.travel(start + timedelta(minutes=10)):
        ids = [c["id"] for c in api_for(client_user).get("/api/calls/upcoming/").json()]
        assert ids == [sooner["id"], later["id"]]
    with time_machine.travel(datetime.fromisoformat(sooner["end"]) + timedelta(seconds=1)):
        ids = [c["id"] for c in api_for(client_user).get("/api/calls/upcoming/").json()]
        assert ids == [later["id"]]


def test_members_list_every_call_of_their_engagement(client_user, advisor_user, engagement,
                                                     api_for, propose_call, confirmed_call):
    first = confirmed_call()
    second = propose_call(advisor_user, engagement["id"], [slot(in_hours(80))])
    for member in (client_user, advisor_user):
        listed = api_for(member).get(f"/api/engagements/{engagement['id']}/calls/").json()
        assert [c["id"] for c in listed] == [second["id"], first["id"]]  # newest first
    assert api_for(client_user).get(
        f"/api/engagements/{engagement['id']}/calls/?state=bogus").status_code == 400


def test_the_list_is_a_fixed_number_of_queries(client_user, engagement, api_for, propose_call,
                                               django_assert_max_num_queries):
    for n in range(5):
        propose_call(client_user, engagement["id"], [slot(in_hours(20 + n))])
    api = api_for(client_user)
    with django_assert_max_num_queries(5):
        assert len(api.get(f"/api/engagements/{engagement['id']}/calls/").json()) == 5


def test_staff_browse_calls_read_only_in_the_admin(admin_client, confirmed_call):
    call = confirmed_call()
    assert admin_client.get("/admin/scheduling/call/").status_code == 200
    page = admin_client.get(f"/admin/scheduling/call/{call['id']}/change/")
    assert page.status_code == 200
    assert b'name="state"' not in page.content  # read-only
    assert admin_client.get("/admin/scheduling/call/add/").status_code == 403
