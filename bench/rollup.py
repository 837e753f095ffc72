#!/usr/bin/env python
"""How long the statistics roll-up holds a node's event loop.

The roll-up job (``stats.rollup``, every 30 s, once across nodes) rebuilds today's figures
from the day's consultation facts while the node goes on relaying chats on the same event
loop. This program seeds a day of ``--facts`` consultations served by ``--consultants``
consultants of ``--libraries`` libraries, starts a desk node on that database (no sockets,
no scheduler) and runs ``rebuild_day`` for today ``--runs`` times, changing ``--touch`` facts
between runs as a busy day would. A 1 ms timer runs beside it; the program prints, per run,
the wall time, the node's CPU time, and how late the timer fired at worst (the longest
stretch the loop was held, which every chat on the node waited through) and how often it was
5 ms or more late.

    .venv/bin/python bench/rollup.py                        # SQLite, 5,000 facts
    .venv/bin/python bench/rollup.py --database postgres    # the local PostgreSQL
    .venv/bin/python bench/rollup.py --facts 20000 --consultants 900 --libraries 270
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chat_load import desk_command
from pg_writer import create_database, drop_database

#: A timer this late (ms) counts as the loop held up.
LATE_MS = 5.0


async def migrate(url: str) -> None:
    env = dict(os.environ, DESK_DATABASE_URL=url, DESK_LOG_LEVEL="WARNING")
    done = await asyncio.to_thread(
        subprocess.run, [*desk_command(), "db", "upgrade"], env=env, capture_output=True
    )
    if done.returncode != 0:
        raise SystemExit(f"desk db upgrade failed: {done.stderr.decode()[-2000:]}")


async def seed(url: str, args: argparse.Namespace, day: str, opened: datetime) -> list[int]:
    """Libraries, consultants, readers, consultations and today's facts, in bulk; returns the
    consultation ids."""
    from sqlalchemy import insert, select

    from desk.db import make_engine, make_sessionmaker
    from desk.models import Consultant, Consultation, Library, Reader
    from stats.models import ConsultationFact

    rnd = random.Random(7)
    engine = make_engine(url)
    try:
        sessions = make_sessionmaker(engine)
        async with sessions.begin() as s:
            await s.execute(
                insert(Library),
                [
                    {"code": f"b{i:03d}", "name": f"测试馆{i}", "routing_mode": "direct"}
                    for i in range(args.libraries)
                ],
            )
            libs = list((await s.scalars(select(Library.id))).all())
            await s.execute(
                insert(Consultant),
                [
                    {
                        "library_id": libs[i % len(libs)],
                        "username": f"bench{i:04d}",
                        "display_name": f"咨询员{i}",
                        "role": "consultant",
                        # Never logged in with: any string will do.
                        "password_hash": "-",
                    }
                    for i in range(args.consultants)
                ],
            )
            people = list((await s.execute(select(Consultant.id, Consultant.library_id))).all())
        ids: list[int] = []
        for start in range(0, args.facts, 1000):
            n = min(1000, args.facts - start)
            async with sessions.begin() as s:
                await s.execute(insert(Reader), [{"kind": "visitor"} for _ in range(n)])
                readers = list(
                    (await s.scalars(select(Reader.id).order_by(Reader.id.desc()).limit(n))).all()
                )
                chats = []
                for r in readers:
                    who, serving = rnd.choice(people)
                    origin = serving if rnd.random() < 0.8 else rnd.choice(libs)
                    chats.append((r, who, serving, origin))
                await s.execute(
                    insert(Consultation),
                    [
                        {
                            "library_id": origin,
                            "route_library_id": origin,
                            "reader_id": r,
                            "language": "zh-CN",
                            "state": "closed",
                            "assignee_id": who,
                            "serving_library_id": serving,
                        }
                        for r, who, serving, origin in chats
                    ],
                )
                new = list(
                    (
                        await s.scalars(
                            select(Consultation.id).order_by(Consultation.id.desc()).limit(n)
                        )
                    ).all()
                )
                await s.execute(
                    insert(ConsultationFact),
                    [
                        {
                            "consultation_id": cid,
                            "day": day,
                            "library_id": origin,
                            "language": "zh-CN",
                            "opened_at": opened,
                            "first_assigned_at": opened,
                            "wait_seconds": rnd.expovariate(1 / 40),
                            "first_reply_seconds": rnd.expovariate(1 / 60),
                            "consultant_id": who,
                            "serving_library_id": serving,
                            "overflow": origin != serving,
                            "transfers": 1 if rnd.random() < 0.05 else 0,
                            "ended_at": opened + timedelta(minutes=5),
                            "outcome": rnd.choice(("closed", "closed", "abandoned")),
                            "duration_seconds": rnd.expovariate(1 / 300),
                            "reader_messages": rnd.randint(1, 20),
                            "consultant_messages": rnd.randint(1, 20),
                            "rating": rnd.choice((None, None, 0, 1)),
                        }
                        for cid, (_r, who, serving, origin) in zip(new, chats, strict=True)
                    ],
                )
                ids += new
        return ids
    finally:
        await engine.dispose()


async def touch(desk: Any, ids: list[int], n: int) -> None:
    """``n`` facts gain a message each, as chats going on between two runs do."""
    from sqlalchemy import update

    from stats.models import ConsultationFact

    async with desk.sessions.begin() as s:
        await s.execute(
            update(ConsultationFact)
            .where(ConsultationFact.consultation_id.in_(random.sample(ids, min(n, len(ids)))))
            .values(reader_messages=ConsultationFact.reader_messages + 1)
        )


async def measure(url: str, args: argparse.Namespace) -> None:
    from aiohttp import web

    from desk.app import create_app
    from desk.cli import tune_gc
    from desk.http import DESK_KEY
    from desk.settings import Settings
    from stats.rollup import rebuild_day, today

    settings = Settings(database_url=url, scheduler=False, log_level="WARNING")
    app = create_app(settings)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    try:
        desk = app[DESK_KEY]
        day = today(desk)
        opened = datetime.now(UTC) - timedelta(minutes=30)
        t0 = time.perf_counter()
        ids = await seed(url, args, day.isoformat(), opened)
        print(
            f"seeded {len(ids):,} facts for {day}, {args.consultants:,} consultants of "
            f"{args.libraries:,} libraries in {time.perf_counter() - t0:.1f} s"
        )
        tune_gc()  # as `desk serve` does
        print("run  rows  wall ms   cpu ms  loop held: max ms  times >= 5 ms")
        held_max: list[float] = []
        for run in range(args.runs):
            if run:
                await touch(desk, ids, args.touch)
            lates: list[float] = []
            stop = asyncio.Event()

            async def ticker(lates: list[float] = lates, stop: asyncio.Event = stop) -> None:
                while not stop.is_set():
                    t = time.perf_counter()
                    await asyncio.sleep(0.001)
                    lates.append((time.perf_counter() - t - 0.001) * 1000)

            tick = asyncio.create_task(ticker())
            await asyncio.sleep(0.01)
            c0, w0 = time.process_time(), time.perf_counter()
            rows = await rebuild_day(desk, day)
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            stop.set()
            await tick
            late = max(lates, default=0.0)
            held_max.append(late)
            print(
                f"{run + 1:>3} {rows:>5} {wall * 1000:>8.1f} {cpu * 1000:>8.1f} "
                f"{late:>18.1f} {sum(1 for x in lates if x >= LATE_MS):>14}"
            )
        print(f"loop held at worst: median of runs {statistics.median(held_max):.1f} ms")
    finally:
        await runner.cleanup()


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--facts", type=int, default=5000, help="consultations of the day")
    ap.add_argument("--consultants", type=int, default=500)
    ap.add_argument("--libraries", type=int, default=20)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--touch", type=int, default=200, help="facts changed between runs")
    args = ap.parse_args()
    if args.database == "postgres":
        name, url = await create_database()
        try:
            await measure(url, args)
        finally:
            await drop_database(name)
        return
    with tempfile.TemporaryDirectory(prefix="desk-rollup-") as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/desk.db"
        await migrate(url)
        await measure(url, args)


if __name__ == "__main__":
    asyncio.run(main())
