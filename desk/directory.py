"""Small read-through caches of rarely changing records (libraries, consultants' names)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.config import BotSettings, parse_bot_settings
from desk.models import Consultant, Library

#: Library settings edited by an admin reach every node within this long.
CACHE_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class LibraryInfo:
    id: int
    code: str
    name: str
    name_en: str
    allowed_origins: tuple[str, ...]
    languages: tuple[str, ...]
    phone: str
    routing_mode: str
    offer_timeout_seconds: int
    overflow_delay_seconds: int
    bots: BotSettings
    service_hours: dict[str, Any]

    @classmethod
    def of(cls, lib: Library) -> LibraryInfo:
        return cls(
            id=lib.id,
            code=lib.code,
            name=lib.name,
            name_en=lib.name_en,
            allowed_origins=tuple(o.rstrip("/") for o in lib.allowed_origins or ()),
            languages=tuple(lib.languages or ()),
            phone=lib.phone,
            routing_mode=lib.routing_mode,
            offer_timeout_seconds=lib.offer_timeout_seconds,
            overflow_delay_seconds=lib.overflow_delay_seconds,
            bots=parse_bot_settings(lib.bot_settings),
            service_hours=dict(lib.service_hours or {}),
        )


@dataclass(frozen=True, slots=True)
class ConsultantInfo:
    id: int
    library_id: int
    username: str
    display_name: str
    role: str
    languages: tuple[str, ...]
    max_chats: int
    active: bool
    inspector: bool = False

    @classmethod
    def of(cls, c: Consultant) -> ConsultantInfo:
        return cls(
            id=c.id,
            library_id=c.library_id,
            username=c.username,
            display_name=c.display_name,
            role=c.role,
            languages=tuple(c.languages or ()),
            max_chats=c.max_chats,
            active=c.active,
            inspector=bool(c.inspector),
        )


class Directory:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._libraries: dict[int, LibraryInfo] = {}
        self._by_code: dict[str, LibraryInfo] = {}
        self._libraries_at = 0.0
        self._consultants: dict[int, tuple[float, ConsultantInfo]] = {}

    async def _load_libraries(self) -> None:
        async with self._sessions() as s:
            libs = (await s.scalars(select(Library))).all()
        self._libraries = {lib.id: LibraryInfo.of(lib) for lib in libs}
        self._by_code = {lib.code: lib for lib in self._libraries.values()}
        self._libraries_at = time.monotonic()

    async def _fresh(self) -> None:
        if time.monotonic() - self._libraries_at > CACHE_SECONDS:
            await self._load_libraries()

    async def library(self, library_id: int) -> LibraryInfo | None:
        await self._fresh()
        if library_id not in self._libraries:
            await self._load_libraries()
        return self._libraries.get(library_id)

    async def library_by_code(self, code: str) -> LibraryInfo | None:
        await self._fresh()
        if code not in self._by_code:
            await self._load_libraries()
        return self._by_code.get(code)

    async def libraries(self) -> dict[int, LibraryInfo]:
        await self._fresh()
        return self._libraries

    async def consultant(self, consultant_id: int) -> ConsultantInfo | None:
        hit = self._consultants.get(consultant_id)
        if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
            return hit[1]
        async with self._sessions() as s:
            c = await s.get(Consultant, consultant_id)
        if c is None:
            return None
        info = ConsultantInfo.of(c)
        self._consultants[consultant_id] = (time.monotonic(), info)
        return info

    def forget(self) -> None:
        self._libraries_at = 0.0
        self._consultants.clear()
