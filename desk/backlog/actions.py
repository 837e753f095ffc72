"""Backlog actions: hand a chat off, file a question from the widget's form, claim, return
(退回任务), reply, and the scheduled 72-hour sweep. Each writes, commits, then announces."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import object_session

from desk import auth
from desk.actions.consultations import (
    end_consultation,
    post_message,
    reader_guard,
    timestamp,
)
from desk.backlog.rules import WINDOW, final_answer
from desk.context import Desk
from desk.delivery import files
from desk.delivery.actions import DocMeta, in_ledger
from desk.delivery.storage import Received
from desk.directory import ConsultantInfo
from desk.errors import Conflict, Forbidden, InvalidPayload, NotFound
from desk.events import ConsultationView, TicketChanged
from desk.models import Consultation, LedgerEntry, Ticket, TicketEvent
from desk.states import ACTIVE, State
from desk.texts import text_for
from transcripts.records import Draft

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 4000


@dataclass(frozen=True, slots=True)
class Filed:
    ticket_id: int
    #: The reader's page; holds the token, so it is shown to the reader and nowhere else.
    url: str


def ticket_url(desk: Desk, token: str) -> str:
    return f"{desk.settings.origin()}/tickets/{token}"


async def _transcript(desk: Desk, consultation_id: int) -> list[dict[str, Any]]:
    """The chat as the reader saw it (no private notes), every page of it."""
    out: list[dict[str, Any]] = []
    after = 0
    while True:
        page = await desk.store.messages_since(consultation_id, after, staff=False)
        out += [
            {"author_kind": m.author_kind, "body": m.body, "created_at": m.created_at.isoformat()}
            for m in page
            if m.visibility == "all"
        ]
        if not page or len(page) < 500:
            return out
        after = page[-1].seq


def _question_from(transcript: list[dict[str, Any]]) -> str:
    asked = [m["body"] for m in transcript if m["author_kind"] == "reader"]
    return "\n".join(asked)[:MAX_QUESTION_CHARS].strip()


async def hand_off(
    desk: Desk,
    consultation_id: int,
    *,
    by: str,
    kind: str,
    reader_id: int | None = None,
    consultant: ConsultantInfo | None = None,
    email: str | None = None,
    question: str | None = None,
    note: str = "",
) -> tuple[ConsultationView, Filed]:
    """Move a live chat to the form service: a ticket is written in the same transaction that
    ends the chat as ``handed_off``; then the reader is told where to follow it."""
    if kind not in ("form", "document"):
        raise InvalidPayload("kind is form or document", code="invalid_payload")
    transcript = await _transcript(desk, consultation_id)
    asked = (question or "").strip()[:MAX_QUESTION_CHARS] or _question_from(transcript)
    if not asked:
        raise InvalidPayload("there is no question to hand off yet", code="empty_question")
    token = auth.new_token()
    now = timestamp(desk.clock.now())

    def guard(c: Consultation) -> None:
        if reader_id is not None:
            reader_guard(reader_id)(c)
        if consultant is not None and c.assignee_id != consultant.id:
            raise Forbidden("this chat is not assigned to you", code="not_assigned")

    def write_ticket(c: Consultation) -> None:
        session = object_session(c)
        assert session is not None
        session.add(
            Ticket(
                link_hash=auth.token_hash(token),
                library_id=c.library_id,
                reader_id=c.reader_id,
                consultation_id=c.id,
                language=c.language,
                kind=kind,
                question=asked,
                contact_email=email,
                transcript=transcript,
                handed_off_by=by,
                state="open",
                submitted_at=now,
                version=1,
            )
        )

    allowed = (State.ASSIGNED,) if consultant is not None else ACTIVE
    view = await end_consultation(
        desk,
        consultation_id,
        target=State.HANDED_OFF,
        by=by,
        reason="handed_off" + (f": {note}" if note else ""),
        guard=guard,
        allowed_from=allowed,
        also=write_ticket,
    )
    async with desk.reads() as s:
        ticket_id = await s.scalar(
            select(Ticket.id).where(Ticket.consultation_id == consultation_id)
        )
    assert ticket_id is not None
    filed = Filed(ticket_id, ticket_url(desk, token))
    await post_message(
        desk,
        Draft(
            consultation_id,
            "system",
            text_for("handed_off", view.language, number=str(ticket_id), url=filed.url),
            client_msg_id="desk.handoff",
            # The link holds the reader's token: stored for the reader alone.
            visibility="reader",
        ),
    )
    await desk.bus.publish(TicketChanged(ticket_id, view.library_id, "created", None))
    return view, filed


async def file_question(
    desk: Desk,
    *,
    library_id: int,
    reader_id: int | None,
    language: str,
    kind: str,
    question: str,
    email: str | None,
) -> Filed:
    """A question left in the widget's form, with no chat (nobody online, after hours)."""
    token = auth.new_token()
    async with desk.sessions.begin() as s:
        t = Ticket(
            link_hash=auth.token_hash(token),
            library_id=library_id,
            reader_id=reader_id,
            language=language,
            kind=kind,
            question=question.strip()[:MAX_QUESTION_CHARS],
            contact_email=email,
            transcript=[],
            handed_off_by="form",
            state="open",
            submitted_at=timestamp(desk.clock.now()),
            version=1,
        )
        s.add(t)
        await s.flush()
        ticket_id = t.id
    await desk.bus.publish(TicketChanged(ticket_id, library_id, "created", None))
    return Filed(ticket_id, ticket_url(desk, token))


