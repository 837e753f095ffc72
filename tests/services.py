"""Real services for the tests: PostgreSQL and Redis from DESK_TEST_DATABASE_URL and
DESK_TEST_REDIS_URL. Each run gets its own database and key prefix and removes them after.

Without them a test skips and says why; under DESK_REQUIRE_SERVICES=1 (CI) it fails instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import NoReturn
from uuid import uuid4

import pytest
import redis.asyncio as aioredis
from redis.exceptions import RedisError

REDIS_URL_ENV = "DESK_TEST_REDIS_URL"
DATABASE_URL_ENV = "DESK_TEST_DATABASE_URL"
REQUIRE_ENV = "DESK_REQUIRE_SERVICES"


def required() -> bool:
    return os.environ.get(REQUIRE_ENV) == "1"


def unavailable(reason: str) -> NoReturn:
    """Skip, or fail when the run demands real services (DESK_REQUIRE_SERVICES=1)."""
    if required():
        pytest.fail(f"{reason} (and {REQUIRE_ENV}=1)")
    pytest.skip(reason)


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        unavailable("Debian's chromium is not installed (apt-get install -y chromium)")
    return path


async def delete_prefix(client: aioredis.Redis, prefix: str) -> None:
    batch: list[str] = []
    async for key in client.scan_iter(match=f"{prefix}*", count=500):
        batch.append(key)
        if len(batch) >= 500:
            await client.delete(*batch)
            batch.clear()
    if batch:
        await client.delete(*batch)


@asynccontextmanager
async def redis_namespace() -> AsyncIterator[tuple[str, str]]:
    """(url, prefix) of a reachable test Redis with a fresh key prefix, deleted on exit."""
    url = os.environ.get(REDIS_URL_ENV)
    if not url:
        unavailable(f"{REDIS_URL_ENV} not set: the Redis backend is not tested")
    admin = aioredis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=2)
    try:
        try:
            await admin.ping()
        except (RedisError, OSError) as exc:
            unavailable(
                f"Redis at {url} ({REDIS_URL_ENV}) is unreachable: {type(exc).__name__}: {exc}"
            )
        prefix = f"desktest:{uuid4().hex}:"
        try:
            yield url, prefix
        finally:
            await delete_prefix(admin, prefix)
    finally:
        await admin.aclose()


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


async def create_database(url: str) -> str:
    """Create a fresh database next to the one ``url`` names; returns its URL."""
    import asyncpg

    name = f"desk_test_{uuid4().hex[:16]}"
    try:
        conn = await asyncpg.connect(_asyncpg_dsn(url), timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        unavailable(
            f"PostgreSQL at {url} ({DATABASE_URL_ENV}) is unreachable: {type(exc).__name__}: {exc}"
        )
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return with_database(url, name)


async def drop_database(url: str, db_url: str) -> None:
    import asyncpg

    name = db_url.rpartition("/")[2]
    conn = await asyncpg.connect(_asyncpg_dsn(url), timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def postgres_url() -> str:
    url = os.environ.get(DATABASE_URL_ENV)
    if not url:
        unavailable(f"{DATABASE_URL_ENV} not set: PostgreSQL is not tested")
    if not url.startswith("postgresql"):
        unavailable(f"{DATABASE_URL_ENV} is not a PostgreSQL URL")
    if url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url[len("postgresql://") :]
    return url
