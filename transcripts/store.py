"""The message store: every message gets its ``seq`` and is committed before anyone hears of it.

Writes are group-committed: posts that arrive while a transaction is in flight wait for the next
one, so a quiet desk commits each message at once and a busy one commits many per transaction.
The consultation row's ``last_seq`` is bumped in the same transaction, guarded by who may post,
so authorisation and ordering are decided atomically by the database, on every node.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncEngine

from desk.db import utcnow
from desk.errors import Conflict, DeskError, Forbidden, NotFound
from desk.models import Consultation
from desk.states import ACTIVE
from transcripts.models import Message

log = logging.getLogger(__name__)

#: Most drafts written in one transaction; more wait for the next (keeps a commit short).
MAX_BATCH = 500
#: Most messages returned by one messages_since call; the client asks again for the rest.
PAGE_LIMIT = 500


@dataclass(frozen=True, slots=True)
class Draft:
    consultation_id: int
    author_kind: str
    body: str
    author_id: int | None = None
    visibility: str = "all"
    client_msg_id: str | None = None
    #: Post only if the consultation's reader is this reader...
    as_reader: int | None = None
    #: ...or only if its assignee is this consultant (checked in the same UPDATE that takes seq).
    as_assignee: int | None = None


@dataclass(frozen=True, slots=True)
class StoredMessage:
    consultation_id: int
    seq: int
    client_msg_id: str | None
    author_kind: str
    author_id: int | None
    visibility: str
    body: str
    created_at: datetime
    #: Who holds the consultation at commit time, for fan-out.
    reader_id: int = 0
    assignee_id: int | None = None
    #: True when this was a client's retry of a message already stored.
    duplicate: bool = False

    def to_client(self) -> dict[str, Any]:
        return {
            "consultation_id": self.consultation_id,
            "seq": self.seq,
            "client_msg_id": self.client_msg_id,
            "author_kind": self.author_kind,
            "author_id": self.author_id,
            "visibility": self.visibility,
            "body": self.body,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(slots=True)
class _Pending:
    draft: Draft
    future: asyncio.Future[StoredMessage] = field(repr=False)


_ACTIVE_STATES = [s.value for s in ACTIVE]


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
    )


class MessageStore:
    def __init__(self, engine: AsyncEngine, read_engine: AsyncEngine | None = None) -> None:
        self._engine = engine
        self._read_engine = read_engine or engine
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

    async def _write(self, batch: list[_Pending]) -> list[StoredMessage | BaseException]:
        results: list[StoredMessage | BaseException | None] = [None] * len(batch)
        async with self._engine.begin() as conn:
            keyed = [(i, p.draft) for i, p in enumerate(batch) if p.draft.client_msg_id is not None]
            existing: dict[tuple[int, str], Any] = {}
            if keyed:
                keys = {(d.consultation_id, d.client_msg_id) for _, d in keyed}
                rows = await conn.execute(
                    select(Message, Consultation.reader_id, Consultation.assignee_id)
                    .join(Consultation, Consultation.id == Message.consultation_id)
                    .where(tuple_(Message.consultation_id, Message.client_msg_id).in_(list(keys)))
                )
                for row in rows:
                    existing[(row.consultation_id, row.client_msg_id)] = row
            groups: dict[tuple[int, int | None, int | None], list[int]] = defaultdict(list)
            seen_keys: dict[tuple[int, str], int] = {}
            dup_of: dict[int, int] = {}
            for i, p in enumerate(batch):
                d = p.draft
                if d.client_msg_id is not None:
                    key = (d.consultation_id, d.client_msg_id)
                    hit = existing.get(key)
                    if hit is not None:
                        if not _may_see_retry(d, hit):
                            results[i] = Forbidden("not your consultation")
                        else:
                            results[i] = _row_to_stored(
                                hit, reader_id=hit.reader_id, assignee_id=hit.assignee_id, dup=True
                            )
                        continue
                    if key in seen_keys:
                        dup_of[i] = seen_keys[key]
                        continue
                    seen_keys[key] = i
                groups[(d.consultation_id, d.as_reader, d.as_assignee)].append(i)

            now = utcnow()
            rows_to_insert: list[dict[str, Any]] = []
            # One read of every consultation in the batch (locked, in id order, on PostgreSQL;
            # SQLite's writer lock is already held), guards checked here, then one batched
            # UPDATE and one batched INSERT: a batch costs the same few round trips whatever
            # its size.
            ids = sorted({cid for cid, _, _ in groups})
            q = (
                select(
                    Consultation.id,
                    Consultation.state,
                    Consultation.reader_id,
                    Consultation.assignee_id,
                    Consultation.last_seq,
                )
                .where(Consultation.id.in_(ids))
                .order_by(Consultation.id)
            )
            if conn.dialect.name != "sqlite":
                q = q.with_for_update()
            current = {r.id: r for r in await conn.execute(q)}
            next_seq = {cid: r.last_seq for cid, r in current.items()}
            for (cid, as_reader, as_assignee), idxs in groups.items():
                holder = current.get(cid)
                err = _refusal(holder, as_reader, as_assignee)
                if err is not None or holder is None:
                    for i in idxs:
                        results[i] = err
                    continue
                first = next_seq[cid] + 1
                next_seq[cid] += len(idxs)
                for n, i in enumerate(idxs):
                    d = batch[i].draft
                    rows_to_insert.append(
                        {
                            "consultation_id": cid,
                            "seq": first + n,
                            "client_msg_id": d.client_msg_id,
                            "author_kind": d.author_kind,
                            "author_id": d.author_id,
                            "visibility": d.visibility,
                            "body": d.body,
                            "created_at": now,
                        }
                    )
                    results[i] = StoredMessage(
                        consultation_id=cid,
                        seq=first + n,
                        client_msg_id=d.client_msg_id,
                        author_kind=d.author_kind,
                        author_id=d.author_id,
                        visibility=d.visibility,
                        body=d.body,
                        created_at=now,
                        reader_id=holder.reader_id,
                        assignee_id=holder.assignee_id,
                    )
            moved = [
                {"b_id": cid, "b_seq": seq}
                for cid, seq in next_seq.items()
                if seq != current[cid].last_seq
            ]
            if moved:
                await conn.execute(
                    update(Consultation)
                    .where(Consultation.id == bindparam("b_id"))
                    .values(last_seq=bindparam("b_seq")),
                    moved,
                )
            if rows_to_insert:
                # An IntegrityError here means a retry of the same client id raced in through
                # another node: the caller redoes the batch one by one, and the retry then finds
                # the stored row and returns it.
                await conn.execute(insert(Message), rows_to_insert)
        for i, first_i in dup_of.items():
            res = results[first_i]
            if isinstance(res, StoredMessage):
                results[i] = StoredMessage(**{**_as_dict(res), "duplicate": True})
            else:
                results[i] = res
        return [
            r if r is not None else DeskError("not stored", code="store_failed") for r in results
        ]

    async def messages_since(
        self, consultation_id: int, after_seq: int, *, staff: bool, limit: int = PAGE_LIMIT
    ) -> list[StoredMessage]:
        q = (
            select(Message)
            .where(Message.consultation_id == consultation_id, Message.seq > after_seq)
            .order_by(Message.seq)
            .limit(limit)
        )
        if not staff:
            q = q.where(Message.visibility == "all")
        async with self._read_engine.connect() as conn:
            rows = (await conn.execute(q)).all()
        return [_row_to_stored(r, reader_id=0, assignee_id=None, dup=False) for r in rows]


def _as_dict(m: StoredMessage) -> dict[str, Any]:
    return {f: getattr(m, f) for f in StoredMessage.__slots__}


def _may_see_retry(d: Draft, row: Any) -> bool:
    return bool(row.author_kind == d.author_kind and row.author_id == d.author_id)


def _refusal(row: Any, as_reader: int | None, as_assignee: int | None) -> DeskError | None:
    """Why this author may not post here, or None. A reader asking about someone else's
    consultation is told it does not exist: they learn nothing about others."""
    if row is None or (as_reader is not None and row.reader_id != as_reader):
        return NotFound("no such consultation", code="consultation_not_found")
    if as_assignee is not None and row.assignee_id != as_assignee:
        return Forbidden("this chat is not assigned to you", code="not_assigned")
    if row.state not in _ACTIVE_STATES:
        return Conflict(
            f"the consultation is {row.state}", code="consultation_ended", state=row.state
        )
    if as_assignee is not None and row.state != "assigned":
        # Only once accepted: an offer is not yet the consultant's chat.
        return Forbidden("this chat is not assigned to you", code="not_assigned")
    return None
