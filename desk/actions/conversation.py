"""Read marks and typing: small signals inside a chat, each authorised like a message."""

from __future__ import annotations

from sqlalchemy import select, update

from desk.context import Desk
from desk.errors import Forbidden, NotFound
from desk.events import ReadMarked, TypingChanged
from desk.models import Consultation


async def _holders(desk: Desk, consultation_id: int) -> tuple[int, int | None, str]:
    async with desk.reads() as s:
        row = (
            await s.execute(
                select(Consultation.reader_id, Consultation.assignee_id, Consultation.state).where(
                    Consultation.id == consultation_id
                )
            )
        ).first()
    if row is None:
        raise NotFound("no such consultation", code="consultation_not_found")
    return row[0], row[1], row[2]


async def authorise(
    desk: Desk,
    consultation_id: int,
    *,
    reader_id: int | None = None,
    consultant_id: int | None = None,
) -> tuple[int, int | None, str]:
    reader, assignee, state = await _holders(desk, consultation_id)
    if reader_id is not None and reader != reader_id:
        raise NotFound("no such consultation", code="consultation_not_found")
    if consultant_id is not None and (assignee != consultant_id or state == "offered"):
        raise Forbidden("this chat is not assigned to you", code="not_assigned")
    return reader, assignee, state


async def set_typing(
    desk: Desk,
    consultation_id: int,
    typing: bool,
    *,
    reader_id: int | None = None,
    consultant_id: int | None = None,
) -> None:
    reader, assignee, state = await authorise(
        desk, consultation_id, reader_id=reader_id, consultant_id=consultant_id
    )
    if state not in ("waiting", "offered", "assigned"):
        return
    kind = "reader" if reader_id is not None else "consultant"
    await desk.bus.publish(TypingChanged(consultation_id, reader, assignee, kind, typing))


async def mark_read(
    desk: Desk,
    consultation_id: int,
    seq: int,
    *,
    reader_id: int | None = None,
    consultant_id: int | None = None,
) -> int:
    reader, assignee, _ = await authorise(
        desk, consultation_id, reader_id=reader_id, consultant_id=consultant_id
    )
    side = "reader" if reader_id is not None else "staff"
    col = Consultation.reader_read_seq if side == "reader" else Consultation.staff_read_seq
    async with desk.sessions.begin() as s:
        # Read marks only move forward, and never past what exists.
        await s.execute(
            update(Consultation)
            .where(Consultation.id == consultation_id, col < seq, Consultation.last_seq >= seq)
            .values({col: seq})
        )
        current = await s.scalar(select(col).where(Consultation.id == consultation_id))
    value = int(current or 0)
    await desk.bus.publish(ReadMarked(consultation_id, reader, assignee, side, value))
    return value
