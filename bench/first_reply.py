#!/usr/bin/env python
"""How soon does a reader hear from the desk? The time from opening a chat to its first reply.

Starts one embedded `desk serve` (SQLite, the bots on as every library has them by default),
then readers open chats over real Socket.IO connections, a few at a time, each asking a
question. For each reader it records:

- the open acknowledgement (the question stored, the chat queued);
- the desk's first reply: the greeting bot's message, which states the service's scope;
- the first live queue status (`queue.position`) from the waiting bot, which runs every 5 s.

No consultant is online, so every chat stays queued and the waiting bot has work; with
`--consultants N` that many are online (direct routing, 4 chats each) and take chats.

    .venv/bin/python bench/first_reply.py                      # 300 readers, 20 at a time
    .venv/bin/python bench/first_reply.py --readers 1000 --concurrency 50 --consultants 20
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from uuid import uuid4

import aiohttp
import socketio

sys.path.insert(0, str(Path(__file__).resolve().parent))

from chat_load import (
    BenchError,
    desk_command,
    free_port,
    migrate,
    percentile,
    start_server,
    stop_process,
    wait_healthy,
)

ORIGIN = "http://bench.example"
LIBRARY = "bench-first"
PASSWORD = "bench-password-" + uuid4().hex[:8]


async def seed(database_url: str, consultants: int) -> None:
    from desk import admin
    from desk.db import make_engine, make_sessionmaker

    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    try:
        await admin.add_library(
            sessions,
            code=LIBRARY,
            name="首问响应测试馆",
            name_en="First reply bench library",
            origins=[ORIGIN],
            routing_mode="direct",
        )
        for i in range(consultants):
            await admin.add_consultant(
                sessions,
                library_code=LIBRARY,
                username=f"bench-c{i}",
                display_name=f"咨询员{i}",
                password=PASSWORD,
                role="consultant",
                max_chats=4,
            )
    finally:
        await engine.dispose()


async def consultant_online(base: str, i: int) -> socketio.AsyncClient:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{base}/api/login",
            json={"username": f"bench-c{i}", "password": PASSWORD},
            headers={"Origin": base},
        ) as resp,
    ):
        if resp.status != 200:
            raise BenchError(f"consultant login failed: {resp.status}")
        cookie = resp.cookies["desk_session"].value
    c = socketio.AsyncClient(reconnection=False)
    await c.connect(
        base,
        namespaces=["/console"],
        transports=["websocket"],
        headers={"Origin": base, "Cookie": f"desk_session={cookie}"},
        auth={"status": "online"},
    )
    return c


async def one_reader(base: str, http: aiohttp.ClientSession, out: dict[str, list[float]]) -> Any:
    # What the widget does when its panel opens: a visitor token, the library's public
    # details (hours, who is online), then the socket.
    t_widget = time.perf_counter()
    async with http.get(f"{base}/api/libraries/{LIBRARY}", headers={"Origin": ORIGIN}) as resp:
        await resp.json()
    async with http.post(
        f"{base}/api/readers/visitor", json={"library": LIBRARY}, headers={"Origin": ORIGIN}
    ) as resp:
        token = (await resp.json())["token"]
    client = socketio.AsyncClient(reconnection=False)
    first_reply = asyncio.get_running_loop().create_future()
    first_status = asyncio.get_running_loop().create_future()

    async def on_message(m: dict[str, Any]) -> None:
        if m.get("author_kind") in ("bot", "consultant", "system") and not first_reply.done():
            first_reply.set_result(time.perf_counter())

    async def on_position(_: dict[str, Any]) -> None:
        if not first_status.done():
            first_status.set_result(time.perf_counter())

    client.on("message", on_message, namespace="/reader")
    client.on("queue.position", on_position, namespace="/reader")
    await client.connect(
        base,
        namespaces=["/reader"],
        transports=["websocket"],
        headers={"Origin": ORIGIN},
        auth={"library": LIBRARY, "token": token},
    )
    t0 = time.perf_counter()
    out["setup"].append(t0 - t_widget)
    ack = await client.call(
        "consultation.open",
        {
            "language": "zh-CN",
            "question": "请问怎样查到一篇学位论文？",
            "client_msg_id": uuid4().hex,
        },
        namespace="/reader",
        timeout=30,
    )
    t_ack = time.perf_counter()
    if not ack.get("ok"):
        raise BenchError(f"open refused: {ack}")
    out["ack"].append(t_ack - t0)
    # The greeting may already be in the acknowledgement's messages (stored before the ack).
    if any(m["author_kind"] == "bot" for m in ack["messages"]) and not first_reply.done():
        first_reply.set_result(t_ack)
    replied = await asyncio.wait_for(first_reply, 30)
    out["first_reply"].append(replied - t0)
    out["widget_to_reply"].append(replied - t_widget)
    return client, first_status, t0


async def run(base: str, readers: int, concurrency: int, consultants: int) -> dict[str, Any]:
    staff = [await consultant_online(base, i) for i in range(consultants)]
    out: dict[str, list[float]] = {
        "setup": [],
        "ack": [],
        "first_reply": [],
        "widget_to_reply": [],
        "first_status": [],
    }
    sem = asyncio.Semaphore(concurrency)
    pending: list[tuple[socketio.AsyncClient, asyncio.Future[float], float]] = []
    async with aiohttp.ClientSession() as http:

        async def go() -> None:
            async with sem:
                pending.append(await one_reader(base, http, out))

        started = time.perf_counter()
        await asyncio.gather(*(go() for _ in range(readers)))
        opened_in = time.perf_counter() - started
        for _client, status, t0 in pending:
            # A chat a consultant took before the waiting bot's pass gets no status.
            with contextlib.suppress(TimeoutError):
                out["first_status"].append(await asyncio.wait_for(status, 15) - t0)
        for client, _, _ in pending:
            await client.disconnect()
    for c in staff:
        await c.disconnect()
    return {"opened_in": opened_in, **out}


def show(name: str, values: list[float]) -> None:
    v = sorted(values)
    if not v:
        print(f"  {name:<40} (none)")
        return
    p = [percentile(v, q) for q in (0.5, 0.95, 0.99)]
    print(
        f"  {name:<40} n={len(v):>5}  p50 {p[0] * 1000:8.1f} ms  p95 {p[1] * 1000:8.1f} ms  "
        f"p99 {p[2] * 1000:8.1f} ms  max {v[-1] * 1000:8.1f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--readers", type=int, default=300)
    ap.add_argument("--concurrency", type=int, default=20, help="readers opening at once")
    ap.add_argument("--consultants", type=int, default=0, help="consultants online (4 chats each)")
    args = ap.parse_args(argv)
    if args.readers < 1 or args.concurrency < 1 or args.consultants < 0:
        ap.error("--readers and --concurrency must be >= 1, --consultants >= 0")
    tmp = Path(tempfile.mkdtemp(prefix="desk-first-reply-"))
    port = free_port()
    url = f"sqlite+aiosqlite:///{tmp / 'desk.sqlite3'}"
    env = {
        **os.environ,
        "DESK_DATABASE_URL": url,
        "DESK_PORT": str(port),
        "DESK_LOG_LEVEL": "WARNING",
    }
    env.pop("DESK_REDIS_URL", None)
    cwd = Path(__file__).resolve().parents[1]
    server = None
    try:
        migrate(env, tmp / "server.log", cwd)
        asyncio.run(seed(url, args.consultants))
        server = start_server(
            "desk", [*desk_command(), "serve"], env, port, tmp / "server.log", cwd
        )
        wait_healthy(server)
        print(
            f"first_reply: {args.readers:,} readers, {args.concurrency} opening at once, "
            f"{args.consultants} consultant(s) online, embedded desk, {os.cpu_count()} cores"
        )
        r = asyncio.run(run(server.base, args.readers, args.concurrency, args.consultants))
        print(f"  opened {args.readers:,} chats in {r['opened_in']:.1f} s")
        show("widget set-up (details, token, socket)", r["setup"])
        show("open acknowledged", r["ack"])
        show("first reply from the desk (bot)", r["first_reply"])
        show("set-up + open to first reply", r["widget_to_reply"])
        show("first live queue status", r["first_status"])
        print(
            "  target: the first reply within 1 s of opening (the reader's own typing not counted);"
            " the queue status comes with the bot's 5 s pass"
        )
        return 0
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if server is not None:
            stop_process(server.proc)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
