#!/usr/bin/env python
"""Transcript search at the alliance's scale: a year of consultations, then the query times.

Builds a fresh database with the desk's own migrations (SQLite file, or a new PostgreSQL
database), loads a generated year — by default 1.5 million finished consultations across 270
libraries and 900 consultants, each with a masked transcript of a few hundred characters of
Chinese and English built from library-reference phrasing — and indexes them with the desk's
own tokenizer (``transcripts.search``). Then runs a set of queries through the same SQL the
API builds (a supervisor's scope, an admin's, a consultant's, with and without filters) and
prints the median and worst of several runs, with the number of hits.

    .venv/bin/python bench/transcript_search.py --setup sqlite             # 1.5 M, SQLite
    .venv/bin/python bench/transcript_search.py --setup postgres
    .venv/bin/python bench/transcript_search.py --consultations 100000     # a quick look

Needs PostgreSQL at 127.0.0.1:5432 (trust auth, database ``test``) for ``--setup postgres``.
The target: a Chinese phrase found in under a second on a year of data.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select, text

from bench.alliance import (
    ADMIN_URL,
    CONSULTANTS,
    LIBRARIES,
    YEAR,
    seed_postgres,
    seed_sqlite,
    sqlite_time,
)
from desk.db import make_engine
from desk.migrate import upgrade
from transcripts import search
from transcripts.models import TranscriptDoc

TOPICS_ZH = [
    "学位论文",
    "期刊论文",
    "会议论文",
    "文献传递",
    "馆际互借",
    "查收查引",
    "科技查新",
    "电子图书",
    "古籍善本",
    "地方文献",
    "专利检索",
    "标准全文",
    "读者证办理",
    "校外访问",
    "数据库使用",
    "参考文献格式",
    "借阅期限",
    "续借",
    "开放时间",
    "自习室预约",
]
TOPICS_EN = [
    "database",
    "thesis",
    "journal article",
    "interlibrary loan",
    "citation",
    "e-book",
    "remote access",
    "opening hours",
    "renewal",
    "patent",
    "standard",
    "conference paper",
]
QUESTIONS_ZH = [
    "请问怎么查找{t}？",
    "我想下载一篇{t}的全文，需要怎么操作？",
    "{t}可以在校外使用吗？",
    "你好，我是〔单位〕的研究生，关于{t}想咨询一下。",
    "请帮我找{year}年发表的关于{t}的资料，我的邮箱是〔邮箱〕。",
    "{t}的流程是什么？大概需要多久？",
]
ANSWERS_ZH = [
    "您好，{t}可以通过本馆主页的数据库导航进入，选择相应的检索系统。",
    "关于{t}，建议先在馆藏目录中检索，如果本馆没有，可以申请文献传递。",
    "{t}一般在72小时内完成，结果会发到您的邮箱。",
    "请登录统一认证后使用{t}，校外请先连接校外访问系统。",
    "已找到您需要的资料，请查收附件。希望对您研究和学习有所帮助。",
]
QUESTIONS_EN = [
    "How can I find a {t} on this topic?",
    "Can I use the {t} from home?",
    "I need help with {t}, my student number is 〔学号/证号〕.",
]
ANSWERS_EN = [
    "You can search the {t} from the library homepage and sign in with your card.",
    "For {t}, please use the remote access service first.",
    "We have sent the {t} to your email; please check the attachment.",
]
#: A phrase that appears in one consultation in ten thousand: a needle.
RARE_ZH = "敦煌遗书残卷"
RARE_EN = "palimpsest"


def make_doc(rng: random.Random, i: int) -> tuple[str, str]:
    english = rng.random() < 0.12
    lines = []
    for _ in range(rng.randint(2, 5)):
        if english:
            t = rng.choice(TOPICS_EN)
            lines.append("reader\t" + rng.choice(QUESTIONS_EN).format(t=t))
            lines.append("consultant\t" + rng.choice(ANSWERS_EN).format(t=t))
        else:
            t = rng.choice(TOPICS_ZH)
            year = rng.randint(1950, 2024)
            lines.append("reader\t" + rng.choice(QUESTIONS_ZH).format(t=t, year=year))
            lines.append("consultant\t" + rng.choice(ANSWERS_ZH).format(t=t))
    if i % 10_000 == 7:
        lines.append(
            "reader\t" + (f"请帮我找{RARE_ZH}的影印本" if not english else f"a {RARE_EN}?")
        )
    return ("en" if english else "zh-CN"), "\n".join(lines)


def rows(n: int, seed: int = 2026) -> Any:
    rng = random.Random(seed)
    for i in range(1, n + 1):
        lang, body = make_doc(rng, i)
        lib = rng.randint(1, LIBRARIES)
        serving = lib if rng.random() < 0.8 else rng.randint(1, LIBRARIES)
        consultant = rng.randint(1, CONSULTANTS)
        created = YEAR + timedelta(seconds=rng.randint(0, 365 * 86400 - 1))
        ended = created + timedelta(minutes=rng.randint(2, 40))
        yield i, lang, body, lib, serving, consultant, created, ended


async def load(url: str, n: int) -> float:
    """Load ``n`` consultations with their documents and index; returns seconds taken."""
    t0 = time.monotonic()
    if url.startswith("sqlite"):
        await asyncio.to_thread(_load_sqlite, url.split("///", 1)[1], n)
    else:
        await _load_postgres(url, n)
    return time.monotonic() - t0


def _load_sqlite(path: str, n: int) -> None:
    c = sqlite3.connect(path, isolation_level=None)
    c.execute("PRAGMA journal_mode=WAL")
    c.execute("PRAGMA synchronous=OFF")
    seed_sqlite(c)
    batch: list[Any] = []

    def flush() -> None:
        c.execute("BEGIN")
        c.executemany(
            "INSERT INTO consultations (id, library_id, reader_id, language, state, assignee_id,"
            " route_library_id, serving_library_id, subject, last_seq, reader_read_seq,"
            " staff_read_seq, priority, created_at, queued_at, assigned_at, ended_at, ended_by,"
            " version) VALUES (?, ?, 1, ?, 'closed', ?, ?, ?, '', 8, 0, 0, 0, ?, ?, ?, ?,"
            " 'consultant', 3)",
            [(r[0], r[3], r[1], r[5], r[3], r[4], r[6], r[6], r[6], r[7]) for r in batch],
        )
        c.executemany(
            "INSERT INTO transcript_docs (consultation_id, library_id, serving_library_id,"
            " consultant_id, language, state, created_at, ended_at, messages, rating, tags,"
            " text, has_personal_data, indexed_at) VALUES"
            " (?, ?, ?, ?, ?, 'closed', ?, ?, 8, NULL, '[]', ?, 1, ?)",
            [(r[0], r[3], r[4], r[5], r[1], r[6], r[7], r[2], r[7]) for r in batch],
        )
        c.executemany(
            "INSERT INTO transcript_fts (rowid, grams, chars) VALUES (?, ?, ?)",
            [(r[0], " ".join(search.grams(r[2])), " ".join(search.chars(r[2]))) for r in batch],
        )
        c.execute("COMMIT")
        batch.clear()

    done = 0
    for r in rows(n):
        batch.append((r[0], r[1], r[2], r[3], r[4], r[5], sqlite_time(r[6]), sqlite_time(r[7])))
        if len(batch) >= 20_000:
            flush()
            done += 20_000
            if done % 200_000 == 0:
                print(f"    loaded {done:,}", flush=True)
    if batch:
        flush()
    c.execute("INSERT INTO transcript_fts(transcript_fts) VALUES ('optimize')")
    c.execute("ANALYZE")
    c.close()


async def _load_postgres(url: str, n: int) -> None:
    import asyncpg

    pg = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await seed_postgres(pg)
        # The GIN indexes are built once at the end (as a restore would), not row by row.
        await pg.execute("DROP INDEX ix_transcript_search_grams")
        await pg.execute("DROP INDEX ix_transcript_search_chars")
        batch: list[Any] = []

        async def flush() -> None:
            await pg.copy_records_to_table(
                "consultations",
                records=[
                    (
                        r[0],
                        r[3],
                        1,
                        r[1],
                        "closed",
                        r[5],
                        r[3],
                        r[4],
                        "",
                        8,
                        0,
                        0,
                        0,
                        r[6],
                        r[6],
                        r[6],
                        r[7],
                        "consultant",
                        3,
                    )
                    for r in batch
                ],
                columns=[
                    "id",
                    "library_id",
                    "reader_id",
                    "language",
                    "state",
                    "assignee_id",
                    "route_library_id",
                    "serving_library_id",
                    "subject",
                    "last_seq",
                    "reader_read_seq",
                    "staff_read_seq",
                    "priority",
                    "created_at",
                    "queued_at",
                    "assigned_at",
                    "ended_at",
                    "ended_by",
                    "version",
                ],
            )
            await pg.copy_records_to_table(
                "transcript_docs",
                records=[
                    (
                        r[0],
                        r[3],
                        r[4],
                        r[5],
                        r[1],
                        "closed",
                        r[6],
                        r[7],
                        8,
                        None,
                        "[]",
                        r[2],
                        True,
                        r[7],
                    )
                    for r in batch
                ],
                columns=[
                    "consultation_id",
                    "library_id",
                    "serving_library_id",
                    "consultant_id",
                    "language",
                    "state",
                    "created_at",
                    "ended_at",
                    "messages",
                    "rating",
                    "tags",
                    "text",
                    "has_personal_data",
                    "indexed_at",
                ],
            )
            await pg.executemany(
                "INSERT INTO transcript_search (consultation_id, grams, chars)"
                " VALUES ($1, to_tsvector('simple', $2), to_tsvector('simple', $3))",
                [(r[0], " ".join(search.grams(r[2])), " ".join(search.chars(r[2]))) for r in batch],
            )
            batch.clear()

        done = 0
        for r in rows(n):
            batch.append(r)
            if len(batch) >= 20_000:
                await flush()
                done += 20_000
                if done % 200_000 == 0:
                    print(f"    loaded {done:,}", flush=True)
        if batch:
            await flush()
        print("    building the GIN indexes", flush=True)
        await pg.execute("SET maintenance_work_mem = '512MB'")
        await pg.execute(
            "CREATE INDEX ix_transcript_search_grams ON transcript_search USING gin (grams)"
        )
        await pg.execute(
            "CREATE INDEX ix_transcript_search_chars ON transcript_search USING gin (chars)"
        )
        await pg.execute("ANALYZE")
    finally:
        await pg.close()


QUERIES: list[tuple[str, str, dict[str, Any]]] = [
    ("rare Chinese phrase (1 in 10,000)", RARE_ZH, {}),
    ("Chinese word, common (论文)", "论文", {}),
    ("Chinese phrase (查收查引)", "查收查引", {}),
    ("Chinese phrase, a library, a month", "学位论文", {"library": 17, "month": 3}),
    ("two parts (文献传递 + 邮箱)", "文献传递 邮箱", {}),
    ("one character (敦)", "敦", {}),
    ("English word (interlibrary)", "interlibrary", {}),
    ("English phrase (remote access)", '"remote access"', {}),
    ("rare English word", RARE_EN, {}),
    ("Chinese phrase, one consultant's chats", "科技查新", {"consultant": 42}),
    ("no text: a library's last month", "", {"library": 5, "month": 12}),
]


async def run_queries(url: str, repeat: int) -> list[tuple[str, int, float, float]]:
    engine = make_engine(url)
    out = []
    try:
        for label, q, f in QUERIES:
            parsed = search.parse(q)
            where: list[Any] = []
            if "library" in f:
                where.append(TranscriptDoc.library_id == f["library"])
            if "consultant" in f:
                where.append(TranscriptDoc.consultant_id == f["consultant"])
            if "month" in f:
                start = YEAR.replace(month=f["month"])
                end = (
                    start.replace(month=f["month"] + 1)
                    if f["month"] < 12
                    else YEAR.replace(year=2026)
                )
                where += [TranscriptDoc.created_at >= start, TranscriptDoc.created_at < end]
            times = []
            hits = 0
            for _ in range(repeat):
                t = time.perf_counter()
                async with engine.connect() as conn:
                    # What the API runs: the text condition (on PostgreSQL a rare word's
                    # few hits first), the newest 50, then their snippets.
                    params: dict[str, Any] = {}
                    cond = []
                    if not parsed.empty:
                        c, params = await search.condition(conn, engine.dialect.name, parsed)
                        cond.append(c)
                    stmt = (
                        select(TranscriptDoc)
                        .where(*where, *cond)
                        .order_by(TranscriptDoc.consultation_id.desc())
                        .limit(50)
                    )
                    found = (await conn.execute(stmt, params)).all()
                for row in found:
                    search.highlight(row.text, parsed)
                times.append(time.perf_counter() - t)
                hits = len(found)
            out.append((label, hits, statistics.median(times), max(times)))
    finally:
        await engine.dispose()
    return out


async def total_hits(url: str, q: str) -> int:
    engine = make_engine(url)
    try:
        clause, params = search.match_clause(engine.dialect.name, search.parse(q))
        async with engine.connect() as conn:
            return int(
                (
                    await conn.execute(
                        text(f"SELECT count(*) FROM transcript_docs WHERE {clause}"),
                        params,
                    )
                ).scalar_one()
            )
    finally:
        await engine.dispose()


def report(
    name: str, n: int, load_s: float, size: str, results: list[Any], counts: dict[str, int]
) -> None:
    print(
        f"\n== {name}: {n:,} consultations, loaded and indexed in {load_s / 60:.1f} min, {size} =="
    )
    print(f"  {'query':<42} {'hits (≤50)':>10} {'median':>10} {'worst':>10}")
    for label, hits, med, worst in results:
        print(f"  {label:<42} {hits:>10} {med * 1000:>8.1f} ms {worst * 1000:>8.1f} ms")
    print("  matching consultations in all: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))


def human(nbytes: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if nbytes < 1024:
            return f"{nbytes:.1f} {unit}"
        nbytes /= 1024
    return f"{nbytes:.1f} TB"


async def bench(setup: str, n: int, repeat: int, keep: bool) -> None:
    from tests.services import create_database, drop_database

    tmp = Path(tempfile.mkdtemp(prefix="desk-search-bench-"))
    try:
        if setup == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp / 'desk.sqlite3'}"
        else:
            url = await create_database(ADMIN_URL)
        try:
            await asyncio.to_thread(upgrade, url)
            load_s = await load(url, n)
            if setup == "sqlite":
                size = human(sum(p.stat().st_size for p in tmp.iterdir()))  # noqa: ASYNC240
            else:
                engine = make_engine(url)
                async with engine.connect() as conn:
                    size = human(
                        (
                            await conn.execute(text("SELECT pg_database_size(current_database())"))
                        ).scalar_one()
                    )
                await engine.dispose()
            results = await run_queries(url, repeat)
            counts = {q: await total_hits(url, q) for q in ("论文", "查收查引", RARE_ZH)}
            report(setup, n, load_s, size, results, counts)
        finally:
            if setup == "postgres" and not keep:
                await drop_database(ADMIN_URL, url)
    finally:
        if keep:
            print(f"  kept {tmp if setup == 'sqlite' else url}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--consultations", type=int, default=1_500_000)
    ap.add_argument("--setup", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args(argv)
    print(
        f"transcript_search: {args.consultations:,} consultations, {LIBRARIES} libraries,"
        f" {CONSULTANTS} consultants, {os.cpu_count()} cores"
    )
    for setup in ("sqlite", "postgres") if args.setup == "both" else (args.setup,):
        asyncio.run(bench(setup, args.consultations, args.repeat, args.keep))
    return 0


if __name__ == "__main__":
    sys.exit(main())
