"""The WebSocket protocol against a real daphne process: auth, join and replay, messages,
bad frames, typing, read markers, presence and notifications."""

from __future__ import annotations

import json

import pytest
from websockets.sync.client import connect

from tests.e2e.client import register, session_cookie, start_engagement


@pytest.fixture(scope="module")
def pair(live):
    client = register(live.url(), "client")
    advisor = register(live.url(), "advisor", skills=["strategy"])
    room = start_engagement(client, advisor)
    return client, advisor, room


# --- authentication ------------------------------------------------------------------------


def test_socket_without_credentials_is_closed_4401(live):
    ws = connect(f"{live.ws_url()}")
    from tests.e2e.client import Socket

    assert Socket(ws).close_code() == 4401


def test_ticket_is_single_use(live, pair):
    client, _, _ = pair
    ticket = client.ticket()
    from tests.e2e.client import Socket

    first = Socket(connect(f"{live.ws_url()}?ticket={ticket}"))
    first.send({"type": "ping"})
    assert first.of_type("pong")["type"] == "pong"
    second = Socket(connect(f"{live.ws_url()}?ticket={ticket}"))
    assert second.close_code() == 4401
    bogus = Socket(connect(f"{live.ws_url()}?ticket=not-a-ticket"))
    assert bogus.close_code() == 4401
    first.close()


def test_session_cookie_needs_an_allowed_origin(live, pair):
    from tests.e2e.client import Socket

    client, _, room = pair
    cookie = session_cookie(live.url(), client.username)
    headers = {"Cookie": f"sessionid={cookie}"}
    ours = Socket(connect(live.ws_url(), additional_headers=headers, origin=live.url()))
    assert [e["seq"] for e in ours.join(room)][:1] == [1]
    ours.close()
    hijack = Socket(connect(live.ws_url(), additional_headers=headers,
                            origin="http://evil.example"))
    assert hijack.close_code() == 4403
    no_origin = Socket(connect(live.ws_url(), additional_headers=headers))
    assert no_origin.close_code() == 4403


# --- join and replay -----------------------------------------------------------------------


def test_join_replays_after_then_streams_live(live):
    client = register(live.url(), "client")
    advisor = register(live.url(), "advisor")
    room = start_engagement(client, advisor)
    for i in range(5):
        client.http.post(f"/api/engagements/{room}/messages/",
                         json={"body": f"m{i}", "client_id": f"c{i}"})
    socket = client.socket()
    replay = socket.join(room, after=2)
    assert [e["seq"] for e in replay] == [3, 4, 5, 6]
    assert socket.frames[len(replay)] == {"type": "joined", "room": room, "seq": 6}
    advisor.http.post(f"/api/engagements/{room}/messages/", json={"body": "live",
                                                                  "client_id": "a1"})
    live_event = socket.of_type("event", room=room)
    assert (live_event["seq"], live_event["data"]["body"]) == (7, "live")
    socket.close()


def test_join_after_beyond_the_head_starts_from_the_head(live):
    client = register(live.url(), "client")
    advisor = register(live.url(), "advisor")
    room = start_engagement(client, advisor)
    socket = client.socket()
    assert socket.join(room, after=10**6) == []
    head = socket.frames[-1]
    assert head["type"] == "joined" and head["seq"] == 1  # the proposal
    advisor.post_message(room, "still arrives", "beyond-1")
    assert socket.of_type("event", room=room)["seq"] == 2
    socket.close()


def test_non_member_join_looks_like_a_missing_room(live, pair):
    _, _, room = pair
    stranger = register(live.url(), "advisor")
    socket = stranger.socket()
    socket.send({"type": "join", "room": room})
    theirs = socket.of_type("error")
    socket.send({"type": "join", "room": 10**9})
    missing = socket.of_type("error")
    assert theirs == missing | {"room": room}
    assert theirs["code"] == "room_not_found"
    socket.close()


# --- messages --------------------------------------------------------------------------------


def test_message_frame_acks_and_reaches_the_other_member_once(live):
    client = register(live.url(), "client")
    advisor = register(live.url(), "advisor")
    room = start_engagement(client, advisor)
    mine, theirs = client.socket(), advisor.socket()
    mine.join(room)
    theirs.join(room)
    mine.send({"type": "message", "room": room, "body": "Hola", "client_id": "x-1"})
    ack = mine.of_type("ack")
    assert ack == {"type": "ack", "client_id": "x-1", "seq": 2, "room": room}
    event = theirs.of_type("event", room=room)
    assert (event["seq"], event["kind"], event["data"]["body"]) == (2, "message.created", "Hola")
    # A resend with the same client_id returns the original seq and stores nothing new.
    mine.send({"type": "message", "room": room, "body": "Hola", "client_id": "x-1"})
    assert mine.of_type("ack")["seq"] == 2
    assert [e["seq"] for e in client.events(room)] == [1, 2]
    assert [e["seq"] for e in theirs.drain(0.5) if e["type"] == "event"] == []
    assert [e["seq"] for e in mine.events(room)] == [1, 2]
    mine.close()
    theirs.close()


