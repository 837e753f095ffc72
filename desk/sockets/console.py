"""The consultant namespace, ``/console``: several chats at once, the queue, transfers."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, ClassVar

from socketio.exceptions import ConnectionRefusedError
from sqlalchemy import select

from desk.actions import consultations as acts
from desk.actions import offers, presence, transfers
from desk.actions.conversation import authorise, mark_read, set_typing
from desk.actions.views import view_of
from desk.auth import SESSION_COOKIE, live_session_hashes, staff_from_token, token_hash
from desk.backlog.actions import hand_off
from desk.directory import ConsultantInfo
from desk.errors import DeskError, InvalidPayload
from desk.events import StaffLoggedOut
from desk.models import Consultation
from desk.protocol import (
    CONSOLE_EVENTS,
    ConsultationRef,
    DashboardWatch,
    Empty,
    History,
    MarkRead,
    Payload,
    Resume,
    SendStaffMessage,
    SetStatus,
    StaffHandOff,
    Transfer,
    Typing,
)
from desk.sockets.base import DeskNamespace, cookie, from_the_desk_itself
from desk.states import HOLDING, State
from transcripts.store import PAGE_LIMIT, Draft

log = logging.getLogger(__name__)

STAFF_ROOM = "staff"


def staff_room(consultant_id: int) -> str:
    return f"staff:{consultant_id}"


@dataclass(slots=True)
class StaffSession:
    who: ConsultantInfo
    #: The console session (cookie) this socket was opened with, hashed.
    token_hash: str = ""


class ConsoleNamespace(DeskNamespace):
    events: ClassVar[dict[str, type[Payload]]] = CONSOLE_EVENTS

    def __init__(self, namespace: str, desk: Any) -> None:
        super().__init__(namespace, desk)
        self.sessions: dict[str, StaffSession] = {}
        #: This node's consoles watching the live dashboard.
        self.dashboard_watchers: set[str] = set()

    def allowed_origin(self, origin: str | None) -> bool:
        if not origin:
            return False
        origin = origin.rstrip("/")
        allowed = {
            self.desk.settings.origin(),
            *(o.rstrip("/") for o in self.desk.settings.console_origins),
        }
        return origin in allowed

    async def connect(self, sid: str, environ: dict[str, Any], auth: Any) -> None:
        if not (self.allowed_origin(environ.get("HTTP_ORIGIN")) or from_the_desk_itself(environ)):
            raise ConnectionRefusedError(
                "open the console from the desk itself", {"code": "origin_not_allowed"}
            )
        token = cookie(environ, SESSION_COOKIE)
        who = await staff_from_token(self.desk, token)
        if who is None or token is None:
            raise ConnectionRefusedError("log in first", {"code": "unauthenticated"})
        # No status asked for: keep the one the consultant has (another console, a reload).
        status = auth.get("status") if isinstance(auth, dict) else None
        if status is not None and status not in ("online", "busy", "away"):
            raise ConnectionRefusedError("unknown status", {"code": "invalid_status"})
        if status is None:
            known = await self.desk.state.presence(who.id)
            status = known.status if known is not None else "online"
        self.sessions[sid] = StaffSession(who, token_hash(token))
        local = self.desk.local_consultants
        local[who.id] = local.get(who.id, 0) + 1
        self.desk.local_staff[who.id] = who
        await presence.consultant_connected(self.desk, who, status)
        # The rooms last, with no await after them, as for readers: an event emitted to a
        # room joined earlier would reach the console before the namespace's CONNECT, and the
        # console would resume from it, skipping what it missed before. Whatever was emitted
        # before the join (a message, an offer) comes back with the resume sent after CONNECT;
        # the routing pass consultant_connected asks for runs after this returns.
        await self.enter_room(sid, staff_room(who.id))
        await self.enter_room(sid, STAFF_ROOM)
        log.info("consultant connected", extra={"consultant": who.id, "sid": sid})

    async def hang_up_ended_sessions(self, only: str | None = None) -> int:
        """Disconnect this node's consoles whose session ended (logged out, expired, the
        consultant deactivated); ``only``: just that session, which ended now."""
        ours = {sid: s.token_hash for sid, s in self.sessions.items()}
        if only is not None:
            gone = {sid for sid, h in ours.items() if h == only}
        else:
            live = await live_session_hashes(self.desk, ours.values())
            gone = {sid for sid, h in ours.items() if h not in live}
        for sid in gone:
            await self.emit("session.ended", {}, to=sid)
            await self.disconnect_socket(sid)
        return len(gone)

    async def logged_out(self, e: StaffLoggedOut) -> None:
        await self.hang_up_ended_sessions(only=e.token_hash)

    async def disconnect_socket(self, sid: str) -> None:
        await self.server.disconnect(sid, namespace=self.namespace)

    async def disconnect(self, sid: str, reason: Any) -> None:
        self.dashboard_watchers.discard(sid)
        s = self.sessions.pop(sid, None)
        if s is None:
            return
        local = self.desk.local_consultants
        left = local.get(s.who.id, 1) - 1
        if left <= 0:
            local.pop(s.who.id, None)
            self.desk.local_staff.pop(s.who.id, None)
            await presence.consultant_disconnected(self.desk, s.who.id)
        else:
            local[s.who.id] = left
        log.info("consultant disconnected", extra={"consultant": s.who.id, "reason": str(reason)})

    def _who(self, sid: str) -> ConsultantInfo:
        return self.sessions[sid].who

    async def on_status_set(self, sid: str, p: SetStatus) -> dict[str, Any]:
        who = self._who(sid)
        await presence.set_status(self.desk, who.id, p.status)
        return await self._load(who)

    async def _load(self, who: ConsultantInfo) -> dict[str, Any]:
        pr = await self.desk.state.presence(who.id)
        return {
            "status": pr.status if pr else "away",
            "load": pr.load if pr else 0,
            "capacity": who.max_chats,
        }

    async def on_queue_list(self, sid: str, p: Empty) -> dict[str, Any]:
        queue = await self.desk.state.queue()
        ids = [e.consultation_id for e in queue]
        subjects: dict[int, str] = {}
        if ids:
            async with self.desk.reads() as s:
                subjects = {
                    cid: subj
                    for cid, subj in (
                        await s.execute(
                            select(Consultation.id, Consultation.subject).where(
                                Consultation.id.in_(ids)
                            )
                        )
                    ).all()
                }
        libs = await self.desk.directory.libraries()
        now = self.desk.clock.now()
        return {
            "queue": [
                {
                    "consultation_id": e.consultation_id,
                    "library": libs[e.library_id].code if e.library_id in libs else "",
                    "route_library": libs[e.route_library_id].code
                    if e.route_library_id in libs
                    else "",
                    "language": e.language,
                    "waiting_seconds": max(0, round(now - e.queued_at)),
                    "position": n + 1,
                    "preview": subjects.get(e.consultation_id, "")[:120],
                }
                for n, e in enumerate(queue)
            ]
        }

    async def on_chats_list(self, sid: str, p: Empty) -> dict[str, Any]:
        who = self._who(sid)
        async with self.desk.reads() as s:
            rows = (
                await s.scalars(
                    select(Consultation).where(
                        Consultation.assignee_id == who.id,
                        Consultation.state.in_([x.value for x in HOLDING]),
                    )
                )
            ).all()
        views = [await view_of(self.desk, c) for c in rows]
        return {"chats": [v.to_client(staff=True) for v in views], **await self._load(who)}

    async def on_offer_accept(self, sid: str, p: ConsultationRef) -> dict[str, Any]:
        view = await offers.accept_offer(self.desk, self._who(sid).id, p.consultation_id)
        msgs = await self.desk.store.messages_since(view.id, 0, staff=True)
        return {
            "consultation": view.to_client(staff=True),
            "messages": [m.to_client() for m in msgs],
        }

    async def on_offer_decline(self, sid: str, p: ConsultationRef) -> dict[str, Any]:
        await offers.withdraw_offer(
            self.desk, self._who(sid).id, p.consultation_id, reason="declined"
        )
        return {}

    async def on_message_send(self, sid: str, p: SendStaffMessage) -> dict[str, Any]:
        who = self._who(sid)
        self.check_body(p.body)
        msg = await acts.post_message(
            self.desk,
            Draft(
                consultation_id=p.consultation_id,
                author_kind="consultant",
                author_id=who.id,
                body=p.body,
                client_msg_id=p.client_msg_id,
                visibility="staff" if p.private else "all",
                as_assignee=who.id,
            ),
            sender_sid=sid,
        )
        return msg.ack(staff=True)

    async def on_resume(self, sid: str, p: Resume) -> dict[str, Any]:
        who = self._who(sid)
        items = {i.consultation_id: i for i in p.consultations}
        async with self.desk.reads() as s:
            held = (
                await s.scalars(
                    select(Consultation.id).where(
                        Consultation.assignee_id == who.id,
                        Consultation.state.in_([x.value for x in HOLDING]),
                    )
                )
            ).all()
        out = []
        for cid in [*items, *(c for c in held if c not in items)]:
            try:
                view = await acts.get_view(self.desk, cid)
            except DeskError as exc:
                out.append({"consultation_id": cid, "error": exc.to_ack()["error"]})
                continue
            item = items.get(cid)
            if view.assignee_id != who.id:
                # Taken from them meanwhile (transfer, requeue): say so, show nothing more.
                out.append({"consultation_id": cid, "lost": True})
                continue
            msgs = await self.desk.store.messages_since(
                cid, item.last_seq if item else 0, staff=True
            )
            entry: dict[str, Any] = {"consultation_id": cid}
            if item is None or item.version != view.version:
                entry["consultation"] = view.to_client(staff=True)
            entry["messages"] = [m.to_client() for m in msgs]
            entry["more"] = len(msgs) >= PAGE_LIMIT
            out.append(entry)
        return {"consultations": out, **await self._load(who)}

    async def on_history(self, sid: str, p: History) -> dict[str, Any]:
        await authorise(self.desk, p.consultation_id, consultant_id=self._who(sid).id)
        msgs = await self.desk.store.messages_since(p.consultation_id, p.after_seq, staff=True)
        return {"messages": [m.to_client() for m in msgs], "more": len(msgs) >= PAGE_LIMIT}

    async def on_typing(self, sid: str, p: Typing) -> dict[str, Any]:
        await set_typing(self.desk, p.consultation_id, p.typing, consultant_id=self._who(sid).id)
        return {}

    async def on_read(self, sid: str, p: MarkRead) -> dict[str, Any]:
        seq = await mark_read(self.desk, p.consultation_id, p.seq, consultant_id=self._who(sid).id)
        return {"seq": seq}

    async def on_consultation_transfer(self, sid: str, p: Transfer) -> dict[str, Any]:
        who = self._who(sid)
        if p.note:
            self.check_body(p.note)
        if (p.to_consultant_id is None) == (p.to_library is None):
            raise InvalidPayload(
                "name either a colleague or a library", code="transfer_target_required"
            )
        if p.to_consultant_id is not None:
            view = await transfers.transfer_to_consultant(
                self.desk, who.id, p.consultation_id, p.to_consultant_id, p.note
            )
        else:
            lib = await self.desk.directory.library_by_code(p.to_library or "")
            if lib is None:
                raise InvalidPayload("no such library", code="library_not_found")
            view = await transfers.transfer_to_library(
                self.desk, who.id, p.consultation_id, lib.id, p.note
            )
        return {"consultation": view.to_client(staff=True)}

    async def on_consultation_close(self, sid: str, p: ConsultationRef) -> dict[str, Any]:
        view = await acts.end_consultation(
            self.desk,
            p.consultation_id,
            target=State.CLOSED,
            by="consultant",
            reason="consultant_closed",
            guard=acts.assignee_guard(self._who(sid).id),
            allowed_from={State.ASSIGNED},
        )
        return {"consultation": view.to_client(staff=True)}

    async def on_consultation_handoff(self, sid: str, p: StaffHandOff) -> dict[str, Any]:
        """Switch the chat to the form service (one action): a ticket made from the chat."""
        view, filed = await hand_off(
            self.desk,
            p.consultation_id,
            by="consultant",
            kind=p.kind,
            consultant=self._who(sid),
            note=p.note,
        )
        return {"consultation": view.to_client(staff=True), "ticket": {"id": filed.ticket_id}}

    async def on_colleagues_list(self, sid: str, p: Empty) -> dict[str, Any]:
        me = self._who(sid)
        now = self.desk.clock.now()
        out = []
        for pr in await self.desk.state.presences():
            if pr.consultant_id == me.id or not pr.alive(now):
                continue
            info = await self.desk.directory.consultant(pr.consultant_id)
            if info is None:
                continue
            out.append(
                {
                    "id": pr.consultant_id,
                    "name": info.display_name,
                    "library_id": pr.library_id,
                    "languages": list(pr.languages),
                    "status": pr.status if pr.connected else "away",
                    "load": pr.load,
                    "capacity": pr.capacity,
                }
            )
        libs = await self.desk.directory.libraries()
        return {
            "colleagues": out,
            "libraries": [
                {"id": x.id, "code": x.code, "name": x.name, "name_en": x.name_en}
                for x in libs.values()
            ],
        }

    async def on_dashboard_watch(self, sid: str, p: DashboardWatch) -> dict[str, Any]:
        from stats.dashboard import Board, require_watcher

        who = self._who(sid)
        require_watcher(who)
        if not p.watch:
            self.dashboard_watchers.discard(sid)
            return {"watching": False}
        self.dashboard_watchers.add(sid)
        board = await Board(self.desk).load()
        return {"watching": True, "dashboard": board.view(who)}

    async def push_dashboard(self) -> int:
        """Send this node's dashboard watchers the desk as it is now (a local job)."""
        from stats.dashboard import Board

        watching = [sid for sid in self.dashboard_watchers if sid in self.sessions]
        if not watching:
            return 0
        from stats.dashboard import may_watch

        board = await Board(self.desk).load()
        for sid in watching:
            session = self.sessions.get(sid)
            # The role as it is now (the directory's cache), not as it was at connect: a
            # supervisor no longer one stops getting the board.
            now_who = await self.desk.directory.consultant(session.who.id) if session else None
            if now_who is None or not now_who.active or not may_watch(now_who):
                self.dashboard_watchers.discard(sid)
                continue
            if session is not None:
                # To this node's own socket: no need to cross the Redis channel.
                await self.server.emit(
                    "dashboard",
                    board.view(now_who),
                    to=sid,
                    namespace=self.namespace,
                    ignore_queue=True,
                )
        return len(watching)
