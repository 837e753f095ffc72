"""The reader's rating of a finished chat: satisfied or not, with an optional comment. It is
a fact of the consultation (``ConsultationFact.rating``), shown on its transcript, and counted
in the reports and certificates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp import web
from pydantic import Field
from sqlalchemy import update

from desk.errors import Conflict, NotFound
from desk.http import DESK_KEY, _Body, _cors, _json
from desk.models import Consultation
from stats.models import ConsultationFact
from stats.recorder import ensure_fact, mark_dirty_in
from transcripts.models import TranscriptDoc

#: States in which a chat may be rated: it ended after a consultant had it.
RATEABLE = ("closed", "handed_off")
#: A rating may be given or changed this long after the chat ended; after that the figures
#: (and the certificates issued on them) stay as they are.
RATING_WINDOW = timedelta(days=7)


class RatingBody(_Body):
    satisfied: bool
    comment: str = Field("", max_length=500)


async def rate(request: web.Request) -> web.Response:
    from desk.delivery.api import _reader

    desk = request.app[DESK_KEY]
    raw = request.match_info["id"]
    if not raw.isdecimal() or len(raw) > 18:
        raise NotFound("no such consultation", code="consultation_not_found")
    cid = int(raw)
    reader_id = await _reader(request, cid)
    body: RatingBody = await _json(request, RatingBody)
    async with desk.reads() as s:
        c = await s.get(Consultation, cid)
    if c is None or c.reader_id != reader_id:
        raise NotFound("no such consultation", code="consultation_not_found")
    if c.state not in RATEABLE or c.assigned_at is None:
        raise Conflict("only a finished chat with a consultant is rated", code="not_rateable")
    now = datetime.fromtimestamp(desk.clock.now(), UTC)
    if c.ended_at is not None and now - c.ended_at > RATING_WINDOW:
        raise Conflict("the chat ended too long ago to be rated", code="not_rateable")
    value = 1 if body.satisfied else 0
    await ensure_fact(desk, c)
    async with desk.sessions.begin() as s:
        fact = await s.get(ConsultationFact, cid, with_for_update=True)
        assert fact is not None
        fact.rating = value
        fact.rating_comment = body.comment.strip()
        await s.execute(
            update(TranscriptDoc).where(TranscriptDoc.consultation_id == cid).values(rating=value)
        )
        await mark_dirty_in(s, desk, fact.day)
    return _cors(request, web.json_response({"ok": True, "satisfied": body.satisfied}))


def add_rating_routes(app: web.Application) -> None:
    app.router.add_post("/api/readers/consultations/{id}/rating", rate)
