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
    """Socket.IO's Redis manager, with two changes that matter under load.

    - The stock manager builds a client on an unbounded pool, and a new one on every retry;
      under load it runs out of connections and latency reaches seconds. This one keeps one
      client on one bounded, blocking pool for its whole life.
    - The stock manager sends each emit as its own PUBLISH and makes the emitter wait for it.
      Here emits join an outbox that one task sends in pipelined batches, in emit order: one
      round trip and one pool checkout for everything emitted meanwhile. An emit no longer
      waits for Redis; a relay lost to a Redis failure is recovered by the client's resume,
      since every message is stored before it is emitted.
    """

    def __init__(self, url: str, *, channel: str, max_connections: int) -> None:
        super().__init__(url, channel=channel, json=OrjsonCodec)
        self._redis: Redis | None = None
        self._pool = BlockingConnectionPool.from_url(
            url, max_connections=max_connections, timeout=POOL_TIMEOUT_SECONDS
        )
        self._outbox: list[str] = []
        self._sender: asyncio.Task[None] | None = None

    def _client(self) -> Redis:
        if self._redis is None:
            self._redis = self.redis = Redis(connection_pool=self._pool)
        return self._redis

    def _redis_connect(self) -> None:
        # Called by the listener to (re)subscribe: a fresh PubSub on the same client and pool.
        self.pubsub = self._client().pubsub(ignore_subscribe_messages=True)
        self.connected = True

    async def _publish(self, data: Any) -> None:
        self._outbox.append(self.json.dumps(data))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.get_running_loop().create_task(self._send())

    async def _send(self) -> None:
        while self._outbox:
            batch, self._outbox = self._outbox, []
            for attempt in (1, 2):
                try:
                    async with self._client().pipeline(transaction=False) as pipe:
                        for item in batch:
                            pipe.publish(self.channel, item)
                        await pipe.execute()
                    break
                except Exception as exc:
                    log.warning(
                        "publish to Redis failed",
                        extra={
                            "attempt": attempt,
                            "emits": len(batch),
                            "error": type(exc).__name__,
                        },
                    )

    async def aclose(self) -> None:
        # Stop listening first, or the listener sees the pool close and logs retries.
        if self._sender is not None and not self._sender.done():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._sender, POOL_TIMEOUT_SECONDS)
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
