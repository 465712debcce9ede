"""What-if experiments: the application with a suggested change applied *from outside*,
to measure a change before anyone makes it. Nothing here is imported by the project.

    python -m bench --scenario live --app bench.whatif:application \\
        --server-env BENCH_WHATIF=pool,async_publish --server-env DB_CONN_MAX_AGE=60

``BENCH_WHATIF`` (comma-separated):

* ``pool``: the consumer's database calls run on a thread pool
  (``database_sync_to_async(thread_sensitive=False)``) instead of asgiref's one
  process-wide thread, so one socket's write no longer waits for every other socket's.
* ``async_publish``: ``chat.events.send_to_group`` schedules the ``group_send`` on the
  event loop and returns, instead of blocking the database thread in ``async_to_sync``
  until Redis has answered (the push is a hint; the log is the truth).
* ``shared_cache``: ``chat.presence`` and ``chat.tickets`` use one process-wide cache
  client (``caches.create_connection("default")``) instead of ``django.core.cache.cache``,
  which resolves to a cache object *per asyncio context*: every consumer task gets its own
  RedisCache, its own pool and its own Redis connection, held while the socket is open.
* ``tracemalloc``: not a change but a probe: traces allocations; the first ``SIGUSR1``
  takes a snapshot, each later one writes the biggest growth since it, by line, to
  ``/tmp/bench-tracemalloc-<pid>.txt`` (where does an idle socket's memory go?).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import signal
import threading
import tracemalloc
from typing import Any

from channels.db import DatabaseSyncToAsync
from channels.layers import get_channel_layer

from config.asgi import application as _application  # sets Django up, so it comes first

consumers = importlib.import_module("chat.consumers")
events = importlib.import_module("chat.events")

logger = logging.getLogger("bench.whatif")
WHATIF = {x.strip() for x in os.environ.get("BENCH_WHATIF", "").split(",") if x.strip()}
_loop: asyncio.AbstractEventLoop | None = None


def _db_on_pool(func: Any) -> DatabaseSyncToAsync:
    return DatabaseSyncToAsync(func, thread_sensitive=False)


_blocking_send_to_group = events.send_to_group


def _send_to_group_nowait(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    if _loop is None or threading.current_thread() is threading.main_thread():
        _blocking_send_to_group(group, message)
        return
    future = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), _loop)

    def report(done: Any) -> None:
        if not done.cancelled() and done.exception() is not None:
            logger.error("could not publish to %s: %r", group, done.exception())

    future.add_done_callback(report)


_snapshot: tracemalloc.Snapshot | None = None


def _dump_allocations(signum: int, frame: Any) -> None:
    global _snapshot
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__)])
    if _snapshot is None:
        _snapshot = snapshot
        return
    with open(f"/tmp/bench-tracemalloc-{os.getpid()}.txt", "w") as out:
        for key in ("lineno", "filename"):
            out.write(f"--- growth by {key}\n")
            for stat in snapshot.compare_to(_snapshot, key)[:40]:
                out.write(f"{stat}\n")


if "tracemalloc" in WHATIF:
    tracemalloc.start(1)
    signal.signal(signal.SIGUSR1, _dump_allocations)
if "shared_cache" in WHATIF:
    from django.core.cache import caches

    _shared_cache = caches.create_connection("default")
    importlib.import_module("chat.presence").cache = _shared_cache
    importlib.import_module("chat.tickets").cache = _shared_cache
if "pool" in WHATIF:
    consumers.db = _db_on_pool
if "async_publish" in WHATIF:
    events.send_to_group = _send_to_group_nowait


async def application(scope: dict, receive: Any, send: Any) -> None:
    global _loop
    if _loop is None:
        _loop = asyncio.get_running_loop()
    await _application(scope, receive, send)
