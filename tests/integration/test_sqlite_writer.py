"""The SQLite message writer on its own: it writes on the event loop's thread, never waits
there for SQLite's lock (another connection holding it gets the batch sent to the worker
thread, and the loop keeps running), and checkpoints the WAL off the loop."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from tests.integration.test_message_writer import Fixture, fixture_on
from transcripts.batch import SqliteWriter, writer_for
from transcripts.records import StoredMessage


@pytest.fixture
async def fx(sqlite_url: str) -> AsyncIterator[Fixture]:
    async with fixture_on(sqlite_url) as f:
        yield f


def sqlite_writer(fx: Fixture, **settings: int) -> SqliteWriter:
    w = writer_for(fx.engine)
    assert isinstance(w, SqliteWriter)
    for name, value in settings.items():
        setattr(w, name, value)
    return w


def path_of(fx: Fixture) -> str:
    db = fx.engine.url.database
    assert db
    return db


async def test_a_batch_runs_on_the_loop_when_the_lock_is_free(fx: Fixture) -> None:
    w = sqlite_writer(fx)
    try:
        cid = await fx.chat()
        got = await w.write([fx.by_reader(cid, "一", "m1"), fx.by_consultant(cid, fx.wang, "二")])
        assert [r.seq for r in got if isinstance(r, StoredMessage)] == [1, 2]
        assert w.paths == {"loop": 1}
        assert await fx.stored(cid) == [(1, "一", "m1"), (2, "二", None)]
    finally:
        await w.close()


async def test_a_held_lock_sends_the_batch_to_the_thread_and_the_loop_runs_on(
    fx: Fixture,
) -> None:
    w = sqlite_writer(fx)
    other = sqlite3.connect(path_of(fx), isolation_level=None, check_same_thread=False)
    try:
        cid = await fx.chat()
        await w.write([fx.by_reader(cid, "一", "m1")])
        other.execute("BEGIN IMMEDIATE")  # another writer (a routing transaction) holds it
        write = asyncio.ensure_future(w.write([fx.by_reader(cid, "二", "m2")]))
        ticks = 0
        for _ in range(20):
            await asyncio.sleep(0.01)
            ticks += 1
        assert ticks == 20 and not write.done(), "waits for the lock, off the loop"
        other.execute("COMMIT")
        got = await asyncio.wait_for(write, 10)
        assert isinstance(got[0], StoredMessage) and got[0].seq == 2
        assert w.paths == {"loop": 1, "thread": 1}
        # The retry after the wait is still answered, once, from either connection.
        again = await w.write([fx.by_reader(cid, "二", "m2")])
        assert isinstance(again[0], StoredMessage) and again[0].duplicate and again[0].seq == 2
        assert await fx.stored(cid) == [(1, "一", "m1"), (2, "二", "m2")]
    finally:
        other.close()
        await w.close()


async def wal_bytes_after(fx: Fixture, **settings: int) -> tuple[int, Counter[str]]:
    """Writes without a pause, as a steady load does; the WAL file's size after."""
    w = sqlite_writer(fx, **settings)
    try:
        cid = await fx.chat()
        for k in range(200):
            await w.write(
                [fx.by_reader(cid, "消息" * 200, f"{settings}-{k}-{i}") for i in range(10)]
            )
            await asyncio.sleep(0.001)  # the loop turns between batches, as on a server
        await w.close()
        return os.path.getsize(path_of(fx) + "-wal"), w.paths
    finally:
        await w.close()


async def test_the_wal_is_checkpointed_off_the_loop_and_stays_small(fx: Fixture) -> None:
    # The loop's connection never checkpoints during a commit: without the writer's own
    # checkpoints (in the worker thread) the log only grows.
    kept, paths = await wal_bytes_after(fx, checkpoint_every=50, wal_limit_pages=1)
    assert paths["checkpoint"] >= 5 and paths["catch-up"] >= 1
    assert paths["loop"] > 150, "most batches still run on the loop"
    grown, none = await wal_bytes_after(fx, checkpoint_every=10**9)
    assert none["checkpoint"] == none["catch-up"] == 0
    assert kept < grown / 4, (grown, kept)
