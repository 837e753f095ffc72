#!/usr/bin/env python
"""Reports at the alliance's scale: a generated year, rolled up, then every report timed.

Builds a fresh database with the desk's migrations (SQLite file, or a new PostgreSQL
database) and loads a year of the alliance: by default 1.6 million consultations across 270
libraries and 900 consultants (each with its consultation row and its fact row: waits, first
replies, outcomes, transfers, overflow, ratings), 1.4 million delivered documents in the
ledger, 100,000 answered backlog tickets and 30,000 quality grades. Then rolls the year up
with the job's own code (``stats.rollup.rebuild_range``, the same as ``desk stats rebuild``)
and times each report over the year through the same functions the API calls, JSON encoding
and the CSV / XLSX exports included: median and worst of several runs.

    .venv/bin/python bench/stats_year.py                     # both databases
    .venv/bin/python bench/stats_year.py --setup sqlite --consultations 200000

Needs PostgreSQL at 127.0.0.1:5432 (trust auth, database ``test``) for ``--setup postgres``.
The target: any report over a year in under 2 seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.alliance import (
    ADMIN_URL,
    CONSULTANTS,
    LIBRARIES,
    YEAR,
    library_of,
    seed_postgres,
    seed_sqlite,
    sqlite_time,
)
from desk.context import Desk
from desk.db import make_engine, make_sessionmaker
from desk.migrate import upgrade
from desk.settings import Settings
from stats import reports
from stats.api import _csv, _headers, _xlsx
from stats.rollup import rebuild_day, rebuild_month, rebuild_range

BEIJING = timedelta(hours=8)
#: Share of consultations whose consultant is another library's (overflow).
OVERFLOW = 0.12
BATCH = 20_000


def _consultants_by_library() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for c in range(1, CONSULTANTS + 1):
        out.setdefault(library_of(c), []).append(c)
    return out


def generate(n: int, documents: int, seed: int = 2027) -> Iterator[dict[str, Any]]:
    """One year's consultations, each with its fact and its delivered documents."""
    rng = random.Random(seed)
    staff = _consultants_by_library()
    # Big libraries get many more readers than small ones.
    weights = [1.0 / math.sqrt(i) for i in range(1, LIBRARIES + 1)]
    libs = list(range(1, LIBRARIES + 1))
    per_doc = documents / (n * 0.85)
    for i in range(1, n + 1):
        origin = rng.choices(libs, weights)[0]
        day = rng.randrange(365)
        # Mostly in opening hours, Beijing time.
        hour = min(23, max(0, int(rng.gauss(14, 3.5))))
        opened = YEAR + timedelta(days=day, hours=hour, seconds=rng.randrange(3600)) - BEIJING
        r = rng.random()
        outcome = "abandoned" if r < 0.08 else "handed_off" if r < 0.15 else "closed"
        served = outcome != "abandoned" and rng.random() < 0.98
        consultant = serving = wait = reply = duration = None
        transfers = 0
        if served:
            if rng.random() < OVERFLOW:
                consultant = rng.randrange(1, CONSULTANTS + 1)
            else:
                consultant = rng.choice(staff[origin])
            serving = library_of(consultant)
            wait = round(rng.expovariate(1 / 45), 1)
            reply = round(wait + rng.expovariate(1 / 25), 1)
            duration = round(rng.expovariate(1 / 600), 1)
            transfers = 1 if rng.random() < 0.03 else 0
        elif outcome == "handed_off":
            outcome = "abandoned"
        rating = None
        if served and rng.random() < 0.4:
            rating = 1 if rng.random() < 0.9 else 0
        docs = 0
        if served:
            docs = int(per_doc) + (1 if rng.random() < per_doc - int(per_doc) else 0)
        ended = opened + timedelta(seconds=(wait or 60) + (duration or 0))
        yield {
            "id": i,
            "origin": origin,
            "day": (opened + BEIJING).date().isoformat(),
            "opened": opened,
            "ended": ended,
            "consultant": consultant,
            "serving": serving,
            "wait": wait,
            "reply": reply,
            "duration": duration,
            "outcome": outcome,
            "transfers": transfers,
            "rating": rating,
            "docs": docs,
            "grade": rng.choice(("excellent", "pass", "pass", "fail"))
            if served and rng.random() < 0.019
            else None,
            "messages": (rng.randint(1, 12), rng.randint(1, 14) if served else 0),
        }


