"""The knowledge base's records: the rules every write path shares (one entry per question and
language in a scope), and the function the typical-cases feature calls to publish a case.

A scope is a library (its own entries) or the alliance (``library_id`` None, every library's
readers see them). Questions are compared without case and with white space collapsed, so
"How do I renew?" and "how do I  renew?" are one entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from desk.context import Desk
from desk.db import utcnow
from desk.models import KbEntry


def question_key(language: str, question: str) -> tuple[str, str]:
    return language.strip().lower(), " ".join(question.split()).casefold()


def scope_of(e: KbEntry) -> str:
    return "alliance" if e.library_id is None else "library"


def to_client(e: KbEntry, *, editable: bool) -> dict[str, Any]:
    return {
        "id": e.id,
        "scope": scope_of(e),
        "language": e.language,
        "question": e.question,
        "answer": e.answer,
        "keywords": e.keywords,
        "source": e.source,
        "source_ref": e.source_ref,
        "active": e.active,
        "updated_at": e.updated_at.isoformat(),
        "editable": editable,
    }


def _in_scope(library_id: int | None) -> Any:
    col = KbEntry.library_id
    return col.is_(None) if library_id is None else col == library_id


async def entries_of(s: AsyncSession, library_id: int | None) -> list[KbEntry]:
    """Every entry of one scope (active or not), oldest first."""
    rows = await s.scalars(select(KbEntry).where(_in_scope(library_id)).order_by(KbEntry.id))
    return list(rows.all())


def by_question(entries: Iterable[KbEntry]) -> dict[tuple[str, str], KbEntry]:
    return {question_key(e.language, e.question): e for e in entries}


async def same_question(
    s: AsyncSession, library_id: int | None, language: str, question: str, *, but: int = 0
) -> KbEntry | None:
    """The scope's entry asking the same question in the same language, if any."""
    want = question_key(language, question)
    for e in await entries_of(s, library_id):
        if e.id != but and question_key(e.language, e.question) == want:
            return e
    return None


async def upsert_from_case(
    desk: Desk,
    *,
    library_id: int | None,
    language: str,
    question: str,
    answer: str,
    case_id: int,
) -> int:
    """Publish a typical case as a knowledge-base entry; returns the entry's id.

    The entry made from this case earlier is updated; otherwise an entry of the same scope that
    asks the same question takes the case's answer (a reviewed typical case is the better
    answer, and one question keeps one entry); otherwise a new entry is made. Other nodes'
    FAQ bots see the change within ``bots.faq.CHECK_SECONDS``.
    """
    now = utcnow()
    async with desk.sessions.begin() as s:
        entry = await s.scalar(
            select(KbEntry).where(
                _in_scope(library_id), KbEntry.source == "case", KbEntry.source_ref == case_id
            )
        )
        if entry is None:
            entry = await same_question(s, library_id, language, question)
        if entry is None:
            entry = KbEntry(library_id=library_id, keywords="", created_at=now)
            s.add(entry)
        entry.language = language
        entry.question = question.strip()[:500]
        entry.answer = answer
        entry.source = "case"
        entry.source_ref = case_id
        entry.active = True
        entry.updated_at = now
        entry.updated_by = None
        await s.flush()
        return entry.id
