"""Group commit of background writes: a burst shares writes, nothing is lost or reordered, and
a failed write fails exactly its own items."""

from __future__ import annotations

import asyncio

import pytest

from desk.groupcommit import GroupCommit


async def test_a_burst_shares_writes_and_keeps_every_item_in_order() -> None:
    written: list[list[int]] = []

    async def write(items: list[int]) -> None:
        await asyncio.sleep(0.01)  # a commit in flight: the rest of the burst gathers
        written.append(items)

    gc: GroupCommit[int] = GroupCommit(write, max_items=40)
    await asyncio.gather(*(gc.add(i) for i in range(100)))
    assert [i for batch in written for i in batch] == list(range(100))
    assert all(len(b) <= 40 for b in written)
    assert gc.writes == len(written) <= 5


async def test_a_lone_item_is_written_at_once() -> None:
    written: list[list[str]] = []

    async def write(items: list[str]) -> None:
        written.append(items)

    gc: GroupCommit[str] = GroupCommit(write)
    await gc.add("a")
    assert written == [["a"]]
    await gc.add("b")
    assert written == [["a"], ["b"]]


async def test_a_failed_write_fails_its_own_items_only() -> None:
    calls = 0

    async def write(items: list[int]) -> None:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        if 0 in items:
            raise RuntimeError("disk full")

    gc: GroupCommit[int] = GroupCommit(write)
    first = asyncio.ensure_future(gc.add(0))
    await asyncio.sleep(0)  # the first write is in flight
    later = [asyncio.ensure_future(gc.add(i)) for i in (1, 2)]
    with pytest.raises(RuntimeError, match="disk full"):
        await first
    await asyncio.gather(*later)
    assert calls == 2


async def test_shutdown_cancels_the_waiters_instead_of_leaving_them_hanging() -> None:
    started = asyncio.Event()

    async def write(items: list[int]) -> None:
        started.set()
        await asyncio.sleep(60)

    tasks: set[asyncio.Task[None]] = set()
    gc: GroupCommit[int] = GroupCommit(write, track=tasks)
    waiting = [asyncio.ensure_future(gc.add(i)) for i in range(3)]
    await started.wait()
    assert len(tasks) == 1, "the writer task is tracked for shutdown"
    for t in list(tasks):
        t.cancel()
    done, pending = await asyncio.wait(waiting, timeout=1)
    assert not pending and all(t.cancelled() for t in done)
    assert not tasks
    # A later item starts a new writer.
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await gc.add(9)
    assert len(tasks) == 1
    for t in list(tasks):
        t.cancel()
    await asyncio.sleep(0)
