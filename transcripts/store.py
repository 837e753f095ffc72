"""The message store: every message gets its ``seq`` and is committed before anyone hears of it.

Writes are group-committed: posts that arrive while a transaction is in flight wait for the next
one, so a quiet desk commits each message at once and a busy one commits many per transaction.
The consultation row's ``last_seq`` is bumped in the same transaction, guarded by who may post,
so authorisation and ordering are decided atomically by the database, on every node.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from desk.errors import DeskError
from transcripts.batch import Now, Result, Writer, writer_for
from transcripts.models import Message
from transcripts.records import READER_SEES, STAFF_SEES, Draft, StoredMessage

__all__ = ["PAGE_LIMIT", "READER_SEES", "STAFF_SEES", "Draft", "MessageStore", "StoredMessage"]

log = logging.getLogger(__name__)

#: Most drafts written in one transaction; more wait for the next (keeps a commit short).
MAX_BATCH = 500

#: Most messages returned by one messages_since call; the client asks again for the rest.
PAGE_LIMIT = 500


@dataclass(slots=True)
class _Pending:
    draft: Draft
    future: asyncio.Future[StoredMessage] = field(repr=False)


def _row_to_stored(
    row: Any, *, reader_id: int, assignee_id: int | None, dup: bool
) -> StoredMessage:
    return StoredMessage(
        consultation_id=row.consultation_id,
        seq=row.seq,
        client_msg_id=row.client_msg_id,
        author_kind=row.author_kind,
        author_id=row.author_id,
        visibility=row.visibility,
        body=row.body,
        created_at=row.created_at,
        reader_id=reader_id,
        assignee_id=assignee_id,
        duplicate=dup,
        attachment=row.attachment,
    )


class MessageStore:
    def __init__(
        self,
        engine: AsyncEngine,
        read_engine: AsyncEngine | None = None,
        *,
        now: Now | None = None,
    ) -> None:
        self._engine = engine
        self._read_engine = read_engine or engine
        self._writer: Writer = writer_for(engine) if now is None else writer_for(engine, now)
        self._pending: list[_Pending] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.batches = 0
        self.written = 0

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="message-writer")

    async def stop(self) -> None:
        """Finish what was accepted, then stop: nothing acknowledged-to-come is dropped."""
        if self._task is None:
            return
        self._closing = True
        self._wake.set()
        await self._task
        self._task = None
        await self._writer.close()

    async def post(self, draft: Draft) -> StoredMessage:
        if self._task is None or self._closing:
            raise DeskError("the desk is restarting; please retry", code="unavailable")
        fut: asyncio.Future[StoredMessage] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(draft, fut))
        self._wake.set()
        return await fut

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch = self._pending[:MAX_BATCH]
                del self._pending[:MAX_BATCH]
                await self._write_batch(batch)
            if self._closing:
                return

    async def _write_batch(self, batch: list[_Pending]) -> None:
        try:
            results = await self._write(batch)
        except Exception:
            if len(batch) == 1:
                item = batch[0]
                log.exception(
                    "message write failed", extra={"consultation": item.draft.consultation_id}
                )
                if not item.future.done():
                    item.future.set_exception(
                        DeskError("could not store the message", code="store_failed")
                    )
                return
            # One bad draft (or a race on a client id) must not fail its neighbours: redo alone.
            for item in batch:
                await self._write_batch([item])
            return
        self.batches += 1
        for item, res in zip(batch, results, strict=True):
            if item.future.done():
                continue
            if isinstance(res, BaseException):
                item.future.set_exception(res)
            else:
                self.written += 0 if res.duplicate else 1
                item.future.set_result(res)

    async def _write(self, batch: list[_Pending]) -> list[Result]:
        # An IntegrityError from a retry of the same client id racing in through another node
        # fails the batch; _write_batch then redoes it one by one, and the retry finds the
        # stored row and returns it.
        return await self._writer.write([p.draft for p in batch])

    async def messages_since(
        self, consultation_id: int, after_seq: int, *, staff: bool, limit: int = PAGE_LIMIT
    ) -> list[StoredMessage]:
        q = (
            select(Message)
            .where(Message.consultation_id == consultation_id, Message.seq > after_seq)
            .order_by(Message.seq)
            .limit(limit)
        )
        # A private note is staff-only; a reader-only message (the reader's secret ticket link)
        # is never shown to staff.
        q = q.where(Message.visibility.in_(STAFF_SEES if staff else READER_SEES))
        async with self._read_engine.connect() as conn:
            rows = (await conn.execute(q)).all()
        return [_row_to_stored(r, reader_id=0, assignee_id=None, dup=False) for r in rows]
