"""The built web front ends: the reader widget, its full-page mode, and the consultant console.

`make run` builds them with npm into ``web/dist`` (``DESK_STATIC_DIR``); nothing built is
committed. Every file is resolved by aiohttp's static handling or from a fixed name, so no
path from a request reaches the filesystem unchecked. A desk without built assets still serves
its API and answers these routes with a plain 503 that says how to build them.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from aiohttp import web

from desk.http import DESK_KEY

_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")

#: The widget is fetched by every page view of every member library's site: revalidate with
#: its ETag (aiohttp's FileResponse sends one) instead of a long max-age, so a new release
#: reaches readers at once.
_REVALIDATE = "no-cache"
#: Hashed file names under /console/assets never change content.
_IMMUTABLE = "public, max-age=31536000, immutable"

_SECURITY = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

_NOT_BUILT = (
    "The web assets are not built. Run `make run`, or `cd web && npm ci && npm run build`.\n"
    "网页资源尚未构建：请运行 make run。\n"
)


def _dist(request: web.Request) -> Path:
    return request.app[DESK_KEY].settings.static_dir


def _file(path: Path, *, cache: str, extra: dict[str, str] | None = None) -> web.StreamResponse:
    if not path.is_file():
        return web.Response(status=503, text=_NOT_BUILT, headers=_SECURITY)
    headers = {"Cache-Control": cache, **_SECURITY, **(extra or {})}
    return web.FileResponse(path, headers=headers)


async def widget_js(request: web.Request) -> web.StreamResponse:
    # Loaded cross-origin by library pages; the CORS header lets a page use crossorigin=... too.
    name = "widget.js.map" if request.path.endswith(".map") else "widget.js"
    return _file(
        _dist(request) / "widget" / name,
        cache=_REVALIDATE,
        extra={"Access-Control-Allow-Origin": "*", "Cross-Origin-Resource-Policy": "cross-origin"},
    )


_CONSOLE_CSP = (
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: blob:; "
    "style-src 'self' 'unsafe-inline'; media-src 'self' data: blob:; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)


async def console_index(request: web.Request) -> web.StreamResponse:
    return _file(
        _dist(request) / "console" / "index.html",
        cache=_REVALIDATE,
        extra={"Content-Security-Policy": _CONSOLE_CSP, "X-Frame-Options": "DENY"},
    )


async def console_asset(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    # Vite's output names: letters, digits, '-', '_' and dots, no directories.
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,200}", name) or name.startswith("."):
        raise web.HTTPNotFound()
    path = _dist(request) / "console" / "assets" / name
    if not path.is_file():
        raise web.HTTPNotFound()
    return _file(path, cache=_IMMUTABLE)


async def console_redirect(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/console/")


_CHAT_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · 实时咨询 Live consultation</title>
<style>html,body{{margin:0;height:100%}}</style></head>
<body>
<noscript>实时咨询需要启用 JavaScript。Live consultation needs JavaScript.</noscript>
<script src="/widget.js" data-library="{code}" data-mode="page"{lang}></script>
</body></html>
"""


async def chat_page(request: web.Request) -> web.Response:
    """The widget in full-page mode, for a direct link (``/chat/demo-pl``)."""
    desk = request.app[DESK_KEY]
    code = request.match_info["code"]
    lib = await desk.directory.library_by_code(code) if _CODE.match(code) else None
    if lib is None:
        raise web.HTTPNotFound(text="unknown library · 未知的成员馆")
    lang = request.query.get("lang", "")
    lang_attr = f' data-lang="{html.escape(lang)}"' if lang in {"zh-CN", "en"} else ""
    # Only the library's own sites (and the desk) may frame the chat: the page is the desk's
    # origin, so framing it elsewhere would get round the library's origin list.
    ancestors = " ".join(["'self'", *lib.allowed_origins])
    return web.Response(
        text=_CHAT_PAGE.format(
            title=html.escape(lib.name), code=html.escape(lib.code), lang=lang_attr
        ),
        content_type="text/html",
        headers={
            **_SECURITY,
            "Cache-Control": "no-cache",
            "Content-Security-Policy": f"frame-ancestors {ancestors}",
        },
    )


def add_asset_routes(app: web.Application) -> None:
    app.router.add_get("/widget.js", widget_js)
    app.router.add_get("/widget.js.map", widget_js)
    app.router.add_get("/console", console_redirect)
    app.router.add_get("/console/", console_index)
    app.router.add_get("/console/assets/{name}", console_asset)
    app.router.add_get("/chat/{code}", chat_page)
