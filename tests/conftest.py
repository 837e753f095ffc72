"""Shared fixtures: migrated databases (SQLite per test, PostgreSQL per run), desk nodes with
the demo alliance, and real Socket.IO clients."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import event, text
from sqlalchemy.pool import Pool

import desk.models  # noqa: F401
import stats.models  # noqa: F401
import transcripts.models  # noqa: F401
from desk.clock import ManualClock
from desk.db import Base, make_engine, make_sessionmaker
from desk.demo import create_demo
from desk.migrate import upgrade
from desk.settings import Settings
from tests.harness import EMBED_ORIGIN, Node, start_node
from tests.services import create_database, drop_database, postgres_url

T = TypeVar("T")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "desk.sqlite3"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "desk.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


def in_thread(fn: Callable[[], T]) -> T:
    """Run blocking set-up (which may start its own event loop) off the test's loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn).result()


@pytest.fixture(scope="session")
def postgres_run_db() -> Iterator[str]:
    """One migrated PostgreSQL database for this run, dropped at the end."""
    admin = postgres_url()
    url = in_thread(lambda: asyncio.run(create_database(admin)))
    try:
        in_thread(lambda: upgrade(url))
        yield url
    finally:
        in_thread(lambda: asyncio.run(drop_database(admin, url)))


async def truncate_all(url: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            names = ", ".join(f'"{t.name}"' for t in reversed(Base.metadata.sorted_tables))
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> str:
    """Each test using this runs on SQLite and on real PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "desk.sqlite3"
        shutil.copy(sqlite_template, path)
        return f"sqlite+aiosqlite:///{path}"
    url = request.getfixturevalue("postgres_run_db")
    await truncate_all(url)
    return url


BOTS_OFF = '{"greeting": false, "waiting": false, "faq": false}'


async def seed_demo(url: str, origin: str) -> None:
    engine = make_engine(url)
    try:
        await create_demo(make_sessionmaker(engine), Settings(public_origin=origin))
        # The tests embed the widget from a site of their own.
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE libraries SET allowed_origins = :o, overflow_delay_seconds = 30,"
                    " bot_settings = :b"
                ),
                # The core's tests count every message: bots speak only where a test asks.
                {"o": f'["{EMBED_ORIGIN}"]', "b": BOTS_OFF},
            )
    finally:
        await engine.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(time.time())


@pytest.fixture
async def node(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Node]:
    """A desk node on SQLite with the demo alliance: libraries demo-pl and demo-ul."""
    await seed_demo(sqlite_url, "http://unused")
    n = await start_node(sqlite_url, clock=clock)
    try:
        yield n
    finally:
        await n.close()


@pytest.fixture
async def any_node(database_url: str, clock: ManualClock) -> AsyncIterator[Node]:
    """The same, once on SQLite and once on PostgreSQL."""
    await seed_demo(database_url, "http://unused")
    n = await start_node(database_url, clock=clock)
    try:
        yield n
    finally:
        await n.close()


# -- no task holds two pooled connections ------------------------------------------------------

#: Tasks by how many pooled connections each holds, and what a second checkout looked like.
_held: dict[int, int] = {}
_nested: list[str] = []


def _task_id() -> int | None:
    try:
        task = asyncio.current_task()
    except RuntimeError:
        return None
    return None if task is None else id(task)


@event.listens_for(Pool, "checkout")
def _on_checkout(_dbapi: Any, record: Any, _proxy: Any) -> None:
    task = _task_id()
    if task is None:
        return
    record.info["desk_test_task"] = task
    if _held.get(task, 0) > 0:
        import traceback

        _nested.append("".join(traceback.format_stack(limit=30)))
    _held[task] = _held.get(task, 0) + 1


@event.listens_for(Pool, "checkin")
def _on_checkin(_dbapi: Any, record: Any) -> None:
    task = record.info.pop("desk_test_task", None)
    if task is not None:
        left = _held.get(task, 1) - 1
        if left > 0:
            _held[task] = left
        else:
            _held.pop(task, None)


@pytest.fixture(autouse=True)
def no_task_holds_two_connections() -> Iterator[None]:
    """The embedded pool is small (``desk.db.SQLITE_POOL_SIZE``): a task that held one
    connection while it waited for another could wait forever once a burst had taken the
    rest. Every test fails if the desk ever does that."""
    _nested.clear()
    yield
    if _nested:
        found = _nested[:]
        _nested.clear()
        pytest.fail("a task checked out a second pooled connection while holding one:\n" + found[0])
