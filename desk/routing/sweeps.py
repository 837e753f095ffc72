"""Timed repairs: consultants past their grace, readers gone, offers expired, and the shared
state brought back in line with the database (which is the truth)."""

from __future__ import annotations

import logging

from sqlalchemy import select

from desk.actions.consultations import end_consultation, entry_for, requeue
from desk.actions.offers import expire_offers
from desk.actions.presence import consultant_connected, held_in_db
from desk.context import Desk
from desk.db import stream_rows
from desk.errors import DeskError
from desk.models import Consultation
from desk.shared.base import CLAIM_TTL
from desk.states import ACTIVE, HOLDING, State

log = logging.getLogger(__name__)

#: Rows a sweep reads between two turns for the loop (every active chat, on a busy node
#: thousands: read at once they held the loop for some 20 ms).
ROWS_PER_TURN = 500


async def sweep_consultants(desk: Desk) -> int:
    """Requeue the chats of consultants gone longer than the grace period."""
    now = desk.clock.now()
    grace = desk.settings.consultant_grace_seconds
    n = 0
    for p in await desk.state.presences():
        gone_since = p.disconnected_at if not p.connected else None
        if gone_since is None and now - p.heartbeat > grace:
            gone_since = p.heartbeat  # the node holding their socket stopped beating
        if gone_since is None or now - gone_since < grace:
            continue
        for cid in await held_in_db(desk, p.consultant_id):
            if await requeue(desk, cid, p.consultant_id) is not None:
                n += 1
        await desk.state.drop_presence(p.consultant_id)
        log.info("consultant presence expired", extra={"consultant": p.consultant_id})
    return n


#: A reader who left before anyone served them keeps their question in the backlog when it
#: holds at least this much text (a bare "你好" is not worth a ticket).
KEEP_QUESTION_CHARS = 6


async def _keep_the_question(desk: Desk, consultation_id: int) -> bool:
    """Nobody reached the reader before they left: hand the chat off to the form service, so
    a consultant answers the question there and the reader finds the link when they return
    (nothing is lost). False when the chat had a consultant or no real question."""
    from desk.backlog.actions import hand_off

    async with desk.reads() as s:
        state = await s.scalar(select(Consultation.state).where(Consultation.id == consultation_id))
    if state not in (State.WAITING.value, State.OFFERED.value):
        return False
    asked = [
        m.body
        for m in await desk.store.messages_since(consultation_id, 0, staff=False)
        if m.author_kind == "reader"
    ]
    if len("".join(asked).strip()) < KEEP_QUESTION_CHARS:
        return False
    await hand_off(desk, consultation_id, by="system", kind="form", note="reader_gone")
    return True


async def sweep_readers(desk: Desk) -> int:
    """End the chats whose reader has been gone longer than the grace period: handed off to
    the form service when nobody had served them yet, else abandoned."""
    now = desk.clock.now()
    grace = desk.settings.reader_grace_seconds
    async with desk.reads() as s:
        ids = [
            cid
            async for (cid,) in stream_rows(
                s,
                select(Consultation.id).where(Consultation.state.in_([x.value for x in ACTIVE])),
                ROWS_PER_TURN,
            )
        ]
    if not ids:
        return 0
    seen = await desk.state.reader_last_seen(ids)
    unknown = [i for i in ids if i not in seen]
    if unknown:
        # Never seen by this state (it was restarted): the grace period starts now.
        await desk.state.reader_seen(unknown, now)
    n = 0
    for cid, last in seen.items():
        if now - last < grace:
            continue
        try:
            if not await _keep_the_question(desk, cid):
                await end_consultation(
                    desk, cid, target=State.ABANDONED, by="system", reason="reader_gone"
                )
            n += 1
        except DeskError:
            continue
    return n


async def reconcile(desk: Desk) -> None:
    """Make the queue and the consultants' loads agree with the database."""
    now = desk.clock.now()
    async with desk.reads() as s:
        waiting = {
            c.id: c
            for c in (
                await s.scalars(
                    select(Consultation).where(Consultation.state == State.WAITING.value)
                )
            ).all()
        }
        holding_rows = [
            (cid, assignee)
            async for cid, assignee in stream_rows(
                s,
                select(Consultation.id, Consultation.assignee_id).where(
                    Consultation.state.in_([x.value for x in HOLDING])
                ),
                ROWS_PER_TURN,
            )
        ]
    queued = {e.consultation_id: e for e in await desk.state.queue()}
    for cid, c in waiting.items():
        if cid not in queued:
            await desk.state.enqueue(entry_for(c))
    for cid in queued:
        if cid not in waiting:
            await desk.state.dequeue(cid)
    by_consultant: dict[int, set[int]] = {}
    for cid, assignee in holding_rows:
        if assignee is not None:
            by_consultant.setdefault(assignee, set()).add(cid)
    for p in await desk.state.presences():
        want = by_consultant.get(p.consultant_id, set())
        held = await desk.state.holdings(p.consultant_id)
        for cid, since in held.items():
            # A fresh claim may not be written to the database yet: leave it alone.
            if cid not in want and now - since > CLAIM_TTL:
                await desk.state.release(cid, p.consultant_id, now)
        for cid in want - held.keys():
            await desk.state.hold(cid, p.consultant_id, now)
    if waiting:
        desk.request_routing()


async def expire(desk: Desk) -> int:
    return await expire_offers(desk)


async def beat(desk: Desk) -> None:
    """Node-local: refresh the heartbeats of the consultants and readers connected here."""
    now = desk.clock.now()
    if desk.local_consultants:
        # One round trip, however many consultants are online here.
        lost = await desk.state.heartbeat(list(desk.local_consultants), now)
        # A presence the shared state lost (Redis restarted) is put back, as "away": the
        # consultant is told and chooses to go online again; their chats come back through
        # reconcile.
        for cid in sorted(lost):
            who = desk.local_staff.get(cid)
            if who is not None:
                await consultant_connected(desk, who, "away")
    ids: set[int] = set()
    for cids in desk.local_reader_consultations.values():
        ids |= cids
    if ids:
        await desk.state.reader_seen(ids, now)
