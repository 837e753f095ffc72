"""Readers' data kept no longer than needed: anonymisation after the retention period, and
erasure on a reader's request. The statistics survive both: consultations keep their
library, language, state and times, the ledger keeps its counts and titles.

- **Anonymisation** (a scheduled job, once across nodes): a consultation that ended more than
  ``DESK_TRANSCRIPT_RETENTION_DAYS`` ago has the personal data in its messages masked in place,
  its ticket's contact address and the reader's link removed, its files' ledger rows unlinked
  from the reader; a reader with nothing newer loses their tokens, address and name.
- **Erasure** (a supervisor, at the reader's request): everything the reader wrote is replaced
  by a notice, the rest masked, their uploaded files removed, their identity cleared; audited.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import delete, func, select, update

from desk.actions.consultations import timestamp
from desk.context import Desk
from desk.delivery.actions import mark_purged_messages
from desk.directory import ConsultantInfo
from desk.models import Consultation, LedgerEntry, Reader, ReaderToken, Ticket
from transcripts import audit, privacy
from transcripts.index import ENDED, index_consultation
from transcripts.models import Message

log = logging.getLogger(__name__)

#: Consultations one anonymisation pass handles at most.
PASS_LIMIT = 500
ERASED = "〔已应读者要求删除 · erased at the reader's request〕"
ANONYMISED_LINK = "〔链接已在保存期满后删除 · link removed after the retention period〕"


async def _scrub(
    desk: Desk, consultation_id: int, *, erase_reader_words: bool, now: datetime
) -> None:
    """Mask (or erase) one consultation's messages, ticket and ledger links in one commit."""
    async with desk.sessions.begin() as s:
        rows = (
            await s.execute(
                select(Message.id, Message.author_kind, Message.visibility, Message.body).where(
                    Message.consultation_id == consultation_id
                )
            )
        ).all()
        for mid, kind, visibility, body in rows:
            if visibility == "reader":
                new = ANONYMISED_LINK
            elif kind == "reader" and erase_reader_words:
                new = ERASED
            elif kind in ("reader", "consultant"):
                new = privacy.mask(body)
            else:
                continue
            if new != body:
                await s.execute(update(Message).where(Message.id == mid).values(body=new))
        ticket = await s.scalar(select(Ticket).where(Ticket.consultation_id == consultation_id))
        if ticket is not None:
            ticket.contact_email = None
            ticket.question = ERASED if erase_reader_words else privacy.mask(ticket.question)
            ticket.transcript = [
                {
                    **m,
                    "body": ERASED
                    if erase_reader_words and m.get("author_kind") == "reader"
                    else privacy.mask(str(m.get("body", ""))),
                }
                for m in ticket.transcript or []
            ]
            # The reader's link no longer opens the page.
            ticket.link_hash = f"anonymised-{ticket.id}"
        await s.execute(
            update(LedgerEntry)
            .where(LedgerEntry.consultation_id == consultation_id)
            .values(reader_id=None)
        )
        await s.execute(
            update(Consultation).where(Consultation.id == consultation_id).values(anonymised_at=now)
        )
    await index_consultation(desk, consultation_id)


async def _forget_reader(desk: Desk, reader_id: int) -> None:
    async with desk.sessions.begin() as s:
        await s.execute(delete(ReaderToken).where(ReaderToken.reader_id == reader_id))
        await s.execute(
            update(Reader)
            .where(Reader.id == reader_id)
            .values(email=None, display_name="", password_hash=None)
        )


async def anonymise_expired(desk: Desk, limit: int = PASS_LIMIT) -> int:
    now = timestamp(desk.clock.now())
    cutoff = timestamp(desk.clock.now() - desk.settings.transcript_retention_days * 86400)
    async with desk.reads() as s:
        rows = (
            await s.execute(
                select(Consultation.id, Consultation.reader_id)
                .where(
                    Consultation.state.in_(ENDED),
                    Consultation.anonymised_at.is_(None),
                    Consultation.ended_at < cutoff,
                )
                .order_by(Consultation.id)
                .limit(limit)
            )
        ).all()
    readers: set[int] = set()
    for cid, reader_id in rows:
        await _scrub(desk, cid, erase_reader_words=False, now=now)
        readers.add(reader_id)
    for reader_id in readers:
        async with desk.reads() as s:
            newer = await s.scalar(
                select(func.count())
                .select_from(Consultation)
                .where(
                    Consultation.reader_id == reader_id,
                    Consultation.anonymised_at.is_(None),
                )
            )
        if not newer:
            async with desk.reads() as s:
                kind = await s.scalar(select(Reader.kind).where(Reader.id == reader_id))
            # A visitor is only their token; an account is the reader's own to close.
            if kind == "visitor":
                await _forget_reader(desk, reader_id)
    if rows:
        await audit.record(desk, None, "anonymise", count=len(rows))
        log.info("anonymised consultations", extra={"consultations": len(rows)})
    return len(rows)


async def erase_reader(desk: Desk, reader_id: int, *, who: ConsultantInfo, reason: str) -> int:
    """Erase one reader's data everywhere; returns how many consultations it touched."""
    now = timestamp(desk.clock.now())
    async with desk.reads() as s:
        chats = (
            await s.execute(
                select(Consultation.id, Consultation.library_id, Consultation.state).where(
                    Consultation.reader_id == reader_id
                )
            )
        ).all()
        tickets = (
            await s.scalars(
                select(Ticket.id).where(
                    Ticket.reader_id == reader_id, Ticket.consultation_id.is_(None)
                )
            )
        ).all()
        uploads = (
            await s.scalars(
                select(LedgerEntry.sha256).where(
                    LedgerEntry.reader_id == reader_id,
                    LedgerEntry.direction == "from_reader",
                    LedgerEntry.kind == "file",
                    LedgerEntry.file_purged_at.is_(None),
                )
            )
        ).all()
    for cid, _library, _state in chats:
        await _scrub(desk, cid, erase_reader_words=True, now=now)
    async with desk.sessions.begin() as s:
        for tid in tickets:
            t = await s.get(Ticket, tid)
            if t is not None:
                t.question, t.contact_email, t.link_hash = ERASED, None, f"erased-{tid}"
        # What the reader sent is theirs: the stored files go now (a file a consultant also
        # delivered stays for that delivery).
        for sha in set(uploads):
            await s.execute(
                update(LedgerEntry)
                .where(LedgerEntry.sha256 == sha, LedgerEntry.direction == "from_reader")
                .values(file_purged_at=now, reader_id=None)
            )
    for sha in set(uploads):
        async with desk.reads() as s:
            used = await s.scalar(
                select(LedgerEntry.id)
                .where(LedgerEntry.sha256 == sha, LedgerEntry.file_purged_at.is_(None))
                .limit(1)
            )
        if used is None:
            aside = await desk.files.set_aside(sha)
            if aside is not None:
                await desk.files.drop(aside)
        await mark_purged_messages(desk, sha)
    await _forget_reader(desk, reader_id)
    libraries: list[int | None] = [*sorted({lib for _, lib, _ in chats})]
    if not libraries:
        libraries = [None]
    for lib in libraries:
        await audit.record(
            desk,
            who,
            "erase",
            library_id=lib,
            reader_id=reader_id,
            reason=reason,
            consultations=[c for c, lb, _ in chats if lb == lib],
        )
    return len(chats)
