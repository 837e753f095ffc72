#!/usr/bin/env python
"""What one message batch costs PostgreSQL: the desk's message writer on its own.

Runs `transcripts.batch.AsyncpgWriter` against a fresh database on the local PostgreSQL and
prints, per batch of one message, the wall time and the CPU time of the writer's backend
(read from ``/proc``, so PostgreSQL must run on this machine), and how many batches needed
more than the one guarded statement (a read first, or the locked path):

- **one node**: one writer, chats it knows (the guarded write from memory);
- **two nodes**: two writers taking turns on the same chats, as when the reader sits on one
  node and the consultant on the other, so that every other batch finds the other writer's
  message and PostgreSQL moves its seqs past it;
- **grown**: the same again once the tables have grown (``--grow`` consultations of
  ``--grow-messages`` messages each), with no ANALYZE since (the run switches autovacuum off
  for the two tables);
- **re-planned**: the same again on new connections.

Each case runs with the desk's writer (every statement planned with its call's values,
``plan_cache_mode = force_custom_plan``) and with two ways of keeping plans: PostgreSQL's
default (a generic plan of a prepared statement after five runs), and generic plans from the
first run with sequential scans, hash and merge joins priced out. The run prints how many runs
of the guarded write used a kept generic plan (``pg_prepared_statements``). A kept plan saves
the planning, but a plan kept from nearly empty tables reaches the consultations by a scan
(the default) or by the state index (the other), and costs more than planning once the
table has grown.

    .venv/bin/python bench/pg_writer.py                  # 4,000 batches per case (~1 min)
    .venv/bin/python bench/pg_writer.py --batches 10000 --grow 200000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar
from uuid import uuid4

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chat_load import POSTGRES_ADMIN, POSTGRES_BASE, desk_command

from transcripts.batch import WRITER_APPLICATION_NAME, AsyncpgWriter
from transcripts.records import Draft


def now() -> datetime:
    return datetime.now(UTC)


BODY = "您好，我想查一下《中国古代建筑史》这本书在哪个分馆可以借到？"


class KeptPlanWriter(AsyncpgWriter):
    """The writer with PostgreSQL's default plan caching (``plan_cache_mode = auto``): after
    five runs of a prepared statement, a generic plan kept for the connection's life."""

    settings: ClassVar[dict[str, str]] = {}

    async def _connection(self) -> Any:
        if self._conn is None or self._conn.is_closed():
            self._conn = await asyncpg.connect(
                self._dsn,
                server_settings={"application_name": WRITER_APPLICATION_NAME, **self.settings},
            )
        return self._conn


class KeyPlanWriter(KeptPlanWriter):
    """Generic plans from the first run, with sequential scans, hash and merge joins priced
    out, in the hope that every lookup goes by its key (it does not: see the module's doc)."""

    settings: ClassVar[dict[str, str]] = {
        "plan_cache_mode": "force_generic_plan",
        "enable_seqscan": "off",
        "enable_hashjoin": "off",
        "enable_mergejoin": "off",
    }


def backend_cpu(pid: int) -> float:
    """User plus system CPU seconds of a local PostgreSQL backend."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def create_database() -> tuple[str, str]:
    name = f"desk_pgwriter_{uuid4().hex[:10]}"
    conn = await asyncpg.connect(POSTGRES_ADMIN, timeout=10)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = f"{POSTGRES_BASE}/{name}"
    env = dict(os.environ, DESK_DATABASE_URL=url, DESK_LOG_LEVEL="WARNING")
    done = await asyncio.to_thread(
        subprocess.run,
        [*desk_command(), "db", "upgrade"],
        env=env,
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"desk db upgrade failed: {done.stderr.decode()[-2000:]}")
    return name, url


async def drop_database(name: str) -> None:
    conn = await asyncpg.connect(POSTGRES_ADMIN, timeout=10)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


class Chats:
    """Assigned chats of one library, their readers and their consultant, made in SQL."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.readers: dict[int, int] = {}
        self.consultant = 0
        self.library = 0

    async def seed(self, url: str) -> None:
        from desk import admin
        from desk.db import make_engine, make_sessionmaker

        engine = make_engine(url)
        try:
            sessions = make_sessionmaker(engine)
            lib = await admin.add_library(
                sessions, code="bench", name="测试馆", name_en="Bench", routing_mode="direct"
            )
            who = await admin.add_consultant(
                sessions,
                library_code="bench",
                username="bench",
                display_name="测试",
                password=uuid4().hex,
                role="consultant",
                max_chats=10,
            )
            self.library, self.consultant = lib.id, who.id
        finally:
            await engine.dispose()

    async def add(self, n: int, messages_each: int = 0) -> list[int]:
        """``n`` assigned chats, each with ``messages_each`` stored messages."""
        conn = await asyncpg.connect(self.dsn)
        try:
            rows = await conn.fetch(
                "WITH r AS (INSERT INTO readers (kind, display_name, created_at)"
                " SELECT 'visitor', '', now() FROM generate_series(1, $1) RETURNING id)"
                " INSERT INTO consultations (library_id, route_library_id, reader_id, language,"
                " state, assignee_id, subject, last_seq, reader_read_seq, staff_read_seq,"
                " priority, created_at, queued_at, version)"
                " SELECT $2, $2, r.id, 'zh', 'assigned', $3, '', $4, 0, 0, 0, now(), now(), 1"
                " FROM r RETURNING id, reader_id",
                n,
                self.library,
                self.consultant,
                messages_each,
            )
            if messages_each:
                await conn.execute(
                    "INSERT INTO messages (consultation_id, seq, client_msg_id, author_kind,"
                    " author_id, visibility, body, created_at)"
                    " SELECT c.id, s, md5(c.id::text || '.' || s), 'reader', c.reader_id,"
                    " 'all', $3, now() FROM unnest($1::int[]) AS c0(id)"
                    " JOIN consultations c ON c.id = c0.id, generate_series(1, $2) AS s",
                    [r["id"] for r in rows],
                    messages_each,
                    BODY,
                )
        finally:
            await conn.close()
        for r in rows:
            self.readers[r["id"]] = r["reader_id"]
        return [r["id"] for r in rows]

    def draft(self, cid: int) -> Draft:
        reader = self.readers[cid]
        return Draft(
            cid, "reader", BODY, author_id=reader, client_msg_id=uuid4().hex, as_reader=reader
        )


