"""Times are stored in UTC and shown in each reader's own zone; durations are true ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from icalendar import Calendar

from .helpers import slot


@pytest.fixture
def bogota(make_user):
    return make_user("client", timezone="America/Bogota", display_name="Beatriz Bogotá")


@pytest.fixture
def madrid(make_user):
    return make_user("advisor", timezone="Europe/Madrid", display_name="Mateo Madrid")


@pytest.fixture
def room(bogota, madrid, post_project, propose) -> int:
    return propose(madrid, post_project(bogota)["id"])["id"]


def _view(api_for, user, call_id: int) -> dict:
    return api_for(user).get(f"/api/calls/{call_id}/").json()


def test_bogota_proposes_madrid_sees_local_times(bogota, madrid, room, api_for, propose_call,
                                                 accept_call):
    with time_machine.travel(datetime(2027, 6, 1, tzinfo=UTC)):
        call = propose_call(bogota, room, [slot("2027-06-10T09:00:00-05:00", 60)])
        # Stored and written in UTC…
        assert call["slots"][0]["start"] == "2027-06-10T14:00:00Z"
        # …shown to Bogotá in Bogotá time…
        assert call["timezone"] == "America/Bogota"
        assert call["slots"][0]["local_start"] == "2027-06-10T09:00:00-05:00"
        # …and to Madrid in Madrid summer time.
        seen = _view(api_for, madrid, call["id"])
        assert seen["timezone"] == "Europe/Madrid"
        assert seen["slots"][0]["local_start"] == "2027-06-10T16:00:00+02:00"
        assert seen["slots"][0]["local_end"] == "2027-06-10T17:00:00+02:00"

        confirmed = accept_call(madrid, call["id"])
        assert confirmed["local_start"] == "2027-06-10T16:00:00+02:00"
        assert _view(api_for, bogota, call["id"])["local_end"] == "2027-06-10T10:00:00-05:00"

        # The same in each one's upcoming list.
        mine = api_for(bogota).get("/api/calls/upcoming/").json()
        theirs = api_for(madrid).get("/api/calls/upcoming/").json()
        assert [c["local_start"] for c in mine] == ["2027-06-10T09:00:00-05:00"]
        assert [c["local_start"] for c in theirs] == ["2027-06-10T16:00:00+02:00"]


def test_a_winter_time_in_madrid_has_the_winter_offset(bogota, madrid, room, api_for,
                                                       propose_call):
    with time_machine.travel(datetime(2027, 1, 1, tzinfo=UTC)):
        call = propose_call(bogota, room, [slot("2027-01-20T09:00:00-05:00", 30)])
        assert _view(api_for, madrid, call["id"])["slots"][0]["local_start"] == (
            "2027-01-20T15:00:00+01:00")


# Europe/Madrid moves its clocks on the last Sundays of March and October, at 01:00 UTC.
DST_CASES = {
    # 01:30 CET + 2 h of real time = 04:30 CEST (3 h on the wall clock).
    "spring forward": ("2027-03-28T01:30:00+01:00", "2027-03-28T00:30:00Z",
                       "2027-03-28T02:30:00Z", "2027-03-28T04:30:00+02:00"),
    # 01:30 CEST + 2 h of real time = 02:30 CET (1 h on the wall clock).
    "fall back": ("2027-10-31T01:30:00+02:00", "2027-10-30T23:30:00Z",
                  "2027-10-31T01:30:00Z", "2027-10-31T02:30:00+01:00"),
}


@pytest.mark.parametrize("start, utc_start, utc_end, madrid_end", DST_CASES.values(),
                         ids=DST_CASES.keys())
def test_a_slot_across_a_daylight_saving_change_keeps_its_true_duration(
        bogota, madrid, room, api_for, propose_call, accept_call, start, utc_start, utc_end,
        madrid_end):
    with time_machine.travel(datetime(2027, 3, 1, tzinfo=UTC)):
        call = propose_call(madrid, room, [slot(start, 120)])
        proposed = call["slots"][0]
        assert (proposed["start"], proposed["end"]) == (utc_start, utc_end)
        assert proposed["local_start"] == start
        assert proposed["local_end"] == madrid_end
        assert proposed["duration_minutes"] == 120
        local = [datetime.fromisoformat(proposed[k]) for k in ("local_start", "local_end")]
        assert local[1] - local[0] == timedelta(minutes=120)  # aware: the real length
        wall = local[1].replace(tzinfo=None) - local[0].replace(tzinfo=None)
        assert wall != timedelta(minutes=120)  # the wall clock says otherwise

        confirmed = accept_call(bogota, call["id"])
        assert confirmed["duration_minutes"] == 120
        # Bogotá has no daylight saving: its wall clock shows the true two hours.
        bogota_view = [datetime.fromisoformat(confirmed[k]) for k in ("local_start",
                                                                      "local_end")]
        assert bogota_view[1].replace(tzinfo=None) - bogota_view[0].replace(tzinfo=None) == (
            timedelta(hours=2))

        (event,) = Calendar.from_ical(
            api_for(madrid).get(confirmed["ics_url"]).content).walk("VEVENT")
        assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(hours=2)
        assert event.decoded("dtstart") == datetime.fromisoformat(utc_start)


def test_errors_name_times_in_the_callers_zone(bogota, room, api_for):
    with time_machine.travel(datetime(2027, 6, 10, 15, 0, tzinfo=UTC), tick=False):
        response = api_for(bogota).post(f"/api/engagements/{room}/calls/",
                                        {"slots": [slot("2027-06-10T14:00:00Z", 30)]},
                                        format="json")
    assert response.json()["code"] == "slot_in_past"
    assert "Thu 10 Jun 2027, 09:00–09:30 (America/Bogota)" in response.json()["detail"]


def test_any_offset_or_z_is_accepted(bogota, room, api_for, propose_call):
    with time_machine.travel(datetime(2027, 6, 1, tzinfo=UTC)):
        call = propose_call(bogota, room, [slot("2027-06-10T14:00:00Z", 30),
                                           slot("2027-06-11T23:30:00+09:30", 30)])
        assert [s["start"] for s in call["slots"]] == ["2027-06-10T14:00:00Z",
                                                       "2027-06-11T14:00:00Z"]
        # One instant written with two offsets is one slot twice.
        same = api_for(bogota).post(f"/api/engagements/{room}/calls/", {"slots": [
            slot("2027-06-12T14:00:00Z", 30), slot("2027-06-12T16:00:00+02:00", 30)]},
            format="json")
        assert same.json()["code"] == "slots_overlap"