def _tickets(n: int, seed: int = 7) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(seed)
    for i in range(1, n + 1):
        lib = rng.randrange(1, LIBRARIES + 1)
        c = rng.randrange(1, CONSULTANTS + 1)
        submitted = YEAR + timedelta(seconds=rng.randrange(365 * 86400))
        answered = submitted + timedelta(hours=rng.expovariate(1 / 30))
        yield (i, f"{i:064x}", lib, c, submitted, answered)


CONSULTATION_COLUMNS = (
    "id, library_id, reader_id, language, state, assignee_id, route_library_id,"
    " serving_library_id, subject, last_seq, reader_read_seq, staff_read_seq, priority,"
    " created_at, queued_at, assigned_at, ended_at, ended_by, version"
)
FACT_COLUMNS = (
    "consultation_id, day, library_id, language, opened_at, first_assigned_at, wait_seconds,"
    " first_reply_seconds, consultant_id, serving_library_id, overflow, transfers, ended_at,"
    " outcome, duration_seconds, reader_messages, consultant_messages, documents, rating,"
    " rating_comment, grade"
)
LEDGER_COLUMNS = (
    "consultation_id, seq, direction, kind, consultant_id, serving_library_id,"
    " origin_library_id, file_name, size, sha256, content_type, url, title, authors, source,"
    " doc_type, created_at"
)
TICKET_COLUMNS = (
    "id, link_hash, library_id, language, kind, question, transcript, handed_off_by, state,"
    " answer, answer_kind, answered_by, answered_at, submitted_at, version"
)
GRADE_COLUMNS = (
    "target, target_id, consultant_id, library_id, day, grade, criteria, comment,"
    " inspector_id, created_at, current"
)


def _rows(c: dict[str, Any], t: Callable[[datetime | None], Any]) -> tuple[Any, ...]:
    assigned = c["opened"] + timedelta(seconds=c["wait"]) if c["wait"] is not None else None
    consultation = (
        c["id"],
        c["origin"],
        1,
        "zh-CN",
        c["outcome"],
        c["consultant"],
        c["origin"],
        c["serving"],
        "",
        8,
        0,
        0,
        0,
        t(c["opened"]),
        t(c["opened"]),
        t(assigned),
        t(c["ended"]),
        "consultant",
        3,
    )
    fact = (
        c["id"],
        c["day"],
        c["origin"],
        "zh-CN",
        t(c["opened"]),
        t(assigned),
        c["wait"],
        c["reply"],
        c["consultant"],
        c["serving"],
        c["serving"] is not None and c["serving"] != c["origin"],
        c["transfers"],
        t(c["ended"]),
        c["outcome"],
        c["duration"],
        c["messages"][0],
        c["messages"][1],
        c["docs"],
        c["rating"],
        "",
        c["grade"],
    )
    ledger = [
        (
            c["id"],
            10 + k,
            "to_reader",
            "file",
            c["consultant"],
            c["serving"],
            c["origin"],
            "paper.pdf",
            250_000,
            f"{c['id']:032x}{k:032x}",
            "application/pdf",
            "",
            "图书馆学研究论文",
            "",
            "",
            "journal_article",
            t(c["ended"] - timedelta(seconds=30)),
        )
        for k in range(c["docs"])
    ]
    grade = (
        (
            "consultation",
            c["id"],
            c["consultant"],
            c["serving"],
            c["day"],
            c["grade"],
            "[]",
            "",
            None,
            t(c["ended"]),
            True,
        )
        if c["grade"]
        else None
    )
    return consultation, fact, ledger, grade


