"""Transfers: a consultant hands a chat to a colleague or to another library."""

from __future__ import annotations

from desk.actions.consultations import (
    FIRST_IN_LINE,
    assignee_guard,
    change_state,
    entry_for,
    get_view,
    post_message,
)
from desk.actions.views import view_of
from desk.context import Desk
from desk.errors import Conflict, NotFound
from desk.events import (
    ConsultationAssigned,
    ConsultationQueued,
    ConsultationReleased,
    ConsultationView,
)
from desk.models import Consultation
from desk.states import State
from desk.texts import text_for
from transcripts.store import Draft


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
        c, _, _ = await change_state(
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

    c, _, _ = await change_state(
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
