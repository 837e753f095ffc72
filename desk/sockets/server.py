"""The Socket.IO server: python-socketio with reserved event names refused before dispatch, and
its Redis manager on a bounded, blocking connection pool."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson
import socketio
from engineio import packet as eio_packet
from redis.asyncio import BlockingConnectionPool, Redis
from socketio import packet

from desk.protocol import RESERVED_EVENTS

log = logging.getLogger(__name__)

#: Longest wait for a free Redis connection before an emit fails (instead of queueing forever).
POOL_TIMEOUT_SECONDS = 10

#: The ``method`` of the desk's batched publish: a JSON object whose keys come in this order,
#: ``{"method": BATCH_METHOD, "host_id": ..., "emits": [...]}``, so that its first bytes name
#: the node that sent it. Other Socket.IO managers ignore a method they do not know.
BATCH_METHOD = "desk.emits"
#: How every batch starts (orjson keeps a dict's key order); the sender's host id follows.
BATCH_HEAD = orjson.dumps({"method": BATCH_METHOD})[:-1] + b',"host_id":'
#: Emits in one published batch at most.
BATCH_MAX = 500
#: A foreign batch gives way to the event loop after this many emits.
YIELD_EVERY = 32


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


class DeskManager(socketio.AsyncManager):  # type: ignore[misc]
    """python-socketio's in-process manager, with a leaner emit (every emit of the desk's
    relay goes through it, in both setups; under Redis, for the recipients on this node).

    The stock emit encodes the packet even when the room holds nobody but the skipped sender
    (the usual case for the sender's own room), and sends to each recipient from a task of its
    own. A send only puts the packet on the socket's unbounded queue and never waits, so here
    the recipients are found first, the packet is encoded only if there are any, and each is
    sent in turn; a send that fails is logged and does not stop the others. An emit with an
    acknowledgement callback (each recipient gets its own packet id) is left to the stock
    code."""

    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str | None,
        room: Any = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: Any = None,
        **kwargs: Any,
    ) -> None:
        if callback is not None:
            await super().emit(
                event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, to=to
            )
            return
        room = to or room
        if namespace not in self.rooms:
            return
        skip = skip_sid if isinstance(skip_sid, list) else (skip_sid,)
        recipients = [e for sid, e in self.get_participants(namespace, room) if sid not in skip]
        if not recipients:
            return
        # A tuple is several arguments; None none; anything else one.
        args = list(data) if isinstance(data, tuple) else ([] if data is None else [data])
        encoded = self.server.packet_class(
            packet.EVENT, namespace=namespace, data=[event, *args]
        ).encode()
        frames = [
            eio_packet.Packet(eio_packet.MESSAGE, p)
            for p in (encoded if isinstance(encoded, list) else [encoded])
        ]
        for eio_sid in recipients:
            for frame in frames:
                try:
                    await self.server._send_eio_packet(eio_sid, frame)
                except Exception:
                    log.exception("send to a socket failed", extra={"namespace": namespace})


class BoundedRedisManager(socketio.AsyncRedisManager, DeskManager):  # type: ignore[misc]
    """Socket.IO's Redis manager, with two changes that matter under load.

    - The stock manager builds a client on an unbounded pool, and a new one on every retry;
      under load it runs out of connections and latency reaches seconds. This one keeps one
      client on one bounded, blocking pool for its whole life.
    - The stock manager sends each emit as its own PUBLISH and makes the emitter wait for it.
      Here emits join an outbox that one task sends, in emit order, as one PUBLISH of a batch
      (``BATCH_METHOD``) for everything emitted meanwhile: one round trip, one pool checkout
      and one JSON encoding. An emit no longer waits for Redis; a relay lost to a Redis
      failure is recovered by the client's resume, since every message is stored before it
      is emitted.
    - Every node hears its own publishes back. The stock listener decodes each one before it
      drops it as its own; here a node recognises its own batch by its first bytes and skips
      it undecoded. A foreign batch is handed to python-socketio's listener emit by emit,
      giving way to the loop every ``YIELD_EVERY`` emits. A single emit published by anyone
      else (a node of an older version, a Socket.IO Redis emitter) is handled as before.
    """

    def __init__(self, url: str, *, channel: str, max_connections: int) -> None:
        super().__init__(url, channel=channel, json=OrjsonCodec)
        self._redis: Redis | None = None
        self._pool = BlockingConnectionPool.from_url(
            url, max_connections=max_connections, timeout=POOL_TIMEOUT_SECONDS
        )
        self._outbox: list[bytes] = []
        #: How this node's batches start: BATCH_HEAD and its host id.
        self._own_head = BATCH_HEAD + orjson.dumps(self.host_id) + b","
        self._sender: asyncio.Task[None] | None = None

    def _client(self) -> Redis:
        if self._redis is None:
            self._redis = self.redis = Redis(connection_pool=self._pool)
        return self._redis

    def _redis_connect(self) -> None:
        # Called by the listener to (re)subscribe: a fresh PubSub on the same client and pool.
        self.pubsub = self._client().pubsub(ignore_subscribe_messages=True)
        self.connected = True

    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str | None = None,
        room: Any = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: Any = None,
        **kwargs: Any,
    ) -> None:
        """Handled here, then published for the other nodes. The stock pub/sub emit first
        walks the payload looking for bytes, which the desk never sends (see DeskPacket)."""
        if callback is not None or kwargs.get("ignore_queue"):
            await super().emit(
                event,
                data,
                namespace,
                room=room,
                skip_sid=skip_sid,
                callback=callback,
                to=to,
                **kwargs,
            )
            return
        message = {
            "method": "emit",
            "event": event,
            "data": list(data) if isinstance(data, tuple) else [data],
            "binary": False,
            "namespace": namespace or "/",
            "room": to or room,
            "skip_sid": skip_sid,
            "callback": None,
            "host_id": self.host_id,
        }
        await self._handle_emit(message)
        await self._publish(message)

    async def _publish(self, data: Any) -> None:
        # Encoded here, so that an emit that cannot be encoded fails its emitter, not a batch.
        self._outbox.append(orjson.dumps(data))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.get_running_loop().create_task(self._send())

    async def _send(self) -> None:
        while self._outbox:
            batch, self._outbox = self._outbox[:BATCH_MAX], self._outbox[BATCH_MAX:]
            payload = b"".join((self._own_head, b'"emits":[', b",".join(batch), b"]}"))
            for attempt in (1, 2):
                try:
                    await self._client().publish(self.channel, payload)
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

    async def _listen(self) -> AsyncIterator[Any]:
        """What python-socketio's listener handles: foreign emits one by one (a dict each),
        or a raw payload it decodes itself; never this node's own batches."""
        channel = self.channel.encode()
        head, own = BATCH_HEAD, self._own_head
        async for message in self._redis_listen_with_retries():
            if message.get("channel") != channel or message.get("type") != "message":
                continue
            raw = message.get("data")
            if not isinstance(raw, bytes):
                continue
            if raw.startswith(own):
                continue
            if not raw.startswith(head):
                yield raw
                continue
            try:
                emits = orjson.loads(raw).get("emits")
            except (orjson.JSONDecodeError, AttributeError):
                log.warning("undecodable batch on the Socket.IO channel", extra={"bytes": len(raw)})
                continue
            if not isinstance(emits, list):
                continue
            for n, emit in enumerate(emits, start=1):
                if isinstance(emit, dict):
                    yield emit
                if n % YIELD_EVERY == 0:
                    await asyncio.sleep(0)
        await self.pubsub.unsubscribe(self.channel)

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
            await self.pubsub.aclose()
        await self._pool.aclose()


def build_server(
    *, redis_url: str | None, channel: str, pool_size: int, max_packet_bytes: int
) -> DeskServer:
    manager = (
        BoundedRedisManager(redis_url, channel=channel, max_connections=pool_size)
        if redis_url
        else DeskManager()
    )
    kwargs: dict[str, Any] = {"client_manager": manager}
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