def test_edit_and_delete_over_the_socket(live):
    client = register(live.url(), "client")
    advisor = register(live.url(), "advisor")
    room = start_engagement(client, advisor)
    socket = client.socket()
    socket.join(room)
    socket.send({"type": "message", "room": room, "body": "typo", "client_id": "e-1"})
    created = socket.of_type("event", kind="message.created")
    message_id = created["data"]["message_id"]
    socket.send({"type": "edit", "message": message_id, "body": "fixed"})
    edited = socket.of_type("event", kind="message.edited")
    assert edited["data"] == {"message_id": message_id, "body": "fixed"}
    other = advisor.socket()
    other.send({"type": "delete", "message": message_id})
    assert other.of_type("error")["code"] == "not_author"
    socket.send({"type": "delete", "message": message_id})
    socket.of_type("event", kind="message.deleted")
    # The tombstone: the text is gone from the whole log.
    log = advisor.events(room)
    assert "typo" not in json.dumps(log) and "fixed" not in json.dumps(log)
    assert log[1]["data"]["deleted"] is True
    socket.close()
    other.close()


# --- bad frames --------------------------------------------------------------------------------


BAD_FRAMES = [
    ("not json", "bad_json"),
    ("[1, 2]", "bad_frame"),
    ('{"type": "dance"}', "unknown_type"),
    ('{"room": 1}', "unknown_type"),
    ('{"type": "join"}', "missing_field"),
    ('{"type": "join", "room": "one"}', "invalid_field"),
    ('{"type": "join", "room": 1, "after": -5}', "invalid_field"),
    ('{"type": "message", "room": ROOM, "client_id": "b"}', "missing_field"),
    ('{"type": "message", "room": ROOM, "body": 5, "client_id": "b"}', "invalid_field"),
    ('{"type": "message", "room": ROOM, "body": "  ", "client_id": "b"}', "message_empty"),
    ('{"type": "message", "room": ROOM, "body": "LONG", "client_id": "b"}', "message_too_long"),
    ('{"type": "message", "room": ROOM, "body": "x", "client_id": ""}', "invalid_client_id"),
    ('{"type": "typing", "room": 999999999}', "not_joined"),
    ('{"type": "read", "room": ROOM, "seq": 99}', "seq_out_of_range"),
    ('{"type": "edit", "message": 999999999, "body": "x"}', "message_not_found"),
    ("HUGE", "frame_too_large"),
]


@pytest.mark.parametrize(("frame", "code"), BAD_FRAMES)
def test_bad_frames_get_an_error_and_store_nothing(live, pair, frame, code):
    client, _, room = pair
    before = client.events(room)
    socket = client.socket()
    frame = frame.replace("ROOM", str(room)).replace("LONG", "x" * 10_001)
    if frame == "HUGE":
        frame = json.dumps({"type": "message", "room": room, "client_id": "h",
                            "body": "x" * 200_000})
    socket.send(frame)
    error = socket.of_type("error")
    assert error["code"] == code, error
    # The socket stays usable, and the log is unchanged.
    socket.send({"type": "ping"})
    assert socket.of_type("pong")["type"] == "pong"
    assert client.events(room) == before
    socket.close()


def test_binary_frames_are_refused(live, pair):
    client, _, _ = pair
    socket = client.socket()
    socket.ws.send(b"\x00\x01")
    assert socket.of_type("error")["code"] == "bad_frame"
    socket.close()


def test_flood_is_rate_limited_and_the_socket_recovers(live, pair):
    client, _, room = pair
    before = client.events(room)
    socket = client.socket()
    for _ in range(80):
        socket.send({"type": "typing", "room": 999999999})
    codes = [socket.of_type("error")["code"] for _ in range(80)]
    assert "rate_limited" in codes
    assert codes.count("rate_limited") >= 80 - 40 - 5  # burst of 40, ~10/s refill
    import time

    time.sleep(1.0)
    socket.send({"type": "ping"})
    assert socket.of_type("pong")["type"] == "pong"
    assert client.events(room) == before
    socket.close()


# --- typing, read markers, presence, notifications -----------------------------------------


