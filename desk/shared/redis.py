"""Shared state on Redis, for several desk processes behind one Redis.

Semantics are those of :class:`desk.shared.memory.MemoryState`; every operation that reads and
then writes runs as one Lua script (or one MULTI transaction), so it is atomic across processes.

Key layout (``P`` is the prefix given to the constructor)::

    P presence:ids            SET     consultant ids that have a presence
    P presence:<cid>          HASH    library_id, languages (JSON list), capacity, status,
                                      connected (0/1), heartbeat, idle_since, disconnected_at
    P held:<cid>              ZSET    consultation id -> time taken (the consultant's load)
    P claim:<consultation>    STRING  "<consultant id>|<claim time>", PX expiry CLAIM_TTL
    P queue                   ZSET    all scores 0; members are order-preserving sort keys
    P queue:entry             HASH    consultation id -> JSON details of the entry
    P queue:member            HASH    consultation id -> its member in ``P queue``
    P queue:declined          HASH    consultation id -> comma list of consultants who declined
    P readers                 ZSET    consultation id -> when its reader was last seen
    P once:<name>             STRING  run-once lock, PX expiry

Times are the ``now`` values callers pass (not Redis time), stored as ``repr(float)`` so they
round-trip exactly; the claim expiry is decided on the stored claim time, the key's own PX
expiry only garbage-collects it.
"""

from __future__ import annotations

import functools
import json
import math
import struct
from collections.abc import Iterable
from typing import Any

import redis.asyncio as aioredis
from redis.typing import EncodableT, FieldT

from desk.shared.base import CLAIM_TTL, PRESENCE_TTL, Presence, QueueEntry

_OFFSET = 1 << 63
#: Members per command, and consultants per pipeline, when a call covers many: a command
#: over thousands of members takes tens of milliseconds to encode and decode on the event
#: loop, and the loop gets a turn between two smaller ones.
_CHUNK = 500
_PRESENCE_CHUNK = 100
_MASK64 = (1 << 64) - 1

# -- Lua scripts ---------------------------------------------------------------------------

# KEYS: presence hash, holdings zset, claim key
# ARGV: consultation id, consultant id, now, PRESENCE_TTL, CLAIM_TTL, claim expiry in ms
_CLAIM = """
local p = redis.call('HMGET', KEYS[1], 'status', 'connected', 'heartbeat', 'capacity')
if not p[1] or p[1] ~= 'online' or p[2] ~= '1' then
  return 0
end
local now = tonumber(ARGV[3])
if now - tonumber(p[3]) > tonumber(ARGV[4]) then
  return 0
end
local owner = redis.call('GET', KEYS[3])
if owner then
  local sep = string.find(owner, '|', 1, true)
  local who = string.sub(owner, 1, sep - 1)
  local at = tonumber(string.sub(owner, sep + 1))
  if who ~= ARGV[2] and now - at < tonumber(ARGV[5]) then
    return 0
  end
end
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  return 0
end
if redis.call('ZCARD', KEYS[2]) >= tonumber(p[4]) then
  return 0
end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('HSET', KEYS[1], 'idle_since', ARGV[3])
redis.call('SET', KEYS[3], ARGV[2] .. '|' .. ARGV[3], 'PX', ARGV[6])
return 1
"""

# KEYS: presence hash, holdings zset, claim key
# ARGV: consultation id, consultant id, now
_RELEASE = """
if redis.call('ZREM', KEYS[2], ARGV[1]) == 1 and redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'idle_since', ARGV[3])
end
local owner = redis.call('GET', KEYS[3])
if owner then
  local sep = string.find(owner, '|', 1, true)
  if string.sub(owner, 1, sep - 1) == ARGV[2] then
    redis.call('DEL', KEYS[3])
  end
end
return 1
"""

