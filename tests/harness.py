"""Real desk nodes on real sockets, and the reader and consultant clients that talk to them."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import tempfile
import weakref
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

import aiohttp
import socketio
from aiohttp import web

from desk.app import ROUTER_KEY, create_app
from desk.clock import ManualClock
from desk.context import Desk
from desk.demo import DEMO_PASSWORD
from desk.http import DESK_KEY
from desk.routing.router import Router
from desk.routing.sweeps import beat
from desk.settings import Settings

EMBED_ORIGIN = "http://library.example.test"
#: Long enough for a slow CI machine; a hang still fails with the event named.
WAIT_SECONDS = 10.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


#: Every client made by these helpers, so a node's teardown can hang them up.
_CLIENTS: weakref.WeakSet[Client] = weakref.WeakSet()


@dataclass
class Node:
    base: str
    runner: web.AppRunner
    app: web.Application
    #: A files directory the harness made for this node (removed at close).
    own_files: Path | None = None

    @property
    def desk(self) -> Desk:
        return self.app[DESK_KEY]

    @property
    def router(self) -> Router:
        return self.app[ROUTER_KEY]

    async def close(self) -> None:
        # Clients hang up first: a socket closed by the server lingers until the runner's
        # shutdown timeout, which would slow every test's teardown.
        for client in list(_CLIENTS):
            await client.disconnect()
        await self.runner.cleanup()
        if self.own_files is not None:
            shutil.rmtree(self.own_files, ignore_errors=True)

    async def until(self, check: Callable[[], Awaitable[bool]], what: str) -> None:
        """Wait for the node to reach a state (a socket's close reaches the server a moment
        after the client returns)."""
        deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
        while not await check():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"node never reached: {what}")
            await asyncio.sleep(0.01)

    async def offline(self, consultant_id: int) -> None:
        async def gone() -> bool:
            p = await self.desk.state.presence(consultant_id)
            return p is None or not p.connected

        await self.until(gone, f"consultant {consultant_id} disconnected")

    async def advance(self, seconds: float) -> None:
        """Move the node's clock; the heartbeats of connected sockets go on as in production
        (the scheduler is off in tests, so the beat runs here)."""
        clock = self.desk.clock
        assert isinstance(clock, ManualClock)
        step = self.desk.settings.heartbeat_seconds
        left = seconds
        while True:
            clock.advance(min(step, left))
            left -= step
            await beat(self.desk)
            if left <= 0:
                return


async def start_node(
    database_url: str,
    *,
    redis_url: str | None = None,
    prefix: str = "desk:",
    clock: ManualClock | None = None,
    **overrides: Any,
) -> Node:
    port = free_port()
    # Delivered files go to a directory of the node's own unless the test shares one.
    own_files = None if "files_dir" in overrides else Path(tempfile.mkdtemp(prefix="desk-files-"))
    options: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "database_url": database_url,
        "redis_url": redis_url,
        "redis_prefix": prefix,
        # Tests move time themselves; browser tests turn the scheduler on.
        "scheduler": False,
        "log_format": "json",
        **({} if own_files is None else {"files_dir": own_files}),
        **overrides,
    }
    settings = Settings(**options)
    app = create_app(settings, clock=clock)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    return Node(f"http://127.0.0.1:{port}", runner, app, own_files)


@dataclass(eq=False)
class Client:
    base: str
    namespace: str
    events: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
    sio: socketio.AsyncClient = field(
        default_factory=lambda: socketio.AsyncClient(reconnection=False)
    )
    #: Event names in the order they arrived on the current socket, "connect" included.
    arrivals: list[str] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        _CLIENTS.add(self)
        self.arrivals = []

        async def any_event(event: str, *args: Any) -> None:
            self.arrivals.append(event)
            self.events[event].append(args[0] if len(args) == 1 else args)
            self._changed.set()

        async def connected() -> None:
            self.arrivals.append("connect")

        self.sio.on("*", any_event, namespace=self.namespace)
        self.sio.on("connect", connected, namespace=self.namespace)

    async def call(self, event: str, data: Any = None, *, timeout: float = WAIT_SECONDS) -> Any:
        args = {} if data is None else data
        return await self.sio.call(event, args, namespace=self.namespace, timeout=timeout)

    async def ok(self, event: str, data: Any = None) -> dict[str, Any]:
        reply = await self.call(event, data)
        assert reply["ok"] is True, f"{event} refused: {reply}"
        return dict(reply)

    async def wait_for(
        self,
        event: str,
        pred: Callable[[Any], bool] = lambda _: True,
        *,
        timeout: float = WAIT_SECONDS,
    ) -> Any:
        """The first received ``event`` matching ``pred`` (already received ones count)."""
        deadline = asyncio.get_running_loop().time() + timeout
        seen = 0
        while True:
            items = self.events.get(event, [])
            for item in items[seen:]:
                if pred(item):
                    return item
            seen = len(items)
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(
                    f"no {event!r} matching within {timeout}s; got {dict(self.events)}"
                )
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)

    def messages(self, consultation_id: int) -> list[dict[str, Any]]:
        return [
            m for m in self.events.get("message", []) if m["consultation_id"] == consultation_id
        ]

    async def disconnect(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()


class Reader(Client):
    token: str = ""
    library: str = ""

    @classmethod
    async def register(cls, base: str, library: str, *, origin: str = EMBED_ORIGIN) -> Reader:
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{base}/api/readers/visitor", json={"library": library}, headers={"Origin": origin}
            ) as resp,
        ):
            body = await resp.json()
            assert resp.status == 200, body
        r = cls(base, "/reader")
        r.token = body["token"]
        r.library = library
        return r

    async def connect(self, *, base: str | None = None, origin: str = EMBED_ORIGIN) -> None:
        await self.sio.connect(
            base or self.base,
            namespaces=["/reader"],
            auth={"library": self.library, "token": self.token},
            headers={"Origin": origin},
            transports=["websocket"],
            wait_timeout=WAIT_SECONDS,
        )

    async def reconnect(self, *, base: str | None = None) -> None:
        await self.disconnect()
        self.sio = socketio.AsyncClient(reconnection=False)
        self.__post_init__()
        await self.connect(base=base)

    async def open(
        self, question: str | None = "请问如何查找学位论文？", **extra: Any
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {"language": "zh-CN", **extra}
        if question is not None:
            payload["question"] = question
            payload.setdefault("client_msg_id", uuid4().hex)
        return await self.ok("consultation.open", payload)

    async def say(self, consultation_id: int, body: str, cmid: str | None = None) -> dict[str, Any]:
        return await self.ok(
            "message.send",
            {
                "consultation_id": consultation_id,
                "client_msg_id": cmid or uuid4().hex,
                "body": body,
            },
        )


class Consultant(Client):
    cookie: str = ""
    username: str = ""

    @classmethod
    async def login(cls, base: str, username: str, password: str = DEMO_PASSWORD) -> Consultant:
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{base}/api/login",
                json={"username": username, "password": password},
                headers={"Origin": base},
            ) as resp,
        ):
            body = await resp.json()
            assert resp.status == 200, body
            cookie = resp.cookies["desk_session"].value
        c = cls(base, "/console")
        c.cookie = cookie
        c.username = username
        return c

    async def connect(self, *, base: str | None = None, status: str = "online") -> None:
        target = base or self.base
        await self.sio.connect(
            target,
            namespaces=["/console"],
            auth={"status": status},
            headers={"Origin": target, "Cookie": f"desk_session={self.cookie}"},
            transports=["websocket"],
            wait_timeout=WAIT_SECONDS,
        )

    async def reconnect(self, *, base: str | None = None) -> None:
        await self.disconnect()
        self.sio = socketio.AsyncClient(reconnection=False)
        self.__post_init__()
        await self.connect(base=base)

    async def say(
        self, consultation_id: int, body: str, *, private: bool = False, cmid: str | None = None
    ) -> dict[str, Any]:
        return await self.ok(
            "message.send",
            {
                "consultation_id": consultation_id,
                "client_msg_id": cmid or uuid4().hex,
                "body": body,
                "private": private,
            },
        )

    async def accept_next(self) -> dict[str, Any]:
        offer = await self.wait_for("offer")
        cid = offer["consultation"]["id"]
        return await self.ok("offer.accept", {"consultation_id": cid})
