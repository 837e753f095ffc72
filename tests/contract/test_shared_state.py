"""The SharedState contract, run against MemoryState and RedisState alike.

Time is always passed explicitly as ``now`` (never slept on), except for run_once, whose ttl
is measured on the real clock.
"""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from desk.shared.base import CLAIM_TTL, PRESENCE_TTL, QueueEntry, SharedState
from desk.shared.redis import RedisState

T0 = 1_700_000_000.0


async def online(
    state: SharedState,
    cid: int,
    *,
    capacity: int = 2,
    now: float = T0,
    library_id: int = 1,
    languages: tuple[str, ...] = ("en",),
) -> None:
    await state.put_presence(
        cid, library_id=library_id, languages=languages, capacity=capacity, status="online", now=now
    )


def entry(
    cid: int,
    *,
    queued_at: float = T0,
    priority: int = 0,
    declined: frozenset[int] = frozenset(),
    library_id: int = 1,
    route_library_id: int = 1,
    language: str = "en",
) -> QueueEntry:
    return QueueEntry(
        consultation_id=cid,
        library_id=library_id,
        route_library_id=route_library_id,
        language=language,
        queued_at=queued_at,
        priority=priority,
        declined=declined,
    )


# -- presence ------------------------------------------------------------------------------


async def test_put_presence_round_trip(state: SharedState) -> None:
    await state.put_presence(
        7, library_id=3, languages=["de", "en"], capacity=4, status="away", now=T0 + 0.125
    )
    p = await state.presence(7)
    assert p is not None
    assert p.consultant_id == 7
    assert p.library_id == 3
    assert p.languages == ("de", "en")
    assert p.capacity == 4
    assert p.status == "away"
    assert p.connected is True
    assert p.heartbeat == T0 + 0.125
    assert p.idle_since == T0 + 0.125
    assert p.disconnected_at is None
    assert p.load == 0
    assert await state.presence(8) is None


async def test_put_presence_refresh_keeps_idle_since_and_reconnects(state: SharedState) -> None:
    await online(state, 1, capacity=2, now=T0)
    await state.set_disconnected(1, T0 + 5)
    await state.put_presence(
        1, library_id=9, languages=("fr",), capacity=5, status="busy", now=T0 + 10
    )
    p = await state.presence(1)
    assert p is not None
    assert (p.library_id, p.languages, p.capacity, p.status) == (9, ("fr",), 5, "busy")
    assert p.connected is True
    assert p.disconnected_at is None
    assert p.heartbeat == T0 + 10
    assert p.idle_since == T0  # not reset by a refresh


async def test_set_status(state: SharedState) -> None:
    assert await state.set_status(1, "online", T0) is False
    assert await state.presence(1) is None  # no presence was created
    await online(state, 1, now=T0)
    assert await state.set_status(1, "busy", T0 + 3) is True
    p = await state.presence(1)
    assert p is not None
    assert p.status == "busy"
    assert p.heartbeat == T0 + 3


async def test_heartbeat(state: SharedState) -> None:
    await online(state, 1, now=T0)
    await online(state, 2, now=T0)
    assert await state.heartbeat([1, 99, 1], T0 + 20) == {99}, "99 has no presence"
    assert await state.heartbeat([], T0 + 30) == set()
    p1, p2 = await state.presence(1), await state.presence(2)
    assert p1 is not None and p2 is not None
    assert p1.heartbeat == T0 + 20
    assert p2.heartbeat == T0
    assert p1.idle_since == T0
    assert await state.presence(99) is None
    assert await state.set_status(99, "online", T0) is False  # no trace of 99 was left


async def test_set_disconnected(state: SharedState) -> None:
    await online(state, 1, now=T0)
    await state.set_disconnected(1, T0 + 2)
    p = await state.presence(1)
    assert p is not None
    assert p.connected is False
    assert p.disconnected_at == T0 + 2
    assert p.heartbeat == T0
    assert not p.routable(T0 + 2)
    assert await state.claim(100, 1, T0 + 2) is False
    assert await state.holdings(1) == {}
    await state.set_disconnected(42, T0)  # unknown: nothing happens
    assert await state.presence(42) is None
    assert await state.set_status(42, "online", T0) is False


async def test_drop_presence_keeps_holdings(state: SharedState) -> None:
    await online(state, 1, now=T0)
    assert await state.claim(100, 1, T0)
    await state.drop_presence(1)
    await state.drop_presence(1)  # idempotent
    assert await state.presence(1) is None
    assert [p.consultant_id for p in await state.presences()] == []
    assert await state.holdings(1) == {100: T0}
    await online(state, 1, now=T0 + 50)
    p = await state.presence(1)
    assert p is not None
    assert p.load == 1
    assert p.idle_since == T0 + 50  # a new presence