def test_typing_reaches_only_the_others_and_is_throttled(live):
    client = register(live.url(), "client")
    advisor = register(live.url(), "advisor")
    room = start_engagement(client, advisor)
    mine, theirs = client.socket(), advisor.socket()
    mine.join(room)
    theirs.join(room)
    mine.send({"type": "typing", "room": room})
    mine.send({"type": "typing", "room": room})
    assert theirs.of_type("typing") == {"type": "typing", "room": room, "user": client.id}
    assert [f for f in theirs.drain(0.6) if f["type"] == "typing"] == []
    assert [f for f in mine.drain(0.3) if f["type"] == "typing"] == []
    mine.close()
    theirs.close()


def test_read_marker_is_broadcast_and_counts_unread(live):
    client = register(live.url(), "client")
    advisor = register(live.url(), "advisor")
    room = start_engagement(client, advisor)
    for i in range(3):
        advisor.http.post(f"/api/engagements/{room}/messages/", json={"body": str(i),
                                                                      "client_id": str(i)})
    assert client.http.get("/api/engagements/").json()[0]["unread"] == 4
    mine, theirs = client.socket(), advisor.socket()
    mine.join(room)
    theirs.join(room)
    mine.send({"type": "read", "room": room, "seq": 3})
    assert theirs.of_type("read") == {"type": "read", "room": room, "user": client.id, "seq": 3}
    assert client.http.get("/api/engagements/").json()[0]["unread"] == 1
    mine.close()
    theirs.close()


def test_presence_of_the_other_party(live):
    client = register(live.url(), "client")
    advisor = register(live.url(), "advisor")
    room = start_engagement(client, advisor)
    mine = client.socket()
    mine.join(room)
    # On join, the state of the other member: not connected yet.
    assert mine.of_type("presence", user=advisor.id)["online"] is False
    theirs = advisor.socket()
    theirs.join(room)
    assert mine.of_type("presence", user=advisor.id)["online"] is True
    mine.send({"type": "ping"})
    assert advisor.id in mine.of_type("pong")["online"]
    theirs.close()
    assert mine.of_type("presence", user=advisor.id)["online"] is False
    mine.close()


def test_notifications_for_matching_requests_and_rooms_not_open(live):
    client = register(live.url(), "client")
    advisor = register(live.url(), "advisor", skills=["obscure-skill-x"])
    bystander = register(live.url(), "advisor", skills=["unrelated"])
    advisor_socket, bystander_socket = advisor.socket(), bystander.socket()
    client_socket = client.socket()
    project = client.http.post("/api/projects/", json={
        "title": "Niche", "description": "d", "skills": ["obscure-skill-x"]}).json()
    alert = advisor_socket.of_type("notify", event="project.posted")
    assert alert["project"] == project["id"] and alert["url"] and alert["title"]
    assert [f for f in bystander_socket.drain(0.5) if f["type"] == "notify"] == []
    # The client has not opened the new room on this socket: a proposal notifies.
    room = advisor.http.post(f"/api/projects/{project['id']}/proposals/", json={
        "fee_amount": "10.00", "fee_currency": "USD", "statement": "s", "estimated_days": 1,
        "included_revisions": 0}).json()["id"]
    note = client_socket.of_type("notify", event="proposal.submitted")
    assert note["room"] == room and note["url"] == f"/engagements/{room}/"
    # Once the room is open on the socket, its activity arrives as events, not notifies.
    client_socket.join(room)
    advisor.http.post(f"/api/engagements/{room}/messages/", json={"body": "hi",
                                                                  "client_id": "n1"})
    client_socket.of_type("event", kind="message.created")
    assert [f for f in client_socket.drain(0.5) if f["type"] == "notify"] == []
    for socket in (advisor_socket, bystander_socket, client_socket):
        socket.close()


def test_a_burst_in_a_room_not_open_notifies_at_once_and_then_with_the_latest(live):
    client = register(live.url(), "client")
    advisor = register(live.url(), "advisor", skills=["strategy"])
    room = start_engagement(client, advisor)
    client_socket = client.socket()  # the room is not open on it
    client_socket.drain(1.2)  # past the window of the proposal's own notification
    for i in range(6):
        advisor.post_message(room, f"burst {i}", f"burst-{i}")
    first = client_socket.of_type("notify", event="message.created")
    assert first["room"] == room and first["body"] == "burst 0"
    # The rest of the burst folds into one notification, sent when the window (1 s)
    # ends, carrying the latest message.
    later = [f for f in client_socket.drain(2.0) if f["type"] == "notify"]
    assert [(f["room"], f["body"]) for f in later] == [(room, "burst 5")]
    client_socket.close()
