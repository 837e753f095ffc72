"""Opening, routing outcomes, transfers and endings of consultations."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from desk.actions.views import view_of
from desk.context import Desk
from desk.directory import LibraryInfo
from desk.errors import Conflict, Forbidden, NotFound
from desk.events import (
    ConsultationAssigned,
    ConsultationEnded,
    ConsultationOffered,
    ConsultationOpened,
    ConsultationQueued,
    ConsultationReleased,
    ConsultationView,
    Event,
    MessagePosted,
    OfferWithdrawn,
)
from desk.models import AssignmentRecord, Consultation
from desk.shared.base import QueueEntry
from desk.states import ACTIVE, HOLDING, IllegalTransition, State, check_transition
from desk.texts import text_for
from transcripts.store import Draft, StoredMessage

log = logging.getLogger(__name__)

#: A requeued or transferred chat goes ahead of everyone who came in normally.
FIRST_IN_LINE = 1


def _ts(now: float) -> datetime:
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


async def _change(
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
                    at=_ts(desk.clock.now()),
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
                    created_at=_ts(now),
                    queued_at=_ts(now),
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


async def offer_or_assign(
    desk: Desk, consultation_id: int, consultant_id: int, library: LibraryInfo
) -> bool:
    """Give a waiting chat to a consultant who has just been claimed for it. False if the chat
    stopped waiting meanwhile (the caller releases the claim)."""
    now = desk.clock.now()
    direct = library.routing_mode == "direct"
    target = State.ASSIGNED if direct else State.OFFERED

    def mutate(c: Consultation) -> None:
        c.assignee_id = consultant_id
        c.serving_library_id = library.id
        if direct:
            c.assigned_at = _ts(now)
            c.offer_expires_at = None
        else:
            c.offer_expires_at = _ts(now) + timedelta(seconds=library.offer_timeout_seconds)

    try:
        c, _, _ = await _change(
            desk,
            consultation_id,
            target,
            allowed_from={State.WAITING},
            mutate=mutate,
            history=("assigned" if direct else "offered", consultant_id, library.id, None, ""),
        )
    except (Conflict, NotFound):
        await desk.state.dequeue(consultation_id)
        return False
    await desk.state.dequeue(consultation_id)
    await desk.state.settle(consultation_id, consultant_id)
    view = await view_of(desk, c)
    if direct:
        await desk.bus.publish(ConsultationAssigned(view, consultant_id, "direct"))
    else:
        await desk.bus.publish(ConsultationOffered(view, consultant_id))
    return True


async def accept_offer(desk: Desk, consultant_id: int, consultation_id: int) -> ConsultationView:
    now = desk.clock.now()

    def mutate(c: Consultation) -> None:
        c.assigned_at = _ts(now)
        c.offer_expires_at = None

    c, _, _ = await _change(
        desk,
        consultation_id,
        State.ASSIGNED,
        allowed_from={State.OFFERED},
        guard=assignee_guard(consultant_id, code="not_offered_to_you"),
        mutate=mutate,
        history=("accepted", consultant_id, None, None, ""),
    )
    view = await view_of(desk, c)
    await desk.bus.publish(ConsultationAssigned(view, consultant_id, "accepted"))
    return view


async def withdraw_offer(
    desk: Desk, consultant_id: int, consultation_id: int, *, reason: str
) -> ConsultationView:
    """The consultant declined, or the offer expired: back in line, skipping that consultant."""

    def mutate(c: Consultation) -> None:
        c.assignee_id = None
        c.serving_library_id = None
        c.offer_expires_at = None

    c, _, _ = await _change(
        desk,
        consultation_id,
        State.WAITING,
        allowed_from={State.OFFERED},
        guard=assignee_guard(consultant_id, code="not_offered_to_you"),
        mutate=mutate,
        history=(reason, consultant_id, None, None, ""),
    )
    now = desk.clock.now()
    await desk.state.release(consultation_id, consultant_id, now)
    await desk.state.enqueue(entry_for(c, declined=await declined_by(desk, consultation_id)))
    view = await view_of(desk, c)
    await desk.bus.publish(
        OfferWithdrawn(view, consultant_id, reason), ConsultationQueued(view, reason)
    )
    desk.request_routing()
    return view


async def declined_by(desk: Desk, consultation_id: int) -> set[int]:
    """Everyone who declined the chat or let its offer lapse: they are not offered it again."""
    async with desk.reads() as s:
        rows = await s.scalars(
            select(AssignmentRecord.consultant_id).where(
                AssignmentRecord.consultation_id == consultation_id,
                AssignmentRecord.action.in_(["declined", "expired"]),
            )
        )
        return {r for r in rows if r is not None}


async def expire_offers(desk: Desk) -> int:
    now = _ts(desk.clock.now())
    async with desk.reads() as s:
        rows = (
            await s.execute(
                select(Consultation.id, Consultation.assignee_id).where(
                    Consultation.state == State.OFFERED.value,
                    Consultation.offer_expires_at <= now,
                )
            )
        ).all()
    n = 0
    for cid, assignee in rows:
        if assignee is None:
            continue
        try:
            await withdraw_offer(desk, assignee, cid, reason="expired")
            n += 1
        except (Conflict, Forbidden, NotFound):
            continue  # accepted or withdrawn meanwhile
    return n


async def transfer_to_consultant(
    desk: Desk, by_id: int, consultation_id: int, to_id: int, note: str
) -> ConsultationView:
    if to_id == by_id:
        raise Conflict("the chat is already yours", code="transfer_to_self")
    to = await desk.directory.consultant(to_id)
    if to is None or not to.active:
        raise NotFound("no such consultant", code="consultant_not_found")
    now = desk.clock.now()
    if not await desk.state.claim(consultation_id, to_id, now):
        raise Conflict(
            "that colleague is not online or has no free capacity", code="colleague_unavailable"
        )

    def mutate(c: Consultation) -> None:
        c.assignee_id = to_id
        c.serving_library_id = to.library_id

    try:
        c, _, _ = await _change(
            desk,
            consultation_id,
            State.ASSIGNED,
            allowed_from={State.ASSIGNED},
            guard=assignee_guard(by_id),
            mutate=mutate,
            history=("transferred", to_id, to.library_id, by_id, note),
        )
    except Exception:
        await desk.state.release(consultation_id, to_id, now)
        raise
    await desk.state.release(consultation_id, by_id, now)
    await desk.state.settle(consultation_id, to_id)
    view = await view_of(desk, c)
    await desk.bus.publish(
        ConsultationReleased(view, by_id, "transferred"),
        ConsultationAssigned(view, to_id, "transfer", previous_consultant_id=by_id),
    )
    await _tell_transfer(
        desk,
        consultation_id,
        by_id,
        note,
        text_for("transferred", c.language, name=to.display_name),
    )
    return await get_view(desk, consultation_id)


async def _tell_transfer(
    desk: Desk, consultation_id: int, by_id: int, note: str, to_reader: str
) -> None:
    """The note travels as a private staff message; the reader is told in a system message."""
    if note:
        await post_message(
            desk,
            Draft(consultation_id, "consultant", note, author_id=by_id, visibility="staff"),
        )
    await post_message(desk, Draft(consultation_id, "system", to_reader))


async def transfer_to_library(
    desk: Desk, by_id: int, consultation_id: int, library_id: int, note: str
) -> ConsultationView:
    lib = await desk.directory.library(library_id)
    if lib is None:
        raise NotFound("no such library", code="library_not_found")

    def mutate(c: Consultation) -> None:
        c.assignee_id = None
        c.serving_library_id = None
        c.route_library_id = library_id
        c.priority = FIRST_IN_LINE

    c, _, _ = await _change(
        desk,
        consultation_id,
        State.WAITING,
        allowed_from={State.ASSIGNED},
        guard=assignee_guard(by_id),
        mutate=mutate,
        history=("transferred", None, library_id, by_id, note),
    )
    now = desk.clock.now()
    await desk.state.release(consultation_id, by_id, now)
    # The colleague who handed it over is not offered it back.
    await desk.state.enqueue(entry_for(c, declined={by_id}))
    view = await view_of(desk, c)
    await desk.bus.publish(
        ConsultationReleased(view, by_id, "transferred"), ConsultationQueued(view, "transferred")
    )
    await _tell_transfer(
        desk,
        consultation_id,
        by_id,
        note,
        text_for("transferred_library", c.language, library=lib.name),
    )
    desk.request_routing()
    return await get_view(desk, consultation_id)


async def requeue(desk: Desk, consultation_id: int, consultant_id: int) -> ConsultationView | None:
    """The consultant dropped past their grace period: first in line again."""

    def mutate(c: Consultation) -> None:
        c.assignee_id = None
        c.serving_library_id = None
        c.offer_expires_at = None
        c.priority = FIRST_IN_LINE

    try:
        c, before, _ = await _change(
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
) -> ConsultationView:
    now = desk.clock.now()

    def mutate(c: Consultation) -> None:
        c.ended_at = _ts(now)
        c.ended_by = by
        c.end_reason = reason
        c.offer_expires_at = None

    c, _, previous = await _change(
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
