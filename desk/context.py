"""The desk's per-node context: one object holding what actions need, no module globals."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from desk.bus import EventBus
from desk.clock import Clock
from desk.delivery.storage import FileStorage
from desk.directory import ConsultantInfo, Directory
from desk.settings import Settings
from desk.shared.base import SharedState
from transcripts.store import MessageStore


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
