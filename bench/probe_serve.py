#!/usr/bin/env python
"""``desk serve`` with timing probes, switched by signals, for ``chat_load.py --probe PHASE``.

SIGUSR1 starts recording, SIGUSR2 stops it and writes JSON to the file named by
``BENCH_PROBE_OUT``. What is recorded, all on the event loop's thread:

- every loop callback's run time (``asyncio.Handle._run``), so the loop's busy share and the
  callbacks that held it longest, named by their task's coroutine;
- the loop's lag: how late a 2 ms timer fires, which is what any message arriving then waits;
- every garbage collection's pause, by generation;
- the message store: how long ``MessageStore.post`` waits (queue plus batch write), each batch
  write's time and size, and the writer's batches by the path they took (on PostgreSQL: from
  memory in one round trip, after a read, or locked);
- the event bus: how long ``EventBus.publish`` of a ``MessagePosted`` takes (the relay's emits,
  and in the shared setup the publishes to Redis).

The probes cost two clock reads per callback. Compare runs with each other, not with a run
without ``--probe``.
"""

from __future__ import annotations

import asyncio
import asyncio.events
import gc
import json
import os
import signal
import sys
import time
from collections import Counter, defaultdict
from typing import Any

from aiohttp import web

import desk.app
from desk.bus import EventBus
from desk.cli import main
from desk.events import MessagePosted
from transcripts.store import MessageStore

#: A callback longer than this is named in the report.
SLOW_CALLBACK = 0.002
#: The lag probe's timer.
LAG_TICK = 0.002


class Probe:
    def __init__(self) -> None:
        self.active = False
        self.reset()

    def reset(self) -> None:
        self.started = time.perf_counter()
        self.callbacks = 0
        self.busy = 0.0
        self.callback_times: list[float] = []
        self.slow: dict[str, list[float]] = defaultdict(list)
        self.lags: list[float] = []
        self.gc: dict[int, list[float]] = defaultdict(list)
        self.post_waits: list[float] = []
        self.batch_times: list[float] = []
        self.batch_sizes: list[int] = []
        self.publish_times: list[float] = []
        #: The writer's batches by path (remembered, read, locked; loop, thread, ...).
        self.paths: Counter[str] = Counter()
        #: Batches whose seqs PostgreSQL moved past another node's messages.
        self.shifted = 0

    def start(self) -> None:
        self.reset()
        self.active = True

    def dump(self, path: str) -> None:
        self.active = False
        window = time.perf_counter() - self.started
        out: dict[str, Any] = {
            "window_s": window,
            "callbacks": self.callbacks,
            "busy_s": self.busy,
            "callback_s": summary(self.callback_times),
            "slow_callbacks": {
                name: {"n": len(v), "total_s": sum(v), "max_s": max(v)}
                for name, v in sorted(self.slow.items(), key=lambda kv: -sum(kv[1]))[:15]
            },
            "lag_s": summary(self.lags),
            "gc": {
                str(gen): {"n": len(v), "total_s": sum(v), "max_s": max(v)}
                for gen, v in sorted(self.gc.items())
            },
            "store_post_s": summary(self.post_waits),
            "batch_write_s": summary(self.batch_times),
            "batch_size": summary([float(n) for n in self.batch_sizes]),
            "publish_message_s": summary(self.publish_times),
            "writer_paths": dict(self.paths),
            "writer_shifted": self.shifted,
        }
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(out, f, indent=1)
        os.replace(tmp, path)


def summary(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    v = sorted(values)

    def q(p: float) -> float:
        return v[min(len(v) - 1, max(0, int(p * len(v) + 0.5) - 1))]

    return {
        "n": len(v),
        "mean": sum(v) / len(v),
        "p50": q(0.50),
        "p99": q(0.99),
        "p999": q(0.999),
        "max": v[-1],
    }


PROBE = Probe()


def callback_name(handle: asyncio.Handle) -> str:
    cb = getattr(handle, "_callback", None)
    owner = getattr(cb, "__self__", None)
    if isinstance(owner, asyncio.Task):
        coro = owner.get_coro()
        name = owner.get_name()
        if name.startswith("job:"):  # a scheduled job (desk/scheduler.py names them)
            return f"task {name}"
        return f"task {getattr(coro, '__qualname__', repr(coro))}"
    return getattr(cb, "__qualname__", None) or repr(cb)[:80]


def install() -> None:
    run = asyncio.events.Handle._run

    def timed_run(self: asyncio.Handle) -> None:
        if not PROBE.active:
            run(self)
            return
        t0 = time.perf_counter()
        run(self)
        dt = time.perf_counter() - t0
        PROBE.callbacks += 1
        PROBE.busy += dt
        PROBE.callback_times.append(dt)
        if dt >= SLOW_CALLBACK:
            PROBE.slow[callback_name(self)].append(dt)

    asyncio.events.Handle._run = timed_run  # type: ignore[method-assign]

    gc_started: list[float] = [0.0]

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            gc_started[0] = time.perf_counter()
        elif PROBE.active:
            PROBE.gc[int(info["generation"])].append(time.perf_counter() - gc_started[0])

    gc.callbacks.append(on_gc)

    post = MessageStore.post

    async def timed_post(self: MessageStore, draft: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return await post(self, draft)
        finally:
            if PROBE.active:
                PROBE.post_waits.append(time.perf_counter() - t0)

    MessageStore.post = timed_post  # type: ignore[method-assign]

    write = MessageStore._write

    async def timed_write(self: MessageStore, batch: list[Any]) -> Any:
        writer = self._writer
        paths: Counter[str] = getattr(writer, "paths", None) or Counter()
        before, shifted = paths.copy(), getattr(writer, "shifted", 0)
        t0 = time.perf_counter()
        try:
            return await write(self, batch)
        finally:
            if PROBE.active:
                PROBE.batch_times.append(time.perf_counter() - t0)
                PROBE.batch_sizes.append(len(batch))
                PROBE.paths.update(paths - before)
                PROBE.shifted += getattr(writer, "shifted", 0) - shifted

    MessageStore._write = timed_write  # type: ignore[method-assign]

    publish = EventBus.publish

    async def timed_publish(self: EventBus, *events: Any) -> None:
        t0 = time.perf_counter()
        try:
            await publish(self, *events)
        finally:
            if PROBE.active and any(isinstance(e, MessagePosted) for e in events):
                PROBE.publish_times.append(time.perf_counter() - t0)

    EventBus.publish = timed_publish  # type: ignore[method-assign]

    create_app = desk.app.create_app

    def create_probed_app(*args: Any, **kwargs: Any) -> web.Application:
        app = create_app(*args, **kwargs)
        app.on_startup.append(start_lag_probe)
        app.on_cleanup.append(stop_lag_probe)
        return app

    desk.app.create_app = create_probed_app


async def lag_probe() -> None:
    loop = asyncio.get_running_loop()
    while True:
        t0 = loop.time()
        await asyncio.sleep(LAG_TICK)
        if PROBE.active:
            PROBE.lags.append(max(0.0, loop.time() - t0 - LAG_TICK))


async def start_lag_probe(app: web.Application) -> None:
    app["bench_lag_probe"] = asyncio.create_task(lag_probe(), name="bench-lag-probe")


async def stop_lag_probe(app: web.Application) -> None:
    app["bench_lag_probe"].cancel()


if __name__ == "__main__":
    out = os.environ["BENCH_PROBE_OUT"]
    install()
    signal.signal(signal.SIGUSR1, lambda *_: PROBE.start())
    signal.signal(signal.SIGUSR2, lambda *_: PROBE.dump(out))
    sys.argv = ["desk", "serve"]
    main()
