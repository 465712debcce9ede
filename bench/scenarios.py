"""The scenarios: each sets up what it needs on the stack, runs the load generator in a
process of its own, and returns a JSON-able result."""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench import profile
from bench.procs import rss
from bench.stack import BenchStack, Member, Server
from tests.e2e.stack import PYTHON, ROOT

RESULTS = Path(__file__).resolve().parent / "results"


def run_load(job: dict[str, Any], on_progress: Any = None, verbose: bool = True) -> dict:
    """``python -m bench.load`` with ``job``; progress lines are echoed (and passed to
    ``on_progress``), the result is the last stdout line."""
    process = subprocess.Popen([PYTHON, "-m", "bench.load"], cwd=ROOT, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    tail: list[str] = []

    def pump() -> None:
        for line in process.stderr:
            line = line.rstrip("\n")
            tail.append(line)
            del tail[:-50]
            if line.startswith("PROGRESS "):
                data = json.loads(line[9:])
                if on_progress is not None:
                    on_progress(data)
                if verbose:
                    print(f"    · {_progress_text(data)}", file=sys.stderr, flush=True)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    process.stdin.write(json.dumps(job))
    process.stdin.close()
    out = process.stdout.read()
    process.wait()
    reader.join(5)
    if process.returncode != 0:
        raise RuntimeError("load generator failed:\n" + "\n".join(tail[-30:]))
    return json.loads(out.strip().splitlines()[-1])


def _progress_text(data: dict[str, Any]) -> str:
    kind = data.pop("kind")
    return f"{kind}: " + ", ".join(f"{k}={v}" for k, v in data.items())


class Run:
    """One benchmark run: the stack, the options, shared fixtures and the main server."""

    def __init__(self, bench: BenchStack, args: argparse.Namespace) -> None:
        self.bench = bench
        self.args = args
        self.results: dict[str, Any] = {}
        self._main: Server | None = None

    def log(self, message: str) -> None:
        print(f"  {message}", file=sys.stderr, flush=True)

    # servers

    def main_server(self) -> Server:
        """Our daphne (config.asgi:application) for the one-process scenarios."""
        if self._main is None or self._main.process.poll() is not None:
            self._main = self.bench.start_daphne("main", self.args.app)
        return self._main

    # fixtures

    def live_rooms(self, server: Server) -> list[tuple[int, Member, Member]]:
        """R rooms, each an engagement of a client (the sender) and an advisor."""
        key = f"rooms{self.args.rooms}"
        if key not in self.bench.cache:
            clients = self.bench.users(self.args.rooms, "client")
            advisors = self.bench.users(self.args.rooms, "advisor")
            rooms = self.bench.engagements(server.url, list(zip(clients, advisors, strict=True)))
            self.bench.cache[key] = list(zip(rooms, clients, advisors, strict=True))
        return self.bench.cache[key]

    def big_room(self, server: Server) -> dict[str, Any]:
        """A room whose log holds ``--catchup-events`` messages by the advisor."""
        if "big_room" not in self.bench.cache:
            client, = self.bench.users(1, "client")
            advisor, = self.bench.users(1, "advisor")
            room, = self.bench.engagements(server.url, [(client, advisor)])
            t0 = time.perf_counter()
            head = self.bench.seed("messages", room=room, sender=advisor.id,
                                   count=self.args.catchup_events, body_bytes=64)["head"]
            self.log(f"seeded {self.args.catchup_events} messages in "
                     f"{time.perf_counter() - t0:.1f}s")
            self.bench.cache["big_room"] = {"room": room, "client": client,
                                            "advisor": advisor, "head": head}
        return self.bench.cache["big_room"]

    # shared job shapes

    def live_job(self, kind: str, pairs: list[dict], server_pids: list[int],
                 **extra: Any) -> dict[str, Any]:
        args = self.args
        job = {"mode": "live", "kind": kind, "pairs": pairs, "server_pids": server_pids,
               "step_seconds": args.step_seconds, "body_bytes": args.body_bytes,
               "p99_limit_ms": args.p99_limit, "drain_seconds": args.drain_seconds,
               "start_rate": args.start_rate, "factor": args.factor,
               "max_rate": args.max_rate, "rates": args.rates, "refine": not args.no_refine,
               "retries": args.retries, "closed_loop_seconds": args.closed_loop_seconds}
        job.update(extra)
        return job


def _side(server: Server, member: Member) -> dict[str, Any]:
    return {"ws": server.ws, "http": server.url, "token": member.token}


def _app_pairs(rooms: list[tuple[int, Member, Member]], send: Server,
               receive: Server) -> list[dict]:
    return [{"room": room, "sender": _side(send, client), "receiver": _side(receive, advisor)}
            for room, client, advisor in rooms]


def _config(run: Run, **extra: Any) -> dict[str, Any]:
    args = run.args
    return {"rooms": args.rooms, "body_bytes": args.body_bytes,
            "step_seconds": args.step_seconds, "p99_limit_ms": args.p99_limit, **extra}


# --- 1. live messages ---------------------------------------------------------------------


def live(run: Run) -> dict[str, Any]:
    server = run.main_server()
    rooms = run.live_rooms(server)
    run.log(f"ours: {len(rooms)} rooms × 2 sockets on one daphne (pid {server.pid})")
    result = run_load(run.live_job("app", _app_pairs(rooms, server, server), [server.pid]))
    result["config"] = _config(run, server=f"{run.args.app}, 1 daphne",
                               channel_layer="chat.layers.PubSubChannelLayer")
    result["server_rss_mib"] = round(server.rss() / 2**20, 1)
    result["over_capacity_logged"] = server.log_count("over capacity")
    return result


# --- 2. baseline --------------------------------------------------------------------------


def baseline(run: Run) -> dict[str, Any]:
    out: dict[str, Any] = {}
    layers = {"core": {"BENCH_CHANNEL_LAYER": "core"}, "pubsub": {"BENCH_CHANNEL_LAYER": "pubsub"}}
    for name in run.args.baseline_layers:
        server = run.bench.start_daphne(f"bare-{name}", "bench.baseline:application",
                                        health="/", **layers[name])
        try:
            run.log(f"bare consumer, {name} layer: {run.args.rooms} rooms (pid {server.pid})")
            pairs = [{"room": i, "sender": {"ws": f"{server.ws}?room={i}"},
                      "receiver": {"ws": f"{server.ws}?room={i}"}}
                     for i in range(1, run.args.rooms + 1)]
            result = run_load(run.live_job("bare", pairs, [server.pid]))
            result["config"] = _config(
                run, server="bench.baseline:application, 1 daphne",
                channel_layer=("channels_redis.core.RedisChannelLayer" if name == "core"
                               else "channels_redis.pubsub.RedisPubSubChannelLayer"))
            result["server_rss_mib"] = round(server.rss() / 2**20, 1)
            out[name] = result
        finally:
            run.bench.stop(server)
    return out


# --- profile of our live path at its max rate ---------------------------------------------


def profile_live(run: Run, rate: float) -> dict[str, Any]:
    if profile.available() is None:
        return {"skipped": "py-spy is not installed (pip install py-spy)"}
    server = run.main_server()
    rooms = run.live_rooms(server)
    seconds = run.args.profile_seconds
    raw = RESULTS / "profile-live.txt"
    RESULTS.mkdir(exist_ok=True)
    state: dict[str, Any] = {}

    def on_progress(data: dict[str, Any]) -> None:
        if data["kind"] == "hold-start":
            state["spy"] = profile.record(server.pid, seconds, raw)

    run.log(f"profiling ours at {rate:g} msg/s for {seconds} s (py-spy, pid {server.pid})")
    result = run_load(run.live_job("app", _app_pairs(rooms, server, server), [server.pid],
                                   hold={"rate": rate, "seconds": seconds + 2}),
                      on_progress=on_progress)
    spy = state.get("spy")
    if spy is None:
        return {"skipped": "the load generator never started the hold step"}
    output, _ = spy.communicate(timeout=60)
    if spy.returncode != 0 or not raw.exists():
        return {"skipped": f"py-spy failed: {output.strip()[-500:]}"}
    summary = profile.summarise(raw, seconds)
    return {"rate": rate, "raw": str(raw.relative_to(ROOT)), "load": result["steps"][0],
            "summary": summary}


# --- 3. idle connections ------------------------------------------------------------------


def idle(run: Run) -> dict[str, Any]:
    n = run.args.idle
    skill = f"bench-idle-{run.bench.prefix}"
    t0 = time.perf_counter()
    advisors = run.bench.users(n, "advisor", skills=[skill])
    client, = run.bench.users(1, "client")
    run.log(f"seeded {n} advisors in {time.perf_counter() - t0:.1f}s")
    server = run.bench.start_daphne("idle", run.args.app)
    try:
        room, = run.bench.proposals_to(server.url, client, advisors[:1])
        run.log(f"idle: {n} sockets, {run.args.idle_batch} at a time (pid {server.pid})")
        result = run_load({"mode": "idle", "http": server.url, "ws": server.ws,
                           "server_pid": server.pid, "tokens": [a.token for a in advisors],
                           "batch": run.args.idle_batch, "client": client.as_dict(),
                           "room": room, "skill": skill, "redis_url": run.bench.redis_url,
                           "prefix": run.bench.prefix,
                           "user_ids": [a.id for a in advisors] + [client.id]})
        result["rss_final_mib"] = round(rss(server.pid) / 2**20, 1)
        result["server_log_errors"] = server.log_count("Traceback")
        result["over_capacity_logged"] = server.log_count("over capacity")
    finally:
        run.bench.stop(server)
    if run.args.idle_baseline:
        bare = run.bench.start_daphne("idle-bare", "bench.baseline:application", health="/")
        try:
            run.log(f"idle, bare consumer: {n} sockets (pid {bare.pid})")
            result["bare"] = run_load({"mode": "idle", "kind": "bare", "ws": bare.ws,
                                       "server_pid": bare.pid, "count": n,
                                       "batch": run.args.idle_batch})
        finally:
            run.bench.stop(bare)
    return result


# --- 4. catch-up --------------------------------------------------------------------------


def catchup(run: Run) -> dict[str, Any]:
    server = run.main_server()
    big = run.big_room(server)
    missed = run.args.catchup_events
    result = run_load({"mode": "catchup", "http": server.url, "ws": server.ws,
                       "token": big["client"].token, "room": big["room"],
                       "after": big["head"] - missed, "expect": missed, "repeats": 5})
    return result


# --- 5. REST ------------------------------------------------------------------------------


def rest(run: Run) -> dict[str, Any]:
    server = run.main_server()
    big = run.big_room(server)
    sizes = run.args.rest_pages
    if "rest_clients" not in run.bench.cache:
        advisors = run.bench.users(max(sizes), "advisor")
        clients = run.bench.users(len(sizes), "client")
        for client, size in zip(clients, sizes, strict=True):
            run.bench.proposals_to(server.url, client, advisors[:size])
        run.bench.cache["rest_clients"] = dict(zip(sizes, clients, strict=True))
    clients: dict[int, Member] = run.bench.cache["rest_clients"]
    middle = sorted(sizes)[len(sizes) // 2]
    small_room = run.live_rooms(server)[0]
    endpoints = [
        {"name": f"GET /api/engagements/ ({middle} engagements)", "method": "GET",
         "path": "/api/engagements/", "token": clients[middle].token},
        {"name": "GET /api/engagements/{id}/events/?limit=100", "method": "GET",
         "path": f"/api/engagements/{big['room']}/events/",
         "params": {"after": 0, "limit": 100}, "token": big["client"].token},
        {"name": "POST /api/engagements/{id}/messages/", "method": "POST",
         "path": f"/api/engagements/{small_room[0]}/messages/", "token": small_room[1].token,
         "json": {"body": "x" * run.args.body_bytes, "client_id": "rest-{n}"}},
    ]
    result = run_load({"mode": "rest", "http": server.url, "concurrency": run.args.rest_concurrency,
                       "seconds": run.args.rest_seconds, "endpoints": endpoints,
                       "server_pids": [server.pid]})
    result["sql"] = run.bench.seed(
        "sqlcount", token_by_size={str(s): c.token for s, c in clients.items()},
        events_room=big["room"], events_token=big["client"].token,
        event_limits=[10, 100, 1000], message_room=small_room[0],
        message_token=small_room[1].token)
    return result


# --- 6. two processes ---------------------------------------------------------------------


def two(run: Run) -> dict[str, Any]:
    first = run.bench.start_daphne("two-a", run.args.app)
    second = run.bench.start_daphne("two-b", run.args.app)
    try:
        rooms = run.live_rooms(first)
        run.log(f"two processes (pids {first.pid}, {second.pid}): each room's members on "
                "different ones; senders alternate")
        # As a load balancer spreads them: room 1 sends on A and receives on B, room 2 the
        # other way round, …; every delivery crosses processes through Redis.
        pairs = (_app_pairs(rooms[0::2], first, second)
                 + _app_pairs(rooms[1::2], second, first))
        result = run_load(run.live_job("app", pairs, [first.pid, second.pid]))
        result["config"] = _config(run, server=f"{run.args.app}, 2 daphne, the members of "
                                   "each room on different processes, senders alternating")
        result["over_capacity_logged"] = (first.log_count("over capacity")
                                          + second.log_count("over capacity"))
    finally:
        run.bench.stop(first)
        run.bench.stop(second)
    return result


# --- 7. uploads ---------------------------------------------------------------------------


def uploads(run: Run) -> dict[str, Any]:
    """Delegates to bench/upload_memory.py (its own stack: a fresh daphne per size)."""
    if importlib.util.find_spec("bench.upload_memory") is None:
        return {"pending": "bench/upload_memory.py (server peak memory while a 25 MiB file "
                           "is uploaded) is being written separately; not run."}
    from bench import upload_memory

    entry = getattr(upload_memory, "run", None)
    try:
        parameters = list(inspect.signature(entry).parameters) if entry else []
    except (TypeError, ValueError):
        parameters = []
    if parameters[:2] != ["sizes_mib", "runs"]:
        return {"pending": "bench/upload_memory.py has no run(sizes_mib, runs) yet."}
    run.log(f"uploads: sizes {run.args.upload_sizes} MiB, {run.args.upload_runs} run(s) each "
            "(bench/upload_memory.py)")
    result = entry(run.args.upload_sizes, run.args.upload_runs)
    rows = result.get("sizes", [])
    for row in rows:
        size = row.get("size_mib") or 0
        growth = row.get("upload_growth_mib")
        if size and growth is not None:
            row["upload_growth_per_file_mib"] = round(growth / size, 2)
    return result


SCENARIOS = {
    "live": live,
    "baseline": baseline,
    "idle": idle,
    "catchup": catchup,
    "rest": rest,
    "two": two,
    "uploads": uploads,
}
