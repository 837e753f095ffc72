"""One group commit of messages: the plan (pure) and the two ways to run it.

The plan decides everything from plain rows: which drafts are retries of stored messages
(same consultation and client id), who may post where, and which ``seq`` each new message
gets. A writer only runs three queries and one commit around it:

1. the stored messages matching the batch's client ids;
2. the batch's consultations (locked, in id order, on PostgreSQL; SQLite's writer lock is
   taken by ``BEGIN IMMEDIATE``);
3. one batched UPDATE of ``last_seq`` and one batched INSERT of the messages.

Writers go to the driver directly (sqlite3 on the event loop's thread, or in a worker thread when
the write lock is taken; one asyncpg connection of the writer's own, where most batches are one
round trip), because at one message per commit the ORM's per-statement overhead, not the
database, was the cost.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol

from desk.errors import Conflict, DeskError, Forbidden, NotFound
from desk.states import ACTIVE
from transcripts.records import READER_SEES, STAFF_SEES, Attachment, Draft, StoredMessage

log = logging.getLogger(__name__)

_ACTIVE_STATES = frozenset(s.value for s in ACTIVE)


class Holder(NamedTuple):
    id: int
    state: str
    reader_id: int
    assignee_id: int | None
    last_seq: int
    #: The seq of the last message each side is shown (the ``prev`` of that side's next).
    last_reader_seq: int = 0
    last_staff_seq: int = 0


class Marks(NamedTuple):
    """Where a consultation's seqs stand after a batch: its new ``last_seq`` and last seq per
    side."""

    id: int
    last_seq: int
    last_reader_seq: int
    last_staff_seq: int


class Found(NamedTuple):
    """What a guarded write found under the lock: how far it moved a consultation's seqs, and
    the seq each side was last shown before the batch."""

    shift: int
    last_reader_seq: int
    last_staff_seq: int


def chain(rows: Sequence[StoredMessage], reader: int, staff: int) -> list[StoredMessage]:
    """One consultation's new messages, in seq order, each given the seq its side was shown
    before it (``reader`` and ``staff``: what each side had before the first)."""
    out = []
    for r in rows:
        r_prev = s_prev = None
        if r.visibility in READER_SEES:
            r_prev, reader = reader, r.seq
        if r.visibility in STAFF_SEES:
            s_prev, staff = staff, r.seq
        out.append(replace(r, reader_prev=r_prev, staff_prev=s_prev))
    return out


Result = StoredMessage | DeskError
Now = Callable[[], datetime]


def insert_row(m: StoredMessage) -> tuple[Any, ...]:
    """The values of a messages row, in the writers' INSERT column order (the attachment as
    JSON text, or None)."""
    return (
        m.consultation_id,
        m.seq,
        m.client_msg_id,
        m.author_kind,
        m.author_id,
        m.visibility,
        m.body,
        m.created_at,
        None if m.attachment is None else json.dumps(m.attachment, ensure_ascii=False),
    )


def ledger_row(m: StoredMessage, a: Attachment) -> tuple[Any, ...]:
    """The values of a delivery_ledger row, in the writers' INSERT column order."""
    return (
        m.consultation_id,
        m.seq,
        a.direction,
        a.kind,
        a.consultant_id,
        a.serving_library_id,
        a.origin_library_id,
        a.reader_id,
        a.name,
        a.size,
        a.sha256,
        a.content_type,
        a.url,
        a.title,
        a.authors,
        a.source,
        a.year,
        a.doc_type,
        m.created_at,
    )


LEDGER_COLUMNS = (
    "consultation_id, seq, direction, kind, consultant_id, serving_library_id,"
    " origin_library_id, reader_id, file_name, size, sha256, content_type, url, title,"
    " authors, source, year, doc_type, created_at"
)


def _attachment(raw: Any) -> dict[str, Any] | None:
    if raw is None or isinstance(raw, dict):
        return raw
    value: dict[str, Any] = json.loads(raw)
    return value


def refusal(
    row: Holder | None, as_reader: int | None, as_assignee: int | None, while_waiting: bool = False
) -> DeskError | None:
    """Why this author may not post here, or None. A reader asking about someone else's
    consultation is told it does not exist: they learn nothing about others."""
    if row is None or (as_reader is not None and row.reader_id != as_reader):
        return NotFound("no such consultation", code="consultation_not_found")
    if as_assignee is not None and row.assignee_id != as_assignee:
        return Forbidden("this chat is not assigned to you", code="not_assigned")
    desk_notice = as_reader is None and as_assignee is None
    # A chat handed off to the form service still takes the desk's notice with the ticket link.
    if row.state not in _ACTIVE_STATES and not (desk_notice and row.state == "handed_off"):
        return Conflict(
            f"the consultation is {row.state}", code="consultation_ended", state=row.state
        )
    if while_waiting and row.state != "waiting":
        return Conflict("the chat no longer waits", code="wrong_state", state=row.state)
    if as_assignee is not None and row.state != "assigned":
        # Only once accepted: an offer is not yet the consultant's chat.
        return Forbidden("this chat is not assigned to you", code="not_assigned")
    return None


