"""Accepting and declining: only the invitee, only once, never double-booking anyone."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from scheduling.models import Call

from .helpers import in_hours, slot, utc

JITSI = re.compile(r"^https://meet\.jit\.si/engagement-[A-Za-z0-9_-]{24}$")


def test_accept_confirms_the_chosen_slot_with_a_generated_link(
        client_user, advisor_user, engagement, api_for, propose_call, event_kinds):
    eid = engagement["id"]
    first, second = in_hours(24), in_hours(48)
    call = propose_call(client_user, eid, [slot(first, 30), slot(second, 90)])

    response = api_for(advisor_user).post(f"/api/calls/{call['id']}/accept/", {"slot": 1},
                                          format="json")
    assert response.status_code == 200, response.json()
    confirmed = response.json()
    assert confirmed["state"] == "confirmed"
    assert confirmed["slot"] == 1
    assert confirmed["start"] == utc(second)
    assert confirmed["end"] == utc(second + timedelta(minutes=90))
    assert confirmed["duration_minutes"] == 90
    assert JITSI.match(confirmed["meeting_url"]), confirmed["meeting_url"]
    assert confirmed["ics_url"] == f"/api/calls/{call['id']}/ics/"
    assert confirmed["confirmed_at"]

    assert event_kinds(client_user, eid)[-2:] == ["call.proposed", "call.confirmed"]
    event = api_for(client_user).get(f"/api/engagements/{eid}/events/?after=2").json()
    assert event["events"][0]["actor"] == advisor_user.pk
    assert event["events"][0]["data"] == {
        "call": call["id"], "slot": 1, "index": 1, "start": utc(second),
        "end": utc(second + timedelta(minutes=90)), "duration_minutes": 90,
        "meeting_url": confirmed["meeting_url"],
    }


def test_every_call_gets_its_own_unguessable_link(client_user, advisor_user, engagement,
                                                  confirmed_call):
    links = {confirmed_call(hours=10 + n)["meeting_url"] for n in range(3)}
    assert len(links) == 3


def test_the_link_template_is_a_setting(settings, confirmed_call):
    settings.CALL_MEETING_URL_TEMPLATE = "https://video.example.org/rooms/{token}?lang=en"
    url = confirmed_call()["meeting_url"]
    assert re.match(r"^https://video\.example\.org/rooms/[A-Za-z0-9_-]{24}\?lang=en$", url)


def test_the_proposers_link_is_kept(confirmed_call):
    assert confirmed_call(meeting_url="https://zoom.example.com/j/9")["meeting_url"] == (
        "https://zoom.example.com/j/9")


def test_accepting_twice_is_409(advisor_user, api_for, confirmed_call):
    call = confirmed_call()
    again = api_for(advisor_user).post(f"/api/calls/{call['id']}/accept/", {"slot": 0},
                                       format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "wrong_state"
    assert again.json()["state"] == "confirmed"


def test_accepting_a_cancelled_call_is_409(client_user, advisor_user, engagement, api_for,
                                           propose_call):
    call = propose_call(client_user, engagement["id"], [slot(in_hours(24))])
    assert api_for(client_user).post(f"/api/calls/{call['id']}/cancel/").status_code == 200
    response = api_for(advisor_user).post(f"/api/calls/{call['id']}/accept/", {"slot": 0},
                                          format="json")
    assert response.status_code == 409
    assert response.json() | {"detail": ""} == {"code": "wrong_state", "state": "cancelled",
                                                 "detail": ""}


def test_only_the_invitee_accepts_or_declines(client_user, engagement, api_for, propose_call):
    call = propose_call(client_user, engagement["id"], [slot(in_hours(24))])
    for action, body in (("accept", {"slot": 0}), ("decline", {})):
        response = api_for(client_user).post(f"/api/calls/{call['id']}/{action}/", body,
                                             format="json")
        assert response.status_code == 403
        assert response.json()["code"] == "not_invitee"
    assert Call.objects.get(pk=call["id"]).state == "proposed"


@pytest.mark.parametrize("index, code", [(2, "invalid_slot"), (-1, "invalid_slot"),
                                         (99999999999, "invalid_slot"), ("first", "invalid"),
                                         (None, "invalid")])
def test_accepting_a_slot_the_call_lacks_is_400(client_user, advisor_user, engagement, api_for,
                                                propose_call, index, code):
    call = propose_call(client_user, engagement["id"], [slot(in_hours(24)), slot(in_hours(30))])
    response = api_for(advisor_user).post(f"/api/calls/{call['id']}/accept/", {"slot": index},
                                          format="json")
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert "slot" in response.json()["fields"]


def test_decline(client_user, advisor_user, engagement, api_for, propose_call, event_kinds):
    eid = engagement["id"]
    call = propose_call(client_user, eid, [slot(in_hours(24))])
    response = api_for(advisor_user).post(f"/api/calls/{call['id']}/decline/",
                                          {"reason": "Busy that week"}, format="json")
    assert response.status_code == 200
    assert response.json()["state"] == "declined"
    assert response.json()["reason"] == "Busy that week"
    assert event_kinds(client_user, eid)[-1] == "call.declined"
    last = api_for(client_user).get(f"/api/engagements/{eid}/events/?after=2").json()["events"]
    assert last[0]["data"] == {"call": call["id"], "reason": "Busy that week"}

    for action, body in (("decline", {}), ("accept", {"slot": 0})):
        again = api_for(advisor_user).post(f"/api/calls/{call['id']}/{action}/", body,
                                           format="json")
        assert again.status_code == 409
        assert again.json()["state"] == "declined"


def test_a_slot_taken_meanwhile_is_409_on_accept(client_user, advisor_user, engagement,
                                                 second_engagement, api_for, propose_call,
                                                 accept_call):
    other = second_engagement()
    start = in_hours(24)
    mine = propose_call(client_user, engagement["id"], [slot(start, 60)])
    theirs = propose_call(other["client_user"], other["id"], [slot(start + timedelta(minutes=30))])
    accept_call(advisor_user, theirs["id"])

    response = api_for(advisor_user).post(f"/api/calls/{mine['id']}/accept/", {"slot": 0},
                                          format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "slot_clash"
    assert "confidential" not in response.json()["detail"].lower()
    assert Call.objects.get(pk=mine["id"]).state == "proposed"


def test_a_slot_that_has_passed_is_409_on_accept(client_user, advisor_user, engagement,
                                                 api_for, propose_call):
    start = in_hours(24)
    call = propose_call(client_user, engagement["id"], [slot(start)])
    with time_machine.travel(start + timedelta(minutes=1)):
        response = api_for(advisor_user).post(f"/api/calls/{call['id']}/accept/", {"slot": 0},
                                              format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "slot_in_past"


def test_no_accepting_in_a_closed_room(client_user, advisor_user, engagement, api_for,
                                       propose_call):
    call = propose_call(advisor_user, engagement["id"], [slot(in_hours(24))])
    api_for(client_user).post(f"/api/engagements/{engagement['id']}/decline/")
    response = api_for(client_user).post(f"/api/calls/{call['id']}/accept/", {"slot": 0},
                                         format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "room_closed"


@pytest.mark.django_db(transaction=True)
def test_concurrent_accepts_never_double_book(postgres, make_user, post_project, propose,
                                              api_for):
    """An advisor proposes the same hour to several clients; they all accept at once. The
    advisor's row lock lets exactly one through per hour."""
    advisor = make_user("advisor")
    clients = [make_user("client") for _ in range(6)]
    engagements = [propose(advisor, post_project(client)["id"])["id"] for client in clients]
    base = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=2)
    calls = []
    for n, (client, eid) in enumerate(zip(clients, engagements, strict=True)):
        # Pairs of overlapping slots: clients 0,1 at hour 0; 2,3 at hour 2; 4,5 at hour 4.
        start = base + timedelta(hours=2 * (n // 2), minutes=15 * (n % 2))
        response = api_for(advisor).post(f"/api/engagements/{eid}/calls/",
                                          {"slots": [slot(start, 60)]}, format="json")
        assert response.status_code == 201
        calls.append((client, response.json()["id"]))

    apis = [(api_for(client), call_id) for client, call_id in calls]
    barrier = threading.Barrier(len(apis))
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def attempt(api, call_id: int) -> None:
        try:
            barrier.wait(timeout=30)
            response = api.post(f"/api/calls/{call_id}/accept/", {"slot": 0}, format="json")
            with lock:
                statuses[call_id] = response.status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=pair) for pair in apis]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    ids = [call_id for _, call_id in calls]
    for pair in (ids[0:2], ids[2:4], ids[4:6]):
        assert sorted(statuses[call_id] for call_id in pair) == [200, 409]
    confirmed = Call.objects.filter(state="confirmed").order_by("start_at")
    assert confirmed.count() == 3
    spans = [(c.start_at, c.end_at) for c in confirmed]
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))