async def test_presences(state: SharedState) -> None:
    assert await state.presences() == []
    for cid in range(1, 6):
        await online(state, cid, capacity=3, now=T0 + cid)
    await state.hold(500, 3, T0)
    await state.hold(501, 3, T0)
    await state.set_disconnected(5, T0 + 9)
    by_id = {p.consultant_id: p for p in await state.presences()}
    assert sorted(by_id) == [1, 2, 3, 4, 5]
    assert by_id[3].load == 2
    assert by_id[3].free == 1
    assert by_id[1].load == 0
    assert by_id[2].heartbeat == T0 + 2
    assert by_id[5].disconnected_at == T0 + 9
    assert by_id[5].connected is False
    assert by_id[4] == await state.presence(4)


async def test_presences_many(state: SharedState) -> None:
    for cid in range(900):
        await online(state, cid, capacity=1 + cid % 3, library_id=cid % 7, now=T0)
    all_ = await state.presences()
    assert len(all_) == 900
    assert {p.consultant_id for p in all_} == set(range(900))
    assert all(p.capacity == 1 + p.consultant_id % 3 for p in all_)
    assert all(p.library_id == p.consultant_id % 7 for p in all_)


# -- claims --------------------------------------------------------------------------------


async def test_claim_needs_routable_presence(state: SharedState) -> None:
    assert await state.claim(100, 1, T0) is False  # no presence
    await online(state, 1, now=T0)
    for status in ("busy", "away"):
        assert await state.set_status(1, status, T0)
        assert await state.claim(100, 1, T0) is False
    assert await state.set_status(1, "online", T0)
    assert await state.holdings(1) == {}
    assert await state.claim(100, 1, T0) is True


async def test_claim_fails_on_stale_heartbeat(state: SharedState) -> None:
    await online(state, 1, capacity=5, now=T0)
    assert await state.claim(100, 1, T0 + PRESENCE_TTL + 0.5) is False
    assert await state.holdings(1) == {}
    assert await state.claim(100, 1, T0 + PRESENCE_TTL) is True  # the boundary still counts
    await state.heartbeat([1], T0 + 100)
    assert await state.claim(101, 1, T0 + 100 + PRESENCE_TTL - 1) is True


async def test_capacity_respected(state: SharedState) -> None:
    await online(state, 1, capacity=2)
    assert await state.claim(100, 1, T0) is True
    assert await state.claim(101, 1, T0) is True
    assert await state.claim(102, 1, T0) is False
    p = await state.presence(1)
    assert p is not None and p.load == 2 and p.free == 0
    await state.release(100, 1, T0 + 1)
    assert await state.claim(102, 1, T0 + 2) is True
    assert await state.holdings(1) == {101: T0, 102: T0 + 2}


async def test_claiming_a_held_chat_again_is_refused_and_changes_nothing(
    state: SharedState,
) -> None:
    await online(state, 1, capacity=3)
    assert await state.claim(100, 1, T0) is True
    assert await state.claim(100, 1, T0 + 1) is False
    p = await state.presence(1)
    assert p is not None
    assert p.load == 1
    assert p.idle_since == T0
    assert await state.holdings(1) == {100: T0}


async def test_live_claim_blocks_other_consultants(state: SharedState) -> None:
    await online(state, 1)
    await online(state, 2)
    assert await state.claim(100, 1, T0) is True
    assert await state.claim(100, 2, T0 + 1) is False
    assert await state.claim(100, 2, T0 + CLAIM_TTL - 0.01) is False
    assert await state.holdings(2) == {}
    # The claim lapses after CLAIM_TTL (a node died mid-assignment).
    assert await state.claim(100, 2, T0 + CLAIM_TTL) is True
    assert await state.holdings(2) == {100: T0 + CLAIM_TTL}
    # Now 2 owns the claim; 1 is locked out although it still counts the chat.
    assert await state.holdings(1) == {100: T0}
    assert await state.claim(100, 1, T0 + CLAIM_TTL + 1) is False


async def test_a_refused_reclaim_does_not_refresh_the_claim(state: SharedState) -> None:
    await online(state, 1)
    await online(state, 2)
    assert await state.claim(100, 1, T0) is True
    assert await state.claim(100, 1, T0 + 10) is False
    assert await state.claim(100, 2, T0 + CLAIM_TTL) is True


