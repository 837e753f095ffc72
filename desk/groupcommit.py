"""Group commit for small background writes: items added while one write is in flight go
together in the next, so a burst costs a few transactions instead of one each.

A quiet desk writes each item at once (no timer, no delay); a busy one writes up to
``max_items`` per call of ``write``. ``add`` returns once its item is written, or raises what
the write raised, so a caller that must keep an order (a later fact about the same
consultation) can wait for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class GroupCommit(Generic[T]):
    def __init__(
        self,
        write: Callable[[list[T]], Awaitable[None]],
        *,
        max_items: int = 500,
        track: set[asyncio.Task[None]] | None = None,
    ) -> None:
        if max_items < 1:
            raise ValueError("max_items must be at least 1")
        self._write = write
        self._max = max_items
        self._pending: list[tuple[T, asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None
        #: Where the running writer task is kept, so that shutdown can wait for it.
        self._track = track
        #: Calls of ``write`` so far (a figure for tests and benches).
        self.writes = 0

    async def add(self, item: T) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((item, fut))
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
            if self._track is not None:
                self._track.add(self._task)
                self._task.add_done_callback(self._track.discard)
        await fut

    async def _run(self) -> None:
        try:
            while self._pending:
                batch = self._pending[: self._max]
                del self._pending[: self._max]
                try:
                    await self._write([item for item, _ in batch])
                except asyncio.CancelledError:
                    for _, fut in batch:
                        fut.cancel()
                    raise
                except Exception as exc:
                    for _, fut in batch:
                        if not fut.done():
                            fut.set_exception(exc)
                else:
                    for _, fut in batch:
                        if not fut.done():
                            fut.set_result(None)
                finally:
                    self.writes += 1
        finally:
            self._task = None
            # Cancelled mid-way (shutdown): nobody is left waiting forever.
            for _, fut in self._pending:
                if not fut.done():
                    fut.cancel()
            self._pending.clear()