def _post_at_once(barrier: threading.Barrier, statuses: list[int], n: int, api, path: str,
                  body: dict) -> None:
    try:
        barrier.wait(timeout=30)
        statuses[n] = api.post(path, body, format="json").status_code
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_accept_racing_a_reschedule_and_messages_never_deadlocks(postgres, make_user,
                                                                 post_project, propose,
                                                                 api_for):
    """The invitee accepts while the proposer reschedules the same call and both chat in
    the room: one order or the other wins cleanly, never a deadlock or a 500."""
    client, advisor = make_user("client"), make_user("advisor")
    eid = propose(advisor, post_project(client)["id"])["id"]
    client_api, advisor_api = api_for(client), api_for(advisor)
    base = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=3)

    for round_ in range(8):
        start = base + timedelta(hours=2 * round_)
        call_id = advisor_api.post(f"/api/engagements/{eid}/calls/",
                                   {"slots": [slot(start, 30)]}, format="json").json()["id"]
        steps = [
            (client_api, f"/api/calls/{call_id}/accept/", {"slot": 0}),
            (advisor_api, f"/api/calls/{call_id}/reschedule/",
             {"slots": [slot(start + timedelta(minutes=45), 30)]}),
            (client_api, f"/api/engagements/{eid}/messages/",
             {"body": "on my way", "client_id": f"c{round_}"}),
            (advisor_api, f"/api/engagements/{eid}/messages/",
             {"body": "see you", "client_id": f"a{round_}"}),
        ]
        barrier = threading.Barrier(len(steps))
        statuses: list[int] = [0] * len(steps)

        threads = [threading.Thread(target=_post_at_once, args=(barrier, statuses, n, *step))
                   for n, step in enumerate(steps)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        accept, reschedule, *messages = statuses
        assert accept in (200, 409) and reschedule == 201 and messages == [201, 201], statuses
        assert Call.objects.get(pk=call_id).state == "cancelled"  # replaced either way
