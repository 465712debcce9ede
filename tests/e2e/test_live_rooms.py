"""The live-room guarantees (DESIGN.md §3) against real servers: daphne processes in
subprocesses, sharing PostgreSQL and Redis where the test needs them.

Every event reaches every joined socket in seq order exactly once, across processes,
across a reconnect, when the channel layer drops pushes, after a long idle, when a
separate worker process records it; and a storm of sockets opens and closes cleanly.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import HAVE_REDIS, needs_postgres, needs_redis

from .client import Member, Socket, register, start_engagement
from .stack import running_stack

pytestmark = pytest.mark.e2e


def _wire(event: dict) -> dict:
    """An event frame as the REST log shows it."""
    return {k: v for k, v in event.items() if k != "type"}


def _seqs(events: list[dict]) -> list[int]:
    return [e["seq"] for e in events]


def _in_threads(*targets: Callable[[], None], timeout: float = 60) -> None:
    """Run the callables concurrently; re-raise the first failure."""
    errors: list[BaseException] = []

    def guard(target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except BaseException as exc:  # noqa: BLE001 (re-raised in the test thread)
                errors.append(exc)
        return run

    threads = [threading.Thread(target=guard(t), daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), "a sender thread hung"
    if errors:
        raise errors[0]


def _assert_exactly_the_log(socket: Socket, room: int, log: list[dict]) -> None:
    """The socket received the room's whole log: in order, once each, equal to REST."""
    assert socket.wait_for_seq(room, log[-1]["seq"], timeout=20), (
        f"missing events: got {_seqs(socket.events(room))[-5:]}, head {log[-1]['seq']}")
    socket.drain(0.5)  # anything sent twice would show up now
    got = socket.events(room)
    assert _seqs(got) == list(range(1, len(log) + 1))
    assert [_wire(e) for e in got] == log


# --- 1. two processes, one room ------------------------------------------------------------


def test_burst_across_two_daphne_processes_reaches_both_sockets_exactly_once():
    needs_postgres()
    needs_redis()
    with running_stack() as stack:
        stack.start_daphne()
        stack.start_daphne()
        client = register(stack.url(0), "client")
        advisor = register(stack.url(1), "advisor", skills=["strategy"])
        room = start_engagement(client, advisor)
        mine = client.socket(base_url=stack.url(0))
        theirs = advisor.socket(base_url=stack.url(1))
        assert _seqs(mine.join(room)) == [1]
        assert _seqs(theirs.join(room)) == [1]

        per_kind = 25  # × (WS, REST) × 2 members = 100 messages

        def chatter(member: Member, socket: Socket, tag: str) -> Callable[[], None]:
            def run() -> None:
                for i in range(per_kind):
                    socket.send({"type": "message", "room": room, "body": f"{tag} ws {i}",
                                 "client_id": f"{tag}-ws-{i}"})
                    member.post_message(room, f"{tag} rest {i}", f"{tag}-rest-{i}")
            return run

        def deal() -> None:
            for member, action, body in [
                (client, "hire", {"version": 1}),
                (advisor, "deliver", {"note": "First cut"}),
                (client, "request-revision", {"note": "More detail"}),
                (advisor, "deliver", {"note": "Second cut"}),
                (client, "approve", {}),
            ]:
                time.sleep(0.1)
                member.act(room, action, **body)

        _in_threads(chatter(client, mine, "c"), chatter(advisor, theirs, "a"), deal)
        # Frames sent over a socket are done once acknowledged.
        deadline = time.monotonic() + 20
        for socket in (mine, theirs):
            while sum(f["type"] == "ack" for f in socket.frames) < per_kind:
                socket.recv(timeout=max(0.1, deadline - time.monotonic()))

        log = client.events(room)
        assert log == advisor.events(room)
        kinds = [e["kind"] for e in log]
        assert len(log) == 1 + 4 * per_kind + 5
        assert kinds.count("message.created") == 4 * per_kind
        assert [k for k in kinds if k.startswith("engagement.")] == [
            "engagement.hired", "engagement.delivered", "engagement.revision_requested",
            "engagement.delivered", "engagement.approved"]
        for socket in (mine, theirs):
            _assert_exactly_the_log(socket, room, log)
        # Every frame sent over a socket was acknowledged with its event's seq.
        for socket, tag in ((mine, "c"), (theirs, "a")):
            acks = {f["client_id"]: f["seq"] for f in socket.frames if f["type"] == "ack"}
            by_client_id = {e["data"].get("client_id"): e["seq"] for e in log}
            assert len(acks) == per_kind
            assert all(by_client_id.get(cid) == seq for cid, seq in acks.items()), acks
            assert set(acks) == {f"{tag}-ws-{i}" for i in range(per_kind)}
        mine.close()
        theirs.close()


