"""Timed work. APScheduler runs in every node; cluster-wide jobs first take a run-once lock
named after their tick, so each tick runs once however many nodes are up."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from desk.context import Desk
from desk.routing import sweeps

log = logging.getLogger(__name__)

#: How often each sweep runs; a reader or a consultant may overstay grace by at most this.
SWEEP_SECONDS = 5.0
RECONCILE_SECONDS = 30.0


async def once_per_tick(
    desk: Desk, name: str, interval: float, job: Callable[[], Awaitable[Any]]
) -> bool:
    tick = math.floor(desk.clock.now() / interval)
    if not await desk.state.run_once(f"job:{name}:{tick}", ttl=interval * 2):
        return False
    await job()
    return True


#: Longest wait at shutdown for running jobs to finish before they are cancelled.
STOP_WAIT_SECONDS = 5.0


class DeskScheduler:
    """APScheduler with a clean stop: no new runs, the running ones finish, then shutdown (so
    no job is cancelled half-way and logged as failed)."""

    def __init__(
        self,
        desk: Desk,
        request_routing: Callable[[], None],
        cluster_jobs: Sequence[tuple[str, float, Callable[[Desk], Awaitable[Any]]]] = (),
        local_jobs: Sequence[tuple[str, float, Callable[[], Awaitable[Any]]]] = (),
    ) -> None:
        """``cluster_jobs``: more (name, interval, job) that run once per tick across nodes;
        ``local_jobs``: (name, interval, job) that every node runs for itself."""
        self._s = AsyncIOScheduler(
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 5}
        )
        self._running: set[asyncio.Task[Any]] = set()
        tick = desk.settings.tick_seconds

        def job(fn: Callable[[], Awaitable[Any]], name: str) -> Callable[[], Awaitable[None]]:
            async def run() -> None:
                task = asyncio.current_task()
                if task is not None:
                    # APScheduler's tasks all run the same wrapper: the name tells them apart
                    # in asyncio's debug output and in bench/probe_serve.py.
                    task.set_name(f"job:{name}")
                    self._running.add(task)
                try:
                    await fn()
                except Exception:
                    log.exception("scheduled job failed", extra={"job": name})
                finally:
                    if task is not None:
                        self._running.discard(task)

            return run

        def cluster(name: str, interval: float, fn: Callable[[Desk], Awaitable[Any]]) -> None:
            async def once() -> None:
                await once_per_tick(desk, name, interval, lambda: fn(desk))

            self._s.add_job(job(once, name), "interval", seconds=interval, id=name, name=name)

        async def beat() -> None:
            await sweeps.beat(desk)

        async def route() -> None:
            # Every node routes (claims keep it safe); the tick catches overflow delays coming
            # due. It only asks: a pass already running absorbs the request.
            request_routing()

        # Named, so APScheduler's own warnings (a run skipped while the last still runs) say
        # which job.
        self._s.add_job(
            job(beat, "beat"),
            "interval",
            seconds=desk.settings.heartbeat_seconds,
            id="beat",
            name="beat",
        )
        self._s.add_job(job(route, "route"), "interval", seconds=tick, id="route", name="route")
        cluster("expire-offers", tick, sweeps.expire)
        cluster("sweep-consultants", SWEEP_SECONDS, sweeps.sweep_consultants)
        cluster("sweep-readers", SWEEP_SECONDS, sweeps.sweep_readers)
        cluster("reconcile", RECONCILE_SECONDS, sweeps.reconcile)
        for name, interval, fn in cluster_jobs:
            cluster(name, interval, fn)
        for name, interval, local in local_jobs:
            self._s.add_job(job(local, name), "interval", seconds=interval, id=name, name=name)

    def start(self) -> None:
        self._s.start()

    async def stop(self) -> None:
        self._s.pause()
        if self._running:
            await asyncio.wait(list(self._running), timeout=STOP_WAIT_SECONDS)
        self._s.shutdown(wait=False)
