"""Offers: a waiting chat offered (or given) to a consultant, accepted, declined, expired."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from desk.actions.consultations import (
    assignee_guard,
    change_state,
    entry_for,
    timestamp,
)
from desk.actions.views import view_of
from desk.context import Desk
from desk.directory import LibraryInfo
from desk.errors import Conflict, Forbidden, NotFound
from desk.events import (
    ConsultationAssigned,
    ConsultationOffered,
    ConsultationQueued,
    ConsultationView,
    OfferWithdrawn,
)
from desk.models import AssignmentRecord, Consultation
from desk.states import State


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
            c.assigned_at = timestamp(now)
            c.offer_expires_at = None
        else:
            c.offer_expires_at = timestamp(now) + timedelta(seconds=library.offer_timeout_seconds)

    try:
        c, _, _ = await change_state(
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
        c.assigned_at = timestamp(now)
        c.offer_expires_at = None

    c, _, _ = await change_state(
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

    c, _, _ = await change_state(
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
    now = timestamp(desk.clock.now())
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
