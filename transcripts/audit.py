"""The audit log: every view of a reader's data by staff, recorded as it happens."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from desk.actions.consultations import timestamp
from desk.context import Desk
from desk.directory import ConsultantInfo
from transcripts.models import AuditEntry


def entry(
    desk: Desk,
    who: ConsultantInfo | None,
    action: str,
    *,
    consultation_id: int | None = None,
    library_id: int | None = None,
    **detail: Any,
) -> AuditEntry:
    return AuditEntry(
        at=timestamp(desk.clock.now()),
        consultant_id=who.id if who else None,
        action=action,
        consultation_id=consultation_id,
        library_id=library_id,
        detail=detail,
    )


async def record(
    desk: Desk,
    who: ConsultantInfo | None,
    action: str,
    *,
    consultation_id: int | None = None,
    library_id: int | None = None,
    session: AsyncSession | None = None,
    detail: dict[str, Any] | None = None,
    **more: Any,
) -> None:
    """Write one audit row (in ``session``'s transaction when given); ``detail`` and any
    other keywords make its detail."""
    row = entry(
        desk,
        who,
        action,
        consultation_id=consultation_id,
        library_id=library_id,
        **(detail or {}),
        **more,
    )
    if session is not None:
        session.add(row)
        return
    async with desk.sessions.begin() as s:
        s.add(row)
