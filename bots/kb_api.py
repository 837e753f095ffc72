"""HTTP routes to keep the FAQ bot's knowledge base: list and search, add, edit, remove, export
and import. Any staff member may read; a library's supervisors and admins edit its own entries;
only admins edit the alliance-wide ones. Writes follow the console's origin rule (CSRF).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import Field
from sqlalchemy import or_, select

from bots.api import BOTS_KEY
from bots.faq_match import Doc, Knowledge
from bots.kb import (
    by_question,
    entries_of,
    question_key,
    same_question,
    to_client,
    upsert_from_case,
)
from bots.kb_io import (
    FORMATS,
    LANGUAGE_PATTERN,
    EntryFields,
    ImportRefused,
    parse_csv,
    parse_json,
    to_csv,
    to_json,
)
from desk.db import utcnow
from desk.directory import ConsultantInfo
from desk.errors import Conflict, Forbidden, InvalidPayload, NotFound
from desk.http import DESK_KEY, _Body, _json
from desk.models import KbEntry
from desk.phrases import _staff, can_edit_library

#: A search lists at most this many entries, best first.
SEARCH_LIMIT = 20


class NewEntry(EntryFields):
    scope: str = Field("library", pattern="^(library|alliance)$")


class EntryChange(_Body):
    language: str | None = Field(None, pattern=LANGUAGE_PATTERN, max_length=16)
    question: str | None = Field(None, min_length=1, max_length=500)
    answer: str | None = Field(None, min_length=1, max_length=4000)
    keywords: str | None = Field(None, max_length=1000)
    active: bool | None = None


def can_edit(who: ConsultantInfo, e: KbEntry) -> bool:
    if e.library_id is None:
        return who.role == "admin"
    return e.library_id == who.library_id and can_edit_library(who)


def _check_scope(who: ConsultantInfo, scope: str) -> int | None:
    """The library id a write in ``scope`` goes to, if ``who`` may write there."""
    if scope == "alliance":
        if who.role != "admin":
            raise Forbidden("only admins edit the alliance-wide entries", code="forbidden")
        return None
    if not can_edit_library(who):
        raise Forbidden("only supervisors and admins edit the knowledge base", code="forbidden")
    return who.library_id


def _scope_param(request: web.Request) -> str:
    scope = request.query.get("scope", "library")
    if scope not in ("library", "alliance"):
        raise InvalidPayload("scope is library or alliance", code="invalid_payload")
    return scope


def _format_param(request: web.Request) -> str:
    fmt = request.query.get("format", "json")
    if fmt not in FORMATS:
        raise InvalidPayload("format is csv or json", code="kb_bad_format")
    return fmt


def _forget(request: web.Request, library_id: int | None) -> None:
    request.app[BOTS_KEY].faq.forget(library_id)


async def list_entries(request: web.Request) -> web.Response:
    """The library's entries and the alliance's; with ``q``, the best matches for it first and
    the entry the bot would answer with."""
    who = await _staff(request)
    desk = request.app[DESK_KEY]
    q = request.query.get("q", "").strip()
    language = request.query.get("language", "").strip()
    async with desk.reads() as s:
        query = select(KbEntry).where(
            or_(KbEntry.library_id == who.library_id, KbEntry.library_id.is_(None))
        )
        if language:
            query = query.where(KbEntry.language == language)
        rows = list(
            (await s.scalars(query.order_by(KbEntry.library_id.is_(None), KbEntry.id))).all()
        )
    out: dict[str, Any] = {"ok": True, "can_edit": can_edit_library(who)}
    if q:
        knowledge = Knowledge.build(
            Doc(e.id, e.language, e.question, e.answer, e.keywords) for e in rows
        )
        ranked = knowledge.rank(q, SEARCH_LIMIT)
        by_id = {e.id: e for e in rows}
        out["entries"] = [
            {**to_client(by_id[m.id], editable=can_edit(who, by_id[m.id])), "score": m.score}
            for m in ranked
        ]
        found = await request.app[BOTS_KEY].faq.match(who.library_id, q)
        out["bot_answer"] = (
            {"id": found[1].id, "confidence": round(found[0].confidence, 3)} if found else None
        )
    else:
        out["entries"] = [to_client(e, editable=can_edit(who, e)) for e in rows]
    return web.json_response(out)


async def create_entry(request: web.Request) -> web.Response:
    who = await _staff(request, writing=True)
    body: NewEntry = await _json(request, NewEntry)
    library_id = _check_scope(who, body.scope)
    desk = request.app[DESK_KEY]
    now = utcnow()
    async with desk.sessions.begin() as s:
        if await same_question(s, library_id, body.language, body.question) is not None:
            raise Conflict("an entry already asks this question", code="kb_duplicate")
        e = KbEntry(
            library_id=library_id,
            language=body.language,
            question=body.question,
            answer=body.answer,
            keywords=body.keywords,
            source="manual",
            active=body.active,
            created_at=now,
            updated_at=now,
            updated_by=who.id,
        )
        s.add(e)
        await s.flush()
        out = to_client(e, editable=True)
    _forget(request, library_id)
    return web.json_response({"ok": True, "entry": out}, status=201)


async def _editable(s: Any, who: ConsultantInfo, raw_id: str) -> KbEntry:
    e = await s.get(KbEntry, int(raw_id)) if raw_id.isdecimal() and len(raw_id) < 12 else None
    if e is None or e.library_id not in (None, who.library_id):
        raise NotFound("no such entry", code="kb_entry_not_found")
    if not can_edit(who, e):
        raise Forbidden(
            f"only {'admins' if e.library_id is None else 'supervisors and admins'} edit "
            f"this entry",
            code="forbidden",
        )
    entry: KbEntry = e
    return entry


async def update_entry(request: web.Request) -> web.Response:
    who = await _staff(request, writing=True)
    change: EntryChange = await _json(request, EntryChange)
    desk = request.app[DESK_KEY]
    async with desk.sessions.begin() as s:
        e = await _editable(s, who, request.match_info["id"])
        question = change.question.strip() if change.question is not None else e.question
        answer = change.answer.strip() if change.answer is not None else e.answer
        if not question or not answer:
            raise InvalidPayload("question and answer must not be blank", code="invalid_payload")
        language = change.language or e.language
        if await same_question(s, e.library_id, language, question, but=e.id) is not None:
            raise Conflict("another entry already asks this question", code="kb_duplicate")
        e.language, e.question, e.answer = language, question, answer
        if change.keywords is not None:
            e.keywords = change.keywords
        if change.active is not None:
            e.active = change.active
        e.updated_at = utcnow()
        e.updated_by = who.id
        library_id = e.library_id
        out = to_client(e, editable=True)
    _forget(request, library_id)
    return web.json_response({"ok": True, "entry": out})


async def delete_entry(request: web.Request) -> web.Response:
    who = await _staff(request, writing=True)
    desk = request.app[DESK_KEY]
    async with desk.sessions.begin() as s:
        e = await _editable(s, who, request.match_info["id"])
        library_id = e.library_id
        await s.delete(e)
    _forget(request, library_id)
    return web.json_response({"ok": True})


async def export_entries(request: web.Request) -> web.Response:
    """One scope's entries (``scope=library``, the default, or ``alliance``) as a file."""
    who = await _staff(request)
    if not can_edit_library(who):
        raise Forbidden("only supervisors and admins export the knowledge base", code="forbidden")
    fmt = _format_param(request)
    scope = _scope_param(request)
    desk = request.app[DESK_KEY]
    async with desk.reads() as s:
        rows = await entries_of(s, None if scope == "alliance" else who.library_id)
    entries = [to_client(e, editable=can_edit(who, e)) for e in rows]
    lib = await desk.directory.library(who.library_id)
    name = f"kb-{'alliance' if scope == 'alliance' else (lib.code if lib else 'library')}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "csv":
        return web.Response(
            body=to_csv(entries), content_type="text/csv", charset="utf-8", headers=headers
        )
    return web.Response(
        body=to_json(entries), content_type="application/json", charset="utf-8", headers=headers
    )


