"""Consultants coming and going: presence, status, and their chats found again on return."""

from __future__ import annotations

from sqlalchemy import select

from desk.context import Desk
from desk.directory import ConsultantInfo
from desk.errors import InvalidPayload
from desk.events import PresenceChanged
from desk.models import Consultation
from desk.shared.base import STATUSES
from desk.states import HOLDING


async def held_in_db(desk: Desk, consultant_id: int) -> list[int]:
    async with desk.reads() as s:
        return list(
            (
                await s.scalars(
                    select(Consultation.id).where(
                        Consultation.assignee_id == consultant_id,
                        Consultation.state.in_([x.value for x in HOLDING]),
                    )
                )
            ).all()
        )


async def consultant_connected(desk: Desk, who: ConsultantInfo, status: str) -> None:
    if status not in STATUSES:
        raise InvalidPayload(f"unknown status {status!r}", code="invalid_status")
    now = desk.clock.now()
    await desk.state.put_presence(
        who.id,
        library_id=who.library_id,
        languages=who.languages,
        capacity=who.max_chats,
        status=status,
        now=now,
    )
    # Chats they still hold (a reload, a restart of the shared state) count against capacity.
    for cid in await held_in_db(desk, who.id):
        await desk.state.hold(cid, who.id, now)
    await desk.bus.publish(PresenceChanged(who.id, status, True))
    desk.request_routing()


async def set_status(desk: Desk, consultant_id: int, status: str) -> None:
    if status not in STATUSES:
        raise InvalidPayload(f"unknown status {status!r}", code="invalid_status")
    await desk.state.set_status(consultant_id, status, desk.clock.now())
    await desk.bus.publish(PresenceChanged(consultant_id, status, True))
    if status == "online":
        desk.request_routing()


async def consultant_disconnected(desk: Desk, consultant_id: int) -> None:
    await desk.state.set_disconnected(consultant_id, desk.clock.now())
    p = await desk.state.presence(consultant_id)
    await desk.bus.publish(PresenceChanged(consultant_id, p.status if p else "away", False))