async def test_release_frees_the_claim(state: SharedState) -> None:
    await online(state, 1)
    await online(state, 2)
    assert await state.claim(100, 1, T0) is True
    await state.release(100, 1, T0 + 1)
    assert await state.holdings(1) == {}
    assert await state.claim(100, 2, T0 + 2) is True


async def test_release_is_idempotent_and_owner_only(state: SharedState) -> None:
    await online(state, 1)
    await online(state, 2)
    await online(state, 3)
    assert await state.claim(100, 1, T0) is True
    await state.release(100, 2, T0 + 1)  # 2 holds nothing and owns no claim
    assert await state.holdings(1) == {100: T0}
    assert await state.claim(100, 3, T0 + 2) is False  # 1's claim survived
    await state.release(100, 1, T0 + 3)
    await state.release(100, 1, T0 + 4)
    await state.release(999, 1, T0 + 4)
    assert await state.holdings(1) == {}
    p = await state.presence(1)
    assert p is not None
    assert p.load == 0
    assert p.idle_since == T0 + 3  # the later no-op releases did not touch it


async def test_release_by_non_owner_removes_only_its_own_holding(state: SharedState) -> None:
    await online(state, 1)
    await online(state, 2)
    await state.hold(100, 2, T0)
    assert await state.claim(100, 1, T0) is True
    await state.release(100, 2, T0 + 1)
    assert await state.holdings(2) == {}
    assert await state.holdings(1) == {100: T0}
    assert await state.claim(100, 2, T0 + 2) is False


async def test_hold_bypasses_capacity(state: SharedState) -> None:
    await online(state, 1, capacity=1, now=T0)
    await state.hold(100, 1, T0 + 1)
    await state.hold(101, 1, T0 + 2)
    await state.hold(100, 1, T0 + 9)  # does not overwrite the time taken
    assert await state.holdings(1) == {100: T0 + 1, 101: T0 + 2}
    p = await state.presence(1)
    assert p is not None
    assert p.load == 2
    assert p.free == 0
    assert p.idle_since == T0  # hold does not touch idle_since
    assert await state.claim(102, 1, T0 + 3) is False
    assert await state.claim(101, 1, T0 + 3) is False  # already held: refused
    await state.hold(200, 77, T0)  # no presence needed
    assert await state.holdings(77) == {200: T0}


async def test_idle_since_follows_claims_and_releases(state: SharedState) -> None:
    await online(state, 1, capacity=3, now=T0)

    async def idle() -> float:
        p = await state.presence(1)
        assert p is not None
        return p.idle_since

    assert await idle() == T0
    assert await state.claim(100, 1, T0 + 5)
    assert await idle() == T0 + 5
    assert await state.claim(101, 1, T0 + 7)
    assert await idle() == T0 + 7
    await state.release(100, 1, T0 + 11)
    assert await idle() == T0 + 11
    assert await state.claim(102, 1, T0 + 20) is True
    await online(state, 1, capacity=3, now=T0 + 25)
    assert await idle() == T0 + 20


async def test_holdings_unknown(state: SharedState) -> None:
    assert await state.holdings(123) == {}


# -- queue ---------------------------------------------------------------------------------


async def test_queue_round_trip(state: SharedState) -> None:
    e = entry(
        5,
        queued_at=T0 + 0.000123,
        priority=2,
        declined=frozenset({3, 4}),
        library_id=8,
        route_library_id=9,
        language="pt-BR",
    )
    await state.enqueue(e)
    assert await state.queue() == [e]


async def test_queue_order(state: SharedState) -> None:
    entries = [
        entry(10, queued_at=T0 + 5),
        entry(11, queued_at=T0 + 1),
        entry(12, queued_at=T0 + 1),
        entry(9, queued_at=T0 + 1),
        entry(13, queued_at=T0 + 9, priority=1),
        entry(14, queued_at=T0 + 0.5, priority=-1),
        entry(15, queued_at=T0 + 1.000001),
        entry(16, queued_at=T0 + 99, priority=10),
        entry(17, queued_at=0.0),
        entry(18, queued_at=-3.5),
        entry(2, queued_at=T0 + 5),
    ]
    for e in entries:
        await state.enqueue(e)
    got = [e.consultation_id for e in await state.queue()]
    assert got == [16, 13, 18, 17, 9, 11, 12, 15, 2, 10, 14]
    assert got == [e.consultation_id for e in sorted(entries, key=QueueEntry.sort_key)]


