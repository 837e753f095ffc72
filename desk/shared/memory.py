"""In-process shared state for the embedded, single-process setup."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, replace

from desk.shared.base import CLAIM_TTL, Presence, QueueEntry


@dataclass(slots=True)
class _Person:
    library_id: int
    languages: tuple[str, ...]
    capacity: int
    status: str
    connected: bool
    heartbeat: float
    idle_since: float
    disconnected_at: float | None = None


class MemoryState:
    """Every method is free of awaits inside, so each one is atomic on the event loop."""

    def __init__(self) -> None:
        self._people: dict[int, _Person] = {}
        self._held: dict[int, dict[int, float]] = {}
        self._queue: dict[int, QueueEntry] = {}
        self._claims: dict[int, tuple[int, float]] = {}
        self._reader_seen: dict[int, float] = {}
        self._once: dict[str, float] = {}

    def _view(self, cid: int, p: _Person) -> Presence:
        return Presence(
            consultant_id=cid,
            library_id=p.library_id,
            languages=p.languages,
            capacity=p.capacity,
            status=p.status,
            connected=p.connected,
            heartbeat=p.heartbeat,
            idle_since=p.idle_since,
            disconnected_at=p.disconnected_at,
            load=len(self._held.get(cid, {})),
        )

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
        p = self._people.get(consultant_id)
        if p is None:
            self._people[consultant_id] = _Person(
                library_id, tuple(languages), capacity, status, True, now, now
            )
        else:
            p.library_id, p.languages, p.capacity = library_id, tuple(languages), capacity
            p.status, p.connected, p.heartbeat, p.disconnected_at = status, True, now, None

    async def set_status(self, consultant_id: int, status: str, now: float) -> bool:
        p = self._people.get(consultant_id)
        if p is None:
            return False
        p.status, p.heartbeat = status, now
        return True

    async def set_disconnected(self, consultant_id: int, now: float) -> None:
        p = self._people.get(consultant_id)
        if p is not None:
            p.connected, p.disconnected_at = False, now

    async def heartbeat(self, consultant_ids: Iterable[int], now: float) -> set[int]:
        missing = set()
        for cid in consultant_ids:
            p = self._people.get(cid)
            if p is None:
                missing.add(cid)
            else:
                p.heartbeat, p.connected, p.disconnected_at = now, True, None
        return missing

    async def drop_presence(self, consultant_id: int) -> None:
        self._people.pop(consultant_id, None)

    async def presence(self, consultant_id: int) -> Presence | None:
        p = self._people.get(consultant_id)
        return None if p is None else self._view(consultant_id, p)

    async def presences(self) -> list[Presence]:
        return [self._view(cid, p) for cid, p in self._people.items()]

    async def enqueue(self, entry: QueueEntry) -> None:
        old = self._queue.get(entry.consultation_id)
        if old is not None and old.declined:
            entry = replace(entry, declined=old.declined | entry.declined)
        self._queue[entry.consultation_id] = entry

    async def dequeue(self, consultation_id: int) -> None:
        self._queue.pop(consultation_id, None)

    async def add_declined(self, consultation_id: int, consultant_id: int) -> None:
        e = self._queue.get(consultation_id)
        if e is not None:
            self._queue[consultation_id] = replace(e, declined=e.declined | {consultant_id})

    async def queue(self) -> list[QueueEntry]:
        return sorted(self._queue.values(), key=QueueEntry.sort_key)

    async def claim(self, consultation_id: int, consultant_id: int, now: float) -> bool:
        p = self._people.get(consultant_id)
        if p is None or not self._view(consultant_id, p).routable(now):
            return False
        owner = self._claims.get(consultation_id)
        if owner is not None and owner[0] != consultant_id and now - owner[1] < CLAIM_TTL:
            return False
        # Lapsed claims are dropped here, as Redis expires its keys.
        for k in [k for k, (_, at) in self._claims.items() if now - at >= CLAIM_TTL]:
            del self._claims[k]
        held = self._held.setdefault(consultant_id, {})
        if consultation_id in held or len(held) >= p.capacity:
            return False
        held[consultation_id] = now
        p.idle_since = now
        self._claims[consultation_id] = (consultant_id, now)
        return True

    async def hold(self, consultation_id: int, consultant_id: int, now: float) -> None:
        self._held.setdefault(consultant_id, {}).setdefault(consultation_id, now)

    async def release(self, consultation_id: int, consultant_id: int, now: float) -> None:
        held = self._held.get(consultant_id)
        if held is not None and held.pop(consultation_id, None) is not None:
            p = self._people.get(consultant_id)
            if p is not None:
                p.idle_since = now
        owner = self._claims.get(consultation_id)
        if owner is not None and owner[0] == consultant_id:
            del self._claims[consultation_id]

    async def settle(self, consultation_id: int, consultant_id: int) -> None:
        owner = self._claims.get(consultation_id)
        if owner is not None and owner[0] == consultant_id:
            del self._claims[consultation_id]

    async def holdings(self, consultant_id: int) -> dict[int, float]:
        return dict(self._held.get(consultant_id, {}))

    async def reader_seen(self, consultation_ids: Iterable[int], now: float) -> None:
        for cid in consultation_ids:
            self._reader_seen[cid] = now

    async def reader_last_seen(self, consultation_ids: Iterable[int]) -> dict[int, float]:
        return {c: self._reader_seen[c] for c in consultation_ids if c in self._reader_seen}

    async def reader_forget(self, consultation_id: int) -> None:
        self._reader_seen.pop(consultation_id, None)

    async def run_once(self, name: str, ttl: float) -> bool:
        now = time.monotonic()
        for k in [k for k, exp in self._once.items() if exp <= now]:
            del self._once[k]
        if name in self._once:
            return False
        self._once[name] = now + ttl
        return True

    async def close(self) -> None:
        return None
