"""HTTP routes of the backlog: the staff's pool and a reader's ticket page."""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Any, Literal

from aiohttp import web
from pydantic import Field, field_validator
from sqlalchemy import select

from desk import auth, hours
from desk.backlog import actions
from desk.backlog.rules import ANSWER_KINDS, NOT_FOUND, SAME_TOPIC, WINDOW, template_language
from desk.delivery import files
from desk.delivery.actions import check_meta, check_url, library_limits, receive
from desk.delivery.api import (
    DocFields,
    file_part,
    file_response,
    next_part,
    part_chunks,
    part_filename,
    read_meta,
)
from desk.errors import Gone, InvalidPayload, NotFound
from desk.http import DESK_KEY, _Body, _cors, _json, _library_for_reader
from desk.models import Consultant, LedgerEntry, Library, Ticket, TicketEvent
from desk.phrases import _staff

#: States in which the reader has an answer: a reply sent back for revision keeps its answer
#: until it is revised.
ANSWERED = ("answered", "revision")

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,200}$")


class NewTicket(_Body):
    library: str = Field(min_length=1, max_length=32)
    token: str | None = Field(None, max_length=200)
    question: str = Field(min_length=1, max_length=actions.MAX_QUESTION_CHARS)
    kind: Literal["form", "document"] = "form"
    language: str = Field("zh-CN", pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
    email: str | None = Field(None, max_length=254, pattern=EMAIL)

    @field_validator("question")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be blank")
        return v


class ReturnBody(_Body):
    note: str = Field("", max_length=500)


#: Documents one answer may carry.
MAX_REPLY_DOCUMENTS = 10


class ReplyLink(DocFields):
    url: str = Field(min_length=1, max_length=2000)


class ReplyBody(_Body):
    answer: str = Field("", max_length=20_000)
    answer_kind: Literal["answer", "found", "same_topic", "not_found"]
    #: Documents delivered as links (counted in the ledger).
    links: list[ReplyLink] = Field(default_factory=list, max_length=MAX_REPLY_DOCUMENTS)
    #: With a multipart reply: the details of each file part, in order.
    files: list[DocFields] = Field(default_factory=list, max_length=MAX_REPLY_DOCUMENTS)


def _iso(d: datetime | None) -> str | None:
    return d.isoformat() if d else None


def _summary(t: Ticket, library: str) -> dict[str, Any]:
    return {
        "id": t.id,
        "library": library,
        "language": t.language,
        "kind": t.kind,
        "state": t.state,
        "question": t.question[:200],
        "submitted_at": _iso(t.submitted_at),
        "window_ends_at": _iso(t.submitted_at + WINDOW),
        "overdue": t.overdue_at is not None,
        "claimed_by": t.claimed_by,
        "handed_off_by": t.handed_off_by,
        "version": t.version,
    }


async def list_backlog(request: web.Request) -> web.Response:
    who = await _staff(request)
    desk = request.app[DESK_KEY]
    q = request.query
    stmt = select(Ticket, Library.code).join(Library, Library.id == Ticket.library_id)
    state = q.get("state", "open")
    if state not in ("open", "claimed", "answered", "revision"):
        raise InvalidPayload("state is open, claimed, answered or revision", code="invalid_payload")
    stmt = stmt.where(Ticket.state == state)
    if q.get("mine") == "1":
        stmt = stmt.where(Ticket.claimed_by == who.id)
    if q.get("library"):
        stmt = stmt.where(Library.code == q["library"][:32])
    if q.get("overdue") == "1":
        stmt = stmt.where(Ticket.overdue_at.is_not(None))
    order = Ticket.answered_at.desc() if state == "answered" else Ticket.submitted_at
    async with desk.reads() as s:
        rows = (await s.execute(stmt.order_by(order, Ticket.id).limit(200))).all()
    return web.json_response({"ok": True, "tickets": [_summary(t, code) for t, code in rows]})


def _ticket_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdecimal() or len(raw) > 12:
        raise NotFound("no such ticket", code="ticket_not_found")
    return int(raw)


async def get_ticket(request: web.Request) -> web.Response:
    await _staff(request)
    desk = request.app[DESK_KEY]
    tid = _ticket_id(request)
    async with desk.reads() as s:
        row = (
            await s.execute(
                select(Ticket, Library.code)
                .join(Library, Library.id == Ticket.library_id)
                .where(Ticket.id == tid)
            )
        ).one_or_none()
        if row is None:
            raise NotFound("no such ticket", code="ticket_not_found")
        events = (
            await s.execute(
                select(TicketEvent, Consultant.display_name)
                .outerjoin(Consultant, Consultant.id == TicketEvent.consultant_id)
                .where(TicketEvent.ticket_id == tid)
                .order_by(TicketEvent.id)
            )
        ).all()
    t, code = row
    lang = template_language(t.language)
    detail = {
        **_summary(t, code),
        "question": t.question,
        "transcript": t.transcript,
        "answer": t.answer,
        "answer_kind": t.answer_kind,
        "answered_at": _iso(t.answered_at),
        "has_contact": bool(t.contact_email),
        "answer_kinds": list(ANSWER_KINDS[t.kind]),
        # The norms' wording, for the console to insert (the desk adds it if left out).
        "templates": {"same_topic": SAME_TOPIC[lang], "not_found": NOT_FOUND[lang]},
        "events": [
            {"at": _iso(e.at), "action": e.action, "by": name, "note": e.note} for e, name in events
        ],
    }
    detail["documents"] = [
        _document(e, f"/api/backlog/{tid}/files/{e.id}") for e in await _documents(desk, tid)
    ]
    from stats.grading import grades_of

    detail["grades"] = await grades_of(desk, "ticket", tid)
    return web.json_response({"ok": True, "ticket": detail})


async def claim_ticket(request: web.Request) -> web.Response:
    who = await _staff(request, writing=True)
    await actions.claim(request.app[DESK_KEY], _ticket_id(request), who)
    return web.json_response({"ok": True})


async def return_ticket(request: web.Request) -> web.Response:
    who = await _staff(request, writing=True)
    body: ReturnBody = await _json(request, ReturnBody)
    await actions.return_ticket(request.app[DESK_KEY], _ticket_id(request), who, body.note)
    return web.json_response({"ok": True})


async def reply_ticket(request: web.Request) -> web.Response:
    """The answer, as JSON, or as multipart/form-data: a ``meta`` part (the same JSON, with
    ``files`` describing the file parts) followed by one ``file`` part per document."""
    who = await _staff(request, writing=True)
    desk = request.app[DESK_KEY]
    tid = _ticket_id(request)
    received: list[actions.ReplyDocument] = []
    try:
        if request.content_type.startswith("multipart/"):
            body, reader = await read_meta(request, ReplyBody)
            limits = await _ticket_limits(request, tid)
            for spec in body.files:
                meta = check_meta(spec.meta(), title_required=True)
                part = await file_part(reader)
                name = files.clean_name(part_filename(part))
                got, kind = await receive(desk, limits, name, part_chunks(part))
                received.append(actions.ReplyDocument(meta, got, kind, name))
            if await next_part(reader) is not None:
                raise InvalidPayload("more file parts than files described", code="invalid_payload")
        else:
            body = await _json(request, ReplyBody)
        if len(body.files) + len(body.links) > MAX_REPLY_DOCUMENTS:
            raise InvalidPayload(
                f"at most {MAX_REPLY_DOCUMENTS} documents in one answer", code="invalid_payload"
            )
        links = [
            actions.ReplyDocument(
                check_meta(link.meta(), title_required=True), url=check_url(link.url)
            )
            for link in body.links
        ]
    except BaseException:
        for d in received:
            if d.received is not None:
                await desk.files.discard(d.received, unplace=False)
        raise
    text = await actions.reply(
        desk,
        tid,
        who,
        answer=body.answer,
        answer_kind=body.answer_kind,
        documents=[*received, *links],
    )
    return web.json_response({"ok": True, "answer": text, "documents": len(received) + len(links)})


async def _ticket_limits(request: web.Request, ticket_id: int) -> Any:
    desk = request.app[DESK_KEY]
    async with desk.reads() as s:
        library_id = await s.scalar(select(Ticket.library_id).where(Ticket.id == ticket_id))
    if library_id is None:
        raise NotFound("no such ticket", code="ticket_not_found")
    return await library_limits(desk, library_id)


async def _documents(desk: Any, ticket_id: int) -> list[LedgerEntry]:
    async with desk.reads() as s:
        rows = await s.scalars(
            select(LedgerEntry).where(LedgerEntry.ticket_id == ticket_id).order_by(LedgerEntry.id)
        )
        return list(rows)


def _document(e: LedgerEntry, download: str | None) -> dict[str, Any]:
    return {
        "id": e.id,
        "kind": e.kind,
        "title": e.title,
        "authors": e.authors,
        "source": e.source,
        "year": e.year,
        "doc_type": e.doc_type,
        "name": e.file_name,
        "size": e.size,
        "content_type": e.content_type,
        "url": e.url,
        "purged": e.file_purged_at is not None,
        "download": download if e.kind == "file" and e.file_purged_at is None else None,
    }


async def staff_ticket_file(request: web.Request) -> web.StreamResponse:
    await _staff(request)
    return await _ticket_file(request, _ticket_id(request))


async def reader_ticket_file(request: web.Request) -> web.StreamResponse:
    t, _ = await _by_link(request)
    return await _ticket_file(request, t.id)


async def _ticket_file(request: web.Request, ticket_id: int) -> web.StreamResponse:
    desk = request.app[DESK_KEY]
    raw = request.match_info["file"]
    missing = NotFound("no such file", code="file_not_found")
    if not raw.isdecimal() or len(raw) > 18:
        raise missing
    async with desk.reads() as s:
        e = await s.get(LedgerEntry, int(raw))
    if e is None or e.ticket_id != ticket_id or e.kind != "file":
        raise missing
    if e.file_purged_at is not None:
        raise Gone("the file was removed after the retention period", code="file_purged")
    path = desk.files.local_path(e.sha256)
    if path is None:
        raise missing
    return file_response(e, path, inline=False)


# -- readers -------------------------------------------------------------------------------


async def new_ticket(request: web.Request) -> web.Response:
    """The widget's form: a question left for the form service, with no chat."""
    desk = request.app[DESK_KEY]
    body: NewTicket = await _json(request, NewTicket)
    lib = await _library_for_reader(desk, request, body.library)
    reader_id = await auth.reader_from_token(desk, body.token) if body.token else None
    filed = await actions.file_question(
        desk,
        library_id=lib.id,
        reader_id=reader_id,
        language=body.language,
        kind=body.kind,
        question=body.question,
        email=body.email,
    )
    return _cors(
        request,
        web.json_response({"ok": True, "ticket": {"id": filed.ticket_id, "url": filed.url}}),
    )


async def _by_link(request: web.Request) -> tuple[Ticket, Library]:
    desk = request.app[DESK_KEY]
    token = request.match_info["token"]
    if not _TOKEN.match(token):
        raise NotFound("no such ticket", code="ticket_not_found")
    async with desk.reads() as s:
        row = (
            await s.execute(
                select(Ticket, Library)
                .join(Library, Library.id == Ticket.library_id)
                .where(Ticket.link_hash == auth.token_hash(token))
            )
        ).one_or_none()
    if row is None:
        raise NotFound("no such ticket", code="ticket_not_found")
    return row[0], row[1]


def reader_view(
    t: Ticket, lib: Library, documents: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """What the reader sees: no staff names, no internal history."""
    return {
        "documents": documents or [],
        "id": t.id,
        "library": {"code": lib.code, "name": lib.name, "name_en": lib.name_en},
        "language": t.language,
        "kind": t.kind,
        # A reply sent back for revision stays as the reader got it until it is revised.
        "state": "answered" if t.state in ANSWERED else "in_progress",
        "question": t.question,
        "submitted_at": _iso(t.submitted_at),
        "answer": t.answer,
        "answered_at": _iso(t.answered_at),
    }


async def ticket_json(request: web.Request) -> web.Response:
    t, lib = await _by_link(request)
    token = request.match_info["token"]
    docs = [
        _document(e, f"/tickets/{token}/files/{e.id}")
        for e in await _documents(request.app[DESK_KEY], t.id)
    ]
    resp = web.json_response(
        {"ok": True, "ticket": reader_view(t, lib, docs)},
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )
    return _cors(request, resp)


_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title}</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:42rem;margin:1.5rem auto;padding:0 1rem;
line-height:1.6;color:#1f2933}}
.box{{border:1px solid #d9e2ec;border-radius:8px;padding:1rem;margin:1rem 0;white-space:pre-wrap}}
.state{{font-weight:600}} small{{color:#52606d}} a{{color:#1d4ed8}}
</style></head><body>
<p><small><a href="?lang={other_lang}" lang="{other_lang}">{other_label}</a></small></p>
<h1>{title}</h1>
<p><small>{library} · {number} · {submitted}</small></p>
<p class="state">{state}</p>
<h2>{q_label}</h2><div class="box">{question}</div>
{answer}
</body></html>
"""

_WORDS = {
    "zh-CN": {
        "title": "表单咨询",
        "number": "编号",
        "submitted": "提交于",
        "answered": "已答复",
        "in_progress": "咨询员正在处理您的问题，一般在72小时内答复。请稍后再来查看。",
        "question": "您的问题",
        "answer": "答复",
        "documents": "提供的文献",
        "download": "下载",
        "purged": "已超过保存期限，文件已删除",
        "other": "English",
    },
    "en": {
        "title": "Form consultation",
        "number": "No.",
        "submitted": "submitted",
        "answered": "Answered",
        "in_progress": "A consultant is working on your question; answers usually come "
        "within 72 hours. Please check back later.",
        "question": "Your question",
        "answer": "Answer",
        "documents": "Documents provided",
        "download": "download",
        "purged": "removed after the retention period",
        "other": "中文",
    },
}


async def ticket_page(request: web.Request) -> web.Response:
    t, lib = await _by_link(request)
    lang = template_language(request.query.get("lang") or t.language)
    w = _WORDS[lang]
    library = (lib.name_en or lib.name) if lang == "en" else lib.name
    answer = ""
    if t.state in ANSWERED and t.answer:
        answer = f'<h2>{w["answer"]}</h2><div class="box">{html.escape(t.answer)}</div>'
        docs = await _documents(request.app[DESK_KEY], t.id)
        if docs:
            answer += (
                f"<h2>{w['documents']}</h2><ul>"
                + "".join(_document_item(e, request.match_info["token"], w) for e in docs)
                + "</ul>"
            )
    # Times as the reader's library keeps them (its service hours' zone; Beijing time else).
    zone = hours.zone_of(lib.service_hours)
    local = t.submitted_at.astimezone(zone)
    other = "en" if lang == "zh-CN" else "zh-CN"
    page = _PAGE.format(
        lang=lang,
        other_lang=other,
        other_label=w["other"],
        title=w["title"],
        library=html.escape(library),
        number=f"{w['number']} {t.id}",
        submitted=f"{w['submitted']} {local.strftime('%Y-%m-%d %H:%M')} ({_utc_offset(local)})",
        state=w["answered"] if t.state in ANSWERED else w["in_progress"],
        q_label=w["question"],
        question=html.escape(t.question),
        answer=answer,
    )
    return web.Response(
        text=page,
        content_type="text/html",
        headers={
            "Cache-Control": "no-store",
            # The token is in the URL: never send it on to another site.
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
            "frame-ancestors 'none'",
        },
    )


def _document_item(e: LedgerEntry, token: str, w: dict[str, str]) -> str:
    details = " · ".join(html.escape(x) for x in (e.authors, e.source, str(e.year or "")) if x)
    title = html.escape(e.title)
    if e.kind == "link":
        url = html.escape(e.url, quote=True)
        head = f'<a href="{url}" rel="noopener noreferrer" target="_blank">{title}</a>'
    elif e.file_purged_at is not None:
        head = f"{title} <small>({w['purged']})</small>"
    else:
        size = f"{e.size / 1048576:.1f} MB" if e.size >= 104858 else f"{max(1, e.size // 1024)} KB"
        head = (
            f'{title} <small><a href="/tickets/{token}/files/{e.id}">{w["download"]}</a> '
            f"{html.escape(e.file_name)}, {size}</small>"
        )
    return f"<li>{head}" + (f"<br><small>{details}</small>" if details else "") + "</li>"


def _utc_offset(d: datetime) -> str:
    off = d.utcoffset()
    minutes = int(off.total_seconds() // 60) if off is not None else 0
    sign = "+" if minutes >= 0 else "-"
    h, m = divmod(abs(minutes), 60)
    return f"UTC{sign}{h}" + (f":{m:02d}" if m else "")


def add_backlog_routes(app: web.Application) -> None:
    app.router.add_get("/api/backlog", list_backlog)
    app.router.add_get("/api/backlog/{id}", get_ticket)
    app.router.add_post("/api/backlog/{id}/claim", claim_ticket)
    app.router.add_post("/api/backlog/{id}/return", return_ticket)
    app.router.add_post("/api/backlog/{id}/reply", reply_ticket)
    app.router.add_post("/api/tickets", new_ticket)
    app.router.add_route("OPTIONS", "/api/tickets", _preflight)
    app.router.add_get("/api/tickets/{token}", ticket_json)
    app.router.add_get("/tickets/{token}", ticket_page)
    app.router.add_get("/tickets/{token}/files/{file}", reader_ticket_file)
    app.router.add_get("/api/backlog/{id}/files/{file}", staff_ticket_file)


async def _preflight(request: web.Request) -> web.Response:
    from desk.http import reader_preflight

    return await reader_preflight(request)
