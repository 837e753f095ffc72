"""The shared setup for real: desk nodes on one PostgreSQL and one Redis.

Two nodes in one process show that routing, claims and relay work across nodes; two desk
server processes show that a reader whose node is killed resumes on the other with nothing
lost and nothing doubled.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import aiohttp
import pytest
from sqlalchemy import text

from desk.clock import ManualClock
from tests.conftest import seed_demo, truncate_all
from tests.harness import EMBED_ORIGIN, Consultant, Node, Reader, free_port, start_node
from tests.services import redis_namespace

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
async def shared(postgres_run_db: str) -> AsyncIterator[tuple[str, str, str]]:
    """(database url, redis url, key prefix) for one test, all cleaned afterwards."""
    await truncate_all(postgres_run_db)
    await seed_demo(postgres_run_db, "http://unused")
    async with redis_namespace() as (redis_url, prefix):
        yield postgres_run_db, redis_url, prefix


@pytest.fixture
async def two_nodes(
    shared: tuple[str, str, str], clock: ManualClock
) -> AsyncIterator[tuple[Node, Node]]:
    db, redis_url, prefix = shared
    a = await start_node(db, redis_url=redis_url, prefix=prefix, clock=clock)
    b = await start_node(db, redis_url=redis_url, prefix=prefix, clock=clock)
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()


async def _direct(node: Node) -> None:
    async with node.desk.engine.begin() as conn:
        await conn.execute(text("UPDATE libraries SET routing_mode = 'direct'"))
    node.desk.directory.forget()


async def test_reader_on_one_node_consultant_on_the_other(two_nodes: tuple[Node, Node]) -> None:
    a, b = two_nodes
    wang = await Consultant.login(b.base, "wang")
    await wang.connect()
    reader = await Reader.register(a.base, "demo-pl")
    await reader.connect()
    cid = (await reader.open())["consultation"]["id"]
    offer = await wang.wait_for("offer")  # routed on node a, announced through Redis to b
    assert offer["consultation"]["id"] == cid
    await wang.ok("offer.accept", {"consultation_id": cid})
    await wang.say(cid, "跨节点的回答")
    assert (await reader.wait_for("message", lambda m: m["body"] == "跨节点的回答"))["seq"] == 2
    await reader.say(cid, "收到")
    assert (await wang.wait_for("message", lambda m: m["body"] == "收到"))["seq"] == 3


async def test_each_side_can_chain_every_message_written_on_two_nodes_at_once(
    two_nodes: tuple[Node, Node],
) -> None:
    """The reader on node a, the consultant (with private notes) on node b, all at once: the
    nodes' batches keep moving past each other's, and still every message each side gets,
    live or in its own acknowledgement, names as ``prev`` exactly the message of that side
    stored before it. Whatever order they arrive in, a client can tell a missing one."""
    a, b = two_nodes
    await _direct(a)
    wang = await Consultant.login(b.base, "wang")
    await wang.connect()
    reader = await Reader.register(a.base, "demo-pl")
    await reader.connect()
    cid = (await reader.open())["consultation"]["id"]
    await wang.wait_for("chat.assigned", lambda e: e["consultation"]["id"] == cid)
    # Rounds of messages from both sides at once: in each, the node that writes second
    # plans from a last seq the other has just moved.
    n, acked_reader, acked_staff = 18, [], []
    for start in range(0, n, 3):
        said = await asyncio.gather(
            *[reader.say(cid, f"r{i}") for i in range(start, start + 3)],
            *[wang.say(cid, f"c{i}", private=i % 3 == 0) for i in range(start, start + 3)],
        )
        acked_reader += [{**ack, "body": f"r{start + k}"} for k, ack in enumerate(said[:3])]
        acked_staff += [{**ack, "body": f"c{start + k}"} for k, ack in enumerate(said[3:])]
    for i in range(n):
        await wang.wait_for("message", lambda m, i=i: m["body"] == f"r{i}")
        if i % 3:
            await reader.wait_for("message", lambda m, i=i: m["body"] == f"c{i}")
    moved = sum(getattr(node.desk.store._writer, "shifted", 0) for node in (a, b))
    assert moved >= 1, "some batch went in past the other node's messages"

    def chained(got: list[dict[str, Any]]) -> None:
        prevs = {m["seq"]: m["prev"] for m in got}
        prevs.setdefault(1, 0)  # the question the chat opened with (in the open answer)
        seqs = sorted(prevs)
        assert [prevs[s] for s in seqs] == [0, *seqs[:-1]]

    # Staff get the reader's messages live and their own in acknowledgements (notes too).
    chained([*wang.messages(cid), *acked_staff])
    # The reader, its own in acknowledgements and the consultant's live, notes never.
    chained([*reader.messages(cid), *acked_reader])
    heard = {m["body"] for m in reader.messages(cid) if m["author_kind"] == "consultant"}
    assert heard == {f"c{i}" for i in range(n) if i % 3}


async def test_claims_hold_across_nodes_under_a_rush(two_nodes: tuple[Node, Node]) -> None:
    a, b = two_nodes
    await _direct(a)
    await _direct(b)
    async with a.desk.engine.begin() as conn:
        await conn.execute(text("UPDATE consultants SET max_chats = 3"))
    consultants = []
    for name, node in (("wang", a), ("li", b), ("zhao", a)):
        c = await Consultant.login(node.base, name)
        await c.connect()
        consultants.append(c)
    readers = []
    for i in range(16):
        r = await Reader.register((a, b)[i % 2].base, "demo-pl")
        await r.connect()
        readers.append(r)
    await asyncio.gather(*(r.open(f"问题{i}") for i, r in enumerate(readers)))
    await asyncio.gather(a.router.route(), b.router.route(), a.router.route(), b.router.route())
    # Own library first: wang and li (demo-pl) take three each; zhao (demo-ul) waits for
    # the overflow delay.
    assert await _loads(a) == ({1: 3, 2: 3}, 10)
    await a.advance(31)
    await b.advance(0)
    await asyncio.gather(a.router.route(), b.router.route())
    assert await _loads(a) == ({1: 3, 2: 3, 3: 3}, 7)
    assigned_events = [
        e["consultation"]["id"] for c in consultants for e in c.events.get("chat.assigned", [])
    ]
    assert len(assigned_events) == len(set(assigned_events)), "no chat given twice"
    queue = await consultants[0].ok("queue.list")
    assert len(queue["queue"]) == 7


async def _loads(node: Node) -> tuple[dict[int, int], int]:
    async with node.desk.engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT assignee_id, count(*) FROM consultations WHERE state = 'assigned'"
                    " GROUP BY assignee_id"
                )
            )
        ).all()
        waiting = await conn.scalar(
            text("SELECT count(*) FROM consultations WHERE state = 'waiting'")
        )
    return {r[0]: r[1] for r in rows}, int(waiting or 0)


def _serve(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "desk.cli", "serve"],
        env={
            **env,
            "DESK_PORT": str(port),
            "DESK_PUBLIC_ORIGIN": f"http://127.0.0.1:{port}",
            "DESK_NODE_ID": f"node-{port}",
        },
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parents[2],
    )


async def _healthy(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            if proc.poll() is not None:
                raise AssertionError(f"desk node exited: {log.read_text()[-2000:]}")
            try:
                async with http.get(f"{base}/healthz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"desk node never became healthy: {log.read_text()[-2000:]}")


async def test_reader_resumes_on_the_other_node_after_its_node_is_killed(
    shared: tuple[str, str, str], tmp_path: Path
) -> None:
    db, redis_url, prefix = shared
    async with (await _engine(db)).begin() as conn:
        await conn.execute(text("UPDATE libraries SET routing_mode = 'direct'"))
    env = {
        **os.environ,
        "DESK_DATABASE_URL": db,
        "DESK_REDIS_URL": redis_url,
        "DESK_REDIS_PREFIX": prefix,
        "DESK_LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }
    port_a, port_b = free_port(), free_port()
    log_a, log_b = tmp_path / "a.log", tmp_path / "b.log"
    proc_a = _serve(env, port_a, log_a)
    proc_b = _serve(env, port_b, log_b)
    base_a, base_b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
    try:
        await _healthy(base_a, proc_a, log_a)
        await _healthy(base_b, proc_b, log_b)
        wang = await Consultant.login(base_b, "wang")
        await wang.connect()
        reader = await Reader.register(base_a, "demo-pl")
        await reader.connect()
        cid = (await reader.open("两节点测试"))["consultation"]["id"]
        await wang.wait_for("chat.assigned", lambda e: e["consultation"]["id"] == cid)
        for i in range(5):
            await wang.say(cid, f"前{i}")
        await reader.wait_for("message", lambda m: m["body"] == "前4")
        last_seen = max(m["seq"] for m in reader.messages(cid))

        proc_a.send_signal(signal.SIGKILL)
        proc_a.wait(10)
        # While the reader has no node: the consultant goes on writing, and the reader's
        # outbox holds one message whose first send was lost with the node.
        for i in range(5):
            await wang.say(cid, f"后{i}")
        await reader.disconnect()
        await reader.reconnect(base=base_b)
        resumed = await reader.ok(
            "resume", {"consultations": [{"consultation_id": cid, "last_seq": last_seen}]}
        )
        got = resumed["consultations"][0]["messages"]
        assert [m["body"] for m in got] == [f"后{i}" for i in range(5)]
        assert [m["seq"] for m in got] == list(range(last_seen + 1, last_seen + 6))
        first = await reader.say(cid, "重发的消息", cmid="outbox-1")
        again = await reader.say(cid, "重发的消息", cmid="outbox-1")
        assert again["duplicate"] and again["seq"] == first["seq"]
        await wang.wait_for("message", lambda m: m["body"] == "重发的消息")
        assert [m["body"] for m in wang.messages(cid)].count(
            "重发的消息"
        ) <= 2  # relayed, de-duplicated by seq
        history = await wang.ok("history", {"consultation_id": cid})
        seqs = [m["seq"] for m in history["messages"]]
        assert seqs == sorted(set(seqs)) == list(range(1, len(seqs) + 1))
        assert [m["body"] for m in history["messages"]].count("重发的消息") == 1
        await reader.disconnect()
        await wang.disconnect()
    finally:
        for p in (proc_a, proc_b):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()


async def _engine(url: str):  # type: ignore[no-untyped-def]
    from desk.db import make_engine

    return make_engine(url)


_ = (uuid4, EMBED_ORIGIN)


async def test_the_backlog_sweep_runs_once_across_nodes(
    two_nodes: tuple[Node, Node], clock: ManualClock
) -> None:
    """Both nodes' schedulers fire the same tick of backlog-overdue: one of them marks the
    ticket and reminds, the other finds the tick taken."""
    from desk.backlog.actions import sweep_overdue
    from desk.scheduler import once_per_tick

    a, b = two_nodes
    reader = await Reader.register(a.base, "demo-pl")
    await reader.connect()
    cid = (await reader.open("我需要1987年的一篇会议论文"))["consultation"]["id"]
    await reader.ok("handoff", {"consultation_id": cid, "kind": "document"})
    wang = await Consultant.login(b.base, "wang")
    await wang.connect()
    clock.advance(72 * 3600 + 1)
    ran = await asyncio.gather(
        *[
            once_per_tick(n.desk, "backlog-overdue", 60, lambda n=n: sweep_overdue(n.desk))
            for n in (a, b)
        ]
    )
    assert sorted(ran) == [False, True]
    await wang.wait_for("backlog.changed", lambda e: e["what"] == "overdue")
    await asyncio.sleep(0.3)
    assert [e["what"] for e in wang.events["backlog.changed"]].count("overdue") == 1
