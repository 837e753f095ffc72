"""Finished consultations become search documents: their facts, their masked text, and their
entry in the full-text index, written together in one transaction.

A chat is indexed when it ends (a listener starts it off the ending's path) and by a
scheduled pass that catches whatever that missed: a node that stopped, or messages stored
after the end (the hand-off notice). A document records the consultation's ``last_seq`` it
was built from, so the pass knows which ones are out of date.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import or_, select

from desk.bus import EventBus
from desk.context import Desk
from desk.db import utcnow
from desk.events import ConsultationEnded
from desk.models import Consultation
from transcripts import privacy, search
from transcripts.models import Message, TranscriptDoc

log = logging.getLogger(__name__)

ENDED = ("closed", "abandoned", "handed_off")
#: Consultations one scheduled pass indexes at most.
PASS_LIMIT = 500


async def public_values(desk: Desk) -> frozenset[str]:
    """What looks like personal data but is public: the member libraries' own phones."""
    return frozenset(x.phone for x in (await desk.directory.libraries()).values() if x.phone)


def line(author_kind: str, body: str) -> str:
    return f"{author_kind}\t{body}"


async def index_consultation(desk: Desk, consultation_id: int) -> bool:
    """(Re)build one ended consultation's document; False when it has not ended."""
    async with desk.reads() as s:
        c = await s.get(Consultation, consultation_id)
        if c is None or c.state not in ENDED:
            return False
        rows = (
            await s.execute(
                select(Message.author_kind, Message.body)
                .where(
                    Message.consultation_id == consultation_id,
                    # The reader's own ticket link is theirs alone: never in staff views.
                    Message.visibility != "reader",
                )
                .order_by(Message.seq)
            )
        ).all()
    masked_lines = []
    personal = False
    keep = await public_values(desk)
    for kind, body in rows:
        masked = privacy.mask(body, keep) if kind in ("reader", "consultant") else body
        personal = personal or masked != body
        masked_lines.append(line(kind, masked))
    text = "\n".join(masked_lines)
    async with desk.sessions.begin() as s:
        doc = await s.get(TranscriptDoc, consultation_id)
        if doc is None:
            doc = TranscriptDoc(consultation_id=consultation_id, tags=[], rating=None)
            s.add(doc)
        doc.library_id = c.library_id
        doc.serving_library_id = c.serving_library_id
        doc.consultant_id = c.assignee_id
        doc.language = c.language
        doc.state = c.state
        doc.created_at = c.created_at
        doc.ended_at = c.ended_at
        doc.messages = c.last_seq
        doc.text = text
        doc.has_personal_data = personal and c.anonymised_at is None
        doc.indexed_at = utcnow()
        await s.flush()
        await search.put(await s.connection(), consultation_id, text)
    return True


async def index_pending(desk: Desk, limit: int = PASS_LIMIT) -> int:
    """Index the ended consultations without a document, or whose document is older than
    their last message."""
    async with desk.reads() as s:
        ids = (
            await s.scalars(
                select(Consultation.id)
                .outerjoin(TranscriptDoc, TranscriptDoc.consultation_id == Consultation.id)
                .where(
                    Consultation.state.in_(ENDED),
                    or_(
                        TranscriptDoc.consultation_id.is_(None),
                        TranscriptDoc.messages < Consultation.last_seq,
                    ),
                )
                .order_by(Consultation.id)
                .limit(limit)
            )
        ).all()
    done = 0
    for cid in ids:
        try:
            if await index_consultation(desk, cid):
                done += 1
        except Exception:
            log.exception("indexing a transcript failed", extra={"consultation": cid})
    return done


class Indexer:
    """Indexes a chat the moment it ends, off the ending's path."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    def attach(self, bus: EventBus) -> None:
        bus.subscribe(ConsultationEnded, self.on_ended)

    async def on_ended(self, e: ConsultationEnded) -> None:
        task = asyncio.get_running_loop().create_task(self._index(e.consultation.id))
        self.desk.background.add(task)
        task.add_done_callback(self.desk.background.discard)

    async def _index(self, consultation_id: int) -> None:
        try:
            await index_consultation(self.desk, consultation_id)
        except Exception:
            log.exception("indexing a transcript failed", extra={"consultation": consultation_id})