@dataclass
class Plan:
    drafts: Sequence[Draft]

    def __post_init__(self) -> None:
        self.results: list[Result | None] = [None] * len(self.drafts)
        #: The new messages that carry a file or link: one ledger row each.
        self.deliveries: list[tuple[StoredMessage, Attachment]] = []
        self._dup_of: dict[int, int] = {}
        self._groups: dict[tuple[int, int | None, int | None, bool], list[int]] = defaultdict(list)

    def retry_keys(self) -> list[tuple[int, str]]:
        return sorted(
            {
                (d.consultation_id, d.client_msg_id)
                for d in self.drafts
                if d.client_msg_id is not None
            }
        )

    def with_stored(self, stored: Sequence[StoredMessage]) -> list[int]:
        """Settle the retries; returns the consultations the rest need, in id order."""
        by_key = {(s.consultation_id, s.client_msg_id): s for s in stored}
        first_of: dict[tuple[int, str], int] = {}
        for i, d in enumerate(self.drafts):
            if d.client_msg_id is not None:
                key = (d.consultation_id, d.client_msg_id)
                hit = by_key.get(key)
                if hit is not None:
                    if hit.author_kind != d.author_kind or hit.author_id != d.author_id:
                        self.results[i] = Forbidden("not your consultation")
                    else:
                        self.results[i] = replace(hit, duplicate=True)
                    continue
                if key in first_of:
                    self._dup_of[i] = first_of[key]
                    continue
                first_of[key] = i
            self._groups[(d.consultation_id, d.as_reader, d.as_assignee, d.while_waiting)].append(i)
        return sorted({key[0] for key in self._groups})

    def assign(
        self, holders: Sequence[Holder], now: datetime
    ) -> tuple[list[StoredMessage], list[Marks]]:
        """Give seqs (and each side's previous seq); returns the rows to insert and where each
        consultation that moved now stands."""
        current = {h.id: h for h in holders}
        next_seq = {h.id: h.last_seq for h in holders}
        mine: dict[int, list[int]] = defaultdict(list)
        for (cid, as_reader, as_assignee, while_waiting), idxs in self._groups.items():
            holder = current.get(cid)
            err = refusal(holder, as_reader, as_assignee, while_waiting)
            if err is not None or holder is None:
                for i in idxs:
                    self.results[i] = err
                continue
            for i in idxs:
                next_seq[cid] += 1
                d = self.drafts[i]
                self.results[i] = StoredMessage(
                    cid,
                    next_seq[cid],
                    d.client_msg_id,
                    d.author_kind,
                    d.author_id,
                    d.visibility,
                    d.body,
                    now,
                    holder.reader_id,
                    holder.assignee_id,
                    attachment=None if d.attachment is None else d.attachment.to_client(),
                )
                mine[cid].append(i)
        moved = [
            self._chain(cid, idxs, current[cid].last_reader_seq, current[cid].last_staff_seq)
            for cid, idxs in mine.items()
        ]
        new = sorted(i for idxs in mine.values() for i in idxs)
        for i in new:
            attachment = self.drafts[i].attachment
            if attachment is not None:
                self.deliveries.append((self._stored(i), attachment))
        rows = sorted((self._stored(i) for i in new), key=lambda r: (r.consultation_id, r.seq))
        return rows, moved

    def _chain(self, cid: int, idxs: list[int], reader: int, staff: int) -> Marks:
        """Chains one consultation's new messages (``idxs`` in the results) after the seqs
        each side was last shown."""
        idxs = sorted(idxs, key=lambda i: self._stored(i).seq)
        rows = chain([self._stored(i) for i in idxs], reader, staff)
        for i, r in zip(idxs, rows, strict=True):
            self.results[i] = r
        last_reader = next((r.seq for r in reversed(rows) if r.reader_prev is not None), reader)
        last_staff = next((r.seq for r in reversed(rows) if r.staff_prev is not None), staff)
        return Marks(cid, rows[-1].seq, last_reader, last_staff)

    def _stored(self, i: int) -> StoredMessage:
        r = self.results[i]
        assert isinstance(r, StoredMessage)
        return r

    def shift(self, by: dict[int, Found]) -> dict[int, Marks]:
        """Moves the new messages of these consultations past what another node stored there
        after the ``last_seq`` the plan was made from, and chains them after what each side
        was last shown, as PostgreSQL found it. Returns where they now stand."""
        mine: dict[int, list[int]] = defaultdict(list)
        for i, r in enumerate(self.results):
            if isinstance(r, StoredMessage) and not r.duplicate and r.consultation_id in by:
                mine[r.consultation_id].append(i)
                self.results[i] = replace(r, seq=r.seq + by[r.consultation_id].shift)
        return {
            cid: self._chain(cid, idxs, by[cid].last_reader_seq, by[cid].last_staff_seq)
            for cid, idxs in mine.items()
        }

    def finish(self) -> list[Result]:
        for i, first in self._dup_of.items():
            res = self.results[first]
            self.results[i] = (
                replace(res, duplicate=True) if isinstance(res, StoredMessage) else res
            )
        return [
            r if r is not None else DeskError("not stored", code="store_failed")
            for r in self.results
        ]