async def run_batches(
    writers: Sequence[AsyncpgWriter], chats: Chats, cids: list[int], n: int
) -> dict[str, float]:
    """``n`` batches of one message each, the writers taking turns."""
    for w in writers:  # each writer learns every chat first (a read each), unmeasured
        for cid in cids:
            await w.write([chats.draft(cid)])
    pids = [w._conn.get_server_pid() for w in writers]
    rng = random.Random(7)
    times = []
    cpu0 = sum(backend_cpu(p) for p in pids)
    shifted0 = sum(w.shifted for w in writers)
    paths0 = [w.paths.copy() for w in writers]
    for i in range(n):
        w = writers[i % len(writers)]
        t0 = time.perf_counter()
        await w.write([chats.draft(rng.choice(cids))])
        times.append(time.perf_counter() - t0)
    cpu = sum(backend_cpu(p) for p in pids) - cpu0
    slow = 0
    for w, before in zip(writers, paths0, strict=True):
        new = w.paths - before
        slow += sum(new.values()) - new["remembered"]
    return {
        "wall_ms": 1000 * statistics.fmean(times),
        "p99_ms": 1000 * sorted(times)[int(0.99 * len(times))],
        "cpu_ms": 1000 * cpu / n,
        "shifted": (sum(w.shifted for w in writers) - shifted0) / n,
        "slow": slow / n,
    }


async def plan_counts(writers: Sequence[AsyncpgWriter]) -> str:
    parts = []
    for w in writers:
        rows = await w._conn.fetch(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE 'WITH locked%'"
        )
        parts.append(
            ", ".join(f"{r['generic_plans']} generic / {r['custom_plans']} custom" for r in rows)
            or "no kept statement"
        )
    return "; ".join(parts)


def show(label: str, r: dict[str, float]) -> None:
    print(
        f"    {label:<29} {r['wall_ms']:6.3f} ms/batch (p99 {r['p99_ms']:6.3f}), backend CPU "
        f"{r['cpu_ms']:6.3f} ms/batch; moved past the other's: {100 * r['shifted']:3.0f}%, "
        f"read or locked: {100 * r['slow']:3.0f}%"
    )


async def case(kind: type[AsyncpgWriter], args: argparse.Namespace) -> dict[str, Any]:
    name, url = await create_database()
    from desk.db import make_engine

    engine = make_engine(url)
    try:
        dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        chats = Chats(dsn)
        await chats.seed(url)
        admin = await asyncpg.connect(dsn)
        try:
            for table in ("consultations", "messages"):
                await admin.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
        finally:
            await admin.close()
        small = await chats.add(args.chats)
        one = [kind(engine, now)]
        two = [kind(engine, now), kind(engine, now)]
        out: dict[str, Any] = {}
        out["one node"] = await run_batches(one, chats, small, args.batches)
        out["two nodes"] = await run_batches(two, chats, small, args.batches)
        t0 = time.perf_counter()
        grown: list[int] = []
        while len(grown) < args.grow:
            step = min(20_000, args.grow - len(grown))
            grown += await chats.add(step, args.grow_messages)
        out["grow_s"] = time.perf_counter() - t0
        sample = random.Random(3).sample(grown, args.chats)
        out["one node, grown"] = await run_batches(one, chats, sample, args.batches)
        out["two nodes, grown"] = await run_batches(two, chats, sample, args.batches)
        out["plans"] = await plan_counts([*one, *two])
        for w in [*one, *two]:
            await w.close()  # its statements and plans go; it keeps what it knows of the chats
        out["one node, grown, re-planned"] = await run_batches(one, chats, sample, args.batches)
        out["two nodes, grown, re-planned"] = await run_batches(two, chats, sample, args.batches)
        out["plans, re-planned"] = await plan_counts([*one, *two])
        for w in [*one, *two]:
            await w.close()
        return out
    finally:
        await engine.dispose()
        await drop_database(name)


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batches", type=int, default=4000, help="measured batches per case")
    ap.add_argument("--chats", type=int, default=500, help="chats the batches go to")
    ap.add_argument("--grow", type=int, default=50_000, help="consultations added for growth")
    ap.add_argument("--grow-messages", type=int, default=20, help="messages per added chat")
    args = ap.parse_args()
    print(
        f"pg_writer: {args.batches:,} batches of one message per case, over {args.chats} chats;"
        f" growth: {args.grow:,} chats x {args.grow_messages} messages"
    )
    for label, kind in (
        ("the desk's writer: every statement planned afresh (force_custom_plan)", AsyncpgWriter),
        ("plans kept (plan_cache_mode = auto)", KeptPlanWriter),
        ("generic plans, no seq scan, hash or merge join", KeyPlanWriter),
    ):
        r = await case(kind, args)
        print(f"  {label}:")
        for key in r:
            if isinstance(r[key], dict):
                show(key, r[key])
        print(f"    growth took {r['grow_s']:.1f} s")
        print(f"    the guarded write's plans, per writer, grown: {r['plans']}")
        print(f"    ... and after re-planning: {r['plans, re-planned']}")


if __name__ == "__main__":
    asyncio.run(main())