async def test_dequeue(state: SharedState) -> None:
    await state.enqueue(entry(1, queued_at=T0))
    await state.enqueue(entry(2, queued_at=T0 + 1))
    await state.dequeue(1)
    await state.dequeue(1)
    await state.dequeue(404)
    assert [e.consultation_id for e in await state.queue()] == [2]
    await state.dequeue(2)
    assert await state.queue() == []


async def test_reenqueue_replaces_details_and_merges_declined(state: SharedState) -> None:
    await state.enqueue(entry(1, queued_at=T0))
    await state.enqueue(entry(2, queued_at=T0 + 1, declined=frozenset({7})))
    await state.add_declined(2, 8)
    # Requeued first in line after a drop: priority and time change, declined accumulates.
    await state.enqueue(entry(2, queued_at=T0 + 50, priority=1, declined=frozenset({9})))
    q = await state.queue()
    assert [e.consultation_id for e in q] == [2, 1]
    assert q[0].priority == 1
    assert q[0].queued_at == T0 + 50
    assert q[0].declined == frozenset({7, 8, 9})
    # Re-enqueue with nothing declined keeps the old set.
    await state.enqueue(entry(2, queued_at=T0 + 60))
    q = await state.queue()
    assert [e.consultation_id for e in q] == [1, 2]
    assert q[1].declined == frozenset({7, 8, 9})
    assert len(q) == 2
    # After a dequeue nothing is remembered.
    await state.dequeue(2)
    await state.enqueue(entry(2, queued_at=T0 + 70))
    assert (await state.queue())[1].declined == frozenset()


async def test_add_declined(state: SharedState) -> None:
    await state.add_declined(1, 5)  # not queued: nothing happens
    assert await state.queue() == []
    await state.enqueue(entry(1))
    await state.add_declined(1, 5)
    await state.add_declined(1, 5)
    await state.add_declined(1, 6)
    q = await state.queue()
    assert len(q) == 1
    assert q[0].declined == frozenset({5, 6})
    await state.dequeue(1)
    await state.add_declined(1, 7)
    assert await state.queue() == []
    await state.enqueue(entry(1))
    assert (await state.queue())[0].declined == frozenset()  # 7 was not remembered


# -- readers -------------------------------------------------------------------------------


async def test_readers(state: SharedState) -> None:
    assert await state.reader_last_seen([1, 2]) == {}
    assert await state.reader_last_seen([]) == {}
    await state.reader_seen([1, 2], T0)
    await state.reader_seen([], T0 + 1)
    await state.reader_seen([2, 3], T0 + 0.25)
    assert await state.reader_last_seen([1, 2, 3, 4]) == {1: T0, 2: T0 + 0.25, 3: T0 + 0.25}
    await state.reader_forget(2)
    await state.reader_forget(2)
    assert await state.reader_last_seen([1, 2, 3]) == {1: T0, 3: T0 + 0.25}
    assert await state.reader_last_seen(iter([3])) == {3: T0 + 0.25}


async def test_a_whole_node_of_readers_and_consultants(state: SharedState) -> None:
    """Thousands of readers and hundreds of consultants at once (Redis takes them in several
    commands): every one is recorded and read back, the duplicates once."""
    ids = list(range(1, 2_502))
    await state.reader_seen([*ids, 7, 7], T0)
    await state.reader_seen(ids[1000:1100], T0 + 1)
    seen = await state.reader_last_seen([*ids, 9_999, 7])
    assert len(seen) == len(ids)
    assert seen == {i: T0 + 1 if 1000 <= i - 1 < 1100 else T0 for i in ids}
    for c in range(1, 251):
        await state.put_presence(
            c, library_id=c % 3, languages=["zh-CN"], capacity=c % 5 + 1, status="online", now=T0
        )
    await state.hold(5, 201, T0)
    people = await state.presences()
    assert [p.consultant_id for p in people] == list(range(1, 251))
    assert [(p.library_id, p.capacity) for p in people] == [
        (c % 3, c % 5 + 1) for c in range(1, 251)
    ]
    assert [p.load for p in people if p.load] == [1] and people[200].load == 1


# -- run once ------------------------------------------------------------------------------


async def test_run_once(state: SharedState) -> None:
    assert await state.run_once("sweep", 0.05) is True
    assert await state.run_once("sweep", 0.05) is False
    assert await state.run_once("other", 0.05) is True
    await asyncio.sleep(0.1)
    assert await state.run_once("sweep", 0.05) is True
    assert await state.run_once("sweep", 0.05) is False


async def test_run_once_concurrent(state: SharedState) -> None:
    results = await asyncio.gather(*(state.run_once("nightly", 30) for _ in range(20)))
    assert results.count(True) == 1


