"""The Socket.IO Redis manager's batched publishes, against a real Redis: what one node emits
reaches another in one PUBLISH, in order; a node skips its own batches undecoded; a single
emit from an older node is still handled; a bad payload is dropped without stopping the rest."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis

from desk.sockets.server import BATCH_MAX, BATCH_METHOD, BoundedRedisManager
from tests.services import redis_namespace

pytestmark = pytest.mark.redis


def emit(n: int, room: str = "r") -> dict[str, Any]:
    return {"method": "emit", "event": "message", "data": [{"n": n}], "room": room}


class Heard:
    """Everything a manager's listener hands to python-socketio, as it arrives."""

    def __init__(self, manager: BoundedRedisManager) -> None:
        self.manager = manager
        self.items: list[Any] = []
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        async def listen() -> None:
            async for item in self.manager._listen():
                self.items.append(item)

        self._task = asyncio.create_task(listen())
        # Subscribed once Redis counts a subscriber on the channel.
        client = aioredis.Redis.from_url(self.manager.redis_url)
        try:
            for _ in range(200):
                subs = dict(await client.pubsub_numsub(self.manager.channel))
                if subs.get(self.manager.channel.encode(), 0) >= 1:
                    return
                await asyncio.sleep(0.01)
            raise AssertionError("the listener never subscribed")
        finally:
            await client.aclose()

    async def until(self, n: int) -> list[Any]:
        for _ in range(500):
            if len(self.items) >= n:
                return self.items
            await asyncio.sleep(0.01)
        raise AssertionError(f"heard {len(self.items)} of {n}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


@pytest.fixture
async def nodes() -> AsyncIterator[tuple[BoundedRedisManager, Heard, Heard, str]]:
    """Two managers on one channel (a and b, two nodes), what each one's listener hears, and
    the Redis URL."""
    async with redis_namespace() as (url, prefix):
        channel = f"{prefix}socketio"
        a = BoundedRedisManager(url, channel=channel, max_connections=4)
        b = BoundedRedisManager(url, channel=channel, max_connections=4)
        heard_by_a, heard_by_b = Heard(a), Heard(b)
        await heard_by_a.start()
        await heard_by_b.start()
        try:
            yield a, heard_by_a, heard_by_b, url
        finally:
            await heard_by_a.stop()
            await heard_by_b.stop()
            await a.aclose()
            await b.aclose()


async def published(url: str, channel: str, during: Any) -> list[bytes]:
    """The raw payloads PUBLISHed on ``channel`` while ``during`` runs."""
    client = aioredis.Redis.from_url(url)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(channel)
    got: list[bytes] = []
    try:
        await during()
        for _ in range(100):
            msg = await pubsub.get_message(timeout=0.05)
            if msg is None and got:
                break
            if msg is not None:
                got.append(msg["data"])
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]
        await client.aclose()
    return got


async def test_emits_made_together_cross_in_one_publish_in_order(
    nodes: tuple[BoundedRedisManager, Heard, Heard, str],
) -> None:
    a, heard_by_a, heard_by_b, url = nodes

    async def burst() -> None:
        for n in range(5):
            await a._publish(emit(n))
        assert a._sender is not None
        await a._sender

    payloads = await published(url, a.channel, burst)
    assert len(payloads) == 1
    batch = orjson.loads(payloads[0])
    assert batch["method"] == BATCH_METHOD and batch["host_id"] == a.host_id
    assert [e["data"][0]["n"] for e in await heard_by_b.until(5)] == [0, 1, 2, 3, 4]
    assert heard_by_a.items == [], "a node skips its own batches"


async def test_a_long_burst_is_split_into_bounded_batches_and_loses_nothing(
    nodes: tuple[BoundedRedisManager, Heard, Heard, str],
) -> None:
    a, heard_by_a, heard_by_b, url = nodes
    total = 2 * BATCH_MAX + 7

    async def burst() -> None:
        for n in range(total):
            await a._publish(emit(n))
        assert a._sender is not None
        await a._sender

    payloads = await published(url, a.channel, burst)
    assert [len(orjson.loads(p)["emits"]) for p in payloads] == [BATCH_MAX, BATCH_MAX, 7]
    assert [e["data"][0]["n"] for e in await heard_by_b.until(total)] == list(range(total))
    assert heard_by_a.items == [], "a node skips its own batches"


async def test_a_single_emit_from_an_older_node_is_handled_and_garbage_skipped(
    nodes: tuple[BoundedRedisManager, Heard, Heard, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    a, _, heard_by_b, url = nodes
    client = aioredis.Redis.from_url(url)
    try:
        old = orjson.dumps({**emit(1), "host_id": "an-older-node"})
        await client.publish(a.channel, old)
        with caplog.at_level(logging.WARNING, logger="desk.sockets.server"):
            await client.publish(a.channel, b'{"method":"desk.emits","host_id":"x", broken')
            await client.publish(
                a.channel,
                orjson.dumps({"method": BATCH_METHOD, "host_id": "another", "emits": [emit(2)]}),
            )
            items = await heard_by_b.until(2)
        # The old form reaches python-socketio's listener raw (it decodes it itself).
        assert items[0] == old
        assert items[1]["data"] == [{"n": 2}]
        assert "undecodable batch on the Socket.IO channel" in caplog.text
    finally:
        await client.aclose()


async def test_an_emit_that_cannot_be_encoded_fails_alone(
    nodes: tuple[BoundedRedisManager, Heard, Heard, str],
) -> None:
    a, _, heard_by_b, _ = nodes
    await a._publish(emit(1))
    with pytest.raises(TypeError):
        await a._publish({**emit(2), "data": [object()]})
    await a._publish(emit(3))
    assert a._sender is not None
    await a._sender
    assert [e["data"][0]["n"] for e in await heard_by_b.until(2)] == [1, 3]