def load_sqlite(path: str, n: int, documents: int, tickets: int) -> dict[str, int]:
    c = sqlite3.connect(path, isolation_level=None)
    c.execute("PRAGMA journal_mode=WAL")
    c.execute("PRAGMA synchronous=OFF")
    seed_sqlite(c)
    counts = {"consultations": 0, "documents": 0, "grades": 0, "tickets": 0}
    batch: list[tuple[Any, ...]] = []

    def q(columns: str) -> str:
        return ", ".join("?" for _ in columns.split(","))

    def flush() -> None:
        c.execute("BEGIN")
        c.executemany(
            f"INSERT INTO consultations ({CONSULTATION_COLUMNS})"
            f" VALUES ({q(CONSULTATION_COLUMNS)})",
            [b[0] for b in batch],
        )
        c.executemany(
            f"INSERT INTO consultation_facts ({FACT_COLUMNS}) VALUES ({q(FACT_COLUMNS)})",
            [b[1] for b in batch],
        )
        docs = [row for b in batch for row in b[2]]
        c.executemany(
            f"INSERT INTO delivery_ledger ({LEDGER_COLUMNS}) VALUES ({q(LEDGER_COLUMNS)})", docs
        )
        grades = [b[3] for b in batch if b[3] is not None]
        c.executemany(f"INSERT INTO grades ({GRADE_COLUMNS}) VALUES ({q(GRADE_COLUMNS)})", grades)
        c.execute("COMMIT")
        counts["documents"] += len(docs)
        counts["grades"] += len(grades)
        counts["consultations"] += len(batch)
        batch.clear()

    for cons in generate(n, documents):
        batch.append(_rows(cons, lambda d: sqlite_time(d) if d else None))
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    c.execute("BEGIN")
    c.executemany(
        f"INSERT INTO tickets ({TICKET_COLUMNS}) VALUES (?, ?, ?, 'zh-CN', 'form', '…', '[]',"
        " 'form', 'answered', '…', 'answer', ?, ?, ?, 2)",
        [
            (i, h, lib, cid, sqlite_time(ans), sqlite_time(sub))
            for i, h, lib, cid, sub, ans in _tickets(tickets)
        ],
    )
    c.execute("COMMIT")
    counts["tickets"] = tickets
    c.execute("ANALYZE")
    c.close()
    return counts


async def load_postgres(url: str, n: int, documents: int, tickets: int) -> dict[str, int]:
    import asyncpg

    pg = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    counts = {"consultations": 0, "documents": 0, "grades": 0, "tickets": 0}
    try:
        await seed_postgres(pg)
        batch: list[tuple[Any, ...]] = []

        def cols(columns: str) -> list[str]:
            return [x.strip() for x in columns.split(",")]

        async def flush() -> None:
            await pg.copy_records_to_table(
                "consultations", records=[b[0] for b in batch], columns=cols(CONSULTATION_COLUMNS)
            )
            await pg.copy_records_to_table(
                "consultation_facts", records=[b[1] for b in batch], columns=cols(FACT_COLUMNS)
            )
            docs = [row for b in batch for row in b[2]]
            await pg.copy_records_to_table(
                "delivery_ledger", records=docs, columns=cols(LEDGER_COLUMNS)
            )
            grades = [b[3] for b in batch if b[3] is not None]
            await pg.copy_records_to_table("grades", records=grades, columns=cols(GRADE_COLUMNS))
            counts["documents"] += len(docs)
            counts["grades"] += len(grades)
            counts["consultations"] += len(batch)
            batch.clear()

        for cons in generate(n, documents):
            batch.append(_rows(cons, lambda d: d))
            if len(batch) >= BATCH:
                await flush()
        if batch:
            await flush()
        await pg.copy_records_to_table(
            "tickets",
            records=[
                (
                    i,
                    h,
                    lib,
                    "zh-CN",
                    "form",
                    "…",
                    "[]",
                    "form",
                    "answered",
                    "…",
                    "answer",
                    cid,
                    ans,
                    sub,
                    2,
                )
                for i, h, lib, cid, sub, ans in _tickets(tickets)
            ],
            columns=cols(TICKET_COLUMNS),
        )
        counts["tickets"] = tickets
        await pg.execute("ANALYZE")
    finally:
        await pg.close()
    return counts


async def timed(fn: Callable[[], Awaitable[Any]], repeat: int) -> tuple[float, float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = await fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), max(times), out


