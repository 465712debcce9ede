"""The load generator: an asyncio process of its own (``python -m bench.load``), apart
from the servers it loads. Reads one JSON job on stdin, prints the JSON result as the
last line of stdout, and reports progress on stderr (``PROGRESS {...}`` lines).

Modes:

* ``live``: rooms of two sockets; one member of each room sends at a fixed *total*
  offered rate (round robin over the rooms), the other receives. Every message carries
  its send time (``time.time()``, both ends are on this machine) and a unique
  ``client_id``; a step counts what was sent, what reached the other member (within the
  drain time), the latency of each delivery, and the server's and our own CPU. The
  offered rate steps up (×factor) until a step loses a message or its p99 passes the
  limit, then one step halfway between the last good rate and the bad one, then one at
  half the best rate. ``kind`` is ``app`` (our ``/ws/``: tickets, ``join``, ``message``
  frames, ``event`` frames back) or ``bare`` (the baseline consumer: the frame itself
  comes back).
* ``idle``: N authenticated sockets opened ``batch`` at a time; handshake and ready
  (first ``pong``) times, server RSS per socket, one room event to a room's members and
  one matching request to every socket's user group, then all closed at once.
* ``catchup``: time to receive 1,000 missed events: ``join`` with ``after`` on an open
  socket, the same on a fresh socket (ticket + handshake + join), and over REST.
* ``rest``: requests per second and latency of REST endpoints at a fixed concurrency.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import resource
import secrets
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bench.procs import cpu_seconds, machine_jiffies, rss

WS_OPTIONS: dict[str, Any] = {
    "compression": None,   # daphne does not negotiate permessage-deflate anyway
    "ping_interval": None,  # daphne pings; the client answers (no extra load from us)
    "max_queue": None,      # never stop reading: backpressure would be ours, not theirs
    "open_timeout": 60,
    "close_timeout": 30,
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def progress(kind: str, **data: Any) -> None:
    print("PROGRESS " + json.dumps({"kind": kind, **data}), file=sys.stderr, flush=True)


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, int(round(q / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[index]


def summary(values: list[float]) -> dict[str, float | int]:
    ordered = sorted(values)
    if not ordered:
        return {"n": 0}
    return {"n": len(ordered), "p50": round(percentile(ordered, 50), 2),
            "p95": round(percentile(ordered, 95), 2), "p99": round(percentile(ordered, 99), 2),
            "max": round(ordered[-1], 2), "mean": round(sum(ordered) / len(ordered), 2)}


class CpuMeter:
    """CPU used by the servers and by this process over an interval, in % of one core."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.start()

    def start(self) -> None:
        self.t0 = time.perf_counter()
        self.own0 = time.process_time()
        self.server0 = {pid: cpu_seconds(pid) for pid in self.pids}
        self.machine0 = machine_jiffies()

    def read(self) -> dict[str, Any]:
        elapsed = max(1e-6, time.perf_counter() - self.t0)
        busy, total = machine_jiffies()
        machine = 100 * (os.cpu_count() or 1) * (busy - self.machine0[0]) / max(
            1, total - self.machine0[1])
        server = [round(100 * (cpu_seconds(pid) - self.server0[pid]) / elapsed, 1)
                  for pid in self.pids]
        own = round(100 * (time.process_time() - self.own0) / elapsed, 1)
        return {
            "server_cpu": server,
            "loadgen_cpu": own,
            # Everything else on the machine, PostgreSQL and Redis included (and anyone
            # else's work: the bench shares the machine).
            "other_cpu": round(max(0.0, machine - sum(server) - own), 1),
        }


async def fetch_ticket(http: httpx.AsyncClient, base: str, token: str) -> str:
    for attempt in range(5):
        response = await http.post(f"{base}/api/ws-ticket/",
                                   headers={"Authorization": f"Token {token}"})
        if response.status_code == 201:
            return response.json()["ticket"]
        await asyncio.sleep(0.2 * (attempt + 1))
    raise RuntimeError(f"ticket: {response.status_code} {response.text[:200]}")


