#!/usr/bin/env python
"""A bare python-socketio pair relay: the reference the desk is measured against.

No storage, no routing, no validation beyond the shape of a payload. It speaks the same
protocol subset as the desk, so the load generator drives both the same way:

- a reader connects to ``/reader`` with ``auth={"chat": <chat id>}`` and joins room
  ``chat:<id>`` in the handshake;
- a consultant connects to ``/console`` with ``auth={"chats": [<chat id>, ...]}`` and joins
  the room of each of its chats;
- ``message.send`` ``{"consultation_id", "client_msg_id", "body"}`` on either side is emitted as
  ``message`` to the same room on the other namespace (the other side only), then acked with
  ``{"ok": True}``.

With ``--redis-url`` the server uses Socket.IO's Redis manager on a bounded, blocking
connection pool (one client for the manager's whole life), so several relay processes can
share the rooms, as the desk's shared setup does.

Run: ``python bench/bare_relay.py --port 8099 [--redis-url redis://127.0.0.1:6379/0]``.
"""

from __future__ import annotations

import argparse
import gc
import logging
from typing import Any

import socketio
from aiohttp import web

READER_NS = "/reader"
CONSOLE_NS = "/console"
#: Longest wait for a free Redis connection before an emit fails.
POOL_TIMEOUT_SECONDS = 10


class PooledRedisManager(socketio.AsyncRedisManager):  # type: ignore[misc]
    """Socket.IO's Redis manager on one client over one bounded, blocking pool, kept across
    reconnect attempts (the stock manager builds a fresh client on an unbounded pool)."""

    def __init__(self, url: str, *, channel: str, max_connections: int) -> None:
        from redis.asyncio import BlockingConnectionPool

        super().__init__(url, channel=channel)
        self._bench_pool = BlockingConnectionPool.from_url(
            url, max_connections=max_connections, timeout=POOL_TIMEOUT_SECONDS
        )

    def _redis_connect(self) -> None:
        from redis.asyncio import Redis

        self.redis = Redis(connection_pool=self._bench_pool)
        self.pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        self.connected = True


def _room(chat: int) -> str:
    return f"chat:{chat}"


def _chat_id(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def build_app(*, redis_url: str | None, channel: str, pool_size: int) -> web.Application:
    kwargs: dict[str, Any] = {}
    if redis_url:
        kwargs["client_manager"] = PooledRedisManager(
            redis_url, channel=channel, max_connections=pool_size
        )
    sio = socketio.AsyncServer(
        async_mode="aiohttp",
        cors_allowed_origins="*",
        logger=False,
        engineio_logger=False,
        ping_interval=20,
        ping_timeout=20,
        **kwargs,
    )
    app = web.Application()
    sio.attach(app)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app.router.add_get("/healthz", healthz)

    async def reader_connect(sid: str, environ: dict[str, Any], auth: Any) -> bool:
        chat = _chat_id(auth.get("chat")) if isinstance(auth, dict) else None
        if chat is None:
            return False
        await sio.enter_room(sid, _room(chat), namespace=READER_NS)
        return True

    async def console_connect(sid: str, environ: dict[str, Any], auth: Any) -> bool:
        chats = auth.get("chats") if isinstance(auth, dict) else None
        if not isinstance(chats, list) or not chats:
            return False
        for value in chats:
            chat = _chat_id(value)
            if chat is None:
                return False
            await sio.enter_room(sid, _room(chat), namespace=CONSOLE_NS)
        return True

    def relay(author_kind: str, to_namespace: str) -> Any:
        async def on_send(sid: str, data: Any = None) -> dict[str, Any]:
            if not isinstance(data, dict):
                return {"ok": False, "error": {"code": "invalid_payload"}}
            chat = _chat_id(data.get("consultation_id"))
            body = data.get("body")
            if chat is None or not isinstance(body, str):
                return {"ok": False, "error": {"code": "invalid_payload"}}
            await sio.emit(
                "message",
                {
                    "consultation_id": chat,
                    "client_msg_id": data.get("client_msg_id"),
                    "author_kind": author_kind,
                    "body": body,
                },
                room=_room(chat),
                namespace=to_namespace,
            )
            return {"ok": True}

        return on_send

    sio.on("connect", reader_connect, namespace=READER_NS)
    sio.on("connect", console_connect, namespace=CONSOLE_NS)
    sio.on("message.send", relay("reader", CONSOLE_NS), namespace=READER_NS)
    sio.on("message.send", relay("consultant", READER_NS), namespace=CONSOLE_NS)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--channel", default="bench-bare:socketio")
    parser.add_argument("--pool-size", type=int, default=32)
    parser.add_argument(
        "--gc",
        choices=["tuned", "default"],
        default="tuned",
        help="tuned: freeze start-up objects and collect the oldest generation rarely, "
        "as `desk serve` does; default: CPython's collector settings",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    app = build_app(redis_url=args.redis_url, channel=args.channel, pool_size=args.pool_size)

    if args.gc == "tuned":

        async def tune_gc(_: web.Application) -> None:
            gc.collect()
            gc.freeze()
            gc.set_threshold(50_000, 20, 100)

        app.on_startup.append(tune_gc)
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