# KEYS: claim key; ARGV: consultant id.  Drops the claim if this consultant owns it.
_SETTLE = """
local owner = redis.call('GET', KEYS[1])
if owner then
  local sep = string.find(owner, '|', 1, true)
  if string.sub(owner, 1, sep - 1) == ARGV[1] then
    redis.call('DEL', KEYS[1])
  end
end
return 1
"""

# KEYS: presence hash; ARGV: status, now.  Returns 1 when the presence exists.
_SET_STATUS = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'heartbeat', ARGV[2])
return 1
"""

# KEYS: presence hash; ARGV: now
_SET_DISCONNECTED = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'connected', '0', 'disconnected_at', ARGV[1])
end
return 1
"""

# KEYS: presence hashes; ARGV: now
_HEARTBEAT = """
local missing = {}
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then
    redis.call('HSET', key, 'heartbeat', ARGV[1], 'connected', '1')
    redis.call('HDEL', key, 'disconnected_at')
  else
    table.insert(missing, i)
  end
end
return missing
"""

# Union of two comma lists, without duplicates, as a comma list.
_MERGE_FN = """
local function merge(a, b)
  local seen, out = {}, {}
  for id in string.gmatch(a .. ',' .. b, '[^,]+') do
    if not seen[id] then
      seen[id] = true
      out[#out + 1] = id
    end
  end
  return table.concat(out, ',')
end
"""

# KEYS: queue zset, entry hash, member hash, declined hash
# ARGV: consultation id, member, entry JSON, declined (comma list)
_ENQUEUE = (
    _MERGE_FN
    + """
local old = redis.call('HGET', KEYS[3], ARGV[1])
if old then
  redis.call('ZREM', KEYS[1], old)
end
local declined = merge(redis.call('HGET', KEYS[4], ARGV[1]) or '', ARGV[4])
if declined == '' then
  redis.call('HDEL', KEYS[4], ARGV[1])
else
  redis.call('HSET', KEYS[4], ARGV[1], declined)
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[1], 0, ARGV[2])
return 1
"""
)

# KEYS: queue zset, entry hash, member hash, declined hash; ARGV: consultation id
_DEQUEUE = """
local old = redis.call('HGET', KEYS[3], ARGV[1])
if old then
  redis.call('ZREM', KEYS[1], old)
end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
return 1
"""

# KEYS: entry hash, declined hash; ARGV: consultation id, consultant id
_ADD_DECLINED = (
    _MERGE_FN
    + """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  return 0
end
local declined = merge(redis.call('HGET', KEYS[2], ARGV[1]) or '', ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], declined)
return 1
"""
)

# KEYS: presence hash, holdings zset, for each consultant in turn
# Every presence and its load in one reply, which hiredis parses in one go: a MULTI
# pipeline's replies are read one by one in Python, about 60 us a consultant (30 ms for 500).
_PRESENCES = """
local out = {}
for i = 1, #KEYS, 2 do
  out[#out + 1] = redis.call('HGETALL', KEYS[i])
  out[#out + 1] = redis.call('ZCARD', KEYS[i + 1])
end
return out
"""


# -- encoding helpers ----------------------------------------------------------------------


def _num(x: float) -> str:
    """A float as a string that parses back (in Python and in Lua) to the same double."""
    return repr(float(x))


def _int_key(n: int) -> str:
    """Fixed-width hex whose lexical order is the numeric order of ``n`` (64-bit signed)."""
    if not -_OFFSET <= n < _OFFSET:
        raise ValueError(f"{n} does not fit in 64 bits")
    return f"{n + _OFFSET:016x}"


def _float_key(x: float) -> str:
    """Fixed-width hex whose lexical order is the numeric order of the double ``x``."""
    (bits,) = struct.unpack(">Q", struct.pack(">d", float(x) + 0.0))  # + 0.0 folds -0.0 to 0.0
    bits = (~bits & _MASK64) if bits >> 63 else (bits | (1 << 63))
    return f"{bits:016x}"


