"""The .ics of a call and each user's private calendar feed, read back with icalendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from django.test import Client
from icalendar import Calendar

from .helpers import in_hours, slot


def _parse(response) -> Calendar:
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def _events(calendar: Calendar) -> list:
    return [component for component in calendar.walk("VEVENT")]


def test_propose_accept_event_and_ics_round_trip(client_user, advisor_user, engagement, api_for,
                                                 propose_call, event_kinds):
    eid = engagement["id"]
    start = in_hours(26)
    call = propose_call(client_user, eid, [slot(in_hours(20)), slot(start, 50)],
                        note="Agenda: pricing tiers")
    accepted = api_for(advisor_user).post(f"/api/calls/{call['id']}/accept/", {"slot": 1},
                                          format="json").json()
    assert event_kinds(client_user, eid)[-1] == "call.confirmed"

    for viewer in (client_user, advisor_user):
        detail = api_for(viewer).get(f"/api/calls/{call['id']}/").json()
        response = api_for(viewer).get(accepted["ics_url"])
        assert response.status_code == 200
        assert "attachment" in response["Content-Disposition"]
        text = response.content.decode()
        assert f"DTSTART:{start:%Y%m%dT%H%M%S}Z" in text  # written in UTC
        (event,) = _events(_parse(response))
        dtstart, dtend = event.decoded("dtstart"), event.decoded("dtend")
        assert dtstart == start and dtstart.utcoffset() == timedelta(0)
        assert dtend == start + timedelta(minutes=50) and dtend.utcoffset() == timedelta(0)
        assert str(event["summary"]) == detail["summary"]
        assert str(event["url"]) == accepted["meeting_url"]
        assert str(event["status"]) == "CONFIRMED"
        assert "Agenda: pricing tiers" in str(event["description"])
        assert f"/engagements/{eid}/" in str(event["description"])

    # Each side's summary names the other side and the request.
    client_view = api_for(client_user).get(f"/api/calls/{call['id']}/").json()["summary"]
    advisor_view = api_for(advisor_user).get(f"/api/calls/{call['id']}/").json()["summary"]
    assert client_view == "Call with Ada Advisor: Pricing strategy for a B2B SaaS"
    assert advisor_view == "Call with Carla Client: Pricing strategy for a B2B SaaS"


def test_ics_of_a_cancelled_call_says_cancelled(client_user, api_for, confirmed_call):
    call = confirmed_call()
    confirmed = _events(_parse(api_for(client_user).get(call["ics_url"])))[0]
    api_for(client_user).post(f"/api/calls/{call['id']}/cancel/")
    cancelled = _events(_parse(api_for(client_user).get(call["ics_url"])))[0]
    assert str(cancelled["status"]) == "CANCELLED"
    assert str(cancelled["uid"]) == str(confirmed["uid"])
    assert cancelled.decoded("sequence") > confirmed.decoded("sequence")
    assert cancelled.decoded("dtstart") == confirmed.decoded("dtstart")


def test_no_ics_for_a_call_without_a_time(client_user, engagement, api_for, propose_call):
    call = propose_call(client_user, engagement["id"], [slot(in_hours(24))])
    response = api_for(client_user).get(f"/api/calls/{call['id']}/ics/")
    assert response.status_code == 409
    assert response.json()["code"] == "call_not_scheduled"
    assert response.json()["state"] == "proposed"


def _feed(url: str):
    return Client().get(url)  # no session, no token: the URL is the credential


def test_the_private_feed_lists_my_confirmed_and_cancelled_calls(
        client_user, advisor_user, engagement, second_engagement, api_for, propose_call,
        accept_call, confirmed_call):
    kept = confirmed_call(hours=24)
    dropped = confirmed_call(hours=48)
    api_for(client_user).post(f"/api/calls/{dropped['id']}/cancel/")
    pending = propose_call(client_user, engagement["id"], [slot(in_hours(72))])
    other = second_engagement()
    elsewhere = propose_call(other["client_user"], other["id"], [slot(in_hours(96))])
    elsewhere = accept_call(advisor_user, elsewhere["id"])

    me = api_for(advisor_user).get("/api/me/calendar/")
    assert me.status_code == 200
    url = me.json()["url"]
    assert url.startswith("http://testserver/calendar/") and url.endswith(".ics")
    assert len(url.rsplit("/", 1)[1]) >= 40
    assert api_for(advisor_user).get("/api/me/calendar/").json()["url"] == url  # stable

    response = _feed(url)
    assert response.status_code == 200
    assert "private" in response["Cache-Control"]
    calendar = _parse(response)
    assert str(calendar["x-wr-calname"]) == "Engagement calls"
    by_start = {event.decoded("dtstart"): event for event in _events(calendar)}
    starts = {datetime.fromisoformat(c["start"]): c for c in (kept, dropped, elsewhere)}
    assert set(by_start) == set(starts)  # not the pending proposal
    assert pending["start"] is None
    assert str(by_start[datetime.fromisoformat(kept["start"])]["status"]) == "CONFIRMED"
    assert str(by_start[datetime.fromisoformat(dropped["start"])]["status"]) == "CANCELLED"
    assert "confidential" in str(by_start[datetime.fromisoformat(elsewhere["start"])]["summary"]
                                 ).lower()

    # The client's feed has only the client's calls.
    client_feed = _parse(_feed(api_for(client_user).get("/api/me/calendar/").json()["url"]))
    assert {e.decoded("dtstart") for e in _events(client_feed)} == {
        datetime.fromisoformat(kept["start"]), datetime.fromisoformat(dropped["start"])}


def test_rotating_revokes_the_old_url(advisor_user, api_for, confirmed_call):
    confirmed_call()
    old = api_for(advisor_user).get("/api/me/calendar/").json()["url"]
    rotated = api_for(advisor_user).post("/api/me/calendar/rotate/")
    assert rotated.status_code == 200
    new = rotated.json()["url"]
    assert new != old
    assert _feed(old).status_code == 404
    assert len(_events(_parse(_feed(new)))) == 1
    assert api_for(advisor_user).get("/api/me/calendar/").json()["url"] == new


def test_deleting_revokes_and_a_later_get_issues_a_new_url(advisor_user, api_for):
    old = api_for(advisor_user).get("/api/me/calendar/").json()["url"]
    assert api_for(advisor_user).delete("/api/me/calendar/").status_code == 204
    assert _feed(old).status_code == 404
    new = api_for(advisor_user).get("/api/me/calendar/").json()["url"]
    assert new != old and _feed(new).status_code == 200


def test_unknown_tokens_and_anonymous_api_calls_get_nothing(api_for, db):
    assert _feed("/calendar/not-a-real-token-at-all-0123456789abcdef.ics").status_code == 404
    assert _feed("/calendar/x.ics").status_code == 404
    assert api_for(None).get("/api/me/calendar/").status_code == 401
    assert api_for(None).post("/api/me/calendar/rotate/").status_code == 401


def test_old_calls_age_out_of_the_feed(settings, advisor_user, api_for, confirmed_call):
    settings.CALL_FEED_PAST_DAYS = 30
    call = confirmed_call()
    url = api_for(advisor_user).get("/api/me/calendar/").json()["url"]
    end = datetime.fromisoformat(call["end"])
    with time_machine.travel(end + timedelta(days=29)):
        assert len(_events(_parse(_feed(url)))) == 1
    with time_machine.travel(end + timedelta(days=31)):
        assert _events(_parse(_feed(url))) == []
    assert datetime.now(UTC) < end
