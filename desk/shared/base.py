"""The one interface both backends (in-process and Redis) implement.

The database is the truth about consultations; this state only coordinates: who is online with
what load, who waits in which order, which consultant holds which chat, and run-once locks.
Everything here can be rebuilt from the database (see ``desk.routing.sweeps``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

#: A presence not refreshed for this long is treated as gone (nodes refresh every
#: ``heartbeat_seconds``, so three missed beats).
PRESENCE_TTL = 30.0
#: A claim not settled by an assignment within this long lapses (a node died mid-assignment).
CLAIM_TTL = 15.0

STATUSES = ("online", "busy", "away")


@dataclass(frozen=True, slots=True)
class Presence:
    consultant_id: int
    library_id: int
    languages: tuple[str, ...]
    capacity: int
    status: str
    connected: bool
    heartbeat: float
    #: When the consultant last had no chat or last took one: the "longest idle" tie-breaker.
    idle_since: float
    disconnected_at: float | None
    load: int

    def alive(self, now: float) -> bool:
        return now - self.heartbeat <= PRESENCE_TTL

    def routable(self, now: float) -> bool:
        return self.status == "online" and self.connected and self.alive(now)

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.load)


@dataclass(frozen=True, slots=True)
class QueueEntry:
    consultation_id: int
    library_id: int
    route_library_id: int
    language: str
    queued_at: float
    #: Higher goes first: a chat whose consultant dropped is requeued first in line.
    priority: int = 0
    declined: frozenset[int] = field(default_factory=frozenset)

    def sort_key(self) -> tuple[int, float, int]:
        return (-self.priority, self.queued_at, self.consultation_id)


class SharedState(Protocol):
    # -- presence -------------------------------------------------------------------------
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
        """Announce a connected consultant (or refresh their details)."""

    async def set_status(self, consultant_id: int, status: str, now: float) -> bool:
        """Change status; False when the consultant has no presence."""

    async def set_disconnected(self, consultant_id: int, now: float) -> None:
        """Their last socket closed: stop routing to them; the grace period starts."""

    async def heartbeat(self, consultant_ids: Iterable[int], now: float) -> set[int]:
        """A node still holds a socket of each of these consultants: fresh, and connected
        (their console on another node may have closed meanwhile). Returns those of them
        who have no presence (it was dropped, or the state lost it), left as they are."""

    async def drop_presence(self, consultant_id: int) -> None: ...

    async def presence(self, consultant_id: int) -> Presence | None: ...

    async def presences(self) -> list[Presence]: ...

    # -- queue ----------------------------------------------------------------------------
    async def enqueue(self, entry: QueueEntry) -> None: ...

    async def dequeue(self, consultation_id: int) -> None: ...

    async def add_declined(self, consultation_id: int, consultant_id: int) -> None: ...

    async def queue(self) -> list[QueueEntry]:
        """Waiting consultations, first in line first."""

    # -- capacity and claims --------------------------------------------------------------
    async def claim(self, consultation_id: int, consultant_id: int, now: float) -> bool:
        """Atomically: the consultant is routable with a free slot and nobody else holds a claim
        on the consultation, and they do not hold it already; then the slot is taken and the
        claim set. True on success. (A chat already held is refused: two routers racing for
        one chat must not both think they took it, or the loser's release would free the
        winner's slot.)"""

    async def hold(self, consultation_id: int, consultant_id: int, now: float) -> None:
        """Count a chat against a consultant's load without a capacity check (a chat they
        already had, found again after a restart)."""

    async def release(self, consultation_id: int, consultant_id: int, now: float) -> None:
        """The consultant no longer holds the chat; idempotent."""

    async def settle(self, consultation_id: int, consultant_id: int) -> None:
        """The assignment is written: drop the consultant's claim (keeping the held slot), so
        that a later transfer or requeue is not blocked by it."""

    async def holdings(self, consultant_id: int) -> dict[int, float]:
        """Consultations held, with the time each was taken."""

    # -- readers --------------------------------------------------------------------------
    async def reader_seen(self, consultation_ids: Iterable[int], now: float) -> None: ...

    async def reader_last_seen(self, consultation_ids: Iterable[int]) -> dict[int, float]: ...

    async def reader_forget(self, consultation_id: int) -> None: ...

    # -- timed work -----------------------------------------------------------------------
    async def run_once(self, name: str, ttl: float) -> bool:
        """True for exactly one caller per name until ttl passes (run-once across nodes)."""

    async def close(self) -> None: ...
