"""The reader namespace, ``/reader``: the widget's side of a consultation."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, ClassVar

from socketio.exceptions import ConnectionRefusedError
from sqlalchemy import select

from desk.actions import consultations as acts
from desk.actions.conversation import authorise, mark_read, set_typing
from desk.auth import reader_from_token
from desk.backlog.actions import hand_off
from desk.directory import LibraryInfo
from desk.errors import DeskError, InvalidPayload
from desk.models import Consultation
from desk.protocol import (
    READER_EVENTS,
    ConsultationRef,
    History,
    MarkRead,
    OpenConsultation,
    Payload,
    ReaderHandOff,
    Resume,
    SendMessage,
    Typing,
)
from desk.routing.policy import base_language
from desk.sockets.base import DeskNamespace, from_the_desk_itself
from desk.states import ACTIVE, State
from transcripts.store import PAGE_LIMIT, Draft

log = logging.getLogger(__name__)


@dataclass(slots=True)
class ReaderSession:
    reader_id: int
    library: LibraryInfo


def reader_room(reader_id: int) -> str:
    return f"reader:{reader_id}"


class ReaderNamespace(DeskNamespace):
    events: ClassVar[dict[str, type[Payload]]] = READER_EVENTS

    def __init__(self, namespace: str, desk: Any) -> None:
        super().__init__(namespace, desk)
        self.sessions: dict[str, ReaderSession] = {}

    def allowed_origin(self, library: LibraryInfo, origin: str | None) -> bool:
        if not origin:
            return False
        origin = origin.rstrip("/")
        return origin in library.allowed_origins or origin == self.desk.settings.origin()

    async def connect(self, sid: str, environ: dict[str, Any], auth: Any) -> None:
        if not isinstance(auth, dict):
            raise ConnectionRefusedError("send library and token", {"code": "auth_required"})
        code, token = auth.get("library"), auth.get("token")
        if not isinstance(code, str) or not isinstance(token, str):
            raise ConnectionRefusedError("send library and token", {"code": "auth_required"})
        library = await self.desk.directory.library_by_code(code[:32])
        if library is None:
            raise ConnectionRefusedError("unknown library", {"code": "library_not_found"})
        if not (
            self.allowed_origin(library, environ.get("HTTP_ORIGIN"))
            or from_the_desk_itself(environ)
        ):
            log.warning("reader refused: origin not allowed", extra={"library": library.code})
            raise ConnectionRefusedError(
                "this site may not embed the widget", {"code": "origin_not_allowed"}
            )
        reader_id = await reader_from_token(self.desk, token)
        if reader_id is None:
            raise ConnectionRefusedError("unknown reader token", {"code": "auth_invalid"})
        self.sessions[sid] = ReaderSession(reader_id, library)
        async with self.desk.reads() as s:
            active = set(
                (
                    await s.scalars(
                        select(Consultation.id).where(
                            Consultation.reader_id == reader_id,
                            Consultation.state.in_([x.value for x in ACTIVE]),
                        )
                    )
                ).all()
            )
        self.desk.local_reader_consultations[sid] = active
        if active:
            await self.desk.state.reader_seen(active, self.desk.clock.now())
        # The room last, with no await after it: python-socketio sends the namespace's
        # CONNECT when this returns, and an emit to the room during an await after joining
        # reached the widget before it. The widget then resumed from that message's seq and
        # skipped the ones before it. A message stored before the join comes with the
        # resume, which the client sends after CONNECT.
        await self.enter_room(sid, reader_room(reader_id))
        log.info("reader connected", extra={"library": library.code, "sid": sid})

    async def disconnect(self, sid: str, reason: Any) -> None:
        s = self.sessions.pop(sid, None)
        cids = self.desk.local_reader_consultations.pop(sid, set())
        if s is not None and cids:
            # The grace period counts from the last moment the reader was here.
            await self.desk.reader_left(cids)
        log.info("reader disconnected", extra={"sid": sid, "reason": str(reason)})

    def _session(self, sid: str) -> ReaderSession:
        return self.sessions[sid]

    def _track(self, sid: str, consultation_id: int) -> None:
        self.desk.local_reader_consultations.setdefault(sid, set()).add(consultation_id)

    async def on_consultation_open(self, sid: str, p: OpenConsultation) -> dict[str, Any]:
        s = self._session(sid)
        served = {base_language(x) for x in s.library.languages}
        if base_language(p.language) not in served:
            raise InvalidPayload(
                "this library does not serve that language",
                code="language_not_served",
                languages=list(s.library.languages),
            )
        if p.question is not None:
            self.check_body(p.question)
        view, created = await acts.open_consultation(
            self.desk,
            reader_id=s.reader_id,
            library=s.library,
            language=p.language,
            question=p.question,
            client_msg_id=p.client_msg_id,
        )
        self._track(sid, view.id)
        messages = await self.desk.store.messages_since(view.id, 0, staff=False)
        return {
            "created": created,
            "consultation": view.to_client(staff=False),
            "messages": [m.to_client() for m in messages],
        }

    async def on_message_send(self, sid: str, p: SendMessage) -> dict[str, Any]:
        s = self._session(sid)
        self.check_body(p.body)
        msg = await acts.post_message(
            self.desk,
            Draft(
                consultation_id=p.consultation_id,
                author_kind="reader",
                author_id=s.reader_id,
                body=p.body,
                client_msg_id=p.client_msg_id,
                as_reader=s.reader_id,
            ),
            sender_sid=sid,
        )
        return msg.ack(staff=False)

    async def on_resume(self, sid: str, p: Resume) -> dict[str, Any]:
        s = self._session(sid)
        items = {i.consultation_id: i for i in p.consultations}
        async with self.desk.reads() as db:
            # Also the reader's active chat here that the client forgot (cleared storage).
            active = (
                await db.scalars(
                    select(Consultation.id).where(
                        Consultation.reader_id == s.reader_id,
                        Consultation.library_id == s.library.id,
                        Consultation.state.in_([x.value for x in ACTIVE]),
                    )
                )
            ).all()
        out = []
        for cid in [*items, *(c for c in active if c not in items)]:
            try:
                await authorise(self.desk, cid, reader_id=s.reader_id)
            except DeskError as exc:
                # One stale id must not block the resume of the others.
                out.append({"consultation_id": cid, "error": exc.to_ack()["error"]})
                continue
            item = items.get(cid)
            view = await acts.get_view(self.desk, cid)
            after = item.last_seq if item else 0
            msgs = await self.desk.store.messages_since(cid, after, staff=False)
            entry: dict[str, Any] = {"consultation_id": cid}
            if item is None or item.version != view.version:
                entry["consultation"] = view.to_client(staff=False)
            entry["messages"] = [m.to_client() for m in msgs]
            entry["more"] = len(msgs) >= PAGE_LIMIT
            out.append(entry)
            if view.state in {x.value for x in ACTIVE}:
                self._track(sid, cid)
        return {"consultations": out}

    async def on_history(self, sid: str, p: History) -> dict[str, Any]:
        s = self._session(sid)
        await authorise(self.desk, p.consultation_id, reader_id=s.reader_id)
        msgs = await self.desk.store.messages_since(p.consultation_id, p.after_seq, staff=False)
        return {"messages": [m.to_client() for m in msgs], "more": len(msgs) >= PAGE_LIMIT}

    async def on_typing(self, sid: str, p: Typing) -> dict[str, Any]:
        s = self._session(sid)
        await set_typing(self.desk, p.consultation_id, p.typing, reader_id=s.reader_id)
        return {}

    async def on_read(self, sid: str, p: MarkRead) -> dict[str, Any]:
        s = self._session(sid)
        seq = await mark_read(self.desk, p.consultation_id, p.seq, reader_id=s.reader_id)
        return {"seq": seq}

    async def on_handoff(self, sid: str, p: ReaderHandOff) -> dict[str, Any]:
        """The reader leaves the question for the form service (one action)."""
        s = self._session(sid)
        view, filed = await hand_off(
            self.desk,
            p.consultation_id,
            by="reader",
            kind=p.kind,
            reader_id=s.reader_id,
            email=p.email,
            question=p.question,
        )
        self.desk.local_reader_consultations.get(sid, set()).discard(view.id)
        return {
            "consultation": view.to_client(staff=False),
            "ticket": {"id": filed.ticket_id, "url": filed.url},
        }

    async def on_consultation_close(self, sid: str, p: ConsultationRef) -> dict[str, Any]:
        s = self._session(sid)
        view = await acts.end_consultation(
            self.desk,
            p.consultation_id,
            target=State.CLOSED,
            by="reader",
            reason="reader_closed",
            guard=acts.reader_guard(s.reader_id),
        )
        self.desk.local_reader_consultations.get(sid, set()).discard(view.id)
        return {"consultation": view.to_client(staff=False)}