async def import_entries(request: web.Request) -> web.Response:
    """All or nothing: every row is checked first; one bad row and nothing is written. A row
    asking a question the scope already has (same language) updates that entry."""
    who = await _staff(request, writing=True)
    fmt = _format_param(request)
    library_id = _check_scope(who, _scope_param(request))
    # Only a JSON or CSV content type: a cross-site form cannot send either without a CORS
    # preflight (part of the CSRF rule, as for every other write).
    want = "application/json" if fmt == "json" else "text/csv"
    if request.content_type != want:
        raise InvalidPayload(f"send the file as {want}", code="kb_bad_format")
    data = await request.read()
    try:
        good, problems = parse_csv(data) if fmt == "csv" else parse_json(data)
    except ImportRefused as exc:
        raise InvalidPayload(str(exc), code="kb_import_invalid", rows=[]) from exc
    if problems:
        raise InvalidPayload(
            f"{len({p.row for p in problems})} row(s) are not valid; nothing was imported",
            code="kb_import_invalid",
            rows=[p.to_client() for p in problems],
        )
    desk = request.app[DESK_KEY]
    created = updated = unchanged = 0
    now = utcnow()
    async with desk.sessions.begin() as s:
        existing = by_question(await entries_of(s, library_id))
        for row in good:
            e = existing.get(question_key(row.language, row.question))
            if e is None:
                s.add(
                    KbEntry(
                        library_id=library_id,
                        language=row.language,
                        question=row.question,
                        answer=row.answer,
                        keywords=row.keywords,
                        source="manual",
                        active=row.active,
                        created_at=now,
                        updated_at=now,
                        updated_by=who.id,
                    )
                )
                created += 1
                continue
            fields = (row.question, row.answer, row.keywords, row.active)
            if (e.question, e.answer, e.keywords, e.active) == fields:
                unchanged += 1
                continue
            e.question, e.answer, e.keywords, e.active = fields
            e.updated_at = now
            e.updated_by = who.id
            updated += 1
    _forget(request, library_id)
    return web.json_response(
        {"ok": True, "created": created, "updated": updated, "unchanged": unchanged}
    )


def add_kb_routes(app: web.Application) -> None:
    app.router.add_get("/api/kb", list_entries)
    app.router.add_post("/api/kb", create_entry)
    app.router.add_get("/api/kb/export", export_entries)
    app.router.add_post("/api/kb/import", import_entries)
    app.router.add_patch("/api/kb/{id}", update_entry)
    app.router.add_delete("/api/kb/{id}", delete_entry)


#: The typical-cases feature publishes a case through this (defined with the records).
__all__ = ["add_kb_routes", "upsert_from_case"]