def _queue_member(entry: QueueEntry) -> str:
    """Sort key of an entry as a string: lexical order == ``QueueEntry.sort_key`` order."""
    return _int_key(-entry.priority) + _float_key(entry.queued_at) + _int_key(entry.consultation_id)


def _member_id(member: str) -> int:
    return int(member[32:], 16) - _OFFSET


def _csv(ids: Iterable[int]) -> str:
    return ",".join(str(int(i)) for i in ids)


def _parse_csv(text: str | None) -> frozenset[int]:
    if not text:
        return frozenset()
    return frozenset(int(part) for part in text.split(",") if part)


@functools.lru_cache(maxsize=1024)
def _languages(raw: str) -> tuple[str, ...]:
    """A presence's languages; the same few lists come back on every read."""
    return tuple(json.loads(raw))


def _opt_float(text: str | None) -> float | None:
    return None if text is None or text == "" else float(text)


class RedisState:
    """:class:`desk.shared.base.SharedState` on Redis.

    The client must be created with ``decode_responses=True``; the state owns it and closes it
    (with its connection pool) in :meth:`close`.
    """

    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        if not client.connection_pool.connection_kwargs.get("decode_responses"):
            raise ValueError("RedisState needs a client with decode_responses=True")
        self._r = client
        self._p = prefix
        self._claim = client.register_script(_CLAIM)
        self._release = client.register_script(_RELEASE)
        self._settle = client.register_script(_SETTLE)
        self._set_status = client.register_script(_SET_STATUS)
        self._set_disconnected = client.register_script(_SET_DISCONNECTED)
        self._heartbeat = client.register_script(_HEARTBEAT)
        self._enqueue = client.register_script(_ENQUEUE)
        self._dequeue = client.register_script(_DEQUEUE)
        self._add_declined = client.register_script(_ADD_DECLINED)
        self._presences = client.register_script(_PRESENCES)

    @classmethod
    def from_url(cls, url: str, prefix: str, max_connections: int = 50) -> RedisState:
        """A state on its own bounded, blocking connection pool (waits up to 10 s for a free
        connection instead of opening connections without limit)."""
        pool = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=max_connections, timeout=10, decode_responses=True
        )
        return cls(aioredis.Redis.from_pool(pool), prefix)

    @property
    def prefix(self) -> str:
        return self._p

    # -- keys -------------------------------------------------------------------------------
    def _ids_key(self) -> str:
        return f"{self._p}presence:ids"

    def _presence_key(self, consultant_id: int) -> str:
        return f"{self._p}presence:{int(consultant_id)}"

    def _held_key(self, consultant_id: int) -> str:
        return f"{self._p}held:{int(consultant_id)}"

    def _claim_key(self, consultation_id: int) -> str:
        return f"{self._p}claim:{int(consultation_id)}"

    def _queue_keys(self) -> list[str]:
        q = f"{self._p}queue"
        return [q, f"{q}:entry", f"{q}:member", f"{q}:declined"]

    def _readers_key(self) -> str:
        return f"{self._p}readers"

    def _once_key(self, name: str) -> str:
        return f"{self._p}once:{name}"

    # -- presence ---------------------------------------------------------------------------
    async def put_presence(
        self,
        consultant_id: int,
        *,
        library_id: int,
        languages: Iterable[str],
        capacity: int,
        status: str,
        now: float,
    ) -> None:
        key = self._presence_key(consultant_id)
        fields: dict[FieldT, EncodableT] = {
            "library_id": str(int(library_id)),
            "languages": json.dumps(list(languages)),
            "capacity": str(int(capacity)),
            "status": status,
            "connected": "1",
            "heartbeat": _num(now),
        }
        async with self._r.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=fields)
            pipe.hsetnx(key, "idle_since", _num(now))  # kept when the presence exists
            pipe.hdel(key, "disconnected_at")
            pipe.sadd(self._ids_key(), str(int(consultant_id)))
            await pipe.execute()

    async def set_status(self, consultant_id: int, status: str, now: float) -> bool:
        done = await self._set_status(
            keys=[self._presence_key(consultant_id)], args=[status, _num(now)]
        )
        return bool(int(done))

    async def set_disconnected(self, consultant_id: int, now: float) -> None:
        await self._set_disconnected(keys=[self._presence_key(consultant_id)], args=[_num(now)])

    async def heartbeat(self, consultant_ids: Iterable[int], now: float) -> set[int]:
        ids = list(dict.fromkeys(int(c) for c in consultant_ids))
        if not ids:
            return set()
        keys = [self._presence_key(c) for c in ids]
        missing = await self._heartbeat(keys=keys, args=[_num(now)])
        return {ids[int(i) - 1] for i in missing}

    async def drop_presence(self, consultant_id: int) -> None:
        # Holdings stay, as in MemoryState: a chat is still held until released.
        async with self._r.pipeline(transaction=True) as pipe:
            pipe.delete(self._presence_key(consultant_id))
            pipe.srem(self._ids_key(), str(int(consultant_id)))
            await pipe.execute()

    @staticmethod
    def _to_presence(consultant_id: int, h: dict[str, str], load: int) -> Presence | None:
        if not h or "status" not in h:
            return None
        return Presence(
            consultant_id=consultant_id,
            library_id=int(h["library_id"]),
            languages=_languages(h["languages"]),
            capacity=int(h["capacity"]),
            status=h["status"],
            connected=h.get("connected") == "1",
            heartbeat=float(h["heartbeat"]),
            idle_since=float(h["idle_since"]),
            disconnected_at=_opt_float(h.get("disconnected_at")),
            load=load,
        )

    async def presence(self, consultant_id: int) -> Presence | None:
        async with self._r.pipeline(transaction=True) as pipe:
            pipe.hgetall(self._presence_key(consultant_id))
            pipe.zcard(self._held_key(consultant_id))
            h, load = await pipe.execute()
        return self._to_presence(int(consultant_id), h, int(load))

    async def presences(self) -> list[Presence]:
        ids = sorted(int(c) for c in await self._r.smembers(self._ids_key()))
        out: list[Presence] = []
        # A script call per hundred consultants (each its presence hash and its load), so
        # that Redis is never held long and the loop gets a turn between the calls.
        for start in range(0, len(ids), _PRESENCE_CHUNK):
            chunk = ids[start : start + _PRESENCE_CHUNK]
            keys: list[str] = []
            for cid in chunk:
                keys += (self._presence_key(cid), self._held_key(cid))
            replies: list[Any] = await self._presences(keys=keys)
            for i, cid in enumerate(chunk):
                flat = iter(replies[2 * i])  # HGETALL's field, value, field, value, ...
                h = dict(zip(flat, flat, strict=True))
                p = self._to_presence(cid, h, int(replies[2 * i + 1]))
                if p is not None:  # dropped between SMEMBERS and the script
                    out.append(p)
        return out

    # -- queue ------------------------------------------------------------------------------
    async def enqueue(self, entry: QueueEntry) -> None:
        details = json.dumps(
            {
                "library_id": int(entry.library_id),
                "route_library_id": int(entry.route_library_id),
                "language": entry.language,
                "queued_at": float(entry.queued_at),
                "priority": int(entry.priority),
            }
        )
        await self._enqueue(
            keys=self._queue_keys(),
            args=[
                str(int(entry.consultation_id)),
                _queue_member(entry),
                details,
                _csv(sorted(entry.declined)),
            ],
        )

    async def dequeue(self, consultation_id: int) -> None:
        await self._dequeue(keys=self._queue_keys(), args=[str(int(consultation_id))])

    async def add_declined(self, consultation_id: int, consultant_id: int) -> None:
        _, entries, _, declined = self._queue_keys()
        await self._add_declined(
            keys=[entries, declined], args=[str(int(consultation_id)), str(int(consultant_id))]
        )

    async def queue(self) -> list[QueueEntry]:
        zset, entries_key, _, declined_key = self._queue_keys()
        async with self._r.pipeline(transaction=True) as pipe:
            pipe.zrange(zset, 0, -1)
            pipe.hgetall(entries_key)
            pipe.hgetall(declined_key)
            members, entries, declined = await pipe.execute()
        out: list[QueueEntry] = []
        for member in members:
            cid = _member_id(member)
            raw = entries.get(str(cid))
            if raw is None:
                continue
            d = json.loads(raw)
            out.append(
                QueueEntry(
                    consultation_id=cid,
                    library_id=int(d["library_id"]),
                    route_library_id=int(d["route_library_id"]),
                    language=d["language"],
                    queued_at=float(d["queued_at"]),
                    priority=int(d["priority"]),
                    declined=_parse_csv(declined.get(str(cid))),
                )
            )
        return out

    # -- capacity and claims ----------------------------------------------------------------
    async def claim(self, consultation_id: int, consultant_id: int, now: float) -> bool:
        ok = await self._claim(
            keys=[
                self._presence_key(consultant_id),
                self._held_key(consultant_id),
                self._claim_key(consultation_id),
            ],
            args=[
                str(int(consultation_id)),
                str(int(consultant_id)),
                _num(now),
                _num(PRESENCE_TTL),
                _num(CLAIM_TTL),
                str(max(1, math.ceil(CLAIM_TTL * 1000))),
            ],
        )
        return bool(int(ok))

    async def hold(self, consultation_id: int, consultant_id: int, now: float) -> None:
        await self._r.zadd(
            self._held_key(consultant_id), {str(int(consultation_id)): float(now)}, nx=True
        )

    async def release(self, consultation_id: int, consultant_id: int, now: float) -> None:
        await self._release(
            keys=[
                self._presence_key(consultant_id),
                self._held_key(consultant_id),
                self._claim_key(consultation_id),
            ],
            args=[str(int(consultation_id)), str(int(consultant_id)), _num(now)],
        )

    async def settle(self, consultation_id: int, consultant_id: int) -> None:
        await self._settle(keys=[self._claim_key(consultation_id)], args=[str(int(consultant_id))])

    async def holdings(self, consultant_id: int) -> dict[int, float]:
        pairs: list[Any] = await self._r.zrange(
            self._held_key(consultant_id), 0, -1, withscores=True
        )
        return {int(member): float(score) for member, score in pairs}

    # -- readers ----------------------------------------------------------------------------
    async def reader_seen(self, consultation_ids: Iterable[int], now: float) -> None:
        members = [str(int(c)) for c in consultation_ids]
        at = float(now)
        for start in range(0, len(members), _CHUNK):
            await self._r.zadd(
                self._readers_key(), dict.fromkeys(members[start : start + _CHUNK], at)
            )

    async def reader_last_seen(self, consultation_ids: Iterable[int]) -> dict[int, float]:
        ids = list(dict.fromkeys(int(c) for c in consultation_ids))
        if not ids:
            return {}
        out: dict[int, float] = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            scores = await self._r.zmscore(self._readers_key(), [str(c) for c in chunk])
            out.update((c, float(s)) for c, s in zip(chunk, scores, strict=True) if s is not None)
        return out

    async def reader_forget(self, consultation_id: int) -> None:
        await self._r.zrem(self._readers_key(), str(int(consultation_id)))

    # -- timed work -------------------------------------------------------------------------
    async def run_once(self, name: str, ttl: float) -> bool:
        if ttl <= 0:
            # As in MemoryState, a lock that expires at once never excludes anybody.
            return True
        ms = max(1, math.ceil(ttl * 1000))
        return bool(await self._r.set(self._once_key(name), "1", nx=True, px=ms))

    async def close(self) -> None:
        await self._r.aclose(close_connection_pool=True)
