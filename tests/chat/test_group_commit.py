"""``chat.group_commit.GroupCommit``: what arrives while a batch is written becomes the
next batch, each caller gets its own result, and a failure reaches only its batch."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

from chat.group_commit import GroupCommit


def run(coroutine):
    # In a thread of its own: the browser tests' Playwright keeps an event loop running
    # on the main thread for the whole session.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


class Writer:
    """Records each batch; the first batch waits until released, so others queue up."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.release = threading.Event()

    def __call__(self, items: list[int]) -> list[int]:
        if not self.batches:
            self.release.wait(5)
        self.batches.append(list(items))
        if -1 in items:
            raise RuntimeError("the database went away")
        return [item * 10 for item in items]


def test_what_arrives_during_a_write_is_the_next_batch_and_results_go_to_their_callers():
    writer = Writer()
    commit = GroupCommit(writer)

    async def scenario() -> list[int]:
        first = asyncio.ensure_future(commit.submit(1))
        await asyncio.sleep(0.05)  # the first batch is being written
        rest = [asyncio.ensure_future(commit.submit(n)) for n in range(2, 12)]
        await asyncio.sleep(0.05)
        writer.release.set()
        return await asyncio.gather(first, *rest)

    assert run(scenario()) == [n * 10 for n in range(1, 12)]
    assert writer.batches == [[1], list(range(2, 12))]


def test_a_failed_batch_fails_its_callers_only_and_the_next_batch_still_runs():
    writer = Writer()
    commit = GroupCommit(writer)

    async def scenario() -> tuple[list, int]:
        first = asyncio.ensure_future(commit.submit(-1))  # this batch fails
        await asyncio.sleep(0.05)
        second = asyncio.ensure_future(commit.submit(2))
        writer.release.set()
        outcome = await asyncio.gather(first, return_exceptions=True)
        return outcome, await second

    (failure,), second = run(scenario())
    assert isinstance(failure, RuntimeError) and second == 20
    assert writer.batches == [[-1], [2]]


def test_batches_are_capped():
    writer = Writer()
    writer.release.set()
    commit = GroupCommit(writer, max_batch=3)

    async def scenario() -> list[int]:
        return await asyncio.gather(*[commit.submit(n) for n in range(7)])

    assert run(scenario()) == [n * 10 for n in range(7)]
    assert writer.batches == [[0, 1, 2], [3, 4, 5], [6]]
