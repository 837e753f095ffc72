"""Facts recorded as things happen: a listener on the desk's events writes each
consultation's fact row (``ConsultationFact``) when it opens, when a consultant takes it, when
the consultant first answers, when it is transferred and when it ends — not recomputed from
transcripts later. The writes run off the events' path (background tasks), so no chat waits
for them; the busiest event, a message, costs a set lookup unless it is a consultant's first
answer in the chat.

Each handler writes only its own columns and creates the row if it is not there yet, so the
order in which nodes see the events does not matter.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any, Protocol, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from desk.bus import EventBus
from desk.context import Desk
from desk.events import (
    ConsultationAssigned,
    ConsultationEnded,
    ConsultationOpened,
    ConsultationReleased,
    ConsultationView,
    MessagePosted,
)
from desk.groupcommit import GroupCommit
from desk.models import LedgerEntry
from stats.models import ConsultationFact, StatsDirtyDay
from transcripts.models import Message

log = logging.getLogger(__name__)

#: Consultations whose first answer this node has already recorded (bounded).
REPLIED_MEMORY = 50_000


def day_of(desk: Desk, at: datetime) -> str:
    return at.astimezone(ZoneInfo(desk.settings.report_timezone)).date().isoformat()


def _insert(desk: Desk) -> Any:
    return sqlite_insert if desk.settings.is_sqlite else pg_insert


async def mark_dirty(desk: Desk, day: str) -> None:
    """Ask the roll-up job to rebuild ``day`` (a late rating, grade or end)."""
    async with desk.sessions.begin() as s:
        await mark_dirty_in(s, desk, day)


async def mark_dirty_in(s: AsyncSession, desk: Desk, day: str) -> None:
    """The same inside the transaction that changed the day's records, so the change and
    the mark stand or fall together."""
    stmt = _insert(desk)(StatsDirtyDay).values(day=day, version=1)
    await s.execute(
        stmt.on_conflict_do_update(
            index_elements=[StatsDirtyDay.day], set_={"version": StatsDirtyDay.version + 1}
        )
    )


class _Opened(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def library_id(self) -> int: ...
    @property
    def language(self) -> str: ...


async def ensure_fact(desk: Desk, c: _Opened) -> None:
    """The consultation's fact row, created with what its opening tells if it is missing."""
    async with desk.sessions.begin() as s:
        await s.execute(
            _insert(desk)(ConsultationFact)
            .values(
                consultation_id=c.id,
                day=day_of(desk, c.created_at),
                library_id=c.library_id,
                language=c.language,
                opened_at=c.created_at,
                overflow=False,
                transfers=0,
                reader_messages=0,
                consultant_messages=0,
                documents=0,
                rating_comment="",
            )
            .on_conflict_do_nothing()
        )


