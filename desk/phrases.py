"""Quick phrases (快捷用语): the alliance's defaults, and the console's HTTP API to keep them.

Norm 1 of the live service (实时咨询服务规范) asks consultants to answer at once and, when busy,
to tell the reader how long to wait by quick phrases; norms 2-4 give the other stock replies.
Every new library starts with these defaults as library-wide phrases its supervisors may edit;
each consultant adds their own. ``{minutes}`` in a body is filled in by the console on insertion.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiohttp import web
from pydantic import Field, field_validator
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from desk import auth
from desk.db import utcnow
from desk.directory import ConsultantInfo
from desk.errors import Conflict, Forbidden, InvalidPayload, NotFound, Unauthenticated
from desk.http import DESK_KEY, _Body, _json, console_origin_ok
from desk.models import QuickPhrase

#: (shortcut, language, title, body): what a new library starts with.
DEFAULT_PHRASES: tuple[tuple[str, str, str, str], ...] = (
    (
        "hi",
        "zh-CN",
        "问候与服务范围",
        "您好！欢迎使用全国图书馆参考咨询联盟实时咨询。本服务解答事实性咨询、"
        "您在使用联盟平台过程中遇到的问题，并提供少量文献传递。请问有什么可以帮您？",
    ),
    (
        "busy",
        "zh-CN",
        "正忙，请稍候",
        "您好，咨询员正在为其他读者解答，请您稍候约{minutes}分钟，我们会尽快回复您。",
    ),
    (
        "wait",
        "zh-CN",
        "正在查找",
        "请您不要着急，我正在为您查找，请稍候。",
    ),
    (
        "form",
        "zh-CN",
        "转表单或电话咨询",
        "您的问题不太适合在实时咨询中解答。建议您使用表单咨询服务留下问题，"
        "咨询员会在72小时内回复；您也可以通过电话咨询本馆。",
    ),
    (
        "sent",
        "zh-CN",
        "文献已发送",
        "文献已发送给您，请查收。如无法打开，请告诉我。",
    ),
    (
        "bye",
        "zh-CN",
        "结束语",
        "感谢您的咨询！如还有其他问题，欢迎随时再来。",
    ),
    (
        "hi",
        "en",
        "Greeting and scope",
        "Hello, and welcome to the alliance's live reference desk. We answer factual "
        "questions and questions about using the alliance's platform, and can send a small "
        "number of documents. How can I help you?",
    ),
    (
        "busy",
        "en",
        "Busy, please wait",
        "Hello, our consultant is helping another reader. Please wait about {minutes} "
        "minutes; we will reply as soon as we can.",
    ),
    (
        "wait",
        "en",
        "Searching",
        "Please bear with me while I look this up for you.",
    ),
    (
        "form",
        "en",
        "Form or phone consultation",
        "This question is better answered outside live chat. Please leave it in the form "
        "consultation service, where a consultant replies within 72 hours, or call the library.",
    ),
    (
        "sent",
        "en",
        "Document sent",
        "I have sent you the document. Please tell me if it does not open.",
    ),
    (
        "bye",
        "en",
        "Closing",
        "Thank you for your question. You are welcome back any time.",
    ),
)

MAX_PHRASES_PER_OWNER = 200


def default_rows(library_id: int) -> list[dict[str, Any]]:
    """The defaults as rows for one library (used on creation and by the migration)."""
    now = utcnow()
    return [
        {
            "library_id": library_id,
            "consultant_id": None,
            "shortcut": shortcut,
            "title": title,
            "body": body,
            "language": language,
            "position": i,
            "created_at": now,
            "updated_at": now,
        }
        for i, (shortcut, language, title, body) in enumerate(DEFAULT_PHRASES)
    ]


async def seed_defaults(s: AsyncSession, library_id: int) -> None:
    s.add_all(QuickPhrase(**row) for row in default_rows(library_id))


_SHORTCUT = r"^[\w.-]{1,32}$"
_LANGUAGE = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"


class _PhraseFields(_Body):
    @field_validator("title", "body", check_fields=False)
    @classmethod
    def _not_blank(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise ValueError("must not be blank")
        return v


class NewPhrase(_PhraseFields):
    scope: str = Field(pattern="^(personal|library)$")
    shortcut: str = Field(pattern=_SHORTCUT)
    title: str = Field(min_length=1, max_length=100)
    body: str = Field(min_length=1, max_length=2000)
    language: str = Field("zh-CN", pattern=_LANGUAGE)


class PhraseChange(_PhraseFields):
    shortcut: str | None = Field(None, pattern=_SHORTCUT)
    title: str | None = Field(None, min_length=1, max_length=100)
    body: str | None = Field(None, min_length=1, max_length=2000)
    language: str | None = Field(None, pattern=_LANGUAGE)


def can_edit_library(who: ConsultantInfo) -> bool:
    return who.role in ("supervisor", "admin")


def to_client(p: QuickPhrase) -> dict[str, Any]:
    return {
        "id": p.id,
        "scope": "library" if p.consultant_id is None else "personal",
        "shortcut": p.shortcut,
        "title": p.title,
        "body": p.body,
        "language": p.language,
    }


async def _staff(request: web.Request, *, writing: bool = False) -> ConsultantInfo:
    desk = request.app[DESK_KEY]
    if writing and not console_origin_ok(desk, request):
        raise Forbidden("edit phrases from the desk itself", code="origin_not_allowed")
    who = await auth.staff_from_token(desk, request.cookies.get(auth.SESSION_COOKIE))
    if who is None:
        raise Unauthenticated("log in first")
    return who


def _owner_filter(who: ConsultantInfo, scope: str) -> Sequence[Any]:
    owner = QuickPhrase.consultant_id
    return (
        QuickPhrase.library_id == who.library_id,
        owner.is_(None) if scope == "library" else owner == who.id,
    )


async def _shortcut_free(
    s: AsyncSession, who: ConsultantInfo, scope: str, shortcut: str, language: str, but: int = 0
) -> None:
    taken = await s.scalar(
        select(QuickPhrase.id).where(
            *_owner_filter(who, scope),
            QuickPhrase.shortcut == shortcut,
            QuickPhrase.language == language,
            QuickPhrase.id != but,
        )
    )
    if taken is not None:
        raise Conflict(
            f"the shortcut {shortcut} is already used for {language}", code="shortcut_taken"
        )


async def list_phrases(request: web.Request) -> web.Response:
    who = await _staff(request)
    desk = request.app[DESK_KEY]
    async with desk.reads() as s:
        rows = (
            await s.scalars(
                select(QuickPhrase)
                .where(
                    QuickPhrase.library_id == who.library_id,
                    or_(QuickPhrase.consultant_id.is_(None), QuickPhrase.consultant_id == who.id),
                )
                # Personal first: they win a shortcut shared with a library phrase.
                .order_by(QuickPhrase.consultant_id.is_(None), QuickPhrase.position, QuickPhrase.id)
            )
        ).all()
    return web.json_response(
        {
            "ok": True,
            "phrases": [to_client(p) for p in rows],
            "can_edit_library": can_edit_library(who),
        }
    )


async def create_phrase(request: web.Request) -> web.Response:
    who = await _staff(request, writing=True)
    body: NewPhrase = await _json(request, NewPhrase)
    if body.scope == "library" and not can_edit_library(who):
        raise Forbidden("only supervisors and admins edit library phrases", code="forbidden")
    desk = request.app[DESK_KEY]
    async with desk.sessions.begin() as s:
        await _shortcut_free(s, who, body.scope, body.shortcut, body.language)
        count = await s.scalar(
            select(func.count(QuickPhrase.id)).where(*_owner_filter(who, body.scope))
        )
        if (count or 0) >= MAX_PHRASES_PER_OWNER:
            raise InvalidPayload(
                f"at most {MAX_PHRASES_PER_OWNER} phrases", code="too_many_phrases"
            )
        p = QuickPhrase(
            library_id=who.library_id,
            consultant_id=None if body.scope == "library" else who.id,
            shortcut=body.shortcut,
            title=body.title.strip(),
            body=body.body,
            language=body.language,
            position=(count or 0),
        )
        s.add(p)
        await s.flush()
        out = to_client(p)
    return web.json_response({"ok": True, "phrase": out}, status=201)


async def _editable(s: AsyncSession, who: ConsultantInfo, raw_id: str) -> QuickPhrase:
    p = await s.get(QuickPhrase, int(raw_id)) if raw_id.isdecimal() and len(raw_id) < 12 else None
    if p is None or p.library_id != who.library_id or p.consultant_id not in (None, who.id):
        raise NotFound("no such phrase", code="phrase_not_found")
    if p.consultant_id is None and not can_edit_library(who):
        raise Forbidden("only supervisors and admins edit library phrases", code="forbidden")
    return p


async def update_phrase(request: web.Request) -> web.Response:
    who = await _staff(request, writing=True)
    change: PhraseChange = await _json(request, PhraseChange)
    desk = request.app[DESK_KEY]
    async with desk.sessions.begin() as s:
        p = await _editable(s, who, request.match_info["id"])
        scope = "library" if p.consultant_id is None else "personal"
        shortcut = change.shortcut or p.shortcut
        language = change.language or p.language
        if (shortcut, language) != (p.shortcut, p.language):
            await _shortcut_free(s, who, scope, shortcut, language, but=p.id)
        p.shortcut, p.language = shortcut, language
        if change.title is not None:
            p.title = change.title.strip()
        if change.body is not None:
            p.body = change.body
        p.updated_at = utcnow()
        out = to_client(p)
    return web.json_response({"ok": True, "phrase": out})


async def delete_phrase(request: web.Request) -> web.Response:
    who = await _staff(request, writing=True)
    desk = request.app[DESK_KEY]
    async with desk.sessions.begin() as s:
        p = await _editable(s, who, request.match_info["id"])
        await s.delete(p)
    return web.json_response({"ok": True})


def add_phrase_routes(app: web.Application) -> None:
    app.router.add_get("/api/phrases", list_phrases)
    app.router.add_post("/api/phrases", create_phrase)
    app.router.add_patch("/api/phrases/{id}", update_phrase)
    app.router.add_delete("/api/phrases/{id}", delete_phrase)
