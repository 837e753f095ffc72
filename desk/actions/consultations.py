"""Opening, routing outcomes, transfers and endings of consultations."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from desk.actions.views import view_of
from desk.context import Desk
from desk.directory import LibraryInfo
from desk.errors import Conflict, Forbidden, NotFound
from desk.events import (
    ConsultationEnded,
    ConsultationOpened,
    ConsultationQueued,
    ConsultationReleased,
    ConsultationView,
    Event,
    MessagePosted,
)
from desk.models import AssignmentRecord, Consultation
from desk.shared.base import QueueEntry
from desk.states import ACTIVE, HOLDING, IllegalTransition, State, check_transition
from desk.texts import text_for
from transcripts.store import Draft, StoredMessage

log = logging.getLogger(__name__)

#: A requeued or transferred chat goes ahead of everyone who came in normally.
FIRST_IN_LINE = 1


def timestamp(now: float) -> datetime:
    return datetime.fromtimestamp(now, UTC)


def entry_for(c: Consultation | ConsultationView, declined: Collection[int] = ()) -> QueueEntry:
    return QueueEntry(
        consultation_id=c.id,
        library_id=c.library_id,
        route_library_id=c.route_library_id,
        language=c.language,
        queued_at=c.queued_at.timestamp(),
        priority=c.priority,
        declined=frozenset(declined),
    )


Guard = Callable[[Consultation], None]


def reader_guard(reader_id: int) -> Guard:
    def check(c: Consultation) -> None:
        if c.reader_id != reader_id:
            raise NotFound("no such consultation", code="consultation_not_found")

    return check


def assignee_guard(consultant_id: int, *, code: str = "not_assigned") -> Guard:
    def check(c: Consultation) -> None:
        if c.assignee_id != consultant_id:
            raise Forbidden("this chat is not yours", code=code)

    return check


async def change_state(
    desk: Desk,
    consultation_id: int,
    target: State,
    *,
    allowed_from: Collection[State],
    guard: Guard | None = None,
    mutate: Callable[[Consultation], None] | None = None,
    history: tuple[str, int | None, int | None, int | None, str] | None = None,
) -> tuple[Consultation, str, int | None]:
    """Move one consultation to ``target`` in one transaction; returns the row and the state
    and assignee it had before. ``history`` is (action, consultant, library, by, note)."""
    async with desk.sessions.begin() as s:
        c = await s.get(Consultation, consultation_id, with_for_update=True)
        if c is None:
            raise NotFound("no such consultation", code="consultation_not_found")
        if guard is not None:
            guard(c)
        if c.state not in allowed_from:
            raise Conflict(f"the consultation is {c.state}", code="wrong_state", state=c.state)
        try:
            check_transition(c.state, target)
        except IllegalTransition as exc:
            raise Conflict(str(exc), code="illegal_transition", state=c.state) from exc
        before = (c.state, c.assignee_id)
        c.state = target.value
        c.version += 1
        if mutate is not None:
            mutate(c)
        if history is not None:
            action, who, lib, by, note = history
            s.add(
                AssignmentRecord(
                    consultation_id=c.id,
                    action=action,
                    consultant_id=who,
                    library_id=lib,
                    by_consultant_id=by,
                    note=note,
                    at=timestamp(desk.clock.now()),
                )
            )
    return c, before[0], before[1]


async def open_consultation(
    desk: Desk,
    *,
    reader_id: int,
    library: LibraryInfo,
    language: str,
    question: str | None,
    client_msg_id: str | None,
) -> tuple[ConsultationView, bool]:
    """Open a chat, or return the reader's active one at this library (a reload, a retry)."""
    now = desk.clock.now()
    created = False
    c = await _active_of(desk, reader_id, library.id)
    if c is None:
        try:
            async with desk.sessions.begin() as s:
                c = Consultation(
                    library_id=library.id,
                    route_library_id=library.id,
                    reader_id=reader_id,
                    language=language,
                    state=State.WAITING.value,
                    subject=(question or "")[:200],
                    created_at=timestamp(now),
                    queued_at=timestamp(now),
                )
                s.add(c)
            created = True
        except IntegrityError:
            # The same reader opened at the same library concurrently: the other one won.
            c = await _active_of(desk, reader_id, library.id)
            if c is None:
                raise
    events: list[Event] = []
    view = await view_of(desk, c)
    if created:
        await desk.state.enqueue(entry_for(c))
        events += [ConsultationOpened(view), ConsultationQueued(view, "opened")]
    await desk.state.reader_seen([c.id], now)
    await desk.bus.publish(*events)
    if question:
        await post_message(
            desk,
            Draft(
                consultation_id=c.id,
                author_kind="reader",
                author_id=reader_id,
                body=question,
                client_msg_id=client_msg_id,
                as_reader=reader_id,
            ),
        )
        view = await get_view(desk, c.id)
    if created:
        desk.request_routing()
    return view, created


