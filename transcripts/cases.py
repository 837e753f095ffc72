"""Typical cases (典型案例, norm 5 of live service): a consultation marked by a consultant or a
supervisor, reviewed and edited by a supervisor, and published to the case library, which is
searchable, exports to Markdown and JSON, and feeds the FAQ bot's knowledge base.

A case's text is always anonymised: drafted from the masked transcript, and masked again
whenever it is saved, so no edit can put a reader's personal data back.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from pydantic import Field, field_validator
from sqlalchemy import or_, select

from bots.kb import upsert_from_case
from desk.actions.consultations import timestamp
from desk.directory import ConsultantInfo
from desk.errors import Conflict, Forbidden, InvalidPayload, NotFound
from desk.http import DESK_KEY, _Body, _json
from desk.models import Consultation, KbEntry
from desk.phrases import _staff
from transcripts import access, audit, privacy
from transcripts.models import Message, TranscriptDoc, TypicalCase

#: What a case is about (the console offers these; others are allowed).
CATEGORIES = (
    "文献检索",
    "文献传递",
    "数据库使用",
    "平台使用",
    "馆藏与借阅",
    "事实咨询",
    "学位论文",
    "其他",
)


def _tags(v: list[str]) -> list[str]:
    out: list[str] = []
    for t in v:
        t = " ".join(t.split())[:32]
        if t and t not in out:
            out.append(t)
    return out


class NewCase(_Body):
    consultation_id: int = Field(ge=1)
    category: str = Field(min_length=1, max_length=64)
    tags: list[str] = Field(default_factory=list, max_length=20)
    summary: str = Field("", max_length=2000)
    title: str = Field("", max_length=200)

    _clean = field_validator("tags")(classmethod(lambda cls, v: _tags(v)))


class EditCase(_Body):
    category: str | None = Field(None, min_length=1, max_length=64)
    tags: list[str] | None = Field(None, max_length=20)
    summary: str | None = Field(None, max_length=2000)
    title: str | None = Field(None, min_length=1, max_length=200)
    question: str | None = Field(None, min_length=1, max_length=20_000)
    answer: str | None = Field(None, min_length=1, max_length=50_000)

    _clean = field_validator("tags")(classmethod(lambda cls, v: None if v is None else _tags(v)))


def _view(c: TypicalCase) -> dict[str, Any]:
    return {
        "id": c.id,
        "consultation_id": c.consultation_id,
        "library_id": c.library_id,
        "language": c.language,
        "category": c.category,
        "tags": c.tags or [],
        "title": c.title,
        "summary": c.summary,
        "question": c.question,
        "answer": c.answer,
        "state": c.state,
        "created_by": c.created_by,
        "created_at": c.created_at.isoformat(),
        "updated_at": c.updated_at.isoformat(),
        "published_at": c.published_at.isoformat() if c.published_at else None,
        "kb_entry_id": c.kb_entry_id,
    }


def _may_edit(who: ConsultantInfo, c: TypicalCase) -> bool:
    if who.role == "admin":
        return True
    if who.role == "supervisor":
        return who.library_id == c.library_id
    return c.state == "draft" and c.created_by == who.id


def _visible(who: ConsultantInfo) -> Any:
    """Published cases are for every consultant; drafts for their author and the library's
    supervisors (admins: all)."""
    if who.role == "admin":
        return None
    own = TypicalCase.created_by == who.id
    if who.role == "supervisor":
        own = or_(own, TypicalCase.library_id == who.library_id)
    return or_(TypicalCase.state == "published", own)


async def create_case(request: web.Request) -> web.Response:
    who = await _staff(request, writing=True)
    desk = request.app[DESK_KEY]
    body: NewCase = await _json(request, NewCase)
    scope = access.scope(who)
    stmt = select(TranscriptDoc).where(TranscriptDoc.consultation_id == body.consultation_id)
    if scope is not None:
        stmt = stmt.where(scope)
    async with desk.reads() as s:
        doc = await s.scalar(stmt)
        if doc is None:
            raise NotFound("no such transcript", code="transcript_not_found")
        rows = (
            await s.execute(
                select(Message.author_kind, Message.body)
                .where(
                    Message.consultation_id == doc.consultation_id,
                    Message.visibility == "all",
                    Message.author_kind.in_(("reader", "consultant")),
                )
                .order_by(Message.seq)
            )
        ).all()
        subject = await s.scalar(
            select(Consultation.subject).where(Consultation.id == doc.consultation_id)
        )
    question = "\n".join(privacy.mask(b) for k, b in rows if k == "reader").strip()
    answer = "\n".join(privacy.mask(b) for k, b in rows if k == "consultant").strip()
    if not question:
        raise InvalidPayload("the chat has no question to keep", code="empty_question")
    title = privacy.mask(body.title.strip() or (subject or question)[:60]).strip()
    now = timestamp(desk.clock.now())
    async with desk.sessions.begin() as s:
        case = TypicalCase(
            consultation_id=doc.consultation_id,
            library_id=doc.library_id,
            language=doc.language,
            category=body.category.strip(),
            tags=body.tags,
            title=title[:200],
            summary=privacy.mask(body.summary.strip()),
            question=question,
            answer=answer or "—",
            state="draft",
            created_by=who.id,
            created_at=now,
            updated_by=who.id,
            updated_at=now,
        )
        s.add(case)
        await s.flush()
        await audit.record(
            desk,
            who,
            "case_create",
            consultation_id=doc.consultation_id,
            library_id=doc.library_id,
            session=s,
            case_id=case.id,
        )
        view = _view(case)
    return web.json_response({"ok": True, "case": view}, status=201)


async def _case(request: web.Request, who: ConsultantInfo) -> TypicalCase:
    raw = request.match_info["id"]
    if not raw.isdecimal() or len(raw) > 12:
        raise NotFound("no such case", code="case_not_found")
    stmt = select(TypicalCase).where(TypicalCase.id == int(raw))
    visible = _visible(who)
    if visible is not None:
        stmt = stmt.where(visible)
    async with request.app[DESK_KEY].reads() as s:
        case = await s.scalar(stmt)
    if case is None:
        raise NotFound("no such case", code="case_not_found")
    return case


async def list_cases(request: web.Request) -> web.Response:
    who = await _staff(request)
    desk = request.app[DESK_KEY]
    q = request.query
    stmt = select(TypicalCase)
    visible = _visible(who)
    if visible is not None:
        stmt = stmt.where(visible)
    if q.get("state"):
        if q["state"] not in ("draft", "published", "withdrawn"):
            raise InvalidPayload("state is draft, published or withdrawn", code="invalid_payload")
        stmt = stmt.where(TypicalCase.state == q["state"])
    if q.get("category"):
        stmt = stmt.where(TypicalCase.category == q["category"][:64])
    if q.get("library"):
        lib = await desk.directory.library_by_code(q["library"][:32])
        stmt = stmt.where(TypicalCase.library_id == (lib.id if lib else -1))
    words = [w for w in (q.get("q") or "").split() if w][:8]
    for w in words:
        like = f"%{w[:50]}%"
        stmt = stmt.where(
            or_(
                TypicalCase.title.ilike(like),
                TypicalCase.summary.ilike(like),
                TypicalCase.question.ilike(like),
                TypicalCase.answer.ilike(like),
            )
        )
    async with desk.reads() as s:
        cases = (await s.scalars(stmt.order_by(TypicalCase.id.desc()).limit(500))).all()
    tag = q.get("tag")
    out = [_view(c) for c in cases if tag is None or tag in (c.tags or [])]
    return web.json_response({"ok": True, "cases": out, "categories": list(CATEGORIES)})


async def get_case(request: web.Request) -> web.Response:
    who = await _staff(request)
    case = await _case(request, who)
    return web.json_response({"ok": True, "case": _view(case), "can_edit": _may_edit(who, case)})


async def edit_case(request: web.Request) -> web.Response:
    who = await _staff(request, writing=True)
    desk = request.app[DESK_KEY]
    case = await _case(request, who)
    if not _may_edit(who, case):
        raise Forbidden("only the library's supervisors edit this case", code="forbidden")
    body: EditCase = await _json(request, EditCase)
    async with desk.sessions.begin() as s:
        c = await s.get(TypicalCase, case.id)
        assert c is not None
        for field in ("title", "summary", "question", "answer"):
            value = getattr(body, field)
            if value is not None:
                # Masked again: an edit cannot bring a reader's data back.
                setattr(c, field, privacy.mask(value.strip()))
        if body.category is not None:
            c.category = body.category.strip()
        if body.tags is not None:
            c.tags = body.tags
        c.updated_by, c.updated_at = who.id, timestamp(desk.clock.now())
        published = c.state == "published"
        view = _view(c)
    if published:
        await _feed_kb(request, case.id)
    return web.json_response({"ok": True, "case": view})


async def _feed_kb(request: web.Request, case_id: int) -> None:
    desk = request.app[DESK_KEY]
    async with desk.reads() as s:
        c = await s.get(TypicalCase, case_id)
    assert c is not None
    entry_id = await upsert_from_case(
        desk,
        library_id=c.library_id,
        language=c.language,
        question=c.title if len(c.question) > 500 else c.question,
        answer=c.answer,
        case_id=c.id,
    )
    async with desk.sessions.begin() as s:
        row = await s.get(TypicalCase, case_id)
        assert row is not None
        row.kb_entry_id = entry_id


async def publish_case(request: web.Request) -> web.Response:
    who = await _staff(request, writing=True)
    access.supervisor(who)
    desk = request.app[DESK_KEY]
    case = await _case(request, who)
    if not _may_edit(who, case):
        raise Forbidden("only the library's supervisors publish its cases", code="forbidden")
    if case.state == "published":
        raise Conflict("the case is published already", code="case_published")
    async with desk.sessions.begin() as s:
        c = await s.get(TypicalCase, case.id)
        assert c is not None
        # A last pass of the masking, whatever the editing did.
        c.title, c.summary = privacy.mask(c.title), privacy.mask(c.summary)
        c.question, c.answer = privacy.mask(c.question), privacy.mask(c.answer)
        c.state = "published"
        c.published_by, c.published_at = who.id, timestamp(desk.clock.now())
        await audit.record(
            desk,
            who,
            "case_publish",
            consultation_id=c.consultation_id,
            library_id=c.library_id,
            session=s,
            case_id=c.id,
        )
    await _feed_kb(request, case.id)
    return await get_case(request)


async def withdraw_case(request: web.Request) -> web.Response:
    who = await _staff(request, writing=True)
    access.supervisor(who)
    desk = request.app[DESK_KEY]
    case = await _case(request, who)
    if not _may_edit(who, case):
        raise Forbidden("only the library's supervisors withdraw its cases", code="forbidden")
    async with desk.sessions.begin() as s:
        c = await s.get(TypicalCase, case.id)
        assert c is not None
        c.state = "withdrawn"
        if c.kb_entry_id is not None:
            entry = await s.get(KbEntry, c.kb_entry_id)
            if entry is not None and entry.source == "case":
                entry.active = False
    return await get_case(request)


def _markdown(cases: list[TypicalCase]) -> str:
    out = ["# 典型案例 · Typical cases", ""]
    for c in cases:
        out += [
            f"## {c.title}",
            "",
            f"- 分类 · Category: {c.category}",
            f"- 标签 · Tags: {', '.join(c.tags or []) or '—'}",
            f"- 语言 · Language: {c.language}",
            f"- 发布 · Published: {c.published_at.date().isoformat() if c.published_at else '—'}",
            "",
        ]
        if c.summary:
            out += [c.summary, ""]
        out += ["### 问题 · Question", "", c.question, "", "### 解答 · Answer", "", c.answer, ""]
    return "\n".join(out)


async def export_cases(request: web.Request) -> web.Response:
    """The published cases, as Markdown or JSON (already anonymised)."""
    who = await _staff(request)
    desk = request.app[DESK_KEY]
    fmt = request.query.get("format", "md")
    if fmt not in ("md", "json"):
        raise InvalidPayload("format is md or json", code="invalid_payload")
    stmt = select(TypicalCase).where(TypicalCase.state == "published")
    if request.query.get("category"):
        stmt = stmt.where(TypicalCase.category == request.query["category"][:64])
    async with desk.reads() as s:
        cases = list((await s.scalars(stmt.order_by(TypicalCase.id))).all())
    await audit.record(desk, who, "case_export", library_id=who.library_id, count=len(cases))
    if fmt == "md":
        body, ctype = _markdown(cases), "text/markdown"
    else:
        body = json.dumps({"cases": [_view(c) for c in cases]}, ensure_ascii=False, indent=1)
        ctype = "application/json"
    return web.Response(
        text=body,
        content_type=ctype,
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="typical-cases.{fmt}"'},
    )


def add_case_routes(app: web.Application) -> None:
    app.router.add_get("/api/cases", list_cases)
    app.router.add_post("/api/cases", create_case)
    app.router.add_get("/api/cases/export", export_cases)
    app.router.add_get("/api/cases/{id}", get_case)
    app.router.add_patch("/api/cases/{id}", edit_case)
    app.router.add_post("/api/cases/{id}/publish", publish_case)
    app.router.add_post("/api/cases/{id}/withdraw", withdraw_case)
