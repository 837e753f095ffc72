"""Timed work. APScheduler runs in every node; cluster-wide jobs first take a run-once lock
named after their tick, so each tick runs once however many nodes are up."""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
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
    try:
        await job()
    except Exception:
        log.exception("scheduled job failed", extra={"job": name})
    return True


def build_scheduler(desk: Desk, route: Callable[[], Awaitable[Any]]) -> AsyncIOScheduler:
    s = AsyncIOScheduler(
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 5}
    )
    tick = desk.settings.tick_seconds

    async def local_beat() -> None:
        try:
            await sweeps.beat(desk)
        except Exception:
            log.exception("heartbeat failed")

    async def routing_tick() -> None:
        # Every node routes (claims keep it safe); this catches overflow delays coming due.
        try:
            await route()
        except Exception:
            log.exception("routing tick failed")

    def cluster(name: str, interval: float, fn: Callable[[Desk], Awaitable[Any]]) -> None:
        async def run() -> None:
            await once_per_tick(desk, name, interval, lambda: fn(desk))

        s.add_job(run, "interval", seconds=interval, id=name)

    s.add_job(local_beat, "interval", seconds=desk.settings.heartbeat_seconds, id="beat")
    s.add_job(routing_tick, "interval", seconds=tick, id="route")
    cluster("expire-offers", tick, sweeps.expire)
    cluster("sweep-consultants", SWEEP_SECONDS, sweeps.sweep_consultants)
    cluster("sweep-readers", SWEEP_SECONDS, sweeps.sweep_readers)
    cluster("reconcile", RECONCILE_SECONDS, sweeps.reconcile)
    return s