async def _active_of(desk: Desk, reader_id: int, library_id: int) -> Consultation | None:
    async with desk.reads() as s:
        return await s.scalar(
            select(Consultation)
            .where(
                Consultation.reader_id == reader_id,
                Consultation.library_id == library_id,
                Consultation.state.in_([x.value for x in ACTIVE]),
            )
            .limit(1)
        )


async def get_view(desk: Desk, consultation_id: int) -> ConsultationView:
    async with desk.reads() as s:
        c = await s.get(Consultation, consultation_id)
    if c is None:
        raise NotFound("no such consultation", code="consultation_not_found")
    return await view_of(desk, c)


async def post_message(desk: Desk, draft: Draft, *, sender_sid: str | None = None) -> StoredMessage:
    """Store (with its seq) first; only then is anybody told."""
    msg = await desk.store.post(draft)
    # A retry is announced again: if the first relay was lost with a crashed node, the
    # receiver gets it now; receivers de-duplicate on seq.
    await desk.bus.publish(MessagePosted(msg, sender_sid))
    return msg


async def requeue(desk: Desk, consultation_id: int, consultant_id: int) -> ConsultationView | None:
    """The consultant dropped past their grace period: first in line again."""

    def mutate(c: Consultation) -> None:
        c.assignee_id = None
        c.serving_library_id = None
        c.offer_expires_at = None
        c.priority = FIRST_IN_LINE

    try:
        c, before, _ = await change_state(
            desk,
            consultation_id,
            State.WAITING,
            allowed_from=HOLDING,
            guard=assignee_guard(consultant_id),
            mutate=mutate,
            history=("requeued", consultant_id, None, None, "consultant gone"),
        )
    except (Conflict, Forbidden, NotFound):
        return None
    now = desk.clock.now()
    await desk.state.release(consultation_id, consultant_id, now)
    await desk.state.enqueue(entry_for(c))
    view = await view_of(desk, c)
    await desk.bus.publish(
        ConsultationReleased(view, consultant_id, "consultant_gone"),
        ConsultationQueued(view, "requeued"),
    )
    if before == State.ASSIGNED.value:
        await post_message(desk, Draft(consultation_id, "system", text_for("requeued", c.language)))
    desk.request_routing()
    return view


async def end_consultation(
    desk: Desk,
    consultation_id: int,
    *,
    target: State,
    by: str,
    reason: str,
    guard: Guard | None = None,
    allowed_from: Collection[State] = ACTIVE,
    also: Callable[[Consultation], None] | None = None,
) -> ConsultationView:
    """End a chat. ``also`` runs in the same transaction (the hand-off writes its ticket
    there, so a chat is never handed off without one, nor a ticket made for a live chat)."""
    now = desk.clock.now()

    def mutate(c: Consultation) -> None:
        c.ended_at = timestamp(now)
        c.ended_by = by
        c.end_reason = reason
        c.offer_expires_at = None
        if also is not None:
            also(c)

    c, _, previous = await change_state(
        desk,
        consultation_id,
        target,
        allowed_from=allowed_from,
        guard=guard,
        mutate=mutate,
        history=("ended", None, None, None, reason),
    )
    if previous is not None:
        await desk.state.release(consultation_id, previous, now)
    await desk.state.dequeue(consultation_id)
    await desk.state.reader_forget(consultation_id)
    view = await view_of(desk, c)
    await desk.bus.publish(ConsultationEnded(view, previous))
    if previous is not None:
        desk.request_routing()  # a slot came free
    return view
