"""The Socket.IO server: python-socketio with reserved event names refused before dispatch, and
its Redis manager on a bounded, blocking connection pool."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson
import socketio
from redis.asyncio import BlockingConnectionPool, Redis
from socketio import packet

from desk.protocol import RESERVED_EVENTS

log = logging.getLogger(__name__)

#: Longest wait for a free Redis connection before an emit fails (instead of queueing forever).
POOL_TIMEOUT_SECONDS = 10


class OrjsonCodec:
    """orjson behind the two functions Engine.IO and Socket.IO call (a third of the JSON time)."""

    @staticmethod
    def dumps(obj: Any, **_: Any) -> str:
        return orjson.dumps(obj).decode()

    @staticmethod
    def loads(s: str | bytes, **_: Any) -> Any:
        return orjson.loads(s)


class DeskPacket(packet.Packet):  # type: ignore[misc]
    """The desk never sends bytes, so every outgoing packet skips python-socketio's recursive
    walk looking for them (it was the largest single cost of an emit)."""

    @classmethod
    def data_is_binary(cls, data: Any) -> bool:
        return False


def refusal(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": {"code": code, "message": message}}


class DeskServer(socketio.AsyncServer):  # type: ignore[misc]
    async def _handle_event(self, eio_sid: str, namespace: str | None, id: Any, data: Any) -> None:
        name = data[0] if isinstance(data, list) and data else None
        if not isinstance(name, str) or name in RESERVED_EVENTS:
            # python-socketio would run the connect/disconnect handlers with forged data.
            log.warning("refused reserved or malformed event name", extra={"namespace": namespace})
            if id is not None:
                await self._send_packet(
                    eio_sid,
                    self.packet_class(
                        packet.ACK,
                        namespace=namespace or "/",
                        id=id,
                        data=[refusal("reserved_event", "this event name may not be sent")],
                    ),
                )
            return
        await super()._handle_event(eio_sid, namespace, id, data)


class BoundedRedisManager(socketio.AsyncRedisManager):  # type: ignore[misc]
    """The stock manager builds a client on an unbounded pool, and a new one on every retry;
    under load it runs out of connections and latency reaches seconds. This one keeps one
    client on one bounded, blocking pool for its whole life."""

    def __init__(self, url: str, *, channel: str, max_connections: int) -> None:
        super().__init__(url, channel=channel)
        self._pool = BlockingConnectionPool.from_url(
            url, max_connections=max_connections, timeout=POOL_TIMEOUT_SECONDS
        )

    def _redis_connect(self) -> None:
        self.redis = Redis(connection_pool=self._pool)
        self.pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        self.connected = True

    async def aclose(self) -> None:
        # Stop listening first, or the listener sees the pool close and logs retries.
        listener = getattr(self, "thread", None)
        if isinstance(listener, asyncio.Task) and not listener.done():
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
        if self.pubsub is not None:
            await self.pubsub.aclose()  # type: ignore[no-untyped-call]
        await self._pool.aclose()


def build_server(
    *, redis_url: str | None, channel: str, pool_size: int, max_packet_bytes: int
) -> DeskServer:
    manager = (
        BoundedRedisManager(redis_url, channel=channel, max_connections=pool_size)
        if redis_url
        else None
    )
    kwargs: dict[str, Any] = {}
    if manager is not None:
        kwargs["client_manager"] = manager
    return DeskServer(
        async_mode="aiohttp",
        serializer=DeskPacket,
        json=OrjsonCodec,
        # Origins are checked per namespace against each library's list, not globally.
        cors_allowed_origins="*",
        # Engine.IO's own logger prints whole packets (message text): keep it off.
        logger=False,
        engineio_logger=False,
        max_http_buffer_size=max_packet_bytes,
        ping_interval=20,
        ping_timeout=20,
        **kwargs,
    )
