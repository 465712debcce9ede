"""Cancelling and rescheduling: events in the room, the old call kept as cancelled."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django_q.models import Schedule

from scheduling.models import Call

from .helpers import in_hours, slot, utc


def _events(api, eid: int, after: int = 0) -> list[dict]:
    return api.get(f"/api/engagements/{eid}/events/?after={after}").json()["events"]


@pytest.mark.parametrize("who", ["client", "advisor"])
def test_either_member_cancels_a_confirmed_call(who, client_user, advisor_user, engagement,
                                                api_for, confirmed_call, event_kinds):
    eid = engagement["id"]
    call = confirmed_call()
    assert Schedule.objects.filter(name__startswith=f"call-reminder-{call['id']}-").exists()
    actor = client_user if who == "client" else advisor_user

    response = api_for(actor).post(f"/api/calls/{call['id']}/cancel/",
                                   {"reason": "Something came up"}, format="json")
    assert response.status_code == 200
    cancelled = response.json()
    assert cancelled["state"] == "cancelled"
    assert cancelled["reason"] == "Something came up"
    assert cancelled["closed_by"] == actor.pk
    # It keeps the time it had, for calendars to show it struck through.
    assert cancelled["start"] == call["start"]
    # Its reminder is gone with it.
    assert not Schedule.objects.filter(name__startswith=f"call-reminder-{call['id']}-").exists()

    assert event_kinds(client_user, eid)[-1] == "call.cancelled"
    event = _events(api_for(advisor_user), eid)[-1]
    assert event["actor"] == actor.pk
    assert event["data"] == {"call": call["id"], "reason": "Something came up",
                             "automatic": False, "replaced_by": None, "start": call["start"],
                             "end": call["end"]}


def test_cancelling_twice_or_a_declined_call_is_409(client_user, advisor_user, engagement,
                                                     api_for, propose_call, confirmed_call):
    call = confirmed_call()
    assert api_for(client_user).post(f"/api/calls/{call['id']}/cancel/").status_code == 200
    again = api_for(advisor_user).post(f"/api/calls/{call['id']}/cancel/")
    assert again.status_code == 409
    assert again.json()["code"] == "wrong_state" and again.json()["state"] == "cancelled"

    declined = propose_call(client_user, engagement["id"], [slot(in_hours(50))])
    api_for(advisor_user).post(f"/api/calls/{declined['id']}/decline/")
    response = api_for(client_user).post(f"/api/calls/{declined['id']}/cancel/")
    assert response.status_code == 409
    assert response.json()["state"] == "declined"


def test_the_proposer_may_call_off_an_unanswered_proposal(client_user, advisor_user, engagement,
                                                          api_for, propose_call):
    call = propose_call(client_user, engagement["id"], [slot(in_hours(24))])
    response = api_for(client_user).post(f"/api/calls/{call['id']}/cancel/")
    assert response.status_code == 200
    assert response.json()["state"] == "cancelled"
    assert response.json()["start"] is None


def test_reschedule_replaces_a_confirmed_call(client_user, advisor_user, engagement, api_for,
                                              confirmed_call, event_kinds):
    eid = engagement["id"]
    old = confirmed_call(hours=24, minutes=60, note="Kick-off")
    # The new time overlaps the old one: the old call's own time is no clash.
    new_start = in_hours(24) + timedelta(minutes=30)
    response = api_for(advisor_user).post(
        f"/api/calls/{old['id']}/reschedule/",
        {"slots": [slot(new_start, 60), slot(in_hours(72), 60)]}, format="json")
    assert response.status_code == 201, response.json()
    new = response.json()
    assert new["id"] != old["id"]
    assert new["state"] == "proposed"
    assert new["replaces"] == old["id"]
    assert new["proposed_by"]["id"] == advisor_user.pk
    assert new["invitee"]["id"] == client_user.pk
    # Note and link carry over when not given.
    assert new["note"] == "Kick-off"
    assert new["meeting_url"] == old["meeting_url"]

    old_now = api_for(client_user).get(f"/api/calls/{old['id']}/").json()
    assert old_now["state"] == "cancelled"
    assert old_now["reason"] == "rescheduled"
    assert old_now["replaced_by"] == new["id"]

    assert event_kinds(client_user, eid)[-3:] == ["call.confirmed", "call.cancelled",
                                                  "call.proposed"]
    cancelled, proposed = _events(api_for(client_user), eid)[-2:]
    assert cancelled["data"]["replaced_by"] == new["id"]
    assert cancelled["data"]["call"] == old["id"]
    assert proposed["data"]["replaces"] == old["id"]
    assert proposed["data"]["slots"][0]["start"] == utc(new_start)

    # The client accepts the new time; the old call stays cancelled.
    accepted = api_for(client_user).post(f"/api/calls/{new['id']}/accept/", {"slot": 0},
                                         format="json")
    assert accepted.status_code == 200
    assert accepted.json()["start"] == utc(new_start)
    assert Call.objects.get(pk=old["id"]).state == "cancelled"


def test_the_invitee_answers_a_proposal_with_other_times(client_user, advisor_user,
                                                         engagement, api_for, propose_call):
    call = propose_call(client_user, engagement["id"], [slot(in_hours(24))])
    response = api_for(advisor_user).post(
        f"/api/calls/{call['id']}/reschedule/",
        {"slots": [slot(in_hours(30))], "note": "Later works better",
         "meeting_url": "https://zoom.example.com/j/1"}, format="json")
    assert response.status_code == 201
    counter = response.json()
    assert counter["note"] == "Later works better"
    assert counter["meeting_url"] == "https://zoom.example.com/j/1"
    # Now the original proposer is the one who accepts.
    refused = api_for(advisor_user).post(f"/api/calls/{counter['id']}/accept/", {"slot": 0},
                                         format="json")
    assert refused.status_code == 403
    assert api_for(client_user).post(f"/api/calls/{counter['id']}/accept/", {"slot": 0},
                                     format="json").status_code == 200


def test_bad_new_slots_leave_the_old_call_alone(client_user, advisor_user, engagement, api_for,
                                                confirmed_call, event_kinds):
    old = confirmed_call()
    kinds = event_kinds(client_user, engagement["id"])
    response = api_for(client_user).post(f"/api/calls/{old['id']}/reschedule/",
                                         {"slots": [slot(in_hours(30), 500)]}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_duration"
    assert Call.objects.get(pk=old["id"]).state == "confirmed"
    assert Call.objects.count() == 1
    assert event_kinds(client_user, engagement["id"]) == kinds
    assert Schedule.objects.filter(name__startswith=f"call-reminder-{old['id']}-").exists()


def test_rescheduling_a_finished_call_is_409(client_user, advisor_user, engagement, api_for,
                                             confirmed_call):
    old = confirmed_call()
    api_for(client_user).post(f"/api/calls/{old['id']}/cancel/")
    response = api_for(client_user).post(f"/api/calls/{old['id']}/reschedule/",
                                         {"slots": [slot(in_hours(30))]}, format="json")
    assert response.status_code == 409
    assert response.json()["state"] == "cancelled"


def test_no_changes_in_a_closed_room(client_user, advisor_user, engagement, api_for,
                                     confirmed_call):
    call = confirmed_call()
    api_for(advisor_user).post(f"/api/engagements/{engagement['id']}/withdraw/")
    for action, body in (("cancel", {}), ("reschedule", {"slots": [slot(in_hours(40))]})):
        response = api_for(client_user).post(f"/api/calls/{call['id']}/{action}/", body,
                                             format="json")
        assert response.status_code == 409
        assert response.json()["code"] == "room_closed"
