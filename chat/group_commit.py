"""Group commit: the messages of many sockets written in one transaction.

A socket's ``message`` frame used to be one database call of its own: a thread hop, a
pooled connection, a transaction of four statements and a commit, for 64 bytes. The
process's one event loop then spent most of its time waiting on those calls one by one
(measured in bench/: about 7 ms of CPU per message). Here every frame that arrives while
a batch is being written joins the next batch, and ``chat.services.send_messages`` writes
the batch in one transaction of a fixed number of statements. At low load a batch is one
message and waits for nobody; under load batches grow with the time a write takes, so the
cost per message falls as the load rises instead of the queue growing.

One batch is in flight per event loop (per server process) unless ``writers`` says
otherwise: that is what makes batches grow (two writers measured slower in bench/: they
split the batches and fight the event loop for the GIL). A socket handles its frames one
at a time, so its messages are written in the order it sent them either way.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from channels.db import DatabaseSyncToAsync

Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupCommit(Generic[Item, Result]):
    def __init__(self, write: Callable[[Sequence[Item]], list[Result]], *,
                 max_batch: int = 200, writers: int = 1) -> None:
        self._write = DatabaseSyncToAsync(write, thread_sensitive=False)
        self._max_batch = max_batch
        self._writers = writers
        # Futures belong to a loop, so each loop (tests run several) has its own queue.
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Queue] = (
            weakref.WeakKeyDictionary())

    async def submit(self, item: Item) -> Result:
        """Write ``item`` with whatever else is waiting; returns its own result."""
        loop = asyncio.get_running_loop()
        queue = self._queues.get(loop)
        if queue is None:
            queue = self._queues[loop] = _Queue()
        future: asyncio.Future = loop.create_future()
        queue.waiting.append((item, future))
        if len(queue.writers) < self._writers:
            writer = loop.create_task(self._drain(queue))
            queue.writers.add(writer)
            writer.add_done_callback(queue.writers.discard)
        return await future

    async def _drain(self, queue: _Queue) -> None:
        while queue.waiting:
            batch = queue.waiting[: self._max_batch]
            del queue.waiting[: self._max_batch]
            try:
                results = await self._write([item for item, _ in batch])
            except Exception as exc:  # every caller in the batch learns of it
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():  # a caller that went away (socket closed)
                    future.set_result(result)


class _Queue:
    __slots__ = ("waiting", "writers")

    def __init__(self) -> None:
        self.waiting: list[tuple[Any, asyncio.Future]] = []
        self.writers: set[asyncio.Task] = set()
