"""Turning stored rows into the views events and acknowledgements carry."""

from __future__ import annotations

from desk.context import Desk
from desk.events import ConsultationView
from desk.models import Consultation


async def view_of(desk: Desk, c: Consultation) -> ConsultationView:
    lib = await desk.directory.library(c.library_id)
    name = None
    assignee_library = None
    if c.assignee_id is not None:
        who = await desk.directory.consultant(c.assignee_id)
        name = who.display_name if who else None
        home = await desk.directory.library(who.library_id) if who else None
        if home is not None:
            assignee_library = (home.code, home.name, home.name_en)
    return ConsultationView(
        id=c.id,
        library_id=c.library_id,
        library_code=lib.code if lib else "",
        language=c.language,
        state=c.state,
        reader_id=c.reader_id,
        assignee_id=c.assignee_id,
        assignee_name=name,
        serving_library_id=c.serving_library_id,
        route_library_id=c.route_library_id,
        subject=c.subject,
        last_seq=c.last_seq,
        version=c.version,
        created_at=c.created_at,
        queued_at=c.queued_at,
        assigned_at=c.assigned_at,
        ended_at=c.ended_at,
        ended_by=c.ended_by,
        offer_expires_at=c.offer_expires_at,
        priority=c.priority,
        reader_read_seq=c.reader_read_seq,
        staff_read_seq=c.staff_read_seq,
        assignee_library=assignee_library,
    )
