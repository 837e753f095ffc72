"""Who hears what: every domain event's audience is decided here, in one place.

Rooms are per person (``reader:{id}``, ``staff:{id}``) and joined in the handshake, so an emit
reaches every socket of that person on any node (through the Socket.IO manager) and a reconnect
misses nothing between connecting and joining.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import socketio
from socketio.async_pubsub_manager import AsyncPubSubManager

from desk.bus import EventBus
from desk.context import Desk
from desk.events import (
    ConsultationAssigned,
    ConsultationEnded,
    ConsultationOffered,
    ConsultationOpened,
    ConsultationQueued,
    ConsultationReleased,
    GradeGiven,
    MessagePosted,
    OfferWithdrawn,
    PresenceChanged,
    QueuePositionTold,
    ReadMarked,
    TicketChanged,
    TypingChanged,
)
from desk.protocol import CONSOLE_NAMESPACE as CONSOLE
from desk.protocol import READER_NAMESPACE as READER
from desk.sockets.console import STAFF_ROOM, staff_room
from desk.sockets.reader import reader_room
from transcripts.store import PAGE_LIMIT, READER_SEES, STAFF_SEES

log = logging.getLogger(__name__)

#: Queue notices to consoles are coalesced over this long.
QUEUE_NOTICE_SECONDS = 0.5


class Fanout:
    def __init__(self, sio: socketio.AsyncServer, desk: Desk) -> None:
        self.sio = sio
        self.desk = desk
        self._queue_moved: set[int] = set()
        self._queue_flush: asyncio.Task[None] | None = None
        # With the in-process manager this node sees every room whole; with a pub/sub manager
        # (Redis) other nodes may hold members, so every emit must be published.
        self._rooms_are_local = not isinstance(sio.manager, AsyncPubSubManager)

    def attach(self, bus: EventBus) -> None:
        bus.subscribe(MessagePosted, self.message_posted)
        bus.subscribe(ConsultationOpened, self.opened)
        bus.subscribe(ConsultationQueued, self.queue_changed)
        bus.subscribe(ConsultationOffered, self.offered)
        bus.subscribe(OfferWithdrawn, self.offer_withdrawn)
        bus.subscribe(ConsultationAssigned, self.assigned)
        bus.subscribe(ConsultationReleased, self.released)
        bus.subscribe(ConsultationEnded, self.ended)
        bus.subscribe(TypingChanged, self.typing)
        bus.subscribe(ReadMarked, self.read)
        bus.subscribe(PresenceChanged, self.presence)
        bus.subscribe(QueuePositionTold, self.queue_position)
        bus.subscribe(TicketChanged, self.backlog_changed)
        bus.subscribe(GradeGiven, self.graded)

    async def _reader(self, reader_id: int, event: str, data: dict[str, Any]) -> None:
        await self.sio.emit(event, data, room=reader_room(reader_id), namespace=READER)

    async def _staff(self, consultant_id: int, event: str, data: dict[str, Any]) -> None:
        await self.sio.emit(event, data, room=staff_room(consultant_id), namespace=CONSOLE)

    def _nobody_else(self, namespace: str, room: str, skip: str | None) -> bool:
        """True when an emit to ``room`` would reach nobody: no member, or only the sender.

        Only knowable with the in-process manager. It spares the busiest path an emit per
        message: the sender's own room usually holds just the sending socket."""
        if not self._rooms_are_local:
            return False
        members = self.sio.manager.rooms.get(namespace, {}).get(room)
        return not members or (skip is not None and len(members) == 1 and skip in members)

    async def message_posted(self, e: MessagePosted) -> None:
        m = e.message
        # The sending socket learns the seq from its acknowledgement; the sender's other
        # sockets (another tab, another device) get it like everyone else.
        skip = e.sender_sid
        # The one rule that keeps private notes private, and a reader's own link from staff.
        if m.visibility in READER_SEES:
            room = reader_room(m.reader_id)
            skip_reader = skip if m.author_kind == "reader" else None
            if not self._nobody_else(READER, room, skip_reader):
                await self.sio.emit(
                    "message",
                    m.to_client(staff=False),
                    room=room,
                    namespace=READER,
                    skip_sid=skip_reader,
                )
        if m.assignee_id is not None and m.visibility in STAFF_SEES:
            room = staff_room(m.assignee_id)
            skip_staff = skip if m.author_kind == "consultant" else None
            if not self._nobody_else(CONSOLE, room, skip_staff):
                await self.sio.emit(
                    "message",
                    m.to_client(staff=True),
                    room=room,
                    namespace=CONSOLE,
                    skip_sid=skip_staff,
                )

    async def backlog_changed(self, e: TicketChanged) -> None:
        # The pool is alliance-wide: every console refreshes its backlog view.
        await self.sio.emit(
            "backlog.changed",
            {
                "ticket_id": e.ticket_id,
                "library_id": e.library_id,
                "what": e.what,
                "consultant_id": e.consultant_id,
            },
            room=STAFF_ROOM,
            namespace=CONSOLE,
        )

    async def graded(self, e: GradeGiven) -> None:
        await self._staff(
            e.consultant_id,
            "grade.given",
            {
                "grade_id": e.grade_id,
                "target": e.target,
                "target_id": e.target_id,
                "grade": e.grade,
            },
        )

    async def queue_position(self, e: QueuePositionTold) -> None:
        await self._reader(
            e.reader_id,
            "queue.position",
            {
                "consultation_id": e.consultation_id,
                "position": e.position,
                "ahead": max(0, e.position - 1),
                "minutes": e.minutes,
                "consultants_online": e.minutes is not None,
                "offer_form": e.offer_form,
            },
        )

    async def queue_changed(self, e: ConsultationQueued) -> None:
        self._queue_notice(e.consultation.id)

    def _queue_notice(self, consultation_id: int) -> None:
        """Tell every console the queue moved, coalesced: at most one notice per node every
        QUEUE_NOTICE_SECONDS, naming the chats that moved. (One notice per change to every
        console would be chats x consoles packets at a busy hour.)"""
        self._queue_moved.add(consultation_id)
        if self._queue_flush is None or self._queue_flush.done():
            self._queue_flush = asyncio.get_running_loop().create_task(self._flush_queue())

    async def _flush_queue(self) -> None:
        await asyncio.sleep(QUEUE_NOTICE_SECONDS)
        moved, self._queue_moved = sorted(self._queue_moved), set()
        try:
            await self.sio.emit(
                "queue.changed", {"consultation_ids": moved}, room=STAFF_ROOM, namespace=CONSOLE
            )
        except Exception:
            log.exception("queue notice failed")

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
        self._queue_notice(c.id)
        await self.load_changed(e.consultant_id)

    async def offer_withdrawn(self, e: OfferWithdrawn) -> None:
        await self._staff(
            e.consultant_id,
            "offer.withdrawn",
            {"consultation_id": e.consultation.id, "reason": e.reason},
        )
        await self.load_changed(e.consultant_id)

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
                # A long chat (a transfer) continues with `history` from the last seq here.
                "more": len(messages) >= PAGE_LIMIT,
            },
        )
        await self._reader(c.reader_id, "consultation", c.to_client(staff=False))
        if e.how == "direct":
            self._queue_notice(c.id)
        await self.load_changed(e.consultant_id, e.previous_consultant_id)

    async def released(self, e: ConsultationReleased) -> None:
        await self._staff(
            e.consultant_id,
            "chat.released",
            {"consultation_id": e.consultation.id, "reason": e.reason},
        )
        await self._reader(
            e.consultation.reader_id, "consultation", e.consultation.to_client(staff=False)
        )
        await self.load_changed(e.consultant_id)

    async def ended(self, e: ConsultationEnded) -> None:
        c = e.consultation
        await self._reader(c.reader_id, "consultation", c.to_client(staff=False))
        if e.previous_assignee_id is not None:
            await self._staff(e.previous_assignee_id, "consultation", c.to_client(staff=True))
        self._queue_notice(c.id)
        await self.load_changed(e.previous_assignee_id)

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

    async def load_changed(self, *consultant_ids: int | None) -> None:
        """A chat was offered, taken, released or ended: the consultant's load moved."""
        for cid in consultant_ids:
            if cid is None:
                continue
            p = await self.desk.state.presence(cid)
            if p is None:
                continue
            await self._staff(
                cid,
                "presence",
                {
                    "status": p.status,
                    "connected": p.connected,
                    "load": p.load,
                    "capacity": p.capacity,
                },
            )

    async def opened(self, e: ConsultationOpened) -> None:
        # The reader's other tabs learn of the new chat at once.
        c = e.consultation
        await self._reader(c.reader_id, "consultation", c.to_client(staff=False))