class Recorder:
    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self._replied: OrderedDict[int, None] = OrderedDict()
        #: Per consultation: its lock and how many recordings wait on it (dropped at none,
        #: so a node that never sees a chat's end keeps nothing of it).
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}
        self._first_replies: GroupCommit[tuple[int, datetime]] = GroupCommit(
            self._write_first_replies, max_items=500, track=desk.background
        )

    def attach(self, bus: EventBus) -> None:
        bus.subscribe(ConsultationOpened, self.on_opened)
        bus.subscribe(ConsultationAssigned, self.on_assigned)
        bus.subscribe(ConsultationReleased, self.on_released)
        bus.subscribe(MessagePosted, self.on_message)
        bus.subscribe(ConsultationEnded, self.on_ended)

    def _spawn(self, consultation_id: int, work: Awaitable[None]) -> None:
        """Run ``work`` in the background, after this node's earlier work for the same
        consultation."""
        lock, users = self._locks.get(consultation_id, (asyncio.Lock(), 0))
        self._locks[consultation_id] = (lock, users + 1)

        async def run() -> None:
            try:
                async with lock:
                    await work
            except Exception:
                log.exception("recording a fact failed", extra={"consultation": consultation_id})
            finally:
                held, left = self._locks.get(consultation_id, (lock, 1))
                if left <= 1:
                    self._locks.pop(consultation_id, None)
                else:
                    self._locks[consultation_id] = (held, left - 1)

        task = asyncio.get_running_loop().create_task(run())
        self.desk.background.add(task)
        task.add_done_callback(self.desk.background.discard)

    async def _ensure(self, c: ConsultationView) -> None:
        await ensure_fact(self.desk, c)

    # -- the events ------------------------------------------------------------------------

    async def on_opened(self, e: ConsultationOpened) -> None:
        self._spawn(e.consultation.id, self._ensure(e.consultation))

    async def on_assigned(self, e: ConsultationAssigned) -> None:
        self._spawn(e.consultation.id, self._assigned(e))

    async def _assigned(self, e: ConsultationAssigned) -> None:
        c = e.consultation
        await self._ensure(c)
        at = c.assigned_at or datetime.fromtimestamp(self.desk.clock.now(), UTC)
        serving = c.serving_library_id
        async with self.desk.sessions.begin() as s:
            fact = await s.get(ConsultationFact, c.id, with_for_update=True)
            assert fact is not None
            if fact.first_assigned_at is None:
                fact.first_assigned_at = at
                fact.wait_seconds = max(0.0, (at - fact.opened_at).total_seconds())
            fact.consultant_id = e.consultant_id
            fact.serving_library_id = serving
            fact.overflow = serving is not None and serving != fact.library_id

    async def on_released(self, e: ConsultationReleased) -> None:
        # A transfer, to a colleague or to another library's queue (the chat is released
        # first either way); a requeue after a dropped consultant is not one.
        if e.reason == "transferred":
            self._spawn(e.consultation.id, self._transferred(e.consultation))

    async def _transferred(self, c: ConsultationView) -> None:
        await self._ensure(c)
        async with self.desk.sessions.begin() as s:
            await s.execute(
                update(ConsultationFact)
                .where(ConsultationFact.consultation_id == c.id)
                .values(transfers=ConsultationFact.transfers + 1)
            )

    async def on_message(self, e: MessagePosted) -> None:
        m = e.message
        if (
            m.author_kind != "consultant"
            or m.visibility != "all"
            or m.duplicate
            or m.consultation_id in self._replied
        ):
            return
        self._replied[m.consultation_id] = None
        if len(self._replied) > REPLIED_MEMORY:
            self._replied.popitem(last=False)
        self._spawn(m.consultation_id, self._first_reply(m.consultation_id, m.created_at))

    async def _first_reply(self, consultation_id: int, at: datetime) -> None:
        # Inside the consultation's turn (see _spawn), so it lands after the opening's row.
        await self._first_replies.add((consultation_id, at))

    async def _write_first_replies(self, items: list[tuple[int, datetime]]) -> None:
        """Many chats' first answers in one transaction: a busy hour's greetings, or a node's
        chats all answered at once after a restart, cost a few commits instead of one each."""
        at_of: dict[int, datetime] = {}
        for cid, at in items:
            at_of[cid] = min(at, at_of.get(cid, at))
        facts = cast(Table, ConsultationFact.__table__)
        async with self.desk.sessions.begin() as s:
            opened = {
                cid: when
                for cid, when in (
                    await s.execute(
                        select(ConsultationFact.consultation_id, ConsultationFact.opened_at).where(
                            ConsultationFact.consultation_id.in_(sorted(at_of)),
                            ConsultationFact.first_reply_seconds.is_(None),
                        )
                    )
                ).all()
            }
            # A chat opened before the recorder existed has no row: its end fills it in.
            rows = [
                {"cid": cid, "seconds": max(0.0, (at_of[cid] - when).total_seconds())}
                for cid, when in sorted(opened.items())
            ]
            if rows:
                conn = await s.connection()
                await conn.execute(
                    update(facts)
                    .where(
                        facts.c.consultation_id == bindparam("cid"),
                        facts.c.first_reply_seconds.is_(None),
                    )
                    .values(first_reply_seconds=bindparam("seconds")),
                    rows,
                )

    async def on_ended(self, e: ConsultationEnded) -> None:
        self._replied.pop(e.consultation.id, None)
        self._spawn(e.consultation.id, self._ended(e.consultation))

    async def _ended(self, c: ConsultationView) -> None:
        desk = self.desk
        await self._ensure(c)
        async with desk.reads() as s:
            counts = dict(
                (
                    await s.execute(
                        select(Message.author_kind, func.count())
                        .where(Message.consultation_id == c.id, Message.visibility == "all")
                        .group_by(Message.author_kind)
                    )
                ).all()
            )
            first_reply = await s.scalar(
                select(func.min(Message.created_at)).where(
                    Message.consultation_id == c.id,
                    Message.author_kind == "consultant",
                    Message.visibility == "all",
                )
            )
            documents = await s.scalar(
                select(func.count())
                .select_from(LedgerEntry)
                .where(LedgerEntry.consultation_id == c.id, LedgerEntry.direction == "to_reader")
            )
        ended = c.ended_at or datetime.fromtimestamp(desk.clock.now(), UTC)
        async with desk.sessions.begin() as s:
            fact = await s.get(ConsultationFact, c.id, with_for_update=True)
            assert fact is not None
            fact.ended_at = ended
            # The end settles what events seen on several nodes may have written out of
            # order: who served it in the end, and the first answer, from the stored records.
            if fact.first_assigned_at is None and c.assigned_at is not None:
                fact.first_assigned_at = c.assigned_at
                fact.wait_seconds = max(0.0, (c.assigned_at - fact.opened_at).total_seconds())
            if c.assignee_id is not None:
                fact.consultant_id = c.assignee_id
                fact.serving_library_id = c.serving_library_id
                fact.overflow = (
                    c.serving_library_id is not None and c.serving_library_id != fact.library_id
                )
            if first_reply is not None:
                fact.first_reply_seconds = max(0.0, (first_reply - fact.opened_at).total_seconds())
            # Abandoned means nobody came, however it ended (the reader closed it, or was
            # gone past grace); a served chat the reader walked away from ended all the same.
            served = fact.first_assigned_at is not None
            if not served and c.state in ("closed", "abandoned"):
                fact.outcome = "abandoned"
            elif served and c.state == "abandoned":
                fact.outcome = "closed"
            else:
                fact.outcome = c.state
            fact.reader_messages = int(counts.get("reader", 0))
            fact.consultant_messages = int(counts.get("consultant", 0))
            fact.documents = int(documents or 0)
            if fact.first_assigned_at is not None:
                fact.duration_seconds = max(0.0, (ended - fact.first_assigned_at).total_seconds())
            day = fact.day
        if day != day_of(desk, ended):
            await mark_dirty(desk, day)
