"""Who on the staff sees which transcripts, and who may see the personal data in them.

- a consultant (or trainee): the chats they served, and their library's (as the readers'
  library or the serving one);
- a library's supervisor: that library's;
- an admin (the alliance's supervisors): all;
- a quality inspector (质检员, whatever their role): all, to grade them, masked unless their
  role lets them reveal.

Transcripts are shown with personal data masked to everyone. The consultant who served a
chat, the supervisors who see it, and admins may reveal it, giving a reason; every opening,
reveal and export is written to the audit log (``transcripts.audit``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, or_, select

from desk.context import Desk
from desk.directory import ConsultantInfo
from desk.errors import Forbidden
from desk.models import AssignmentRecord
from transcripts.models import TranscriptDoc


def _served(who: ConsultantInfo) -> Any:
    return exists(
        select(AssignmentRecord.id).where(
            AssignmentRecord.consultation_id == TranscriptDoc.consultation_id,
            AssignmentRecord.consultant_id == who.id,
        )
    )


def scope(who: ConsultantInfo) -> Any:
    """A condition on ``TranscriptDoc`` for what ``who`` may see, or None for everything."""
    if who.role == "admin" or who.inspector:
        return None
    library = or_(
        TranscriptDoc.library_id == who.library_id,
        TranscriptDoc.serving_library_id == who.library_id,
    )
    if who.role == "supervisor":
        return library
    return or_(library, TranscriptDoc.consultant_id == who.id, _served(who))


async def served(desk: Desk, who: ConsultantInfo, consultation_id: int) -> bool:
    async with desk.reads() as s:
        hit = await s.scalar(
            select(AssignmentRecord.id)
            .where(
                AssignmentRecord.consultation_id == consultation_id,
                AssignmentRecord.consultant_id == who.id,
            )
            .limit(1)
        )
    return hit is not None


async def may_reveal(desk: Desk, who: ConsultantInfo, doc: TranscriptDoc) -> bool:
    if who.role == "admin":
        return True
    if who.role == "supervisor":
        return who.library_id in (doc.library_id, doc.serving_library_id)
    return doc.consultant_id == who.id or await served(desk, who, doc.consultation_id)


def supervisor(who: ConsultantInfo) -> None:
    if who.role not in ("supervisor", "admin"):
        raise Forbidden("only supervisors and admins", code="forbidden")