class Writer(Protocol):
    async def write(self, drafts: Sequence[Draft]) -> list[Result]: ...

    async def close(self) -> None: ...


def _sqlite_time(t: datetime) -> str:
    # The format SQLAlchemy's SQLite DateTime reads back (naive UTC).
    return t.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _parse_sqlite_time(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


class SqliteWriter:
    """Plain sqlite3 connections, and for most batches no thread at all.

    A batch is a few milliseconds of SQLite work at most (``MAX_BATCH`` messages), so it runs on
    the event loop's own thread whenever SQLite's write lock is free at once. Run in a worker
    thread, every statement, and every row fetched or inserted, gives up the GIL and must win
    it back from the busy event loop: up to ``sys.getswitchinterval()`` (5 ms) each, which made
    a 500-row batch take close to a second on a loaded node (``bench/chat_load.py``). The loop's
    connection never waits for the lock (``busy_timeout`` 0): when another connection holds it
    (a transaction of the ORM, which itself needs the loop to finish), the batch goes to the
    worker thread and waits there.

    Nor does the loop's connection checkpoint the WAL (copy it back into the database and
    sync it), which a commit would otherwise do every 1,000 pages. After every
    ``checkpoint_every`` messages the worker thread checkpoints, passively, beside the writes
    that go on. The log starts over only once a checkpoint has caught up with it, which a
    steady load can keep from happening: when the log has grown past ``wal_limit_pages``, the
    next batch goes to the worker thread after a checkpoint there, with no write beside it.
    """

    def __init__(
        self, path: str, now: Now, *, checkpoint_every: int = 2000, wal_limit_pages: int = 8192
    ) -> None:
        self._path = path
        self._now = now
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="message-writer")
        #: The loop's connection (never waits) and the worker's (waits up to 30 s).
        self._conn: sqlite3.Connection | None = None
        self._waiting_conn: sqlite3.Connection | None = None
        self.checkpoint_every = checkpoint_every
        self.wal_limit_pages = wal_limit_pages
        self._since_checkpoint = 0
        self._checkpoint: asyncio.Future[tuple[int, int, int] | None] | None = None
        self._catch_up = False
        self._closed = False
        #: Batches by where they ran: "loop", "thread" (the lock was taken) or "catch-up";
        #: "checkpoint" counts the checkpoints run beside the writes.
        self.paths: Counter[str] = Counter()

    def _open(self, *, wait: bool) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self._path, isolation_level=None, timeout=30 if wait else 0, check_same_thread=False
        )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(f"PRAGMA busy_timeout={30000 if wait else 0}")
        # A log grown by a burst is cut back to 64 MiB when it starts over.
        conn.execute("PRAGMA journal_size_limit=67108864")
        if not wait:
            conn.execute("PRAGMA wal_autocheckpoint=0")
        return conn

    async def write(self, drafts: Sequence[Draft]) -> list[Result]:
        loop = asyncio.get_running_loop()
        if self._catch_up and self._checkpoint is None:
            self._catch_up = False
            self.paths["catch-up"] += 1
            return await loop.run_in_executor(self._pool, self._checkpoint_and_write, drafts)
        if self._conn is None:
            self._conn = self._open(wait=False)
        try:
            results = self._write(self._conn, drafts)
        except sqlite3.OperationalError as exc:
            if not _sqlite_busy(exc):
                raise
            # Nothing was written (the transaction is rolled back): wait for the lock off the
            # loop, so that its holder can finish.
            self.paths["thread"] += 1
            return await loop.run_in_executor(self._pool, self._write_waiting, drafts)
        self.paths["loop"] += 1
        self._since_checkpoint += len(drafts)
        if self._since_checkpoint >= self.checkpoint_every and self._checkpoint is None:
            self._since_checkpoint = 0
            self._checkpoint = loop.run_in_executor(self._pool, self._checkpoint_wal)
            self._checkpoint.add_done_callback(self._checkpointed)
        return results

    def _checkpoint_wal(self) -> tuple[int, int, int] | None:
        try:
            # PASSIVE: copies what no reader still needs; never waits, never blocks a writer.
            row = self._waiting().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error:
            log.warning("WAL checkpoint failed", exc_info=True)
            return None
        return (int(row[0]), int(row[1]), int(row[2])) if row else None

    def _checkpointed(self, fut: asyncio.Future[tuple[int, int, int] | None]) -> None:
        self._checkpoint = None
        if fut.cancelled() or fut.exception() is not None:
            return
        self.paths["checkpoint"] += 1
        got = fut.result()
        # (busy, pages in the log, pages copied): the log has not started over for too long.
        if got is not None and got[1] > self.wal_limit_pages:
            self._catch_up = True

    def _waiting(self) -> sqlite3.Connection:
        if self._waiting_conn is None:
            self._waiting_conn = self._open(wait=True)
        return self._waiting_conn

    def _write_waiting(self, drafts: Sequence[Draft]) -> list[Result]:
        return self._write(self._waiting(), drafts)

    def _checkpoint_and_write(self, drafts: Sequence[Draft]) -> list[Result]:
        # No message write beside it: the checkpoint catches up, and this batch's write starts
        # the log over (unless a reader still reads from it).
        self._checkpoint_wal()
        return self._write(self._waiting(), drafts)

    def _write(self, conn: sqlite3.Connection, drafts: Sequence[Draft]) -> list[Result]:
        plan = Plan(drafts)
        conn.execute("BEGIN IMMEDIATE")
        try:
            stored: list[StoredMessage] = []
            keys = plan.retry_keys()
            for start in range(0, len(keys), 400):
                chunk = keys[start : start + 400]
                where = " OR ".join(
                    ["(m.consultation_id = ? AND m.client_msg_id = ?)"] * len(chunk)
                )
                params = [v for k in chunk for v in k]
                sql = (
                    "SELECT m.consultation_id, m.seq, m.client_msg_id, m.author_kind,"  # noqa: S608 (only placeholders are joined in)
                    " m.author_id, m.visibility, m.body, m.created_at, c.reader_id,"
                    " c.assignee_id, m.attachment FROM messages m"
                    " JOIN consultations c ON c.id = m.consultation_id WHERE " + where
                )
                for r in conn.execute(sql, params):
                    stored.append(
                        StoredMessage(
                            r[0],
                            r[1],
                            r[2],
                            r[3],
                            r[4],
                            r[5],
                            r[6],
                            _parse_sqlite_time(r[7]),
                            r[8],
                            r[9],
                            attachment=_attachment(r[10]),
                        )
                    )
            ids = plan.with_stored(stored)
            holders = []
            if ids:
                marks = ",".join("?" * len(ids))
                sql = (
                    "SELECT id, state, reader_id, assignee_id, last_seq, last_reader_seq,"  # noqa: S608
                    " last_staff_seq FROM consultations WHERE id IN (" + marks + ")"
                )
                holders = [Holder(*r) for r in conn.execute(sql, ids)]
            rows, moved = plan.assign(holders, self._now())
            if moved:
                conn.executemany(
                    "UPDATE consultations SET last_seq = ?, last_reader_seq = ?,"
                    " last_staff_seq = ? WHERE id = ?",
                    [(m.last_seq, m.last_reader_seq, m.last_staff_seq, m.id) for m in moved],
                )
            if rows:
                conn.executemany(
                    "INSERT INTO messages (consultation_id, seq, client_msg_id, author_kind,"
                    " author_id, visibility, body, created_at, attachment)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (*v[:7], _sqlite_time(r.created_at), v[8])
                        for r in rows
                        for v in (insert_row(r),)
                    ],
                )
            if plan.deliveries:
                conn.executemany(
                    f"INSERT INTO delivery_ledger ({LEDGER_COLUMNS})"  # noqa: S608 (constant)
                    f" VALUES ({', '.join('?' * 19)})",
                    [
                        (*v[:18], _sqlite_time(m.created_at))
                        for m, a in plan.deliveries
                        for v in (ledger_row(m, a),)
                    ],
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return plan.finish()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._checkpoint is not None:
            await asyncio.wait([self._checkpoint])

        def shut() -> None:
            if self._waiting_conn is not None:
                self._waiting_conn.close()
                self._waiting_conn = None

        await asyncio.get_running_loop().run_in_executor(self._pool, shut)
        self._pool.shutdown(wait=True)
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _sqlite_busy(exc: sqlite3.OperationalError) -> bool:
    """SQLite's write lock is held elsewhere (SQLITE_BUSY or SQLITE_LOCKED, any extended)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        return "locked" in str(exc)
    return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


#: How the writer's connection shows in pg_stat_activity.
WRITER_APPLICATION_NAME = "desk-message-writer"

#: Consultations whose row the PostgreSQL writer remembers (state, reader, assignee, seqs).
HOLDER_MEMORY = 20_000

#: Finds the batch's consultations and the stored messages matching its client ids: rows
#: tagged ``h`` (holder) and ``m`` (stored message). ``{lock}`` is `` FOR UPDATE`` (locked in
#: id order, inside a transaction) or empty (a plain read before a guarded write).
_PG_READ_TEMPLATE = (
    "WITH h AS ("
    " SELECT id, state, reader_id, assignee_id, last_seq, last_reader_seq, last_staff_seq"
    " FROM consultations WHERE id = ANY($1::int[]) ORDER BY id{lock})"
    " SELECT 'h' AS tag, h.id AS cid, h.state, h.reader_id, h.assignee_id, h.last_seq,"
    " h.last_reader_seq, h.last_staff_seq, NULL::int AS seq, NULL::text AS client_msg_id,"
    " NULL::text AS author_kind,"
    " NULL::int AS author_id, NULL::text AS visibility, NULL::text AS body,"
    " NULL::timestamptz AS created_at, NULL::text AS attachment FROM h"
    " UNION ALL"
    " SELECT 'm', m.consultation_id, NULL, c.reader_id, c.assignee_id, NULL, NULL, NULL,"
    " m.seq,"
    " m.client_msg_id, m.author_kind, m.author_id, m.visibility, m.body, m.created_at,"
    " m.attachment::text"
    " FROM messages m JOIN consultations c ON c.id = m.consultation_id"
    " JOIN unnest($2::int[], $3::text[]) AS k(cid, cmid)"
    " ON m.consultation_id = k.cid AND m.client_msg_id = k.cmid"
)
_PG_READ = _PG_READ_TEMPLATE.format(lock=" FOR UPDATE")
_PG_PEEK = _PG_READ_TEMPLATE.format(lock="")

#: Inserts the messages ``$1``..``$9`` (column arrays, ``c2`` the seq); ``{join}`` may keep
#: some of them out, and ``{seq}`` move their seqs.
_PG_INSERT_MESSAGES = (
    " INSERT INTO messages (consultation_id, seq, client_msg_id, author_kind, author_id,"
    " visibility, body, created_at, attachment)"
    " SELECT c1, {seq}, c3, c4, c5, c6, c7, c8, c9::json FROM unnest($1::int[], $2::int[],"
    " $3::text[], $4::text[], $5::int[], $6::text[], $7::text[], $8::timestamptz[],"
    " $9::text[]) AS v(c1, c2, c3, c4, c5, c6, c7, c8, c9){join}"
)

#: Inside the locked transaction: one round trip that moves the seqs and inserts.
_PG_WRITE = (
    "WITH moved AS ("  # noqa: S608 (constants only)
    " UPDATE consultations SET last_seq = v.seq, last_reader_seq = v.r, last_staff_seq = v.s"
    " FROM unnest($10::int[], $11::int[], $12::int[], $13::int[]) AS v(id, seq, r, s)"
    " WHERE consultations.id = v.id)" + _PG_INSERT_MESSAGES.format(seq="c2", join="")
)

#: The types of the ledger's columns, in LEDGER_COLUMNS order.
_LEDGER_TYPES = (
    "int[]", "int[]", "text[]", "text[]", "int[]", "int[]", "int[]", "int[]", "text[]",
    "bigint[]", "text[]", "text[]", "text[]", "text[]", "text[]", "text[]", "int[]", "text[]",
    "timestamptz[]",
)  # fmt: skip


def _ledger_arrays(first: int) -> str:
    return ", ".join(f"${n}::{t}" for n, t in enumerate(_LEDGER_TYPES, start=first))


#: The ledger rows of a batch's deliveries (only batches that carry files or links).
_PG_LEDGER = (
    f"INSERT INTO delivery_ledger ({LEDGER_COLUMNS})"  # noqa: S608 (constant)
    f" SELECT * FROM unnest({_ledger_arrays(1)})"
)

#: The ledger's columns as the guarded write selects them: each row's seq moved with its
#: message's.
_LEDGER_SHIFTED = ", ".join(
    "l.seq + moved.shift" if c.strip() == "seq" else f"l.{c.strip()}"
    for c in LEDGER_COLUMNS.split(",")
)

#: The guarded write, a statement and so a transaction of its own (one round trip, commit
#: included). Each consultation moves from the state, reader and assignee the plan was made
#: from, or not at all; its messages (and deliveries) go in only if it moved. The plan's seqs
#: follow the ``last_seq`` it was made from (``was``); where another node has stored messages
#: since, PostgreSQL moves the batch's seqs past them (``shift``, returned). The rows are
#: locked in id order first, as everywhere, so two nodes never deadlock, and the UPDATE reads
#: each row's latest seqs under that lock. Each side's last seq moves to the plan's (``r``,
#: ``s``, shifted), or stays where the batch has nothing for that side (NULL). Returns the
#: consultations that moved, with their shifts and each side's last seq before the batch (the
#: lock's view of the row: what the batch's first message of each side follows).
_PG_GUARDED_TEMPLATE = (
    "WITH locked AS MATERIALIZED ("  # noqa: S608 (constants only)
    " SELECT id, last_reader_seq, last_staff_seq FROM consultations"
    " WHERE id = ANY($10::int[]) ORDER BY id FOR UPDATE),"
    " moved AS ("
    " UPDATE consultations AS c SET last_seq = c.last_seq + g.seq - g.was,"
    " last_reader_seq = COALESCE(g.r + c.last_seq - g.was, c.last_reader_seq),"
    " last_staff_seq = COALESCE(g.s + c.last_seq - g.was, c.last_staff_seq)"
    " FROM unnest($10::int[], $11::int[], $12::int[], $13::text[], $14::int[], $15::int[],"
    " $16::int[], $17::int[]) AS g(id, seq, was, state, reader_id, assignee_id, r, s), locked"
    " WHERE c.id = g.id AND locked.id = g.id AND c.state = g.state"
    " AND c.reader_id = g.reader_id AND c.assignee_id IS NOT DISTINCT FROM g.assignee_id"
    " RETURNING c.id, c.last_seq - g.seq AS shift, locked.last_reader_seq AS r,"
    " locked.last_staff_seq AS s),"
    " ins AS ("
    + _PG_INSERT_MESSAGES.format(seq="c2 + moved.shift", join=" JOIN moved ON moved.id = v.c1")
    + "){ledger}"
    " SELECT id, shift, r, s FROM moved"
)
_PG_GUARDED = _PG_GUARDED_TEMPLATE.format(ledger="")
_PG_GUARDED_WITH_LEDGER = _PG_GUARDED_TEMPLATE.format(
    ledger=(
        f", led AS (INSERT INTO delivery_ledger ({LEDGER_COLUMNS})"  # noqa: S608 (constant)
        f" SELECT {_LEDGER_SHIFTED} FROM unnest({_ledger_arrays(18)}) AS l({LEDGER_COLUMNS})"
        " JOIN moved ON moved.id = l.consultation_id)"
    )
)


#: After a link failure with a guarded write in flight: the messages of the batch's
#: consultations stored after the seqs its plan started from, with the batch's time. A batch's
#: messages all carry the time it was planned at, to the microsecond.
_PG_CHECK = (
    "SELECT m.consultation_id, m.seq, m.client_msg_id, m.author_kind, m.author_id, m.body"
    " FROM messages m JOIN unnest($1::int[], $2::int[]) AS k(cid, was)"
    " ON m.consultation_id = k.cid AND m.seq > k.was"
    " WHERE m.created_at = $3 ORDER BY m.consultation_id, m.seq"
)


def _in(values: Sequence[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


#: After a link failure, for the consultations whose batch was stored: the seq each side was
#: last shown before the batch's first message (``first``).
_PG_SIDES = (
    "SELECT k.cid,"  # noqa: S608 (constants only)
    " (SELECT COALESCE(MAX(m.seq), 0) FROM messages m WHERE m.consultation_id = k.cid"
    f" AND m.seq < k.first AND m.visibility IN ({_in(READER_SEES)})) AS r,"
    " (SELECT COALESCE(MAX(m.seq), 0) FROM messages m WHERE m.consultation_id = k.cid"
    f" AND m.seq < k.first AND m.visibility IN ({_in(STAFF_SEES)})) AS s"
    " FROM unnest($1::int[], $2::int[]) AS k(cid, first)"
)


def _parse_read(rows: Sequence[Any]) -> tuple[list[StoredMessage], list[Holder]]:
    stored = [
        StoredMessage(
            r["cid"],
            r["seq"],
            r["client_msg_id"],
            r["author_kind"],
            r["author_id"],
            r["visibility"],
            r["body"],
            r["created_at"],
            r["reader_id"],
            r["assignee_id"],
            attachment=_attachment(r["attachment"]),
        )
        for r in rows
        if r["tag"] == "m"
    ]
    holders = [
        Holder(
            r["cid"],
            r["state"],
            r["reader_id"],
            r["assignee_id"],
            r["last_seq"],
            r["last_reader_seq"],
            r["last_staff_seq"],
        )
        for r in rows
        if r["tag"] == "h"
    ]
    return stored, holders


def _in_doubt(exc: BaseException, pg: Any) -> bool:
    """Whether a failed statement may still have been applied: the link failed, or the
    server ended the session, rather than PostgreSQL refusing the statement."""
    import asyncpg

    if pg.is_closed() or not isinstance(exc, asyncpg.PostgresError):
        return True
    return isinstance(exc, asyncpg.PostgresConnectionError | asyncpg.OperatorInterventionError)


def _settled(results: Sequence[Result | None]) -> list[Result]:
    return [r if r is not None else DeskError("not stored", code="store_failed") for r in results]


def _columns(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows to the column arrays that ``unnest`` takes."""
    return [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]


class AsyncpgWriter:
    """Batches over one asyncpg connection of the writer's own, mostly in one round trip.

    Each await of a round trip costs a turn of the event loop, and on a busy node a turn is
    what a batch waits for; PostgreSQL commits one batch at a time per node, so every turn a
    batch waits, the next batch waits too. A connection from SQLAlchemy's pool cost a
    pre-ping, a reset and its checkout on every batch. So the writer talks to asyncpg itself,
    and plans each batch from what it remembers of its consultations (their last ``seq``,
    state, reader and assignee, as of its own last write or read):

    1. From memory: one guarded statement writes the batch and commits. Where another node
       stored messages meanwhile (the reader on one node, the consultant on the other),
       PostgreSQL gives the batch's messages the seqs after them. A consultation that was
       transferred, closed or reassigned meanwhile does not move, and none of its messages
       go in.
    2. Those, and consultations the writer does not know or would refuse, are read afresh
       (with the stored messages matching their client ids: retries) and written under the
       guard again: two round trips.
    3. What still conflicts is written the safe slow way: BEGIN, the rows locked in id order,
       the write, COMMIT. So is a batch whose guarded write hit a client id stored meanwhile
       (a retry this writer had not seen, perhaps stored through another node).

    The guard is checked by PostgreSQL under the rows' locks, so memory only ever saves round
    trips: it never decides who may post, and a refusal is always made from a fresh read.
    """

    def __init__(self, engine: Any, now: Now) -> None:
        self._now = now
        url = engine.url.set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._conn: Any = None
        self._known: OrderedDict[int, Holder] = OrderedDict()
        #: Whether the current batch got as far as sending what commits it.
        self.committing = False
        #: Batches by how far they went (1, 2 or 3 above), for tests and the bench.
        self.paths: Counter[str] = Counter()
        #: Guarded writes whose seqs PostgreSQL moved past another node's messages.
        self.shifted = 0

    async def _connection(self) -> Any:
        import asyncpg

        if self._conn is None or self._conn.is_closed():
            self._conn = await asyncpg.connect(
                self._dsn,
                server_settings={
                    "application_name": WRITER_APPLICATION_NAME,
                    # A long-lived connection keeps its prepared statements, and PostgreSQL
                    # switches one to a generic plan after five runs. Made while the messages
                    # table was small, that plan scans the whole table for the client ids
                    # (measured: the writer's backend at 70 % CPU within a minute of load).
                    # Planned with each batch's own values, the lookups stay on the indexes.
                    # A kept plan of the guarded write would save its planning only while the
                    # tables are small (`bench/pg_writer.py`).
                    "plan_cache_mode": "force_custom_plan",
                },
            )
        return self._conn

    async def write(self, drafts: Sequence[Draft]) -> list[Result]:
        try:
            return await self._write_once(drafts)
        except Exception:
            # The connection went away (a PostgreSQL restart, a dropped link, a terminated
            # backend): _abandon could not roll back and dropped it. Before the commit was
            # sent nothing was written, so once more on a new connection. A loss during the
            # commit is left to the caller, since the batch may have been stored.
            if self._conn is not None or self.committing:
                raise
            return await self._write_once(drafts)

    async def _write_once(self, drafts: Sequence[Draft]) -> list[Result]:
        self.committing = False
        results: list[Result | None] = [None] * len(drafts)
        todo = list(range(len(drafts)))
        try:
            for fresh in (False, True):
                todo = await self._guarded(drafts, todo, results, fresh=fresh)
                if not todo:
                    self.paths["read" if fresh else "remembered"] += 1
                    return _settled(results)
            self.paths["locked"] += 1
            sub = [drafts[i] for i in todo]
            pg = await self._connection()
            for i, res in zip(todo, await self._locked(pg, sub), strict=True):
                results[i] = res
        except BaseException as exc:
            for d in drafts:
                self._known.pop(d.consultation_id, None)
            if self._conn is not None:
                await self._abandon(self._conn, exc)
            raise
        return _settled(results)

    def _remember(self, holder: Holder) -> None:
        self._known[holder.id] = holder
        self._known.move_to_end(holder.id)
        if len(self._known) > HOLDER_MEMORY:
            self._known.popitem(last=False)

    async def _guarded(
        self,
        drafts: Sequence[Draft],
        todo: list[int],
        results: list[Result | None],
        *,
        fresh: bool,
    ) -> list[int]:
        """Writes ``todo`` under the guard, from memory or after a plain read; fills in
        ``results`` for what is settled and returns the indices still to write."""
        import asyncpg

        sub = [drafts[i] for i in todo]
        cids = sorted({d.consultation_id for d in sub})
        plan = Plan(sub)
        if fresh:
            keys = plan.retry_keys()
            pg = await self._connection()
            got = await pg.fetch(_PG_PEEK, cids, [k[0] for k in keys], [k[1] for k in keys])
            stored, read = _parse_read(got)
            for h in read:
                self._remember(h)
            needed = set(plan.with_stored(stored))
            holders = [h for h in read if h.id in needed]
        else:
            if any(c not in self._known for c in cids):
                return todo
            holders = [self._known[c] for c in plan.with_stored([])]
        now = self._now()
        rows, moved = plan.assign(holders, now)
        if not fresh and any(isinstance(r, DeskError) for r in plan.results):
            return todo  # a refusal is only ever made from a fresh read
        #: The consultations that moved, each with how far PostgreSQL moved its seqs and where
        #: each side stood before.
        ok: dict[int, Found] = {}
        if moved:
            was = {h.id: h for h in holders}
            guard = sorted(moved)

            def changed(new: int, old: int) -> int | None:
                return None if new == old else new

            args: list[Any] = [
                *_columns([insert_row(r) for r in rows], 9),
                [m.id for m in guard],
                [m.last_seq for m in guard],
                [was[m.id].last_seq for m in guard],
                [was[m.id].state for m in guard],
                [was[m.id].reader_id for m in guard],
                [was[m.id].assignee_id for m in guard],
                [changed(m.last_reader_seq, was[m.id].last_reader_seq) for m in guard],
                [changed(m.last_staff_seq, was[m.id].last_staff_seq) for m in guard],
            ]
            sql = _PG_GUARDED
            if plan.deliveries:
                sql = _PG_GUARDED_WITH_LEDGER
                args += _columns([ledger_row(m, a) for m, a in plan.deliveries], 19)
            pg = await self._connection()
            self.committing = True
            try:
                ok = {
                    r["id"]: Found(r["shift"], r["r"], r["s"]) for r in await pg.fetch(sql, *args)
                }
            except asyncpg.UniqueViolationError:
                # A client id stored since (a retry stored through another node, or racing
                # in at once): nothing of this statement was applied; the locked path reads
                # the stored message and answers the retry with it.
                self.committing = False
                for cid in cids:
                    self._known.pop(cid, None)
                return todo
            except Exception as exc:
                if not _in_doubt(exc, pg):
                    raise
                # The link failed with the commit in flight: look on a new connection.
                pg.terminate()
                self._conn = None
                ok = await self._applied(rows, was, now)
            self.committing = False
            if any(f.shift for f in ok.values()):
                self.shifted += 1
            # Where PostgreSQL found other messages (or, should memory have been wrong, other
            # sides' seqs) than the plan assumed, the batch follows what it found.
            marks = {m.id: m for m in guard}
            marks.update(
                plan.shift(
                    {
                        cid: f
                        for cid, f in ok.items()
                        if f != Found(0, was[cid].last_reader_seq, was[cid].last_staff_seq)
                    }
                )
            )
            for m in guard:
                if m.id in ok:
                    self._remember(
                        was[m.id]._replace(
                            last_seq=marks[m.id].last_seq,
                            last_reader_seq=marks[m.id].last_reader_seq,
                            last_staff_seq=marks[m.id].last_staff_seq,
                        )
                    )
                else:
                    self._known.pop(m.id, None)
        conflicted = {m.id for m in moved} - ok.keys()
        left = []
        for i, res in zip(todo, plan.finish(), strict=True):
            if drafts[i].consultation_id in conflicted:
                left.append(i)
            else:
                results[i] = res
        return left

    async def _applied(
        self, rows: Sequence[StoredMessage], was: dict[int, Holder], at: datetime
    ) -> dict[int, Found]:
        """The consultations whose planned rows are stored (a statement is all or nothing, but
        each consultation's guard holds or fails on its own), each with the shift its seqs
        were stored at (the planned rows, in order, after the planned ``last_seq``, with the
        batch's time) and each side's last seq before them."""
        planned: dict[int, list[StoredMessage]] = defaultdict(list)
        for m in rows:
            planned[m.consultation_id].append(m)
        cids = sorted(planned)
        pg = await self._connection()
        found: dict[int, dict[int, Any]] = defaultdict(dict)
        for r in await pg.fetch(_PG_CHECK, cids, [was[c].last_seq for c in cids], at):
            found[r["consultation_id"]][r["seq"]] = r

        def same(r: Any, m: StoredMessage) -> bool:
            return r is not None and (
                r["client_msg_id"],
                r["author_kind"],
                r["author_id"],
                r["body"],
            ) == (m.client_msg_id, m.author_kind, m.author_id, m.body)

        applied: dict[int, int] = {}
        for cid, mine in planned.items():
            there = found[cid]
            for seq in there:
                by = seq - mine[0].seq
                if by >= 0 and all(same(there.get(m.seq + by), m) for m in mine):
                    applied[cid] = by
                    break
        if not applied:
            return {}
        ids = sorted(applied)
        sides = await pg.fetch(_PG_SIDES, ids, [planned[c][0].seq + applied[c] for c in ids])
        return {r["cid"]: Found(applied[r["cid"]], r["r"], r["s"]) for r in sides}

    async def _locked(self, pg: Any, drafts: Sequence[Draft]) -> list[Result]:
        plan = Plan(drafts)
        keys = plan.retry_keys()
        cids = sorted({d.consultation_id for d in drafts})
        for cid in cids:
            self._known.pop(cid, None)
        await pg.execute("BEGIN")
        got = await pg.fetch(_PG_READ, cids, [k[0] for k in keys], [k[1] for k in keys])
        stored, read = _parse_read(got)
        needed = set(plan.with_stored(stored))
        holders = [h for h in read if h.id in needed]
        rows, moved = plan.assign(holders, self._now())
        if rows or moved:
            await pg.execute(
                _PG_WRITE,
                *_columns([insert_row(r) for r in rows], 9),
                [m.id for m in moved],
                [m.last_seq for m in moved],
                [m.last_reader_seq for m in moved],
                [m.last_staff_seq for m in moved],
            )
        if plan.deliveries:
            await pg.execute(
                _PG_LEDGER, *_columns([ledger_row(m, a) for m, a in plan.deliveries], 19)
            )
        self.committing = True
        await pg.execute("COMMIT")
        self.committing = False
        return plan.finish()

    async def _abandon(self, pg: Any, exc: BaseException) -> None:
        """After a failure: roll back, or drop a connection that failed or cannot roll back
        (the next batch opens a new one)."""
        if not _in_doubt(exc, pg):
            try:
                if pg.is_in_transaction():
                    await pg.execute("ROLLBACK")
                return
            except Exception:  # noqa: S110 (dropped below)
                pass
        pg.terminate()
        self._conn = None

    async def close(self) -> None:
        if self._conn is not None and not self._conn.is_closed():
            await self._conn.close()
        self._conn = None


def writer_for(engine: Any, now: Now = lambda: datetime.now(UTC)) -> Writer:
    """The writer for the engine's database; ``now`` gives the messages' time (the desk's
    clock, which tests move)."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return SqliteWriter(url.database or ":memory:", now)
    if url.get_backend_name() == "postgresql":
        return AsyncpgWriter(engine, now)
    raise ValueError(f"no message writer for {url.get_backend_name()}")
