"""Delivery actions: a consultant sends a document (a file or a link), a reader sends a file,
someone allowed fetches one, and the stored files past their retention are purged.

A file's ledger row is written by the message store in the same transaction as the message
that carries it (``Draft.attachment``), so every file that passes through a chat is in the
ledger exactly once: a retried upload with the same ``client_msg_id`` finds its message
stored and writes no second row.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, or_, select, update

from desk.actions.consultations import post_message, timestamp
from desk.context import Desk
from desk.delivery import files
from desk.delivery.storage import Received
from desk.directory import ConsultantInfo
from desk.errors import Conflict, Forbidden, Gone, InvalidPayload, NotFound
from desk.models import AssignmentRecord, Consultation, LedgerEntry, Library
from transcripts.records import Attachment, Draft, StoredMessage

log = logging.getLogger(__name__)

MAX_URL_CHARS = 2000


@dataclass(frozen=True, slots=True)
class Limits:
    max_bytes: int
    families: tuple[str, ...]

    def to_client(self) -> dict[str, Any]:
        return {
            "max_bytes": self.max_bytes,
            "types": list(self.families),
            "accept": files.extensions(self.families),
        }


@dataclass(frozen=True, slots=True)
class DocMeta:
    """A delivered document's bibliographic basics, as the consultant confirmed them."""

    title: str
    authors: str = ""
    source: str = ""
    year: int | None = None
    doc_type: str = ""


def limits_of(desk: Desk, raw: dict[str, Any] | None) -> Limits:
    """A library's stored limits, read leniently (a bad value falls back to the default) and
    never above the desk's own cap."""
    raw = raw or {}
    cap = desk.settings.max_upload_mb
    try:
        mb = int(raw.get("max_mb", files.DEFAULT_MAX_MB))
    except (TypeError, ValueError):
        mb = files.DEFAULT_MAX_MB
    mb = max(1, min(mb, cap))
    chosen = raw.get("types")
    families = (
        tuple(f for f in files.FAMILIES if f in chosen)
        if isinstance(chosen, list)
        else files.DEFAULT_FAMILIES
    )
    return Limits(mb * 1024 * 1024, families)


async def library_limits(desk: Desk, library_id: int) -> Limits:
    async with desk.reads() as s:
        raw = await s.scalar(select(Library.file_limits).where(Library.id == library_id))
    return limits_of(desk, raw)


async def _consultation(desk: Desk, consultation_id: int) -> Consultation:
    async with desk.reads() as s:
        c = await s.get(Consultation, consultation_id)
    if c is None:
        raise NotFound("no such consultation", code="consultation_not_found")
    return c


def check_meta(meta: DocMeta, *, title_required: bool) -> DocMeta:
    title = meta.title.strip()
    if title_required and not title:
        raise InvalidPayload("a delivered document needs its title", code="title_required")
    return DocMeta(title, meta.authors.strip(), meta.source.strip(), meta.year, meta.doc_type)


async def receive(
    desk: Desk, limits: Limits, name: str, chunks: AsyncIterator[bytes]
) -> tuple[Received, files.Kind]:
    kind = files.kind_of(name, limits.families)  # before a byte is read
    received = await desk.files.receive(
        chunks, max_bytes=limits.max_bytes, head_bytes=files.HEAD_BYTES
    )
    try:
        if received.size == 0:
            raise InvalidPayload("the file is empty", code="file_empty")
        files.check_content(kind, received.head, complete=received.size <= files.HEAD_BYTES)
    except BaseException:
        await desk.files.discard(received, unplace=False)
        raise
    return received, kind


async def _post_with_file(desk: Desk, draft: Draft, received: Received) -> StoredMessage:
    """Place the bytes, store the message with its ledger row, then keep the bytes (see
    ``desk.delivery.storage``); on a refusal nothing stays behind."""
    await desk.files.place(received)
    try:
        msg = await post_message(desk, draft)
    except BaseException:
        await desk.files.discard(received, unplace=not await in_ledger(desk, received.sha256))
        raise
    await desk.files.keep(received)
    return msg


async def in_ledger(desk: Desk, sha256: str) -> bool:
    async with desk.reads() as s:
        hit = await s.scalar(
            select(LedgerEntry.id)
            .where(LedgerEntry.sha256 == sha256, LedgerEntry.file_purged_at.is_(None))
            .limit(1)
        )
    return hit is not None


