"""HTTP routes: health, console login, reader credentials, public library details."""

from __future__ import annotations

import html
import json
import re
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import text

from desk import auth, hours
from desk.context import Desk
from desk.errors import DeskError, Forbidden, InvalidPayload, NotFound, Unauthenticated
from desk.routing.policy import routable, speaking

DESK_KEY = web.AppKey("desk", Desk)

_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginBody(_Body):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class VisitorBody(_Body):
    library: str = Field(min_length=1, max_length=32)


class ReaderLoginBody(_Body):
    library: str = Field(min_length=1, max_length=32)
    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    password: str = Field(min_length=1, max_length=1024)


def _error(exc: DeskError) -> web.Response:
    return web.json_response(exc.to_ack(), status=exc.status)


#: Routes the widget calls from a library's site (CORS).
_READER_FACING = ("/api/readers/", "/api/tickets", "/api/libraries/")


@web.middleware
async def errors_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except DeskError as exc:
        resp = _error(exc)
        if request.path.startswith(_READER_FACING):
            # The widget runs on the library's site: let it read why it was refused.
            _cors(request, resp)
        return resp


async def _json(request: web.Request, model: type[BaseModel]) -> Any:
    if request.content_type != "application/json":
        # A cross-site form cannot send JSON without a CORS preflight: part of CSRF safety.
        raise InvalidPayload("send application/json", code="json_required")
    try:
        raw = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidPayload("the body is not valid JSON", code="invalid_json") from exc
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise InvalidPayload(
            "the request is not valid",
            fields=[
                {"field": ".".join(map(str, e["loc"])), "problem": e["msg"]}
                for e in exc.errors(include_url=False, include_input=False)
            ],
        ) from exc