class Peer:
    """A socket with a reader task; ``expect()`` registers a wait for a frame."""

    __slots__ = ("ws", "handler", "waiters", "task", "closed_code")

    def __init__(self, ws: ClientConnection,
                 handler: Callable[[Peer, str, float], None] | None = None) -> None:
        self.ws = ws
        self.handler = handler
        self.waiters: list[tuple[Callable[[dict], bool], asyncio.Future]] = []
        self.closed_code: int | None = None
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                now = time.time()
                if self.handler is not None:
                    self.handler(self, raw, now)
                if self.waiters:
                    frame = json.loads(raw)
                    for item in list(self.waiters):
                        predicate, future = item
                        if future.done():
                            self.waiters.remove(item)
                        elif predicate(frame):
                            future.set_result((now, frame))
                            self.waiters.remove(item)
        except ConnectionClosed:
            pass
        finally:
            self.closed_code = self.ws.close_code
            for _, future in self.waiters:
                if not future.done():
                    future.set_exception(ConnectionError(f"closed ({self.closed_code})"))
            self.waiters.clear()

    def expect(self, predicate: Callable[[dict], bool]) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        if self.task.done():
            future.set_exception(ConnectionError(f"closed ({self.closed_code})"))
        else:
            self.waiters.append((predicate, future))
        return future

    async def send(self, frame: dict | str) -> None:
        await self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close()
        with contextlib.suppress(Exception):
            await self.task


async def gather_limited(coros: list[Awaitable], limit: int) -> list[Any]:
    semaphore = asyncio.Semaphore(limit)

    async def one(coro: Awaitable) -> Any:
        async with semaphore:
            return await coro

    return await asyncio.gather(*[one(c) for c in coros], return_exceptions=True)


# --- live messages ----------------------------------------------------------------------


class Step:
    def __init__(self, label: str, rate: float, seconds: float) -> None:
        self.label, self.rate, self.seconds = label, rate, seconds
        self.sent = 0
        self.delivered = 0
        self.duplicates = 0
        self.latencies: list[float] = []
        self.acks: list[float] = []
        self.errors: Counter[str] = Counter()
        self.late = 0  # deliveries of earlier steps' messages that arrived during this one
        self.send_lag_max = 0.0


