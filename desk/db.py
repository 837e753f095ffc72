"""Engine, sessions and the declarative base shared by every model."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, Row, Select, event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


async def stream_rows(
    s: AsyncSession, stmt: Select[*tuple[Any, ...]], partition: int
) -> AsyncIterator[Row[*tuple[Any, ...]]]:
    """The statement's rows, fetched ``partition`` at a time with a turn for the loop after
    each: a timed job reading thousands of rows at once holds the loop for tens of ms, which
    every chat on the node waits out."""
    result = await s.stream(stmt.execution_options(yield_per=partition))
    async for part in result.partitions():
        for row in part:
            yield row
        await asyncio.sleep(0)


#: Execution option marking read-only work (see reader_engine).
READ_ONLY = "desk_read_only"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both SQLite (which stores naive text) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


#: Pooled connections to an embedded SQLite database. SQLite lets one writer in at a time and
#: its reads take a fraction of a millisecond, so more only cost memory: SQLAlchemy's default
#: (5, and 10 more in a burst) let 200 sockets connecting at once open 15 connections, each
#: an aiosqlite thread with its own page cache, about 2 KiB per socket of the desk's memory
#: (``bench/chat_load.py``). A smaller pool is safe only because no task holds two pooled
#: connections at once, which every test checks (``tests/conftest.py``).
SQLITE_POOL_SIZE = 4


def make_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url,
            connect_args={"timeout": 30},
            pool_size=SQLITE_POOL_SIZE,
            max_overflow=0,
            pool_timeout=60,
        )
        _tune_sqlite(engine.sync_engine)
        return engine
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        # WAL lets readers run while the single writer commits; NORMAL sync is durable in WAL
        # against process crashes (the risk it leaves is a power cut losing the last commits).
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()
        # Let SQLAlchemy, not the driver, open transactions (see _begin).
        dbapi_conn.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        if conn.get_execution_options().get(READ_ONLY):
            # Reads take no lock: in WAL mode they see a snapshot while the writer goes on.
            conn.exec_driver_sql("BEGIN")
        else:
            # Take the write lock at BEGIN: a transaction that reads and then writes can
            # otherwise fail at once with "database is locked" when another one committed
            # in between.
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def reader_engine(engine: AsyncEngine) -> AsyncEngine:
    """The same engine for read-only work: on SQLite its transactions take no write lock."""
    return engine.execution_options(**{READ_ONLY: True})