def console_origin_ok(desk: Desk, request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser cross-site request (browsers send Origin on POST)
    allowed = {desk.settings.origin(), *(o.rstrip("/") for o in desk.settings.console_origins)}
    return origin.rstrip("/") in allowed


async def healthz(request: web.Request) -> web.Response:
    desk = request.app[DESK_KEY]
    checks: dict[str, str] = {}
    try:
        async with desk.reads() as s:
            await s.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception:
        checks["database"] = "failing"
    try:
        await desk.state.presences()
        checks["shared_state"] = "ok"
    except Exception:
        checks["shared_state"] = "failing"
    ok = all(v == "ok" for v in checks.values())
    return web.json_response(
        {"ok": ok, "node": desk.settings.node_id, "checks": checks}, status=200 if ok else 503
    )


async def login(request: web.Request) -> web.Response:
    desk = request.app[DESK_KEY]
    if not console_origin_ok(desk, request):
        raise Forbidden("log in from the desk itself", code="origin_not_allowed")
    body: LoginBody = await _json(request, LoginBody)
    got = await auth.login(desk, body.username, body.password)
    if got is None:
        raise Unauthenticated("wrong username or password", code="login_failed")
    token, who = got
    resp = web.json_response(
        {
            "ok": True,
            "consultant": {
                "id": who.id,
                "name": who.display_name,
                "role": who.role,
                "library_id": who.library_id,
            },
        }
    )
    resp.set_cookie(
        auth.SESSION_COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        secure=desk.settings.cookie_secure,
        max_age=int(desk.settings.session_days * 86400),
        path="/",
    )
    return resp


async def logout(request: web.Request) -> web.Response:
    desk = request.app[DESK_KEY]
    if not console_origin_ok(desk, request):
        raise Forbidden("log out from the desk itself", code="origin_not_allowed")
    token = request.cookies.get(auth.SESSION_COOKIE)
    if token:
        await auth.logout(desk, token)
    resp = web.json_response({"ok": True})
    resp.del_cookie(auth.SESSION_COOKIE, path="/")
    return resp


async def me(request: web.Request) -> web.Response:
    desk = request.app[DESK_KEY]
    who = await auth.staff_from_token(desk, request.cookies.get(auth.SESSION_COOKIE))
    if who is None:
        raise Unauthenticated("log in first")
    return web.json_response(
        {
            "ok": True,
            "consultant": {
                "id": who.id,
                "name": who.display_name,
                "username": who.username,
                "role": who.role,
                "library_id": who.library_id,
                "languages": list(who.languages),
                "max_chats": who.max_chats,
            },
            # The zone of the reports' days and months (DESK_REPORT_TIMEZONE).
            "report_timezone": desk.settings.report_timezone,
        }
    )


async def _library_for_reader(desk: Desk, request: web.Request, code: str) -> Any:
    lib = await desk.directory.library_by_code(code)
    if lib is None:
        raise NotFound("unknown library", code="library_not_found")
    origin = (request.headers.get("Origin") or "").rstrip("/")
    if origin not in lib.allowed_origins and origin != desk.settings.origin():
        raise Forbidden("this site may not embed the widget", code="origin_not_allowed")
    return lib


def _cors(request: web.Request, resp: web.Response) -> web.Response:
    origin = request.headers.get("Origin")
    if origin:
        resp.headers["Access-Control-Allow-Origin"] = origin
        resp.headers["Vary"] = "Origin"
    return resp


async def reader_visitor(request: web.Request) -> web.Response:
    """Issue an anonymous visitor token (unguessable, server chosen) to a library's widget."""
    desk = request.app[DESK_KEY]
    body: VisitorBody = await _json(request, VisitorBody)
    lib = await _library_for_reader(desk, request, body.library)
    token, reader_id = await auth.issue_visitor(desk, lib.id)
    return _cors(request, web.json_response({"ok": True, "token": token, "reader_id": reader_id}))


async def reader_login(request: web.Request) -> web.Response:
    desk = request.app[DESK_KEY]
    body: ReaderLoginBody = await _json(request, ReaderLoginBody)
    await _library_for_reader(desk, request, body.library)
    got = await auth.reader_login(desk, body.email, body.password)
    if got is None:
        raise Unauthenticated("wrong email or password", code="login_failed")
    token, reader_id = got
    return _cors(request, web.json_response({"ok": True, "token": token, "reader_id": reader_id}))


async def reader_preflight(request: web.Request) -> web.Response:
    resp = web.Response(status=204)
    origin = request.headers.get("Origin")
    if origin:
        resp.headers["Access-Control-Allow-Origin"] = origin
        resp.headers["Access-Control-Allow-Methods"] = "GET, POST"
        # Authorization: a reader's token on file uploads and downloads.
        resp.headers["Access-Control-Allow-Headers"] = "Content-Type, Authorization"
        resp.headers["Access-Control-Max-Age"] = "600"
        resp.headers["Vary"] = "Origin"
    return resp


_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


async def library_list(request: web.Request) -> web.Response:
    """Every member library's public details (the console's transfer list)."""
    desk = request.app[DESK_KEY]
    libs = sorted((await desk.directory.libraries()).values(), key=lambda x: x.code)
    return web.json_response(
        {
            "ok": True,
            "libraries": [
                {
                    "id": x.id,
                    "code": x.code,
                    "name": x.name,
                    "name_en": x.name_en,
                    "languages": list(x.languages),
                }
                for x in libs
            ],
        }
    )


async def library_limits(desk: Desk, library_id: int) -> Any:
    from desk.delivery.actions import library_limits as limits

    return await limits(desk, library_id)


async def _live(desk: Desk, languages: Any) -> dict[str, bool]:
    online = routable(await desk.state.presences(), desk.clock.now())
    return {lang: bool(speaking(online, lang)) for lang in languages}


async def library_public(request: web.Request) -> web.Response:
    desk = request.app[DESK_KEY]
    code = request.match_info["code"]
    lib = await desk.directory.library_by_code(code) if _CODE.match(code) else None
    if lib is None:
        return web.json_response(
            {"ok": False, "error": {"code": "library_not_found", "message": "unknown library"}},
            status=404,
        )
    return _cors(
        request,
        web.json_response(
            {
                "ok": True,
                "library": {
                    "code": lib.code,
                    "name": lib.name,
                    "name_en": lib.name_en,
                    "languages": list(lib.languages),
                    "phone": lib.phone,
                    # Outside service hours the widget offers the form service first.
                    **hours.status(lib.service_hours, desk.clock.now()),
                    # Per language: is anyone who could serve such a reader online now (the
                    # library's own or, by overflow, the alliance's)? Nobody: the widget
                    # offers the form service before the reader writes.
                    "live": await _live(desk, lib.languages),
                    # What the widget may upload (checked again by the desk).
                    "files": (await library_limits(desk, lib.id)).to_client(),
                    # The desk sends mail: the widget offers to mail a reader their copy of
                    # the conversation (POST .../transcript/email) only then.
                    "mail": bool(desk.settings.smtp_host),
                },
            }
        ),
    )


_INDEX = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>联盟实时咨询台 · Live consultation desk</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto">
<h1>联盟实时咨询台 <small lang="en">Live consultation desk</small></h1>
<p>服务节点 <code>{node}</code> 运行中。
读者通过成员馆网站上的咨询窗口提问，咨询员在咨询台控制台中解答。</p>
<p lang="en">Node <code>{node}</code> is running. Readers ask from the widget on member libraries'
websites; consultants answer in the console.</p>
<ul>
<li><a href="/console/">咨询员控制台 · consultant console</a></li>
<li>读者咨询 · chat as a reader: {libraries}</li>
<li><a href="/healthz">/healthz</a> 运行状态 · health</li>
</ul>
</body></html>
"""


async def index(request: web.Request) -> web.Response:
    desk = request.app[DESK_KEY]
    libs = await desk.directory.libraries()
    names = (
        "、".join(
            f'<a href="/chat/{html.escape(x.code)}">{html.escape(x.name)}</a>'
            for x in libs.values()
        )
        or "—"
    )
    return web.Response(
        text=_INDEX.format(node=html.escape(desk.settings.node_id), libraries=names),
        content_type="text/html",
        headers={"X-Content-Type-Options": "nosniff"},
    )


def add_routes(app: web.Application) -> None:
    app.middlewares.append(errors_middleware)
    app.router.add_get("/", index)
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/api/login", login)
    app.router.add_post("/api/logout", logout)
    app.router.add_get("/api/me", me)
    app.router.add_post("/api/readers/visitor", reader_visitor)
    app.router.add_post("/api/readers/login", reader_login)
    app.router.add_route("OPTIONS", "/api/readers/{tail:.*}", reader_preflight)
    app.router.add_get("/api/libraries", library_list)
    app.router.add_get("/api/libraries/{code}", library_public)