class LiveRun:
    def __init__(self, job: dict[str, Any]) -> None:
        self.job = job
        self.kind = job["kind"]
        self.body_bytes = int(job.get("body_bytes", 64))
        self.pending: dict[str, Step] = {}     # client_id → step, until delivered
        self.ack_wait: dict[str, float] = {}   # client_id → perf_counter at send
        self.delivered_ids: set[str] = set()
        self.step: Step | None = None
        self.last_frame = time.perf_counter()
        self.counter = itertools.count()
        self.session = secrets.token_hex(4)
        self.waiting: dict[str, asyncio.Future] = {}  # closed loop: client_id → delivery
        self.senders: list[tuple[int, Peer]] = []
        self.receivers: list[Peer] = []

    # frames in

    def on_receiver(self, peer: Peer, raw: str, now: float) -> None:
        self.last_frame = time.perf_counter()
        if self.kind == "app":
            if '"message.created"' not in raw:
                return
            data = json.loads(raw)["data"]
            client_id, body = data.get("client_id", ""), data.get("body", "")
        else:
            if '"client_id"' not in raw:
                return
            frame = json.loads(raw)
            client_id, body = frame["client_id"], frame["body"]
        if not client_id.startswith("L"):
            return  # e.g. the log's earlier events replayed on join
        waiter = self.waiting.pop(client_id, None)
        if waiter is not None:  # closed loop
            if not waiter.done():
                waiter.set_result(now)
            return
        step = self.pending.pop(client_id, None)
        current = self.step
        if step is None:
            if client_id in self.delivered_ids and current is not None:
                current.duplicates += 1
            return
        self.delivered_ids.add(client_id)
        if step is current:
            step.delivered += 1
            step.latencies.append((now - float(body.split("|", 1)[0])) * 1000)
        elif current is not None:
            current.late += 1

    def on_sender(self, peer: Peer, raw: str, now: float) -> None:
        self.last_frame = time.perf_counter()
        if self.kind != "app" or self.step is None:
            return
        if '"type":"ack"' in raw:
            frame = json.loads(raw)
            sent = self.ack_wait.pop(frame.get("client_id", ""), None)
            if sent is not None:
                self.step.acks.append((time.perf_counter() - sent) * 1000)
        elif '"type":"error"' in raw:
            self.step.errors[json.loads(raw).get("code", "?")] += 1

    # set-up

    async def open(self) -> None:
        pairs = self.job["pairs"]
        async with httpx.AsyncClient(timeout=60) as http:
            async def connect_one(side: dict, handler: Callable) -> Peer:
                url = side["ws"]
                if self.kind == "app":
                    url = f"{url}?ticket={await fetch_ticket(http, side['http'], side['token'])}"
                return Peer(await connect(url, **WS_OPTIONS), handler)

            senders = await gather_limited(
                [connect_one(p["sender"], self.on_sender) for p in pairs], 50)
            receivers = await gather_limited(
                [connect_one(p["receiver"], self.on_receiver) for p in pairs], 50)
        failed = [x for x in senders + receivers if isinstance(x, BaseException)]
        if failed:
            raise RuntimeError(f"{len(failed)} sockets failed to open: {failed[0]!r}")
        self.senders = [(p["room"], s) for p, s in zip(pairs, senders, strict=True)]
        self.receivers = list(receivers)
        if self.kind == "app":
            heads: dict[int, int] = {}
            async with httpx.AsyncClient(timeout=60) as http:
                async def head(pair: dict) -> None:
                    side = pair["receiver"]
                    for attempt in range(5):
                        response = await http.get(
                            f"{side['http']}/api/engagements/{pair['room']}/",
                            headers={"Authorization": f"Token {side['token']}"})
                        if response.status_code == 200:
                            heads[pair["room"]] = response.json()["last_seq"]
                            return
                        await asyncio.sleep(0.5 * (attempt + 1))
                    raise RuntimeError(f"engagement {pair['room']}: {response.status_code} "
                                       f"{response.text[:300]}")

                failed = [x for x in await gather_limited([head(p) for p in pairs], 10)
                          if isinstance(x, BaseException)]
                if failed:
                    raise RuntimeError(f"{len(failed)} heads not read: {failed[0]!r}")

            async def join(peer: Peer, room: int) -> None:
                # From the head: the log of earlier runs need not be replayed.
                joined = peer.expect(lambda f: f.get("type") == "joined" and f["room"] == room)
                await peer.send({"type": "join", "room": room, "after": heads[room]})
                await asyncio.wait_for(joined, 60)

            await asyncio.gather(*[join(s, r) for r, s in self.senders],
                                 *[join(peer, p["room"])
                                   for peer, p in zip(self.receivers, pairs, strict=True)])

    async def close(self) -> None:
        await asyncio.gather(*[s.close() for _, s in self.senders],
                             *[r.close() for r in self.receivers])

    # one step

    def _frame(self, room: int, step_no: int) -> tuple[str, str]:
        # Unique across runs on the same rooms: a repeated (room, sender, client_id) is
        # an idempotent retry, answered with the original event and not delivered again.
        client_id = f"L{self.session}-{step_no}-{next(self.counter)}"
        stamp = f"{time.time():.6f}|{client_id}|"
        body = stamp.ljust(self.body_bytes, "x")
        frame = json.dumps({"type": "message", "room": room, "body": body,
                            "client_id": client_id}, separators=(",", ":"))
        return client_id, frame

    async def run_step(self, label: str, rate: float, seconds: float, step_no: int,
                       drain: float) -> dict[str, Any]:
        step = Step(label, rate, seconds)
        self.step = step
        meter = CpuMeter(self.job.get("server_pids", []))
        total = max(1, int(round(rate * seconds)))
        senders = self.senders
        start = time.perf_counter()
        sent = 0
        while sent < total:
            now = time.perf_counter()
            due = min(total, int((now - start) * rate) + 1)
            step.send_lag_max = max(step.send_lag_max, (due - sent) / rate)
            while sent < due:
                room, peer = senders[sent % len(senders)]
                client_id, frame = self._frame(room, step_no)
                self.pending[client_id] = step
                if self.kind == "app":
                    self.ack_wait[client_id] = time.perf_counter()
                try:
                    await peer.ws.send(frame)
                except ConnectionClosed:
                    step.errors["sender_closed"] += 1
                    self.pending.pop(client_id, None)
                    continue
                step.sent += 1
                sent += 1
            next_at = start + sent / rate
            await asyncio.sleep(max(0.0, min(0.005, next_at - time.perf_counter())))
        send_seconds = time.perf_counter() - start
        cpu = meter.read()
        deadline = time.perf_counter() + drain
        while time.perf_counter() < deadline and any(s is step for s in self.pending.values()):
            await asyncio.sleep(0.02)
        lost = sum(1 for s in self.pending.values() if s is step)
        lat = summary(step.latencies)
        limit = self.job.get("p99_limit_ms", 100)
        ok = (lost == 0 and not step.errors and step.sent == total
              and lat.get("p99", float("inf")) < limit)
        result = {
            "label": label, "offered": round(rate, 1), "seconds": round(send_seconds, 2),
            "sent": step.sent, "delivered": step.delivered, "lost": lost,
            "duplicates": step.duplicates, "late_from_before": step.late,
            "sent_rate": round(step.sent / send_seconds, 1),
            "achieved": round(step.delivered / send_seconds, 1),
            "latency_ms": lat, "ack_ms": summary(step.acks),
            "errors": dict(step.errors), "send_lag_max_ms": round(step.send_lag_max * 1000, 1),
            **cpu, "ok": ok,
        }
        progress("step", **{k: result[k] for k in ("label", "offered", "sent", "delivered",
                                                   "lost", "server_cpu", "loadgen_cpu", "ok")},
                 p99=lat.get("p99"))
        self.step = None
        return result

    async def closed_loop(self, seconds: float, step_no: int) -> dict[str, Any]:
        """Capacity: every sender keeps one message in flight (the next one goes when the
        last one reached the other member), for ``seconds``. Throughput here is what the
        server sustains, with no queue building up; less sensitive to a noisy machine
        than the p99 of an open-loop step."""
        meter = CpuMeter(self.job.get("server_pids", []))
        latencies: list[float] = []
        timeouts = 0
        deadline = time.perf_counter() + seconds
        loop = asyncio.get_running_loop()

        async def sender(room: int, peer: Peer) -> None:
            nonlocal timeouts
            while time.perf_counter() < deadline:
                client_id, frame = self._frame(room, step_no)
                future = loop.create_future()
                self.waiting[client_id] = future
                sent = time.time()
                await peer.ws.send(frame)
                try:
                    arrived = await asyncio.wait_for(future, 10)
                except TimeoutError:
                    timeouts += 1
                    self.waiting.pop(client_id, None)
                    continue
                latencies.append((arrived - sent) * 1000)

        t0 = time.perf_counter()
        await asyncio.gather(*[sender(room, peer) for room, peer in self.senders])
        elapsed = time.perf_counter() - t0
        result = {"label": "closed loop", "in_flight": len(self.senders),
                  "seconds": round(elapsed, 2), "delivered": len(latencies),
                  "timeouts": timeouts, "throughput": round(len(latencies) / elapsed, 1),
                  "latency_ms": summary(latencies), **meter.read()}
        progress("closed-loop", throughput=result["throughput"],
                 p50=result["latency_ms"].get("p50"), server_cpu=result["server_cpu"])
        return result

    async def quiesce(self, quiet: float = 1.0, limit: float = 30.0) -> None:
        """Wait until no frame has arrived for ``quiet`` seconds (an overloaded step's
        backlog is still being delivered), at most ``limit`` seconds."""
        deadline = time.perf_counter() + limit
        while time.perf_counter() < deadline and time.perf_counter() - self.last_frame < quiet:
            await asyncio.sleep(0.1)
        self.pending.clear()
        self.ack_wait.clear()

    async def run(self) -> dict[str, Any]:
        job = self.job
        await self.open()
        seconds = float(job.get("step_seconds", 5))
        drain = float(job.get("drain_seconds", 3))
        steps: list[dict[str, Any]] = []
        step_no = itertools.count(1)
        warm = await self.run_step("warm-up", float(job.get("warmup_rate", 20)),
                                   float(job.get("warmup_seconds", 2)), next(step_no), drain)
        await self.quiesce(0.5, 10)
        if job.get("hold"):
            rate, hold_seconds = job["hold"]["rate"], job["hold"]["seconds"]
            progress("hold-start", rate=rate, seconds=hold_seconds)
            steps.append(await self.run_step("hold", rate, hold_seconds, next(step_no), drain))
            progress("hold-end")
            await self.close()
            return {"warmup": warm, "steps": steps}

        best: float | None = None
        first_bad: float | None = None
        retries = int(job.get("retries", 1))

        async def attempt(label: str, rate: float) -> bool:
            """A step; a failed one is run again (up to ``retries`` times) after the
            backlog drains, since the machine is shared and a step can be unlucky."""
            for tries in range(retries + 1):
                result = await self.run_step(label if tries == 0 else f"{label} (again)",
                                             rate, seconds, next(step_no), drain)
                steps.append(result)
                if result["ok"]:
                    return True
                await self.quiesce()
            return False

        if job.get("rates"):
            for rate in job["rates"]:
                if await attempt("ladder", rate):
                    best = rate if first_bad is None else best
                else:
                    first_bad = first_bad or rate
        else:
            factor = float(job.get("factor", 1.5))
            rate = float(job.get("start_rate", 100))
            if await attempt("ladder", rate):
                best = rate
                while (rate := round(rate * factor)) <= float(job.get("max_rate", 20000)):
                    if not await attempt("ladder", rate):
                        first_bad = rate
                        break
                    best = rate
            else:  # the start was too fast: step down until a rate holds
                first_bad = rate
                while (rate := round(rate / factor)) >= float(job.get("min_rate", 5)):
                    if await attempt("ladder", rate):
                        best = rate
                        break
                    first_bad = rate
            if job.get("refine", True) and first_bad is not None and best is not None:
                middle = round((best + first_bad) / 2)
                if middle not in (best, first_bad) and await attempt("refine", middle):
                    best = middle
        half = None
        if job.get("half_check", True) and best:
            await self.quiesce(0.5, 10)
            half = await self.run_step("half of max", round(best / 2), seconds, next(step_no),
                                       drain)
        capacity = None
        if job.get("closed_loop_seconds"):
            await self.quiesce(0.5, 10)
            capacity = await self.closed_loop(float(job["closed_loop_seconds"]), next(step_no))
        await self.close()
        return {"warmup": warm, "steps": steps, "max_ok_rate": best, "first_bad_rate": first_bad,
                "capacity": capacity,
                "half": half}


