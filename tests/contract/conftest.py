"""Fixtures for the SharedState contract: every test runs against each backend."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from desk.shared.base import SharedState
from desk.shared.memory import MemoryState
from desk.shared.redis import RedisState
from tests.services import redis_namespace


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def state(request: pytest.FixtureRequest) -> AsyncIterator[SharedState]:
    if request.param == "memory":
        yield MemoryState()
        return
    async with redis_namespace() as (url, prefix):
        st = RedisState.from_url(url, prefix, max_connections=16)
        try:
            yield st
        finally:
            await st.close()


@pytest.fixture
async def redis_nodes() -> AsyncIterator[tuple[RedisState, RedisState]]:
    """Two RedisState objects on separate connection pools sharing one prefix: two "nodes"."""
    async with redis_namespace() as (url, prefix):
        a = RedisState.from_url(url, prefix, max_connections=8)
        b = RedisState.from_url(url, prefix, max_connections=8)
        try:
            yield a, b
        finally:
            await a.close()
            await b.close()
