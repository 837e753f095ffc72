"""The etiquette helper's lists (norm 3 of live service, and rule 5 of the reply norms).

Before a consultant's message goes out, the console flags abbreviations and jargon a reader
may not understand (服务中避免滥用术语或简略语), and links a reader could not open
(在内部网址才能打开，或需要付费、注册、认证等才能阅读的连接绝对不能提供): private address
ranges and intranet host names (checked in the console itself), and the hosts a library lists
as campus-only or paid. The alliance's defaults below apply everywhere; each library adds its
own, kept by its supervisors. The console only warns: the consultant decides.
"""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web
from pydantic import Field, field_validator
from sqlalchemy import select

from desk.errors import Forbidden, NotFound
from desk.http import DESK_KEY, _Body, _json
from desk.models import Library
from desk.phrases import _staff, can_edit_library

#: (term, what to say instead) for readers.
DEFAULT_TERMS: tuple[tuple[str, str], ...] = (
    ("OPAC", "馆藏目录查询（书目检索系统）"),
    ("ILL", "馆际互借"),
    ("DD", "文献传递"),
    ("SFX", "全文链接服务"),
    ("DOI", "数字对象标识符（文献的唯一编号）"),
    ("ISSN", "期刊的国际标准刊号"),
    ("索书号", "书在书架上的位置编号（索书号）"),
    ("题录", "文献的基本信息（题名、作者、出处）"),
    ("查收查引", "论文被收录和被引用情况的查询证明"),
    ("IP控制", "只能在图书馆或校园网内使用"),
    ("VPN", "校外访问系统（VPN）"),
    ("NSTL", "国家科技图书文献中心"),
    ("CALIS", "中国高等教育文献保障系统"),
    ("asap", "as soon as possible（尽快）"),
    ("pls", "please"),
    ("thx", "thank you"),
)


class Term(_Body):
    term: str = Field(min_length=1, max_length=40)
    hint: str = Field("", max_length=200)

    @field_validator("term")
    @classmethod
    def _strip(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("must not be blank")
        return v


class Host(_Body):
    #: A host name (``lib.example.edu.cn``) or a domain suffix starting with a dot
    #: (``.intranet.example.edu.cn``); no scheme, path or port.
    host: str = Field(min_length=1, max_length=253, pattern=r"^\.?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$")
    reason: Literal["campus", "paid", "intranet"]

    @field_validator("host")
    @classmethod
    def _lower(cls, v: str) -> str:
        return v.lower()


class Lists(_Body):
    terms: list[Term] = Field(default_factory=list, max_length=500)
    hosts: list[Host] = Field(default_factory=list, max_length=500)


def stored_lists(raw: Any) -> Lists:
    try:
        return Lists.model_validate(raw or {})
    except ValueError:
        return Lists()


async def get_lists(request: web.Request) -> web.Response:
    who = await _staff(request)
    desk = request.app[DESK_KEY]
    async with desk.reads() as s:
        raw = await s.scalar(select(Library.etiquette).where(Library.id == who.library_id))
    own = stored_lists(raw)
    return web.json_response(
        {
            "ok": True,
            "defaults": {"terms": [{"term": t, "hint": h} for t, h in DEFAULT_TERMS]},
            "library": own.model_dump(),
            "can_edit": can_edit_library(who),
        }
    )


async def put_lists(request: web.Request) -> web.Response:
    who = await _staff(request, writing=True)
    if not can_edit_library(who):
        raise Forbidden("only supervisors and admins edit the lists", code="forbidden")
    body: Lists = await _json(request, Lists)
    desk = request.app[DESK_KEY]
    async with desk.sessions.begin() as s:
        lib = await s.get(Library, who.library_id)
        if lib is None:
            raise NotFound("your library is gone", code="library_not_found")
        # One entry per term and host (case-insensitive), the last one written wins.
        terms = {t.term.lower(): t for t in body.terms}
        hosts = {h.host: h for h in body.hosts}
        clean = Lists(terms=list(terms.values()), hosts=list(hosts.values()))
        lib.etiquette = clean.model_dump()
    return web.json_response({"ok": True, "library": clean.model_dump()})


def add_etiquette_routes(app: web.Application) -> None:
    app.router.add_get("/api/etiquette", get_lists)
    app.router.add_put("/api/etiquette", put_lists)