# --- idle connections -------------------------------------------------------------------


async def idle(job: dict[str, Any]) -> dict[str, Any]:
    http_base, ws_base, pid = job.get("http"), job["ws"], job["server_pid"]
    bare = job.get("kind") == "bare"  # the baseline consumer: no tickets, echo for pong
    tokens: list[str] = job["tokens"] if not bare else [""] * int(job["count"])
    batch = int(job.get("batch", 200))
    client = job.get("client")
    result: dict[str, Any] = {"requested": len(tokens), "batch": batch}
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=50)
    async with httpx.AsyncClient(timeout=120, limits=limits) as http:
        answer = "ping" if bare else "pong"

        async def open_with(query: str) -> tuple[Peer, float, float]:
            t0 = time.perf_counter()
            peer = Peer(await connect(f"{ws_base}?{query}", **WS_OPTIONS))
            t1 = time.perf_counter()
            pong = peer.expect(lambda f: f.get("type") == answer)
            await peer.send({"type": "ping"})  # answered once connect() is done
            await asyncio.wait_for(pong, 120)
            return peer, (t1 - t0) * 1000, (time.perf_counter() - t0) * 1000

        async def open_one(token: str) -> tuple[Peer, float, float]:
            if bare:
                return await open_with("room=warm")
            return await open_with(f"ticket={await fetch_ticket(http, http_base, token)}")

        # Warm the server (imports, pools, first queries) before the memory baseline.
        warm = [await open_one(client["token"] if client else "") for _ in range(5)]
        await asyncio.gather(*[p.close() for p, _, _ in warm])
        await asyncio.sleep(1.0)
        rss0 = rss(pid)
        progress("idle-baseline", rss_mib=round(rss0 / 2**20, 1))
        peers: list[Peer] = []
        handshakes: list[float] = []
        ready: list[float] = []
        failures: Counter[str] = Counter()
        tickets_s = 0.0
        start = time.perf_counter()
        for offset in range(0, len(tokens), batch):
            chunk = tokens[offset:offset + batch]
            t_tickets = time.perf_counter()
            if bare:
                issued = [f"room={offset + i}" for i in range(len(chunk))]
            else:
                issued = [f"ticket={t}" if isinstance(t, str) else t for t in await gather_limited(
                    [fetch_ticket(http, http_base, t) for t in chunk], 50)]
            tickets_s += time.perf_counter() - t_tickets

            opened = await asyncio.gather(
                *[open_with(t) for t in issued if isinstance(t, str)], return_exceptions=True)
            failures["ticket"] += sum(1 for t in issued if not isinstance(t, str))
            for item in opened:
                if isinstance(item, BaseException):
                    failures[type(item).__name__] += 1
                else:
                    peers.append(item[0])
                    handshakes.append(item[1])
                    ready.append(item[2])
            if (offset // batch) % 10 == 9 or offset + batch >= len(tokens):
                progress("idle-open", open=len(peers), failed=sum(failures.values()),
                         rss_mib=round(rss(pid) / 2**20, 1))
        open_seconds = time.perf_counter() - start
        await asyncio.sleep(1.0)
        rss1 = rss(pid)
        opened_n = len(peers)
        result.update({
            "opened": opened_n, "failed": dict(failures),
            "open_seconds": round(open_seconds, 2),
            "ticket_seconds": round(tickets_s, 2),
            "sockets_per_second": round(opened_n / max(1e-6, open_seconds - tickets_s), 1),
            "handshake_ms": summary(handshakes), "ready_ms": summary(ready),
            "rss_before_mib": round(rss0 / 2**20, 1), "rss_open_mib": round(rss1 / 2**20, 1),
            "rss_per_socket_kib": round((rss1 - rss0) / max(1, opened_n) / 1024, 1),
        })
        if bare:
            t0 = time.perf_counter()
            await asyncio.gather(*[p.close() for p in peers])
            result["close_seconds"] = round(time.perf_counter() - t0, 2)
            return result

        # One room event to the room's members, with every other socket idle.
        room = job["room"]
        member = peers[0] if peers else None
        room_times: list[dict[str, float]] = []
        if member is not None:
            own, _, _ = await open_one(client["token"])
            for peer in (member, own):
                joined = peer.expect(lambda f: f.get("type") == "joined")
                await peer.send({"type": "join", "room": room, "after": 0})
                await asyncio.wait_for(joined, 60)
            await asyncio.sleep(0.3)
            for i in range(int(job.get("room_repeats", 5))):
                cid = f"fan-{i}-{time.time()}"
                waits = [p.expect(lambda f, c=cid: f.get("type") == "event"
                                  and f.get("data", {}).get("client_id") == c)
                         for p in (member, own)]
                t0 = time.time()
                response = await http.post(f"{http_base}/api/engagements/{room}/messages/",
                                           headers={"Authorization": f"Token {client['token']}"},
                                           json={"body": "fan-out", "client_id": cid})
                t_rest = time.time()
                assert response.status_code == 201, response.text
                arrivals = await asyncio.wait_for(asyncio.gather(*waits), 30)
                room_times.append({"rest_ms": (t_rest - t0) * 1000,
                                   "all_members_ms": (max(a[0] for a in arrivals) - t0) * 1000})
                await asyncio.sleep(0.2)
            peers.append(own)
        result["room_fanout"] = {
            "members": 2, "repeats": len(room_times),
            "rest_ms": summary([t["rest_ms"] for t in room_times]),
            "all_members_ms": summary([t["all_members_ms"] for t in room_times]),
        }

        # One matching request: a notification to every idle socket's own user group.
        title = f"Bench fan-out {time.time()}"
        targets = peers[:opened_n]
        waits = [p.expect(lambda f: f.get("type") == "notify" and f.get("body") == title)
                 for p in targets]
        t0 = time.time()
        response = await http.post(f"{http_base}/api/projects/",
                                   headers={"Authorization": f"Token {client['token']}"},
                                   json={"title": title, "description": "fan-out",
                                         "skills": [job["skill"]]})
        t_rest = time.time()
        assert response.status_code == 201, response.text
        timeout = float(job.get("fanout_timeout", max(30.0, opened_n / 100)))
        done, _ = await asyncio.wait(waits, timeout=timeout)
        arrivals = sorted(f.result()[0] - t0 for f in done if not f.exception())
        for f in waits:
            if not f.done():
                f.cancel()
        result["user_fanout"] = {
            "sockets": len(targets), "received": len(arrivals),
            "post_ms": round((t_rest - t0) * 1000, 1),
            "first_ms": round(arrivals[0] * 1000, 1) if arrivals else None,
            "p50_ms": round(percentile(arrivals, 50) * 1000, 1) if arrivals else None,
            "last_ms": round(arrivals[-1] * 1000, 1) if arrivals else None,
        }
        result["rss_after_fanout_mib"] = round(rss(pid) / 2**20, 1)
        progress("idle-fanout", **result["user_fanout"])

        t0 = time.perf_counter()
        await asyncio.gather(*[p.close() for p in peers])
        result["close_seconds"] = round(time.perf_counter() - t0, 2)
        result["close_codes"] = dict(Counter(str(p.ws.close_code) for p in peers))
    result["stale"] = await stale_after_close(job, t0)
    result["rss_after_close_mib"] = round(rss(pid) / 2**20, 1)
    return result


async def stale_after_close(job: dict[str, Any], closed_at: float) -> dict[str, Any]:
    """Poll Redis from the moment every socket is closed until no group entry (a core
    layer's sorted set), subscription (the pub/sub layer's channels of the run's prefix)
    or presence key of theirs is left (or the timeout)."""
    from redis import asyncio as aioredis

    store = aioredis.Redis.from_url(job["redis_url"])
    prefix, user_ids = job["prefix"], job["user_ids"]
    group_keys = [f"{prefix}:group:user.{uid}" for uid in user_ids]
    group_keys.append(f"{prefix}:group:room.{job['room']}")
    presence_keys = [f"{prefix}:1:presence:{uid}" for uid in user_ids]
    timeout = max(30.0, len(user_ids) / 200)
    try:
        while True:
            pipe = store.pipeline(transaction=False)
            for key in group_keys:
                pipe.zcard(key)
            group_entries = sum(await pipe.execute())
            group_entries += len(await store.pubsub_channels(f"{prefix}*"))
            presence = 0
            for i in range(0, len(presence_keys), 1000):
                presence += await store.exists(*presence_keys[i:i + 1000])
            elapsed = time.perf_counter() - closed_at
            clean = group_entries == 0 and presence == 0
            if clean or elapsed > timeout:
                return {"group_entries": group_entries, "presence_keys": presence,
                        "clean": clean, "seconds_to_clean": round(elapsed, 2)}
            await asyncio.sleep(0.1)
    finally:
        await store.aclose()


# --- catch-up -----------------------------------------------------------------------------


async def catchup(job: dict[str, Any]) -> dict[str, Any]:
    http_base, ws_base, token = job["http"], job["ws"], job["token"]
    room, after, expect = job["room"], job["after"], job["expect"]
    repeats = int(job.get("repeats", 5))
    auth = {"Authorization": f"Token {token}"}

    async def join(ws: ClientConnection) -> tuple[float, int]:
        t0 = time.perf_counter()
        await ws.send(json.dumps({"type": "join", "room": room, "after": after}))
        events = 0
        while True:
            raw = await asyncio.wait_for(ws.recv(), 60)
            if raw.startswith('{"type":"event"'):
                events += 1
            elif '"type":"joined"' in raw:
                return (time.perf_counter() - t0) * 1000, events

    result: dict[str, Any] = {"missed": expect}
    async with httpx.AsyncClient(timeout=60) as http:
        # Rejoin on an open socket.
        ws = await connect(f"{ws_base}?ticket={await fetch_ticket(http, http_base, token)}",
                           **WS_OPTIONS)
        times, counts = [], []
        for _ in range(repeats + 1):  # the first one warms the server
            elapsed, events = await join(ws)
            times.append(elapsed)
            counts.append(events)
            await ws.send(json.dumps({"type": "leave", "room": room}))
            await asyncio.sleep(0.3)
        await ws.close()
        result["ws_rejoin_ms"] = summary(times[1:])
        result["ws_events"] = counts[1:]

        # Reconnect: ticket, handshake, join.
        times, counts = [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            ticket = await fetch_ticket(http, http_base, token)
            ws = await connect(f"{ws_base}?ticket={ticket}", **WS_OPTIONS)
            _, events = await join(ws)
            times.append((time.perf_counter() - t0) * 1000)
            counts.append(events)
            await ws.close()
            await asyncio.sleep(0.3)
        result["ws_reconnect_ms"] = summary(times)
        result["ws_reconnect_events"] = counts

        # REST: one page of 1,000, and pages of the default size (100).
        for label, limit in (("rest_one_page_ms", expect), ("rest_pages_of_100_ms", 100)):
            times, counts = [], []
            for _ in range(repeats + 1):
                t0 = time.perf_counter()
                cursor, got, more = after, 0, True
                while more:
                    response = await http.get(
                        f"{http_base}/api/engagements/{room}/events/",
                        params={"after": cursor, "limit": limit}, headers=auth)
                    body = response.json()
                    got += len(body["events"])
                    cursor = body["events"][-1]["seq"] if body["events"] else cursor
                    more = body["has_more"] and got < expect
                times.append((time.perf_counter() - t0) * 1000)
                counts.append(got)
            result[label] = summary(times[1:])
            result[label.replace("_ms", "_events")] = counts[1:]
    return result


# --- REST ---------------------------------------------------------------------------------


async def rest(job: dict[str, Any]) -> dict[str, Any]:
    base, seconds = job["http"], float(job.get("seconds", 5))
    concurrency = int(job.get("concurrency", 8))
    results = []
    serial = itertools.count()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        for endpoint in job["endpoints"]:
            headers = {"Authorization": f"Token {endpoint['token']}"}
            latencies: list[float] = []
            statuses: Counter[str] = Counter()

            async def worker(deadline: float, endpoint: dict = endpoint,
                             headers: dict = headers, latencies: list = latencies,
                             statuses: Counter = statuses) -> None:
                while time.perf_counter() < deadline:
                    body = None
                    if endpoint.get("json") is not None:
                        body = {k: (v.replace("{n}", str(next(serial))) if isinstance(v, str)
                                    else v) for k, v in endpoint["json"].items()}
                    t0 = time.perf_counter()
                    response = await http.request(endpoint["method"], endpoint["path"],
                                                  params=endpoint.get("params"), json=body,
                                                  headers=headers)
                    latencies.append((time.perf_counter() - t0) * 1000)
                    statuses[str(response.status_code)] += 1

            for _ in range(concurrency):  # warm
                await http.request(endpoint["method"], endpoint["path"],
                                   params=endpoint.get("params"), headers=headers,
                                   json=None if endpoint.get("json") is None else {
                                       k: (v.replace("{n}", f"w{next(serial)}")
                                           if isinstance(v, str) else v)
                                       for k, v in endpoint["json"].items()})
            meter = CpuMeter(job.get("server_pids", []))
            t0 = time.perf_counter()
            await asyncio.gather(*[worker(t0 + seconds) for _ in range(concurrency)])
            elapsed = time.perf_counter() - t0
            entry = {"name": endpoint["name"], "requests": len(latencies),
                     "rps": round(len(latencies) / elapsed, 1),
                     "latency_ms": summary(latencies), "statuses": dict(statuses),
                     **meter.read()}
            progress("rest", name=entry["name"], rps=entry["rps"],
                     p99=entry["latency_ms"].get("p99"))
            results.append(entry)
    return {"concurrency": concurrency, "seconds": seconds, "endpoints": results}


MODES = {"idle": idle, "catchup": catchup, "rest": rest}


async def main_async(job: dict[str, Any]) -> dict[str, Any]:
    if job["mode"] == "live":
        return await LiveRun(job).run()
    return await MODES[job["mode"]](job)


def main() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    job = json.loads(sys.stdin.read())
    result = asyncio.run(main_async(job))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
