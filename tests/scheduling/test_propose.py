"""Proposing a call: one to five future, non-overlapping slots that clash with nobody."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from scheduling.models import Call

from .helpers import in_hours, slot, utc


def test_propose_records_the_event_and_both_members_see_it(client_user, advisor_user,
                                                           engagement, api_for, event_kinds):
    eid = engagement["id"]
    first, second = in_hours(24), in_hours(48)
    response = api_for(client_user).post(
        f"/api/engagements/{eid}/calls/",
        {"slots": [slot(first, 30), slot(second, 60)], "note": "Intro call"}, format="json")
    assert response.status_code == 201, response.json()
    call = response.json()
    assert call["state"] == "proposed"
    assert call["engagement"] == eid
    assert call["proposed_by"]["id"] == client_user.pk
    assert call["invitee"]["id"] == advisor_user.pk
    assert call["note"] == "Intro call"
    assert call["start"] is None and call["slot"] is None and call["ics_url"] is None
    assert [(s["index"], s["start"], s["end"], s["duration_minutes"]) for s in call["slots"]] == [
        (0, utc(first), utc(first + timedelta(minutes=30)), 30),
        (1, utc(second), utc(second + timedelta(minutes=60)), 60),
    ]

    assert event_kinds(advisor_user, eid) == ["proposal.submitted", "call.proposed"]
    event = api_for(advisor_user).get(f"/api/engagements/{eid}/events/?after=1").json()
    data = event["events"][0]["data"]
    assert event["events"][0]["actor"] == client_user.pk
    assert data["call"] == call["id"]
    assert data["note"] == "Intro call"
    assert data["replaces"] is None
    assert [s["start"] for s in data["slots"]] == [utc(first), utc(second)]

    listed = api_for(advisor_user).get(f"/api/engagements/{eid}/calls/").json()
    assert [c["id"] for c in listed] == [call["id"]]
    detail = api_for(advisor_user).get(f"/api/calls/{call['id']}/").json()
    assert detail["slots"] == call["slots"]


def test_advisor_proposes_too_and_after_the_hire(client_user, advisor_user, engagement,
                                                 api_for, propose_call):
    eid = engagement["id"]
    before = propose_call(advisor_user, eid, [slot(in_hours(5))])
    assert before["invitee"]["id"] == client_user.pk
    hired = api_for(client_user).post(f"/api/engagements/{eid}/hire/", {"version": 1},
                                      format="json")
    assert hired.status_code == 200
    working = propose_call(advisor_user, eid, [slot(in_hours(30))])
    assert working["state"] == "proposed"
    # Filter by state.
    listed = api_for(client_user).get(f"/api/engagements/{eid}/calls/?state=proposed").json()
    assert {c["id"] for c in listed} == {before["id"], working["id"]}
    assert api_for(client_user).get(f"/api/engagements/{eid}/calls/?state=confirmed").json() == []


def test_a_given_meeting_url_is_kept(client_user, engagement, propose_call):
    call = propose_call(client_user, engagement["id"], [slot(in_hours(3))],
                        meeting_url="https://zoom.example.com/j/123")
    assert call["meeting_url"] == "https://zoom.example.com/j/123"


def _overlapping() -> list[dict]:
    start = in_hours(24)
    return [slot(start, 60), slot(start + timedelta(minutes=30), 30)]


BAD_PROPOSALS = {
    "no slots": ({"slots": []}, "invalid_slot_count", "slots"),
    "six slots": ({"slots": [slot(in_hours(24 + 2 * n)) for n in range(6)]},
                  "invalid_slot_count", "slots"),
    "14 minutes": ({"slots": [slot(in_hours(24), 14)]}, "invalid_duration", "slots"),
    "241 minutes": ({"slots": [slot(in_hours(24), 241)]}, "invalid_duration", "slots"),
    "no offset": ({"slots": [slot("2031-05-04T09:00:00")]}, "start_without_offset", "slots"),
    "not a time": ({"slots": [slot("next tuesday")]}, "invalid", "slots"),
    "no duration": ({"slots": [{"start": "2031-05-04T09:00:00Z"}]}, "invalid", "slots"),
    "overlap": ({"slots": _overlapping()}, "slots_overlap", "slots"),
    "same slot twice": ({"slots": [slot(in_hours(24)), slot(in_hours(24))]},
                        "slots_overlap", "slots"),
    "script url": ({"slots": [slot(in_hours(24))], "meeting_url": "javascript:alert(1)"},
                   "invalid_meeting_url", "meeting_url"),
    "ftp url": ({"slots": [slot(in_hours(24))], "meeting_url": "ftp://example.com/x"},
                "invalid_meeting_url", "meeting_url"),
    "no slots key": ({"note": "hi"}, "invalid", "slots"),
}


@pytest.mark.parametrize("body, code, field", BAD_PROPOSALS.values(), ids=BAD_PROPOSALS.keys())
def test_bad_proposals_are_400_with_a_code(client_user, engagement, api_for, event_kinds, body,
                                           code, field):
    response = api_for(client_user).post(f"/api/engagements/{engagement['id']}/calls/", body,
                                         format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == code
    assert field in response.json()["fields"]
    assert response.json()["detail"]
    assert not Call.objects.exists()
    assert event_kinds(client_user, engagement["id"]) == ["proposal.submitted"]


def test_the_failing_slot_is_named_by_index(client_user, engagement, api_for):
    body = {"slots": [slot(in_hours(24)), slot(in_hours(48), 300)]}
    response = api_for(client_user).post(f"/api/engagements/{engagement['id']}/calls/", body,
                                         format="json")
    assert response.json()["fields"] == {
        "slots": {"1": {"duration_minutes": ["A call lasts 15 to 240 minutes."]}}}


def test_slots_in_the_past_are_refused(client_user, engagement, api_for):
    now = datetime(2031, 5, 4, 12, 0, tzinfo=UTC)
    url = f"/api/engagements/{engagement['id']}/calls/"
    with time_machine.travel(now, tick=False):
        past = api_for(client_user).post(url, {"slots": [slot(now - timedelta(minutes=1))]},
                                         format="json")
        exactly_now = api_for(client_user).post(url, {"slots": [slot(now)]}, format="json")
        mixed = api_for(client_user).post(
            url, {"slots": [slot(now + timedelta(hours=1)), slot(now - timedelta(days=1))]},
            format="json")
        future = api_for(client_user).post(url, {"slots": [slot(now + timedelta(minutes=1))]},
                                           format="json")
    for response in (past, exactly_now, mixed):
        assert response.status_code == 400
        assert response.json()["code"] == "slot_in_past"
        assert "in the past" in response.json()["detail"]
    assert list(mixed.json()["fields"]["slots"]) == ["1"]
    assert future.status_code == 201


def test_back_to_back_slots_are_fine(client_user, engagement, propose_call):
    start = in_hours(24)
    call = propose_call(client_user, engagement["id"],
                        [slot(start, 30), slot(start + timedelta(minutes=30), 30)])
    assert len(call["slots"]) == 2


def test_a_clash_with_the_proposers_other_call_names_the_time_not_the_engagement(
        client_user, advisor_user, engagement, second_engagement, api_for, propose_call,
        accept_call):
    other = second_engagement()
    start = in_hours(24)
    # The advisor has a confirmed call in the other engagement at that time.
    busy = propose_call(advisor_user, other["id"], [slot(start, 60)])
    accept_call(other["client_user"], busy["id"])

    response = api_for(advisor_user).post(
        f"/api/engagements/{engagement['id']}/calls/",
        {"slots": [slot(start + timedelta(hours=3)), slot(start + timedelta(minutes=30))]},
        format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "slot_clash"
    assert list(body["fields"]["slots"]) == ["1"]
    assert "you have" in body["detail"]
    # The time is named (in the advisor's own zone, UTC here)…
    local = (start + timedelta(minutes=30)).strftime("%H:%M")
    assert local in body["detail"] and "(UTC)" in body["detail"]
    # …never the other engagement, its client or its request.
    text = str(body)
    assert "confidential" not in text.lower()
    assert other["client_user"].display_name not in text
    assert set(body) == {"code", "detail", "fields"}


def test_a_clash_with_the_other_members_call_is_refused_too(
        client_user, advisor_user, engagement, second_engagement, api_for, propose_call,
        accept_call):
    other = second_engagement()
    start = in_hours(24)
    busy = propose_call(other["client_user"], other["id"], [slot(start, 60)])
    accept_call(advisor_user, busy["id"])

    response = api_for(client_user).post(f"/api/engagements/{engagement['id']}/calls/",
                                         {"slots": [slot(start, 30)]}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "slot_clash"
    assert "the other member has" in response.json()["detail"]

    # Right after it ends is free; a cancelled call blocks nobody.
    assert api_for(client_user).post(
        f"/api/engagements/{engagement['id']}/calls/",
        {"slots": [slot(start + timedelta(hours=1), 30)]}, format="json").status_code == 201
    api_for(advisor_user).post(f"/api/calls/{busy['id']}/cancel/")
    assert api_for(client_user).post(f"/api/engagements/{engagement['id']}/calls/",
                                     {"slots": [slot(start, 30)]},
                                     format="json").status_code == 201


def test_proposed_calls_do_not_block_each_other(client_user, engagement, propose_call):
    start = in_hours(24)
    propose_call(client_user, engagement["id"], [slot(start)])
    propose_call(client_user, engagement["id"], [slot(start)])


def test_no_calls_in_a_closed_room(client_user, advisor_user, engagement, api_for):
    eid = engagement["id"]
    api_for(advisor_user).post(f"/api/engagements/{eid}/withdraw/")
    response = api_for(client_user).post(f"/api/engagements/{eid}/calls/",
                                         {"slots": [slot(in_hours(24))]}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "room_closed"
