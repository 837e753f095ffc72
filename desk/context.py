"""The desk's per-node context: one object holding what actions need, no module globals."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from desk.bus import EventBus
from desk.clock import Clock
from desk.delivery.storage import FileStorage
from desk.directory import ConsultantInfo, Directory
from desk.groupcommit import GroupCommit
from desk.settings import Settings
from desk.shared.base import SharedState
from transcripts.store import MessageStore

log = logging.getLogger(__name__)


@dataclass
class Desk:
    settings: Settings
    engine: AsyncEngine
    #: Writes: ``async with desk.sessions.begin()``.
    sessions: async_sessionmaker[AsyncSession]
    #: Reads: ``async with desk.reads()``; never write through these.
    reads: async_sessionmaker[AsyncSession]
    state: SharedState
    bus: EventBus
    store: MessageStore
    clock: Clock
    directory: Directory
    #: Where delivered files are kept (``desk.delivery.storage``).
    files: FileStorage
    #: Asks the router for a pass soon (set by the router; a no-op until it exists).
    request_routing: Callable[[], None] = field(default=lambda: None)
    #: Node-local: who has sockets on this node (for heartbeats only, never cluster answers).
    local_consultants: dict[int, int] = field(default_factory=dict)
    local_staff: dict[int, ConsultantInfo] = field(default_factory=dict)
    local_reader_consultations: dict[str, set[int]] = field(default_factory=dict)
    background: set[asyncio.Task[None]] = field(default_factory=set)
    #: Readers' departures, recorded in the shared state together: when a node's readers drop
    #: at once (a network blip, a node shutting down), a few writes instead of one each, which
    #: would queue for the bounded Redis pool past its timeout.
    departures: GroupCommit[tuple[frozenset[int], float]] = field(init=False)

    def __post_init__(self) -> None:
        self.departures = GroupCommit(self._record_departures, track=self.background)

    async def reader_left(self, consultation_ids: set[int]) -> None:
        """The grace period of these chats counts from now: their reader's socket has gone."""
        if consultation_ids:
            await self.departures.add((frozenset(consultation_ids), self.clock.now()))

    async def _record_departures(self, items: list[tuple[frozenset[int], float]]) -> None:
        # One time for the batch, the latest: a reader gets at most the batch's few
        # milliseconds more of grace.
        ids: set[int] = set().union(*(c for c, _ in items))
        try:
            await self.state.reader_seen(ids, max(t for _, t in items))
        except Exception:
            # Not fatal: while the socket was here, the node's beat refreshed the time every
            # few seconds, and the grace period counts from that beat instead.
            log.warning(
                "could not record readers' departures",
                extra={"consultations": len(ids)},
                exc_info=True,
            )
