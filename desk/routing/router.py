"""The router: walks the queue in order and gives each chat to the best free consultant.

Passes may run on every node at once; what keeps them from giving one chat twice, or a
consultant more than their capacity, is the atomic claim in the shared state, re-checked by the
conditional state change in the database.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from desk.actions.offers import offer_or_assign
from desk.context import Desk
from desk.routing import policy
from desk.shared.base import Presence

log = logging.getLogger(__name__)


class Router:
    def __init__(self, desk: Desk) -> None:
        self._desk = desk
        self._lock = asyncio.Lock()
        self._again = False
        self._pending: asyncio.Task[None] | None = None
        self.assigned = 0

    def request(self) -> None:
        """Ask for a pass soon; requests made while one runs coalesce into one more pass."""
        if self._lock.locked():
            self._again = True
            return
        if self._pending is None or self._pending.done():
            self._pending = asyncio.get_running_loop().create_task(self._safe_pass())

    async def _safe_pass(self) -> None:
        try:
            await self.route()
        except Exception:
            log.exception("routing pass failed")

    async def route(self) -> int:
        async with self._lock:
            total = 0
            while True:
                self._again = False
                total += await self._pass()
                if not self._again:
                    return total

    async def _pass(self) -> int:
        desk = self._desk
        queue = await desk.state.queue()
        if not queue:
            return 0
        now = desk.clock.now()
        people: dict[int, Presence] = {
            p.consultant_id: p for p in await desk.state.presences() if p.routable(now)
        }
        if not people:
            return 0
        libraries = await desk.directory.libraries()
        done = 0
        for entry in queue:
            if not any(p.free for p in people.values()):
                break
            lib = libraries.get(entry.route_library_id)
            delay = float(lib.overflow_delay_seconds) if lib else 0.0
            for cand in policy.candidates(entry, list(people.values()), now, delay):
                if not await desk.state.claim(entry.consultation_id, cand.consultant_id, now):
                    continue
                serving = libraries.get(cand.library_id)
                if serving is None:
                    await desk.state.release(entry.consultation_id, cand.consultant_id, now)
                    continue
                ok = await offer_or_assign(desk, entry.consultation_id, cand.consultant_id, serving)
                if not ok:
                    await desk.state.release(entry.consultation_id, cand.consultant_id, now)
                    break
                people[cand.consultant_id] = replace(cand, load=cand.load + 1, idle_since=now)
                done += 1
                break
        self.assigned += done
        return done