# -- concurrency ---------------------------------------------------------------------------


async def _race_capacity(nodes: list[SharedState]) -> None:
    await online(nodes[0], 500, capacity=3, now=T0)
    results = await asyncio.gather(
        *(nodes[i % len(nodes)].claim(1000 + i, 500, T0 + 1) for i in range(50))
    )
    assert results.count(True) == 3
    p = await nodes[-1].presence(500)
    assert p is not None
    assert p.load == 3
    won = {1000 + i for i, ok in enumerate(results) if ok}
    assert set(await nodes[-1].holdings(500)) == won


async def _race_one_consultation(nodes: list[SharedState]) -> None:
    for cid in range(1, 21):
        await online(nodes[cid % len(nodes)], cid, capacity=2, now=T0)
    results = await asyncio.gather(
        *(nodes[cid % len(nodes)].claim(7, cid, T0 + 1) for cid in range(1, 21))
    )
    assert results.count(True) == 1
    winner = results.index(True) + 1
    for cid in range(1, 21):
        expected = {7: T0 + 1} if cid == winner else {}
        assert await nodes[0].holdings(cid) == expected


async def test_concurrent_claims_respect_capacity(state: SharedState) -> None:
    await _race_capacity([state])


async def test_concurrent_claims_on_one_consultation(state: SharedState) -> None:
    await _race_one_consultation([state])


@pytest.mark.redis
async def test_concurrent_claims_across_nodes(redis_nodes: tuple[RedisState, RedisState]) -> None:
    a, b = redis_nodes
    await _race_capacity([a, b])
    await _race_one_consultation([a, b])


@pytest.mark.redis
async def test_nodes_share_state(redis_nodes: tuple[RedisState, RedisState]) -> None:
    a, b = redis_nodes
    await online(a, 1, now=T0)
    assert await b.claim(100, 1, T0) is True
    p = await a.presence(1)
    assert p is not None and p.load == 1
    await b.enqueue(entry(5))
    await a.add_declined(5, 1)
    assert (await b.queue())[0].declined == frozenset({1})
    assert await a.run_once("job", 30) is True
    assert await b.run_once("job", 30) is False


# -- Redis specifics -----------------------------------------------------------------------


@pytest.mark.redis
async def test_keys_stay_under_prefix(redis_nodes: tuple[RedisState, RedisState]) -> None:
    a, _ = redis_nodes
    await online(a, 1, now=T0)
    assert await a.claim(100, 1, T0)
    await a.enqueue(entry(5, declined=frozenset({2})))
    await a.reader_seen([5], T0)
    assert await a.run_once("job", 30)
    keys = {k.removeprefix(a.prefix) async for k in a._r.scan_iter(match=f"{a.prefix}*")}
    assert keys == {
        "presence:ids",
        "presence:1",
        "held:1",
        "claim:100",
        "queue",
        "queue:entry",
        "queue:member",
        "queue:declined",
        "readers",
        "once:job",
    }
    await a.dequeue(5)
    await a.release(100, 1, T0)
    await a.reader_forget(5)
    await a.drop_presence(1)
    left = {k.removeprefix(a.prefix) async for k in a._r.scan_iter(match=f"{a.prefix}*")}
    assert left == {"once:job"}  # nothing else lingers


@pytest.mark.redis
async def test_from_url_uses_a_bounded_blocking_pool(
    redis_nodes: tuple[RedisState, RedisState],
) -> None:
    a, _ = redis_nodes
    pool = a._r.connection_pool
    assert isinstance(pool, aioredis.BlockingConnectionPool)
    assert pool.max_connections == 8
    assert pool.timeout == 10
    assert pool.connection_kwargs.get("decode_responses") is True


async def test_redis_state_requires_decoded_responses() -> None:
    client = aioredis.Redis()  # never connects
    try:
        with pytest.raises(ValueError, match="decode_responses"):
            RedisState(client, "x:")
    finally:
        await client.aclose()


async def test_settle_drops_only_the_owners_claim_and_keeps_the_slot(state: SharedState) -> None:
    await online(state, 1, capacity=2)
    await online(state, 2, capacity=2)
    assert await state.claim(100, 1, T0)
    await state.settle(100, 2)  # not the owner: nothing changes
    assert not await state.claim(100, 2, T0 + 1)
    await state.settle(100, 1)
    assert (await state.presence(1)).load == 1  # type: ignore[union-attr]
    assert await state.claim(100, 2, T0 + 1), "a settled chat can be handed over at once"