async def run_reports(url: str, repeat: int) -> list[tuple[str, float, float, str]]:
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    first, last = date(2025, 1, 1), date(2025, 12, 31)
    big_library = 1  # the busiest, by the generator's weights
    results: list[tuple[str, float, float, str]] = []

    def series(kind: str, key: int, grain: str) -> Callable[[], Awaitable[Any]]:
        async def go() -> Any:
            async with sessions() as s:
                rows, total = await reports.subject_series(s, kind, key, first, last, grain)
            json.dumps({"rows": rows, "total": total})
            return f"{len(rows)} rows, served {total.get('served')}"

        return go

    def table(kind: str, fmt: str = "json") -> Callable[[], Awaitable[Any]]:
        async def go() -> Any:
            async with sessions() as s:
                got = await reports.table(s, kind, None, first, last)
            rows = [{"id": k, **v} for k, v in got.items()]
            columns = reports.COLUMNS[kind]
            header = _headers(columns, ["id"])
            lines = [[r["id"], *(r.get(k) for k, _, _ in columns)] for r in rows]
            if fmt == "json":
                json.dumps(rows)
            elif fmt == "csv":
                _csv("table", header, lines)
            else:
                _xlsx("table", "2025", header, lines, None)
            return f"{len(rows)} rows"

        return go

    cases: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
        ("alliance, by day", series("alliance", 0, "day")),
        ("alliance, by week", series("alliance", 0, "week")),
        ("alliance, by month", series("alliance", 0, "month")),
        ("alliance, the year", series("alliance", 0, "year")),
        ("busiest library, by day", series("library", big_library, "day")),
        ("busiest library, by month", series("library", big_library, "month")),
        ("a consultant, by day", series("consultant", 1, "day")),
        ("a consultant, by month", series("consultant", 1, "month")),
        ("all 900 consultants, the year", table("consultant")),
        ("all 270 libraries, the year", table("library")),
        ("all consultants, the year, CSV", table("consultant", "csv")),
        ("all consultants, the year, XLSX", table("consultant", "xlsx")),
    ]
    for name, fn in cases:
        med, worst, what = await timed(fn, repeat)
        results.append((name, med, worst, str(what)))
    await engine.dispose()
    return results


async def rollup(url: str) -> tuple[float, float, float]:
    engine = make_engine(url)
    settings = Settings(database_url=url)
    sessions = make_sessionmaker(engine)
    desk = cast(Desk, SimpleNamespace(sessions=sessions, reads=sessions, settings=settings))
    t0 = time.perf_counter()
    await rebuild_range(desk, date(2025, 1, 1), date(2025, 12, 31))
    year = time.perf_counter() - t0
    # What the job does for a day (it runs for today and yesterday every 30 s), and what the
    # command line adds for the month.
    t0 = time.perf_counter()
    await rebuild_day(desk, date(2025, 6, 2))
    one = time.perf_counter() - t0
    t0 = time.perf_counter()
    await rebuild_month(desk, "2025-06")
    month = time.perf_counter() - t0
    await engine.dispose()
    return year, one, month


async def bench(setup: str, n: int, documents: int, tickets: int, repeat: int) -> None:
    from tests.services import create_database, drop_database

    tmp = Path(tempfile.mkdtemp(prefix="desk-stats-bench-"))
    url = (
        f"sqlite+aiosqlite:///{tmp / 'desk.sqlite3'}"
        if setup == "sqlite"
        else await create_database(ADMIN_URL)
    )
    try:
        await asyncio.to_thread(upgrade, url)
        t0 = time.perf_counter()
        if setup == "sqlite":
            counts = await asyncio.to_thread(
                load_sqlite, str(tmp / "desk.sqlite3"), n, documents, tickets
            )
        else:
            counts = await load_postgres(url, n, documents, tickets)
        load_s = time.perf_counter() - t0
        year_s, day_s, month_s = await rollup(url)
        results = await run_reports(url, repeat)
        print(
            f"\n{setup}: loaded in {load_s:.0f} s: "
            + ", ".join(f"{v:,} {k}" for k, v in counts.items())
        )
        print(
            f"  roll-up: the whole year {year_s:.1f} s; one day {day_s * 1000:.0f} ms (the job"
            f" rebuilds today and yesterday every 30 s); a month from its days {month_s:.1f} s"
        )
        print(f"  {'report over 2025':40} {'median':>9} {'worst':>9}  result")
        for name, med, worst, what in results:
            print(f"  {name:40} {med * 1000:7.0f} ms {worst * 1000:7.0f} ms  {what}")
    finally:
        if setup == "postgres":
            await drop_database(ADMIN_URL, url)
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--consultations", type=int, default=1_600_000)
    ap.add_argument("--documents", type=int, default=1_400_000)
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--setup", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    print(
        f"stats_year: {args.consultations:,} consultations, {args.documents:,} documents,"
        f" {args.tickets:,} tickets, {LIBRARIES} libraries, {CONSULTANTS} consultants"
    )
    for setup in ("sqlite", "postgres") if args.setup == "both" else (args.setup,):
        asyncio.run(bench(setup, args.consultations, args.documents, args.tickets, args.repeat))
    return 0


if __name__ == "__main__":
    sys.exit(main())
