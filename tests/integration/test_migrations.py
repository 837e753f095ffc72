"""Migrations on SQLite and real PostgreSQL: they build exactly the models' schema, and go down
and up again."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from desk.db import Base, make_engine
from desk.migrate import downgrade, upgrade
from tests.conftest import in_thread
from tests.services import create_database, drop_database, postgres_url
from transcripts.search import is_index_table


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'm.sqlite3'}"
        return
    admin = postgres_url()
    url = in_thread(lambda: asyncio.run(create_database(admin)))
    try:
        yield url
    finally:
        in_thread(lambda: asyncio.run(drop_database(admin, url)))


def _diff_and_tables(url: str) -> tuple[list[object], set[str]]:
    async def go() -> tuple[list[object], set[str]]:
        engine = make_engine(url)
        try:
            async with engine.connect() as conn:

                def inspect_it(sync: Connection) -> tuple[list[object], set[str]]:
                    # The full-text index is dialect-specific DDL outside the metadata.
                    ctx = MigrationContext.configure(
                        sync,
                        opts={
                            "compare_type": True,
                            "include_name": lambda name, kind, _parent: (
                                not (kind == "table" and is_index_table(name))
                            ),
                        },
                    )
                    return list(compare_metadata(ctx, Base.metadata)), {
                        t for t in inspect(sync).get_table_names() if not is_index_table(t)
                    }

                return await conn.run_sync(inspect_it)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def test_migrations_build_the_models_schema_and_round_trip(fresh_url: str) -> None:
    in_thread(lambda: upgrade(fresh_url))
    diff, tables = in_thread(lambda: _diff_and_tables(fresh_url))
    assert diff == [], f"models and migrations differ: {diff}"
    assert {"consultations", "messages", "libraries", "consultants", "readers"} <= tables
    in_thread(lambda: downgrade(fresh_url, "base"))
    _, tables = in_thread(lambda: _diff_and_tables(fresh_url))
    assert tables <= {"alembic_version"}
    in_thread(lambda: upgrade(fresh_url))
    diff, _ = in_thread(lambda: _diff_and_tables(fresh_url))
    assert diff == []


def test_each_sides_last_seq_is_filled_in_from_the_stored_messages(fresh_url: str) -> None:
    """0010 gives every consultation the seq of the last message each side is shown, from
    the messages already stored: a private note is staff's, a reader-only message the
    reader's."""
    in_thread(lambda: upgrade(fresh_url, "0009"))

    async def seed() -> None:
        engine = make_engine(fresh_url)
        try:
            async with engine.begin() as conn:
                now = {"now": datetime(2026, 12, 4, tzinfo=UTC)}
                await conn.execute(
                    text(
                        "INSERT INTO libraries (id, code, name, name_en, allowed_origins,"
                        " languages, service_hours, phone, routing_mode, offer_timeout_seconds,"
                        " overflow_delay_seconds, created_at) VALUES (1, 'x', 'X', 'X', '[]',"
                        " '[\"zh-CN\"]', '{}', '', 'offer', 30, 60, :now)"
                    ),
                    now,
                )
                for reader in (1, 2):
                    await conn.execute(
                        text(
                            "INSERT INTO readers (id, kind, display_name, created_at)"
                            " VALUES (:id, 'visitor', '', :now)"
                        ),
                        {"id": reader, **now},
                    )
                for cid, last in ((1, 4), (2, 0)):
                    await conn.execute(
                        text(
                            "INSERT INTO consultations (id, library_id, route_library_id,"
                            " reader_id, language, state, subject, last_seq, reader_read_seq,"
                            " staff_read_seq, priority, version, created_at, queued_at)"
                            " VALUES (:id, 1, 1, :id, 'zh-CN', 'assigned', '', :last, 0, 0, 0, 1,"
                            " :now, :now)"
                        ),
                        {"id": cid, "last": last, **now},
                    )
                for seq, vis in ((1, "all"), (2, "staff"), (3, "reader"), (4, "staff")):
                    await conn.execute(
                        text(
                            "INSERT INTO messages (consultation_id, seq, author_kind,"
                            " visibility, body, created_at)"
                            " VALUES (1, :seq, 'system', :vis, '', :now)"
                        ),
                        {"seq": seq, "vis": vis, **now},
                    )
        finally:
            await engine.dispose()

    async def sides() -> list[tuple[int, int, int]]:
        engine = make_engine(fresh_url)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    text(
                        "SELECT id, last_reader_seq, last_staff_seq FROM consultations ORDER BY id"
                    )
                )
                return [(r[0], r[1], r[2]) for r in rows]
        finally:
            await engine.dispose()

    in_thread(lambda: asyncio.run(seed()))
    in_thread(lambda: upgrade(fresh_url, "0010"))
    assert in_thread(lambda: asyncio.run(sides())) == [(1, 3, 4), (2, 0, 0)]
