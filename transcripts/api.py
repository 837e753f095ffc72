"""The staff's side of transcripts over HTTP: search and filter, open one whole, tag, export,
read the audit log, and erase a reader's data on request. Every route checks the caller's
scope (``transcripts.access``); every opening, reveal, export and erasure is audited.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import Field, field_validator
from sqlalchemy import select, text

from desk.directory import ConsultantInfo
from desk.errors import Conflict, Forbidden, InvalidPayload, NotFound
from desk.http import DESK_KEY, _Body, _json
from desk.models import AssignmentRecord, Consultant, Consultation, LedgerEntry, Ticket
from desk.phrases import _staff
from transcripts import access, audit, privacy, retention, search
from transcripts.index import public_values
from transcripts.models import AuditEntry, Message, TranscriptDoc, TypicalCase

PAGE = 50
EXPORT_BATCH = 1000
MAX_TAGS = 20


class TagsBody(_Body):
    tags: list[str] = Field(default_factory=list, max_length=MAX_TAGS)

    @field_validator("tags")
    @classmethod
    def _clean(cls, v: list[str]) -> list[str]:
        out: list[str] = []
        for t in v:
            t = " ".join(t.split())[:32]
            if t and t not in out:
                out.append(t)
        return out


class EraseBody(_Body):
    reason: str = Field(min_length=2, max_length=500)


def _int(raw: str | None, what: str) -> int | None:
    if raw is None or raw == "":
        return None
    if not raw.lstrip("-").isdecimal() or len(raw) > 18:
        raise InvalidPayload(f"{what} is a number", code="invalid_payload")
    return int(raw)


def _day(raw: str | None, what: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise InvalidPayload(f"{what} is a date, YYYY-MM-DD", code="invalid_payload") from exc


async def _filters(request: web.Request, who: ConsultantInfo) -> list[Any]:
    desk = request.app[DESK_KEY]
    q = request.query
    zone = ZoneInfo(desk.settings.report_timezone)
    out: list[Any] = []
    scope = access.scope(who)
    if scope is not None:
        out.append(scope)
    since, until = _day(q.get("from"), "from"), _day(q.get("to"), "to")
    if since is not None:
        out.append(TranscriptDoc.created_at >= datetime.combine(since, time(), zone))
    if until is not None:
        out.append(
            TranscriptDoc.created_at < datetime.combine(until + timedelta(days=1), time(), zone)
        )
    for name, col in (
        ("library", TranscriptDoc.library_id),
        ("serving", TranscriptDoc.serving_library_id),
    ):
        code = q.get(name)
        if code:
            lib = await desk.directory.library_by_code(code[:32])
            out.append(col == (lib.id if lib else -1))
    consultant = _int(q.get("consultant"), "consultant")
    if consultant is not None:
        out.append(TranscriptDoc.consultant_id == consultant)
    state = q.get("state")
    if state:
        if state not in ("closed", "abandoned", "handed_off"):
            raise InvalidPayload("state is closed, abandoned or handed_off", code="invalid_payload")
        out.append(TranscriptDoc.state == state)
    language = q.get("language")
    if language:
        out.append(TranscriptDoc.language == language[:16])
    rating = q.get("rating")
    if rating:
        if rating not in ("0", "1", "none"):
            raise InvalidPayload("rating is 1, 0 or none", code="invalid_payload")
        out.append(
            TranscriptDoc.rating.is_(None)
            if rating == "none"
            else TranscriptDoc.rating == int(rating)
        )
    return out


def _tag_match(doc: TranscriptDoc, tag: str | None) -> bool:
    return tag is None or tag in (doc.tags or [])


async def _names(desk: Any) -> tuple[dict[int, str], dict[int, tuple[str, str]]]:
    libs = {i: x.code for i, x in (await desk.directory.libraries()).items()}
    async with desk.reads() as s:
        people = {
            r[0]: (r[1], r[2])
            for r in (
                await s.execute(select(Consultant.id, Consultant.username, Consultant.display_name))
            ).all()
        }
    return libs, people


def _summary(
    doc: TranscriptDoc,
    libs: dict[int, str],
    people: dict[int, tuple[str, str]],
    q: search.Query | None = None,
) -> dict[str, Any]:
    who = people.get(doc.consultant_id or 0)
    first = next(
        (ln.split("\t", 1)[1] for ln in doc.text.split("\n") if ln.startswith("reader\t")), ""
    )
    return {
        "consultation_id": doc.consultation_id,
        "library": libs.get(doc.library_id),
        "serving_library": libs.get(doc.serving_library_id or 0),
        "consultant": {"id": doc.consultant_id, "username": who[0], "name": who[1]}
        if who
        else None,
        "language": doc.language,
        "state": doc.state,
        "created_at": doc.created_at.isoformat(),
        "ended_at": doc.ended_at.isoformat() if doc.ended_at else None,
        "messages": doc.messages,
        "rating": doc.rating,
        "tags": doc.tags or [],
        "has_personal_data": doc.has_personal_data,
        "question": first[:200],
        "snippets": search.highlight(doc.text, q) if q is not None else [],
    }


async def search_transcripts(request: web.Request) -> web.Response:
    who = await _staff(request)
    desk = request.app[DESK_KEY]
    where = await _filters(request, who)
    q = search.parse(request.query.get("q", ""))
    params: dict[str, Any] = {}
    before = _int(request.query.get("before"), "before")
    if before is not None:
        where.append(TranscriptDoc.consultation_id < before)
    limit = min(_int(request.query.get("limit"), "limit") or PAGE, PAGE)
    tag = request.query.get("tag") or None
    async with desk.reads() as s:
        if not q.empty:
            cond, params = await search.condition(s, desk.engine.dialect.name, q)
            where.append(cond)
        stmt = select(TranscriptDoc).where(*where).order_by(TranscriptDoc.consultation_id.desc())
        # Tags are few per chat and filtered here (a JSON list works the same on both databases).
        stmt = stmt.limit(limit if tag is None else limit * 20)
        docs = [d for d in (await s.scalars(stmt, params)).all() if _tag_match(d, tag)][:limit]
    libs, people = await _names(desk)
    return web.json_response(
        {
            "ok": True,
            "results": [_summary(d, libs, people, q if not q.empty else None) for d in docs],
            "more": len(docs) == limit,
        }
    )


async def _doc(request: web.Request, who: ConsultantInfo) -> TranscriptDoc:
    desk = request.app[DESK_KEY]
    cid = _int(request.match_info["id"], "id")
    scope = access.scope(who)
    stmt = select(TranscriptDoc).where(TranscriptDoc.consultation_id == cid)
    if scope is not None:
        stmt = stmt.where(scope)
    async with desk.reads() as s:
        doc = await s.scalar(stmt)
    if doc is None:
        raise NotFound("no such transcript", code="transcript_not_found")
    return doc


async def open_transcript(request: web.Request) -> web.Response:
    """One whole consultation: every message (bot, system, private notes), transfers, files,
    its ticket and case; personal data masked unless revealed (with a reason, audited)."""
    who = await _staff(request)
    desk = request.app[DESK_KEY]
    doc = await _doc(request, who)
    cid = doc.consultation_id
    reveal = request.query.get("reveal") == "1"
    reason = (request.query.get("reason") or "").strip()[:500]
    if reveal:
        if not await access.may_reveal(desk, who, doc):
            raise Forbidden("you may not see this reader's personal data", code="forbidden")
        if len(reason) < 2:
            raise InvalidPayload("say why the personal data is needed", code="reason_required")
    async with desk.reads() as s:
        c = await s.get(Consultation, cid)
        msgs = (
            (
                await s.execute(
                    select(Message)
                    .where(Message.consultation_id == cid, Message.visibility != "reader")
                    .order_by(Message.seq)
                )
            )
            .scalars()
            .all()
        )
        history = (
            await s.execute(
                select(AssignmentRecord, Consultant.display_name)
                .outerjoin(Consultant, Consultant.id == AssignmentRecord.consultant_id)
                .where(AssignmentRecord.consultation_id == cid)
                .order_by(AssignmentRecord.id)
            )
        ).all()
        files = (
            await s.scalars(
                select(LedgerEntry)
                .where(LedgerEntry.consultation_id == cid)
                .order_by(LedgerEntry.id)
            )
        ).all()
        ticket = await s.scalar(select(Ticket).where(Ticket.consultation_id == cid))
        case = await s.scalar(select(TypicalCase).where(TypicalCase.consultation_id == cid))
    assert c is not None
    libs, people = await _names(desk)
    keep = await public_values(desk)
    show = (lambda b: b) if reveal else (lambda b: privacy.mask(b, keep))

    def message(m: Message) -> dict[str, Any]:
        person = m.author_kind in ("reader", "consultant")
        return {
            "seq": m.seq,
            "author_kind": m.author_kind,
            "author": people.get(m.author_id or 0, ("", ""))[1]
            if m.author_kind == "consultant"
            else None,
            "visibility": m.visibility,
            "body": show(m.body) if person else m.body,
            "created_at": m.created_at.isoformat(),
            "attachment": m.attachment,
        }

    await audit.record(
        desk,
        who,
        "reveal" if reveal else "open",
        consultation_id=cid,
        library_id=doc.library_id,
        detail={"reason": reason} if reveal else {},
    )
    return web.json_response(
        {
            "ok": True,
            "transcript": {
                **_summary(doc, libs, people),
                "revealed": reveal,
                "may_reveal": await access.may_reveal(desk, who, doc),
                "ended_by": c.ended_by,
                "end_reason": c.end_reason,
                "anonymised_at": c.anonymised_at.isoformat() if c.anonymised_at else None,
                "messages": [message(m) for m in msgs],
                "history": [
                    {
                        "action": h.action,
                        "consultant": name,
                        "library": libs.get(h.library_id or 0),
                        "note": show(h.note),
                        "at": h.at.isoformat(),
                    }
                    for h, name in history
                ],
                "files": [
                    {
                        "seq": f.seq,
                        "direction": f.direction,
                        "kind": f.kind,
                        "title": f.title,
                        "name": f.file_name,
                        "size": f.size,
                        "url": f.url,
                        "purged": f.file_purged_at is not None,
                    }
                    for f in files
                ],
                "ticket": {"id": ticket.id, "state": ticket.state} if ticket else None,
                "case": {"id": case.id, "state": case.state} if case else None,
            },
        }
    )


async def put_tags(request: web.Request) -> web.Response:
    who = await _staff(request, writing=True)
    desk = request.app[DESK_KEY]
    doc = await _doc(request, who)
    body: TagsBody = await _json(request, TagsBody)
    async with desk.sessions.begin() as s:
        row = await s.get(TranscriptDoc, doc.consultation_id)
        assert row is not None
        row.tags = body.tags
    return web.json_response({"ok": True, "tags": body.tags})


_EXPORT_COLUMNS = (
    "consultation_id",
    "library",
    "serving_library",
    "consultant",
    "language",
    "state",
    "created_at",
    "ended_at",
    "messages",
    "rating",
    "tags",
    "transcript",
)


async def export_transcripts(request: web.Request) -> web.StreamResponse:
    """Every matching transcript, masked, streamed (a supervisor may export a year): CSV (one
    row per consultation) or JSON lines. Audited with its filters and the count."""
    who = await _staff(request)
    access.supervisor(who)
    desk = request.app[DESK_KEY]
    fmt = request.query.get("format", "csv")
    if fmt not in ("csv", "jsonl"):
        raise InvalidPayload("format is csv or jsonl", code="invalid_payload")
    where = await _filters(request, who)
    q = search.parse(request.query.get("q", ""))
    params: dict[str, Any] = {}
    if not q.empty:
        clause, params = search.match_clause(desk.engine.dialect.name, q)
        where.append(text(clause))
    tag = request.query.get("tag") or None
    libs, people = await _names(desk)
    keep = await public_values(desk)
    resp = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson",
            "Content-Disposition": f'attachment; filename="transcripts.{fmt}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        }
    )
    await resp.prepare(request)
    if fmt == "csv":
        await resp.write(b"\xef\xbb\xbf" + _csv(list(_EXPORT_COLUMNS)))
    after, count = 0, 0
    while True:
        async with desk.reads() as s:
            batch = (
                await s.scalars(
                    select(TranscriptDoc)
                    .where(*where, TranscriptDoc.consultation_id > after)
                    .order_by(TranscriptDoc.consultation_id)
                    .limit(EXPORT_BATCH),
                    params,
                )
            ).all()
        if not batch:
            break
        after = batch[-1].consultation_id
        out = []
        for d in batch:
            if not _tag_match(d, tag):
                continue
            # Documents are masked when built; mask again in case a rule was added since.
            row = {
                "consultation_id": d.consultation_id,
                "library": libs.get(d.library_id),
                "serving_library": libs.get(d.serving_library_id or 0),
                "consultant": people.get(d.consultant_id or 0, ("", ""))[0],
                "language": d.language,
                "state": d.state,
                "created_at": d.created_at.isoformat(),
                "ended_at": d.ended_at.isoformat() if d.ended_at else "",
                "messages": d.messages,
                "rating": d.rating,
                "tags": " ".join(d.tags or []),
                "transcript": privacy.mask(d.text, keep),
            }
            count += 1
            if fmt == "csv":
                out.append(_csv([row[c] for c in _EXPORT_COLUMNS]))
            else:
                out.append((json.dumps(row, ensure_ascii=False) + "\n").encode())
        await resp.write(b"".join(out))
    await audit.record(
        desk,
        who,
        "export",
        library_id=who.library_id,
        format=fmt,
        filters={k: v for k, v in request.query.items() if k != "format"},
        count=count,
    )
    await resp.write_eof()
    return resp


def _csv(values: list[Any]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerow(["" if v is None else v for v in values])
    return buf.getvalue().encode()


async def audit_log(request: web.Request) -> web.Response:
    """The audit log for supervisors: their library's readers' data (admins: all)."""
    who = await _staff(request)
    access.supervisor(who)
    desk = request.app[DESK_KEY]
    q = request.query
    stmt = select(AuditEntry)
    if who.role != "admin":
        stmt = stmt.where(AuditEntry.library_id == who.library_id)
    for name, col in (
        ("consultant", AuditEntry.consultant_id),
        ("consultation", AuditEntry.consultation_id),
    ):
        value = _int(q.get(name), name)
        if value is not None:
            stmt = stmt.where(col == value)
    if q.get("action"):
        stmt = stmt.where(AuditEntry.action == q["action"][:32])
    before = _int(q.get("before"), "before")
    if before is not None:
        stmt = stmt.where(AuditEntry.id < before)
    async with desk.reads() as s:
        rows = (await s.scalars(stmt.order_by(AuditEntry.id.desc()).limit(200))).all()
    libs, people = await _names(desk)
    return web.json_response(
        {
            "ok": True,
            "entries": [
                {
                    "id": e.id,
                    "at": e.at.isoformat(),
                    "consultant": people.get(e.consultant_id or 0, ("", ""))[0] or None,
                    "action": e.action,
                    "consultation_id": e.consultation_id,
                    "library": libs.get(e.library_id or 0),
                    "detail": e.detail,
                }
                for e in rows
            ],
            "more": len(rows) == 200,
        }
    )


async def erase_reader(request: web.Request) -> web.Response:
    """Erase the data of the reader of a consultation, on their request: their words and
    identity go, the statistics stay."""
    who = await _staff(request, writing=True)
    access.supervisor(who)
    desk = request.app[DESK_KEY]
    doc = await _doc(request, who)
    body: EraseBody = await _json(request, EraseBody)
    async with desk.reads() as s:
        reader_id = await s.scalar(
            select(Consultation.reader_id).where(Consultation.id == doc.consultation_id)
        )
    assert reader_id is not None
    done = await retention.erase_reader(desk, reader_id, who=who, reason=body.reason)
    return web.json_response({"ok": True, "consultations": done})


def add_transcript_routes(app: web.Application) -> None:
    app.router.add_get("/api/transcripts", search_transcripts)
    app.router.add_get("/api/transcripts/export", export_transcripts)
    app.router.add_get("/api/transcripts/{id}", open_transcript)
    app.router.add_put("/api/transcripts/{id}/tags", put_tags)
    app.router.add_post("/api/transcripts/{id}/erase-reader", erase_reader)
    app.router.add_get("/api/audit", audit_log)
    app.router.add_get("/api/readers/consultations/{id}/transcript", reader_transcript)
    app.router.add_post("/api/readers/consultations/{id}/transcript/email", reader_transcript_mail)


# -- the reader's own copy ----------------------------------------------------------------


class MailBody(_Body):
    email: str = Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


_HEAD = {
    "zh-CN": "{library} 实时咨询记录（编号 {id}，{start}）",
    "en": "{library}: live consultation no. {id} ({start})",
}
_WHO = {
    "zh-CN": {"reader": "我", "consultant": "咨询员", "bot": "自动回复", "system": "系统"},
    "en": {"reader": "Me", "consultant": "Consultant", "bot": "Auto-reply", "system": "Desk"},
}


async def _reader_copy(request: web.Request) -> tuple[str, int, str]:
    """The chat as the reader saw it (no private notes), as plain text; their own words are
    not masked: it is their copy."""
    from desk.delivery.api import _reader

    desk = request.app[DESK_KEY]
    cid = _int(request.match_info["id"], "id")
    assert cid is not None
    reader_id = await _reader(request, cid)
    async with desk.reads() as s:
        c = await s.get(Consultation, cid)
        if c is None or c.reader_id != reader_id:
            raise NotFound("no such consultation", code="consultation_not_found")
        msgs = (
            await s.scalars(
                select(Message)
                .where(Message.consultation_id == cid, Message.visibility.in_(("all", "reader")))
                .order_by(Message.seq)
            )
        ).all()
    lib = await desk.directory.library(c.library_id)
    lang = "en" if c.language.startswith("en") else "zh-CN"
    zone = ZoneInfo(str((lib.service_hours if lib else {}).get("timezone") or "Asia/Shanghai"))
    name = (lib.name_en or lib.name) if lib and lang == "en" else (lib.name if lib else "")
    lines = [
        _HEAD[lang].format(
            library=name, id=cid, start=c.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        ),
        "",
    ]
    for m in msgs:
        when = m.created_at.astimezone(zone).strftime("%H:%M")
        body = m.body
        if m.attachment and m.attachment.get("name"):
            body += f"  [{m.attachment['name']}]"
        lines.append(f"[{when}] {_WHO[lang].get(m.author_kind, m.author_kind)}: {body}")
    return "\n".join(lines) + "\n", cid, lang


async def reader_transcript(request: web.Request) -> web.Response:
    body, cid, _ = await _reader_copy(request)
    resp = web.Response(
        text=body,
        content_type="text/plain",
        charset="utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="consultation-{cid}.txt"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
    origin = request.headers.get("Origin")
    if origin:
        resp.headers["Access-Control-Allow-Origin"] = origin
        resp.headers["Access-Control-Expose-Headers"] = "Content-Disposition"
        resp.headers["Vary"] = "Origin"
    return resp


async def reader_transcript_mail(request: web.Request) -> web.Response:
    from desk.backlog.mail import send_text
    from desk.http import _cors

    desk = request.app[DESK_KEY]
    body: MailBody = await _json(request, MailBody)
    text_body, cid, lang = await _reader_copy(request)
    if not desk.settings.smtp_host:
        raise Conflict("this desk sends no mail", code="mail_unavailable")
    subject = f"Your consultation no. {cid}" if lang == "en" else f"您的实时咨询记录（编号 {cid}）"
    if not await send_text(desk, body.email, subject, text_body):
        raise Conflict("the mail could not be sent; try again later", code="mail_failed")
    return _cors(request, web.json_response({"ok": True}))
