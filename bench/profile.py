"""Sampling profiles of a running daphne with py-spy, summarised for the report.

``record()`` samples a process for a while (``py-spy record --format raw --threads
--idle``: one line per distinct stack, root first, with its sample count, waiting threads
included) and ``summarise()`` turns
that into what a reader needs first: for each thread, the share of wall-clock time spent
running Python, waiting on PostgreSQL (connect, query, commit), waiting on the event loop
(``async_to_sync``) or idle; the share of a few known costs; and the top functions.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

# Known costs, matched against "function (file)" frames; a stack counts once per probe.
PROBES: dict[str, tuple[str, ...]] = {
    "chat.services.send_messages (a batch's write)": ("send_messages (chat/services.py",),
    "chat.events.publish_events (pushes after commit)": ("publish_events (chat/events.py",),
    "async_to_sync (thread waits for the loop)": ("AsyncToSync.__call__ (asgiref/sync.py",),
    "new PostgreSQL connection (CONN_MAX_AGE=0)": ("get_new_connection (",),
    "SQL statements (psycopg execute)": ("Cursor.execute (psycopg/cursor.py",),
    "ORM compiling SQL (as_sql)": ("as_sql (django/db/models/sql/",),
    "transaction commit": ("commit (django/db/backends/base/base.py",),
    "channels-redis group_send": ("group_send (channels_redis/",),
    "channels-redis receive": ("receive (channels_redis/",),
    "consumer receive → handler": ("RoomsConsumer.receive (chat/consumers.py",),
    "consumer delivery (_deliver/_send)": ("_deliver (chat/consumers.py",
                                           "_send (chat/consumers.py"),
    "autobahn frame parsing/sending": ("autobahn/websocket/protocol.py",),
    "json": ("dumps (json/", "loads (json/"),
    "msgpack (channel layer)": ("serialize (channels_redis/", "deserialize (channels_redis/"),
}
# Leaf frames that mean "waiting", not running Python.
WAITS = ("Connection.wait (psycopg", "EpollSelector.select (", "PollSelector.select (",
         "Condition.wait (threading.py", "_worker (concurrent/futures/thread.py",
         "wait_conn (psycopg", "wait_epoll (psycopg", "wait_select (psycopg",
         "Event.wait (threading.py", "Thread.join (threading.py")


def _category(frames: list[str]) -> str:
    """What a sample shows the thread doing."""
    leaf = frames[-1] if frames else ""
    joined = ";".join(frames)
    waiting = leaf.startswith(WAITS)
    if waiting and "(psycopg/" in joined:
        if "get_new_connection (" in joined:
            return "waiting: PostgreSQL connect"
        if "commit (" in joined:
            return "waiting: PostgreSQL commit"
        return "waiting: PostgreSQL query"
    if waiting and "AsyncToSync.__call__" in joined:
        return "waiting: event loop (async_to_sync)"
    if waiting:
        return "waiting: for work / I/O (idle)"
    return "running Python"


def available() -> str | None:
    return shutil.which("py-spy") or (
        str(Path(sys.executable).with_name("py-spy"))
        if Path(sys.executable).with_name("py-spy").exists() else None)


def record(pid: int, seconds: float, output: Path, rate: int = 100) -> subprocess.Popen:
    """Start sampling; the caller waits on the returned process."""
    exe = available()
    if exe is None:
        raise RuntimeError("py-spy is not installed (pip install py-spy)")
    return subprocess.Popen(
        [exe, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", str(rate),
         # --idle: sample waiting threads too, so shares are of wall-clock time
         "--format", "raw", "--threads", "--idle", "--nolineno", "--output", str(output)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*)\)$")


def _short(frame: str) -> str:
    match = _FRAME.match(frame)
    if not match:
        return frame
    return f"{match['func']} ({match['file']})"


def summarise(raw: Path, seconds: float, rate: int = 100, top: int = 15) -> dict[str, Any]:
    threads: Counter[str] = Counter()
    categories: dict[str, Counter[str]] = defaultdict(Counter)
    inclusive: dict[str, Counter[str]] = defaultdict(Counter)
    self_time: dict[str, Counter[str]] = defaultdict(Counter)
    probes: dict[str, Counter[str]] = defaultdict(Counter)
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        thread, frames = frames[0], [_short(f) for f in frames[1:]]
        if frames and thread.startswith("process"):  # with --subprocesses
            thread, frames = frames[0], frames[1:]
        threads[thread] += count
        total += count
        category = _category(frames)
        categories[thread][category] += count
        for frame in set(frames):
            inclusive[thread][frame] += count
        if frames and category == "running Python":
            self_time[thread][frames[-1]] += count
        joined = ";".join(frames)
        for name, needles in PROBES.items():
            if any(n in joined for n in needles):
                probes[thread][name] += count
    possible = seconds * rate
    out: dict[str, Any] = {"seconds": seconds, "rate": rate, "samples": total, "threads": []}
    for thread, count in threads.most_common():
        def wall(n: int) -> float:
            return round(100 * n / possible, 1)

        out["threads"].append({
            "thread": thread,
            "sampled_pct": wall(count),
            "wall_pct": {name: wall(n) for name, n in categories[thread].most_common()},
            "probes_wall_pct": {name: wall(n) for name, n in probes[thread].most_common()},
            "self_cpu": [{"frame": f, "wall_pct": wall(c)}
                         for f, c in self_time[thread].most_common(top)],
            "inclusive": [{"frame": f, "wall_pct": wall(c)}
                          for f, c in inclusive[thread].most_common(top * 3)
                          if "(chat/" in f or "(deals/" in f or "(config/" in f
                          or "(accounts/" in f][:top],
        })
    return out


def format_summary(summary: dict[str, Any], threads: int = 3, lines: int = 8) -> str:
    rows = [f"  py-spy: {summary['samples']} samples over {summary['seconds']} s at "
            f"{summary['rate']} Hz; figures are % of wall-clock time of each thread"]
    for entry in summary["threads"][:threads]:
        rows.append(f"  {entry['thread']}:")
        rows.append("    " + ", ".join(f"{name} {pct}%"
                                      for name, pct in entry["wall_pct"].items()))
        rows.append("    inside (a stack may count in several): " + ", ".join(
            f"{name} {pct}%" for name, pct in list(entry["probes_wall_pct"].items())[:lines]))
        if entry["self_cpu"]:
            rows.append("    top running Python: " + ", ".join(
                f"{item['frame']} {item['wall_pct']}%" for item in entry["self_cpu"][:5]))
    return "\n".join(rows)