# --- 2. reconnect mid-burst ----------------------------------------------------------------


def test_rejoin_after_a_disconnect_mid_burst_misses_nothing_and_repeats_nothing():
    with running_stack() as stack:
        base = stack.start_daphne()
        client = register(base, "client")
        advisor = register(base, "advisor")
        room = start_engagement(client, advisor)
        first = client.socket()
        first.join(room)

        total = 80

        def burst() -> None:
            for i in range(total):
                advisor.post_message(room, f"burst {i}", f"b-{i}")
                time.sleep(0.02)

        errors: list[BaseException] = []
        sender = threading.Thread(target=lambda: _capture(burst, errors), daemon=True)
        sender.start()
        assert first.wait_for_seq(room, 15, timeout=15)
        first.close()  # mid-burst: the sender goes on
        before = first.events(room)
        last_seen = before[-1]["seq"]
        time.sleep(0.3)

        second = client.socket()
        replayed = second.join(room, after=last_seen)
        joined = second.frames[len(second.frames) - 1]
        assert joined["type"] == "joined"
        sender.join(60)
        assert not sender.is_alive() and not errors, errors

        log = client.events(room)
        head = log[-1]["seq"]
        assert head == 1 + total
        assert second.wait_for_seq(room, head, timeout=15)
        second.drain(0.5)
        after = second.events(room)

        # The disconnect really fell inside the burst: events were missed while away
        # (and replayed on join), and more arrived live after the rejoin.
        assert replayed and replayed[0]["seq"] == last_seen + 1
        assert last_seen < joined["seq"] < head
        union = before + after
        assert _seqs(union) == list(range(1, head + 1))  # none missing, none twice
        assert [_wire(e) for e in union] == log
        second.close()


def _capture(target: Callable[[], None], errors: list[BaseException]) -> None:
    try:
        target()
    except BaseException as exc:  # noqa: BLE001 (checked by the test thread)
        errors.append(exc)


# --- 3. lost pushes --------------------------------------------------------------------------


def test_dropped_pushes_are_filled_from_the_log_mid_stream_and_on_the_heartbeat():
    needs_redis()
    window = 1.5  # a push that has not arrived by then was dropped
    with running_stack(CHANNEL_DROP_EVERY="3") as stack:
        base = stack.start_daphne()
        client = register(base, "client")
        advisor = register(base, "advisor")
        room = start_engagement(client, advisor)
        socket = client.socket()
        socket.join(room)
        numbers = itertools.count(1)

        def send() -> int:
            i = next(numbers)
            return advisor.post_message(room, f"m {i}", f"m-{i}")["seq"]

        # Mid-stream: one message at a time. A dropped push shows as a message that does
        # not arrive on its own, but together with the next one (the gap is filled from
        # the log), with no heartbeat in between.
        late: list[int] = []
        missing: int | None = None
        for _ in range(12):
            seq = send()
            if missing is not None:
                assert socket.wait_for_seq(room, seq, timeout=window)
                assert _seqs(socket.events(room))[-2:] == [missing, seq]
                late.append(missing)
                missing = None
            if not socket.wait_for_seq(room, seq, timeout=window):
                missing = seq
        assert late, "no push was dropped mid-stream: the fault injection did not act"

        # A fast burst from two senders at once; gaps are filled as later pushes arrive.
        _in_threads(*[lambda: [send() for _ in range(15)] for _ in range(2)])
        # Then keep sending until the *last* push is the dropped one.
        tail = None
        for _ in range(6):
            seq = send()
            if not socket.wait_for_seq(room, seq, timeout=window):
                tail = seq
                break
        assert tail is not None, "the last push was never dropped"
        assert not socket.has_seq(room, tail)
        socket.drain(0.5)
        assert not socket.has_seq(room, tail)

        # The heartbeat compares heads and fills the lost last event before the pong.
        start = len(socket.frames)
        socket.send({"type": "ping"})
        pong = socket.of_type("pong")
        filled = [f for f in socket.frames[start:] if f["type"] == "event"]
        assert tail in _seqs(filled)
        assert pong["heads"] == {str(room): tail}

        log = client.events(room)
        assert log[-1]["seq"] == tail
        _assert_exactly_the_log(socket, room, log)
        socket.close()