def _assigned_to(c: Consultation, who: ConsultantInfo) -> None:
    if c.assignee_id != who.id or c.state != "assigned":
        if c.state in ("closed", "abandoned", "handed_off"):
            raise Conflict(
                f"the consultation is {c.state}", code="consultation_ended", state=c.state
            )
        raise Forbidden("this chat is not assigned to you", code="not_assigned")


async def deliver_file(
    desk: Desk,
    consultation_id: int,
    who: ConsultantInfo,
    *,
    client_msg_id: str,
    meta: DocMeta,
    name: str,
    chunks: AsyncIterator[bytes],
) -> StoredMessage:
    """A consultant sends a document to the reader of a chat assigned to them."""
    c = await _consultation(desk, consultation_id)
    _assigned_to(c, who)
    meta = check_meta(meta, title_required=True)
    clean = files.clean_name(name)
    received, kind = await receive(desk, await library_limits(desk, c.library_id), clean, chunks)
    attachment = Attachment(
        kind="file",
        direction="to_reader",
        title=meta.title,
        name=clean,
        size=received.size,
        sha256=received.sha256,
        content_type=kind.content_type,
        authors=meta.authors,
        source=meta.source,
        year=meta.year,
        doc_type=meta.doc_type,
        consultant_id=who.id,
        serving_library_id=who.library_id,
        origin_library_id=c.library_id,
        reader_id=c.reader_id,
    )
    draft = Draft(
        consultation_id,
        "consultant",
        meta.title,
        author_id=who.id,
        client_msg_id=client_msg_id,
        as_assignee=who.id,
        attachment=attachment,
    )
    return await _post_with_file(desk, draft, received)


def check_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if (
        parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or len(url) > MAX_URL_CHARS
        or any(ch.isspace() for ch in url)
    ):
        raise InvalidPayload("a link is an http(s) address", code="bad_url")
    return url


async def deliver_link(
    desk: Desk,
    consultation_id: int,
    who: ConsultantInfo,
    *,
    client_msg_id: str,
    url: str,
    meta: DocMeta,
) -> StoredMessage:
    """A consultant delivers a document as a link; it is counted like a file."""
    c = await _consultation(desk, consultation_id)
    _assigned_to(c, who)
    meta = check_meta(meta, title_required=True)
    url = check_url(url)
    attachment = Attachment(
        kind="link",
        direction="to_reader",
        title=meta.title,
        url=url,
        authors=meta.authors,
        source=meta.source,
        year=meta.year,
        doc_type=meta.doc_type,
        consultant_id=who.id,
        serving_library_id=who.library_id,
        origin_library_id=c.library_id,
        reader_id=c.reader_id,
    )
    return await post_message(
        desk,
        Draft(
            consultation_id,
            "consultant",
            f"{meta.title}\n{url}",
            author_id=who.id,
            client_msg_id=client_msg_id,
            as_assignee=who.id,
            attachment=attachment,
        ),
    )


async def reader_file(
    desk: Desk,
    consultation_id: int,
    reader_id: int,
    *,
    client_msg_id: str,
    title: str,
    name: str,
    chunks: AsyncIterator[bytes],
) -> StoredMessage:
    """A reader sends a file (a screenshot, a citation list) into their own chat."""
    c = await _consultation(desk, consultation_id)
    if c.reader_id != reader_id:
        raise NotFound("no such consultation", code="consultation_not_found")
    if c.state not in ("waiting", "offered", "assigned"):
        raise Conflict(f"the consultation is {c.state}", code="consultation_ended", state=c.state)
    clean = files.clean_name(name)
    received, kind = await receive(desk, await library_limits(desk, c.library_id), clean, chunks)
    shown = title.strip()[:500] or clean
    attachment = Attachment(
        kind="file",
        direction="from_reader",
        title=shown,
        name=clean,
        size=received.size,
        sha256=received.sha256,
        content_type=kind.content_type,
        consultant_id=c.assignee_id,
        serving_library_id=c.serving_library_id,
        origin_library_id=c.library_id,
        reader_id=reader_id,
    )
    draft = Draft(
        consultation_id,
        "reader",
        shown,
        author_id=reader_id,
        client_msg_id=client_msg_id,
        as_reader=reader_id,
        attachment=attachment,
    )
    return await _post_with_file(desk, draft, received)


async def staff_may_see(desk: Desk, who: ConsultantInfo, c: Consultation) -> bool:
    """Staff allowed to see a consultation's files: whoever holds or held the chat, the
    supervisors of the reader's library and of the serving library, and the alliance's
    admins."""
    if who.role == "admin" or c.assignee_id == who.id:
        return True
    if who.role == "supervisor" and who.library_id in (c.library_id, c.serving_library_id):
        return True
    async with desk.reads() as s:
        held = await s.scalar(
            select(AssignmentRecord.id)
            .where(
                AssignmentRecord.consultation_id == c.id,
                AssignmentRecord.consultant_id == who.id,
            )
            .limit(1)
        )
    return held is not None