async def _event(
    s: Any, ticket_id: int, action: str, who: int | None, note: str, at: datetime
) -> None:
    s.add(TicketEvent(ticket_id=ticket_id, action=action, consultant_id=who, note=note, at=at))


async def claim(desk: Desk, ticket_id: int, who: ConsultantInfo) -> None:
    """领取任务: the ticket is this consultant's until they reply or return it."""
    now = timestamp(desk.clock.now())
    async with desk.sessions.begin() as s:
        done = await s.execute(
            update(Ticket)
            .where(Ticket.id == ticket_id, Ticket.state == "open")
            .values(state="claimed", claimed_by=who.id, claimed_at=now, version=Ticket.version + 1)
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            t = await s.get(Ticket, ticket_id)
            if t is None:
                raise NotFound("no such ticket", code="ticket_not_found")
            raise Conflict(f"the ticket is {t.state}", code="ticket_taken", state=t.state)
        library_id = await s.scalar(select(Ticket.library_id).where(Ticket.id == ticket_id))
        await _event(s, ticket_id, "claimed", who.id, "", now)
    await desk.bus.publish(TicketChanged(ticket_id, int(library_id or 0), "claimed", who.id))


async def _mine(s: Any, ticket_id: int, who: ConsultantInfo) -> Ticket:
    t = await s.get(Ticket, ticket_id, with_for_update=True)
    if t is None:
        raise NotFound("no such ticket", code="ticket_not_found")
    # A reply a quality inspector failed comes back to its consultant as "revision".
    if t.state not in ("claimed", "revision") or t.claimed_by != who.id:
        raise Conflict("claim the ticket first", code="ticket_not_claimed", state=t.state)
    ticket: Ticket = t
    return ticket


async def return_ticket(desk: Desk, ticket_id: int, who: ConsultantInfo, note: str) -> None:
    """退回任务: back to the pool, so that a colleague searches too."""
    now = timestamp(desk.clock.now())
    async with desk.sessions.begin() as s:
        t = await _mine(s, ticket_id, who)
        withdrawn = t.answered_at if t.state == "revision" else None
        if withdrawn is not None:
            # A failed reply handed back (the document was not found after all): it no
            # longer counts as answered; whoever answers next does.
            t.answered_at = t.answered_by = None
        t.state, t.claimed_by, t.claimed_at = "open", None, None
        t.version += 1
        library_id = t.library_id
        await _event(s, ticket_id, "returned", who.id, note, now)
    if withdrawn is not None:
        from stats.recorder import day_of, mark_dirty

        await mark_dirty(desk, day_of(desk, withdrawn))
    await desk.bus.publish(TicketChanged(ticket_id, library_id, "returned", who.id))


@dataclass(frozen=True, slots=True)
class ReplyDocument:
    """A document sent with a backlog answer: a received file or a link, with its details.
    Its ledger row is written in the answer's own transaction."""

    meta: DocMeta
    received: Received | None = None
    kind: files.Kind | None = None
    name: str = ""
    url: str = ""


async def reply(
    desk: Desk,
    ticket_id: int,
    who: ConsultantInfo,
    *,
    answer: str,
    answer_kind: str,
    documents: Sequence[ReplyDocument] = (),
) -> str:
    """Answer a claimed ticket under the 72-hour rules; returns the text the reader gets.
    Documents sent with it (files, links) are counted in the delivery ledger in the same
    transaction, so an answer and its documents stand or fall together."""
    now = timestamp(desk.clock.now())
    for d in documents:
        if d.received is not None:
            await desk.files.place(d.received)
    try:
        async with desk.sessions.begin() as s:
            t = await _mine(s, ticket_id, who)
            text = final_answer(
                kind=t.kind,
                answer_kind=answer_kind,
                answer=answer,
                language=t.language,
                submitted_at=t.submitted_at,
                now=now,
            )
            if not text:
                raise InvalidPayload("the answer is empty", code="empty_message")
            from stats.grading import mark_revised

            # An answer after a failed grade revises it (by its author, or by a colleague
            # after it was handed back); it counts on its own day, not the first answer's.
            await mark_revised(desk, s, ticket_id, now)
            revised_from = t.answered_at
            t.state, t.answer, t.answer_kind = "answered", text, answer_kind
            t.answered_by, t.answered_at = who.id, now
            t.version += 1
            library_id, email, language = t.library_id, t.contact_email, t.language
            # A document this ticket's reader already got (a revised answer attaching it
            # again) is delivered once: the ledger counts documents, not attempts.
            had = {
                (sha or "", url or "")
                for sha, url in (
                    await s.execute(
                        select(LedgerEntry.sha256, LedgerEntry.url).where(
                            LedgerEntry.ticket_id == ticket_id,
                            LedgerEntry.direction == "to_reader",
                        )
                    )
                ).all()
            }
            for d in documents:
                key = (d.received.sha256 if d.received is not None else "", d.url)
                if key not in had:
                    had.add(key)
                    s.add(_ledger_row(t, who, d, now))
            await _event(s, ticket_id, "answered", who.id, answer_kind, now)
    except BaseException:
        for d in documents:
            if d.received is not None:
                await desk.files.discard(
                    d.received, unplace=not await in_ledger(desk, d.received.sha256)
                )
        raise
    for d in documents:
        if d.received is not None:
            await desk.files.keep(d.received)
    if revised_from is not None:
        from stats.recorder import day_of, mark_dirty

        await mark_dirty(desk, day_of(desk, revised_from))
    await desk.bus.publish(TicketChanged(ticket_id, library_id, "answered", who.id))
    if email:
        from desk.backlog.mail import send_answer

        await send_answer(desk, ticket_id, email, language)
    return text


def _ledger_row(t: Ticket, who: ConsultantInfo, d: ReplyDocument, now: datetime) -> LedgerEntry:
    r = d.received
    return LedgerEntry(
        ticket_id=t.id,
        direction="to_reader",
        kind="file" if r is not None else "link",
        consultant_id=who.id,
        serving_library_id=who.library_id,
        origin_library_id=t.library_id,
        reader_id=t.reader_id,
        file_name=d.name,
        size=r.size if r is not None else 0,
        sha256=r.sha256 if r is not None else "",
        content_type=d.kind.content_type if d.kind is not None else "",
        url=d.url,
        title=d.meta.title,
        authors=d.meta.authors,
        source=d.meta.source,
        year=d.meta.year,
        doc_type=d.meta.doc_type,
        created_at=now,
    )


#: A claimed ticket's holder is reminded this long before its 72 hours end (within them, a
#: document not found must be returned so a colleague searches too).
DUE_SOON = timedelta(hours=24)
#: A ticket past 72 hours and still unanswered is brought up again this often.
REMIND_EVERY = timedelta(hours=24)


async def sweep_overdue(desk: Desk) -> int:
    """The backlog's timed reminders, each at most once per ticket and step:

    - ``due_soon``: a claimed ticket's 72 hours end within a day; its holder is told;
    - ``overdue``: the ticket passed 72 hours unanswered; marked once, its holder told, and
      an open one flagged in every console;
    - ``reminder``: still unanswered a day after the last reminder; again, daily.

    Returns how many reminders went out."""
    now = timestamp(desk.clock.now())
    sent: list[tuple[int, int, int | None, str]] = []
    unanswered = Ticket.state.in_(("open", "claimed"))
    async with desk.sessions.begin() as s:
        overdue = (
            await s.scalars(
                select(Ticket).where(
                    unanswered, Ticket.overdue_at.is_(None), Ticket.submitted_at <= now - WINDOW
                )
            )
        ).all()
        for t in overdue:
            t.overdue_at = now
            t.reminded_at = now
            t.version += 1
            await _event(s, t.id, "overdue", None, "72 hours without an answer", now)
            sent.append((t.id, t.library_id, t.claimed_by, "overdue"))
        soon = (
            await s.scalars(
                select(Ticket).where(
                    Ticket.state == "claimed",
                    Ticket.overdue_at.is_(None),
                    Ticket.reminded_at.is_(None),
                    Ticket.submitted_at <= now - (WINDOW - DUE_SOON),
                )
            )
        ).all()
        for t in soon:
            t.reminded_at = now
            await _event(s, t.id, "due_soon", t.claimed_by, "72 hours end within a day", now)
            sent.append((t.id, t.library_id, t.claimed_by, "due_soon"))
        again = (
            await s.scalars(
                select(Ticket).where(
                    unanswered,
                    Ticket.overdue_at.is_not(None),
                    Ticket.reminded_at <= now - REMIND_EVERY,
                )
            )
        ).all()
        for t in again:
            t.reminded_at = now
            await _event(s, t.id, "reminder", t.claimed_by, "still unanswered", now)
            sent.append((t.id, t.library_id, t.claimed_by, "reminder"))
    for ticket_id, library_id, holder, what in sent:
        await desk.bus.publish(TicketChanged(ticket_id, library_id, what, holder))
    return len(sent)