# --- 4. a long idle ----------------------------------------------------------------------------


def test_a_socket_idle_for_over_30_seconds_still_receives_the_next_event():
    needs_redis()
    with running_stack() as stack:
        base = stack.start_daphne()
        client = register(base, "client")
        advisor = register(base, "advisor")
        room = start_engagement(client, advisor)
        socket = client.socket()
        socket.join(room)
        sent_before = len(socket.frames)
        # Longer than redis-py's 5 s socket timeout (redis-py 8), daphne's 20 s ping
        # interval and 30 s ping timeout, the 30 s ticket. The client sends nothing.
        time.sleep(32)
        assert len(socket.frames) == sent_before
        event = advisor.post_message(room, "still there?", "idle-1")
        assert socket.wait_for_seq(room, event["seq"], timeout=10), stack.log_text()
        assert _wire(socket.events(room)[-1]) == event
        # And the same connection still carries frames both ways.
        socket.send({"type": "message", "room": room, "body": "yes", "client_id": "idle-2"})
        assert socket.of_type("ack", client_id="idle-2")["seq"] == event["seq"] + 1
        _assert_exactly_the_log(socket, room, client.events(room))
        socket.close()


# --- 5. state changes, and the worker's automatic approval -------------------------------------


def test_state_changes_and_the_sweeps_automatic_approval_reach_the_sockets():
    with running_stack(REVIEW_WINDOW_SECONDS="2") as stack:
        base = stack.start_daphne()
        client = register(base, "client")
        advisor = register(base, "advisor")
        manual = start_engagement(client, advisor)
        auto = start_engagement(client, advisor)
        sockets = [client.socket(), advisor.socket()]
        for socket in sockets:
            socket.join(manual)
            socket.join(auto)

        client.act(auto, "hire", version=1)
        assert advisor.act(auto, "deliver", note="Final")["state"] == "delivered"
        delivered_at = time.monotonic()

        client.act(manual, "hire", version=1)
        advisor.act(manual, "deliver", note="Done")
        assert client.act(manual, "approve")["state"] == "completed"
        manual_log = client.events(manual)
        assert [e["kind"] for e in manual_log] == [
            "proposal.submitted", "engagement.hired", "engagement.delivered",
            "engagement.approved"]
        assert manual_log[-1]["data"]["automatic"] is False
        assert manual_log[-1]["actor"] == client.id
        for socket in sockets:
            _assert_exactly_the_log(socket, manual, manual_log)

        # The review window passes; a worker process runs the sweep.
        time.sleep(max(0.0, delivered_at + 3 - time.monotonic()))
        out = stack.manage("shell", "-c", "from deals.tasks import sweep_review_deadlines; "
                                          "print(sweep_review_deadlines())")
        assert "'approved': 1" in out, out
        for socket in sockets:
            pushed = socket.wait_for_seq(auto, 4, timeout=5 if HAVE_REDIS else 0.5)
            if HAVE_REDIS:
                # Through Redis the other process's push reaches this one.
                assert pushed, "the sweep's event was not pushed through Redis"
            else:
                # The in-memory layer stays inside the worker: the heartbeat fills it.
                socket.send({"type": "ping"})
                assert socket.of_type("pong")["heads"][str(auto)] == 4
        auto_log = client.events(auto)
        approved = auto_log[-1]
        assert approved["kind"] == "engagement.approved"
        assert approved["data"]["automatic"] is True and approved["actor"] is None
        for socket in sockets:
            _assert_exactly_the_log(socket, auto, auto_log)
            socket.close()
        assert client.http.get(f"/api/engagements/{auto}/").json()["state"] == "completed"


# --- 6. a connection storm -----------------------------------------------------------------


