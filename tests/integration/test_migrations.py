"""Migrations on SQLite and real PostgreSQL: they build exactly the models' schema, and go down
and up again."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
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
