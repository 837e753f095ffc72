"""Who hears what: every domain event's audience is decided here, in one place.

Rooms are per person (``reader:{id}``, ``staff:{id}``) and joined in the handshake, so an emit
reaches every socket of that person on any node (through the Socket.IO manager) and a reconnect
misses nothing between connecting and joining.
"""

from __future__ import annotations

from typing import Any

import socketio

from desk.bus import EventBus
from desk.context import Desk
from desk.events import (
    ConsultationAssigned,
    ConsultationEnded,
    ConsultationOffered,
    ConsultationQueued,
    ConsultationReleased,
    MessagePosted,
    OfferWithdrawn,
    PresenceChanged,
    ReadMarked,
    TypingChanged,
)
from desk.protocol import CONSOLE_NAMESPACE as CONSOLE
from desk.protocol import READER_NAMESPACE as READER
from desk.sockets.console import STAFF_ROOM, staff_room
from desk.sockets.reader import reader_room


class Fanout:
    def __init__(self, sio: socketio.AsyncServer, desk: Desk) -> None:
        self.sio = sio
        self.desk = desk

    def attach(self, bus: EventBus) -> None:
        bus.subscribe(MessagePosted, self.message_posted)
        bus.subscribe(ConsultationQueued, self.queue_changed)
        bus.subscribe(ConsultationOffered, self.offered)
        bus.subscribe(OfferWithdrawn, self.offer_withdrawn)
        bus.subscribe(ConsultationAssigned, self.assigned)
        bus.subscribe(ConsultationReleased, self.released)
        bus.subscribe(ConsultationEnded, self.ended)
        bus.subscribe(TypingChanged, self.typing)
        bus.subscribe(ReadMarked, self.read)
        bus.subscribe(PresenceChanged, self.presence)

    async def _reader(self, reader_id: int, event: str, data: dict[str, Any]) -> None:
        await self.sio.emit(event, data, room=reader_room(reader_id), namespace=READER)

    async def _staff(self, consultant_id: int, event: str, data: dict[str, Any]) -> None:
        await self.sio.emit(event, data, room=staff_room(consultant_id), namespace=CONSOLE)

    async def message_posted(self, e: MessagePosted) -> None:
        m = e.message
        data = m.to_client()
        # The one rule that keeps private notes private.
        if m.visibility == "all":
            await self._reader(m.reader_id, "message", data)
        if m.assignee_id is not None:
            await self._staff(m.assignee_id, "message", data)

    async def queue_changed(self, e: ConsultationQueued) -> None:
        await self._queue_notice(e.consultation.id, e.reason)

    async def _queue_notice(self, consultation_id: int, reason: str) -> None:
        """Tell every console the queue moved; consoles fetch it with ``queue.list``."""
        await self.sio.emit(
            "queue.changed",
            {"consultation_id": consultation_id, "reason": reason},
            room=STAFF_ROOM,
            namespace=CONSOLE,
        )

    async def offered(self, e: ConsultationOffered) -> None:
        c = e.consultation
        await self._staff(
            e.consultant_id,
            "offer",
            {
                "consultation": c.to_client(staff=True),
                "expires_at": c.offer_expires_at.isoformat() if c.offer_expires_at else None,
            },
        )
        await self._queue_notice(c.id, "offered")

    async def offer_withdrawn(self, e: OfferWithdrawn) -> None:
        await self._staff(
            e.consultant_id,
            "offer.withdrawn",
            {"consultation_id": e.consultation.id, "reason": e.reason},
        )

    async def assigned(self, e: ConsultationAssigned) -> None:
        c = e.consultation
        messages = await self.desk.store.messages_since(c.id, 0, staff=True)
        await self._staff(
            e.consultant_id,
            "chat.assigned",
            {
                "consultation": c.to_client(staff=True),
                "how": e.how,
                "messages": [m.to_client() for m in messages],
            },
        )
        await self._reader(c.reader_id, "consultation", c.to_client(staff=False))
        if e.how == "direct":
            await self._queue_notice(c.id, "assigned")

    async def released(self, e: ConsultationReleased) -> None:
        await self._staff(
            e.consultant_id,
            "chat.released",
            {"consultation_id": e.consultation.id, "reason": e.reason},
        )
        await self._reader(
            e.consultation.reader_id, "consultation", e.consultation.to_client(staff=False)
        )

    async def ended(self, e: ConsultationEnded) -> None:
        c = e.consultation
        await self._reader(c.reader_id, "consultation", c.to_client(staff=False))
        if e.previous_assignee_id is not None:
            await self._staff(e.previous_assignee_id, "consultation", c.to_client(staff=True))
        await self._queue_notice(c.id, "ended")

    async def typing(self, e: TypingChanged) -> None:
        data = {
            "consultation_id": e.consultation_id,
            "author_kind": e.author_kind,
            "typing": e.typing,
        }
        if e.author_kind == "reader":
            if e.assignee_id is not None:
                await self._staff(e.assignee_id, "typing", data)
        else:
            await self._reader(e.reader_id, "typing", data)

    async def read(self, e: ReadMarked) -> None:
        data = {"consultation_id": e.consultation_id, "side": e.side, "seq": e.seq}
        if e.side == "reader":
            if e.assignee_id is not None:
                await self._staff(e.assignee_id, "read", data)
        else:
            await self._reader(e.reader_id, "read", data)

    async def presence(self, e: PresenceChanged) -> None:
        p = await self.desk.state.presence(e.consultant_id)
        await self._staff(
            e.consultant_id,
            "presence",
            {
                "status": e.status,
                "connected": e.connected,
                "load": p.load if p else 0,
                "capacity": p.capacity if p else 0,
            },
        )