def test_a_storm_of_300_sockets_opens_and_closes_cleanly():
    needs_redis()
    import redis

    users, per_user = 20, 15
    with running_stack() as stack:
        base = stack.start_daphne()
        with ThreadPoolExecutor(5) as pool:  # password hashing dominates; it runs in parallel
            members = list(pool.map(lambda _: register(base, "client"), range(users)))
        # The pub/sub layer subscribes each socket's own channel ("<prefix>specific.…")
        # and, once per process, each group ("<prefix>__group__user.<id>"); the stack's
        # prefix instead of the default "asgi".
        store = redis.Redis.from_url(os.environ["REDIS_URL"])
        groups = [f"{stack.redis_prefix}__group__user.{m.id}" for m in members]

        def subscriptions() -> list[bytes]:
            return store.pubsub_channels(f"{stack.redis_prefix}*")

        assert subscriptions() == []

        async def tickets() -> list[tuple[Member, str]]:
            # Ten at a time: under ASGI every request in flight holds a database
            # connection of its own, and PostgreSQL's max_connections is shared.
            limits = httpx.Limits(max_connections=10)
            async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as http:
                async def one(member: Member) -> tuple[Member, str]:
                    response = await http.post("/api/ws-ticket/", headers={
                        "Authorization": f"Token {member.token}"})
                    assert response.status_code == 201, response.text
                    return member, response.json()["ticket"]
                return await asyncio.gather(*[one(m) for m in members for _ in range(per_user)])

        figures: dict[str, float] = {}

        async def storm() -> None:
            from websockets.asyncio.client import connect

            issued = await tickets()
            ws_url = base.replace("http", "ws", 1)
            opened: list[float] = []

            async def open_one(ticket: str):
                conn = await connect(f"{ws_url}/ws/?ticket={ticket}", open_timeout=30,
                                     max_queue=None)
                opened.append(time.monotonic() - start)
                return conn

            start = time.monotonic()
            conns = await asyncio.gather(*[open_one(ticket) for _, ticket in issued])
            figures["open"] = time.monotonic() - start
            opened.sort()
            figures["open_p50"] = opened[len(opened) // 2]

            async def ping(conn) -> dict:
                await conn.send(json.dumps({"type": "ping"}))
                while True:  # skips presence frames, fails on a close
                    frame = json.loads(await asyncio.wait_for(conn.recv(), 30))
                    if frame["type"] == "pong":
                        return frame

            start = time.monotonic()
            pongs = await asyncio.gather(*[ping(c) for c in conns])
            figures["pong"] = time.monotonic() - start
            assert len(pongs) == users * per_user
            assert all(p["heads"] == {} for p in pongs)
            # While open: each socket's channel, and every user's group (once).
            assert [count for _, count in store.pubsub_numsub(*groups)] == [1] * users
            assert len(subscriptions()) == users * per_user + users

            start = time.monotonic()
            await asyncio.gather(*[c.close() for c in conns])
            figures["close"] = time.monotonic() - start
            assert all(c.close_code == 1000 for c in conns)

        # In a thread of its own: the browser tests' Playwright keeps an event loop
        # running on this one for the whole session.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, storm()).result()
        time.sleep(1)
        left = subscriptions()
        assert not left, left
        print(f"\nstorm of {users * per_user}: all open {figures['open']:.2f}s "
              f"(median {figures['open_p50']:.2f}s), "
              f"pong {figures['pong']:.2f}s, close {figures['close']:.2f}s")


def test_sockets_closing_amid_room_traffic_leave_no_subscription_behind():
    """A socket that closes just as a push for it arrives used to keep its channel
    subscribed for the life of the process (channels_redis#276): the pub/sub layer
    cleans up only when the pending receive is cancelled, and there was none."""
    needs_redis()
    import redis

    with running_stack(WS_RATE_PER_SECOND="1000", WS_RATE_BURST="1000") as stack:
        stack.start_daphne()
        client = register(stack.url(), "client")
        advisor = register(stack.url(), "advisor")
        room = start_engagement(client, advisor)
        store = redis.Redis.from_url(os.environ["REDIS_URL"])
        sender = advisor.socket()
        sender.join(room)
        for turn in range(20):
            listener = client.socket()
            listener.join(room)
            for i in range(10):
                sender.send({"type": "message", "room": room, "body": f"{turn}.{i}",
                             "client_id": f"{turn}.{i}"})
            listener.close()  # while the pushes for it are arriving
        sender.close()
        deadline = time.monotonic() + 5
        while store.pubsub_channels(f"{stack.redis_prefix}*") and time.monotonic() < deadline:
            time.sleep(0.1)
        left = sorted(c.decode() for c in store.pubsub_channels(f"{stack.redis_prefix}*"))
        assert left == [], "\n".join(left) + stack.log_text()