async def file_for_download(
    desk: Desk,
    consultation_id: int,
    seq: int,
    *,
    staff: ConsultantInfo | None = None,
    reader_id: int | None = None,
) -> tuple[LedgerEntry, Path]:
    """The stored file of the message ``seq``, for its reader or staff allowed to see it;
    anyone else is told it does not exist."""
    missing = NotFound("no such file", code="file_not_found")
    async with desk.reads() as s:
        row = (
            await s.execute(
                select(LedgerEntry, Consultation)
                .join(Consultation, Consultation.id == LedgerEntry.consultation_id)
                .where(LedgerEntry.consultation_id == consultation_id, LedgerEntry.seq == seq)
            )
        ).one_or_none()
    if row is None:
        raise missing
    entry, c = row
    if reader_id is not None:
        if c.reader_id != reader_id:
            raise missing
    elif staff is None or not await staff_may_see(desk, staff, c):
        raise missing
    if entry.kind != "file":
        raise missing
    if entry.file_purged_at is not None:
        raise Gone("the file was removed after the retention period", code="file_purged")
    path = desk.files.local_path(entry.sha256)
    if path is None:
        log.error("a delivered file is missing", extra={"consultation": consultation_id})
        raise missing
    return entry, path


async def purge_files(desk: Desk) -> int:
    """Remove the stored files whose last delivery is older than the retention period; the
    ledger rows stay (marked ``file_purged_at``). Returns how many files went.

    A new upload of the same bytes may race this: it links the file into place, commits its
    row, then moves its copy into place again. So a file is set aside first, the database is
    asked again, and it comes back if a delivery newer than the cut-off appeared meanwhile."""
    now = desk.clock.now()
    cutoff = timestamp(now - desk.settings.file_retention_days * 86400)
    live = LedgerEntry.file_purged_at.is_(None)
    async with desk.reads() as s:
        shas = (
            await s.scalars(
                select(LedgerEntry.sha256)
                .where(live, LedgerEntry.kind == "file", LedgerEntry.sha256 != "")
                .group_by(LedgerEntry.sha256)
                .having(func.max(LedgerEntry.created_at) < cutoff)
                .limit(1000)
            )
        ).all()
    gone = 0
    for sha in shas:
        aside = await desk.files.set_aside(sha)
        async with desk.sessions.begin() as s:
            fresh = await s.scalar(
                select(LedgerEntry.id)
                .where(LedgerEntry.sha256 == sha, live, LedgerEntry.created_at >= cutoff)
                .limit(1)
            )
            if fresh is None:
                await s.execute(
                    update(LedgerEntry)
                    .where(LedgerEntry.sha256 == sha, live)
                    .values(file_purged_at=timestamp(now))
                )
        if fresh is not None:
            if aside is not None:
                await desk.files.restore(sha, aside)
            continue
        if aside is not None:
            await desk.files.drop(aside)
        await mark_purged_messages(desk, sha)
        gone += 1
    if gone:
        log.info("purged delivered files", extra={"files": gone})
    return gone


async def mark_purged_messages(desk: Desk, sha256: str) -> None:
    """Say in the messages that carried a purged file that it is gone (``attachment.purged``),
    so clients need not ask."""
    from transcripts.models import Message

    async with desk.sessions.begin() as s:
        refs = (
            await s.execute(
                select(LedgerEntry.consultation_id, LedgerEntry.seq).where(
                    LedgerEntry.sha256 == sha256,
                    LedgerEntry.file_purged_at.is_not(None),
                    LedgerEntry.consultation_id.is_not(None),
                )
            )
        ).all()
        for cid, seq in refs:
            m = await s.scalar(
                select(Message).where(Message.consultation_id == cid, Message.seq == seq)
            )
            if m is not None and m.attachment is not None and not m.attachment.get("purged"):
                m.attachment = {**m.attachment, "purged": True}


def staff_scope(who: ConsultantInfo) -> Any:
    """The ledger rows a consultant may read: their own; a supervisor's, their library's (as
    the serving or the readers' library); an admin's, all."""
    if who.role == "admin":
        return None
    if who.role == "supervisor":
        return or_(
            LedgerEntry.serving_library_id == who.library_id,
            LedgerEntry.origin_library_id == who.library_id,
        )
    return LedgerEntry.consultant_id == who.id
