"""The built web front ends: the reader widget, its full-page mode, and the consultant console.

`make run` builds them with npm into ``web/dist`` (``DESK_STATIC_DIR``); nothing built is
committed. Every file is resolved by aiohttp's static handling or from a fixed name, so no
path from a request reaches the filesystem unchecked. A desk without built assets still serves
its API and answers these routes with a plain 503 that says how to build them.

The build also writes ``NAME.br`` and ``NAME.gz`` next to each text file
(``web/scripts/compress.mjs``). The desk sends the one the browser accepts, with
``Content-Encoding`` and ``Vary: Accept-Encoding``; the widget is about a third of its size that
way. aiohttp's FileResponse can pick such a sibling by itself, but it takes any
``Accept-Encoding`` that merely contains the name (``gzip;q=0`` too) and sends no ``Vary`` with
the plain file, so the choice is made here and FileResponse sends exactly the chosen file.
"""

from __future__ import annotations

import html
import mimetypes
import os
import re
import stat
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


#: The compressed copies the build writes, best first when the browser takes both equally.
_ENCODINGS = (("br", ".br"), ("gzip", ".gz"))

#: Text is UTF-8: a classic script without a charset is read in the embedding page's encoding,
#: and many library sites are still GBK.
_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".map": "application/json; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".svg": "image/svg+xml",
}


def _accepted(header: str) -> dict[str, float]:
    """``Accept-Encoding`` as ``{coding: q}`` (RFC 9110 12.5.3); a bad q counts as 0."""
    out: dict[str, float] = {}
    for part in header.lower().split(","):
        coding, _, params = part.partition(";")
        coding = coding.strip()
        if not coding:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        out["gzip" if coding == "x-gzip" else coding] = q
    return out


def _variant(path: Path, accept_encoding: str) -> tuple[Path, str | None]:
    """The file to send for ``path``: its compressed copy the client accepts (the higher q,
    brotli on a tie), or ``path`` itself. A copy older than the file is not used."""
    codings = _accepted(accept_encoding)
    best: tuple[float, Path, str] | None = None
    for coding, suffix in _ENCODINGS:
        q = codings.get(coding, codings.get("*", 0.0))
        if q <= 0 or (best is not None and q <= best[0]):
            continue
        packed = path.with_name(path.name + suffix)
        try:
            packed_st, plain_st = packed.lstat(), path.stat()
        except OSError:
            continue
        if stat.S_ISREG(packed_st.st_mode) and packed_st.st_mtime_ns >= plain_st.st_mtime_ns:
            best = (q, packed, coding)
    return (best[1], best[2]) if best else (path, None)


class _Chosen(web.FileResponse):
    """A FileResponse that sends the file it was given: the variant was chosen already, so
    aiohttp's own look for a ``.br``/``.gz`` sibling is skipped."""

    def _get_file_path_stat_encoding(
        self, accept_encoding: str
    ) -> tuple[Path | None, os.stat_result, str | None]:
        return super()._get_file_path_stat_encoding("")


def _file(
    request: web.Request, path: Path, *, cache: str, extra: dict[str, str] | None = None
) -> web.StreamResponse:
    if not path.is_file():
        return web.Response(status=503, text=_NOT_BUILT, headers=_SECURITY)
    send, coding = _variant(path, request.headers.get("Accept-Encoding", ""))
    headers = {
        "Cache-Control": cache,
        # Every response may differ by Accept-Encoding, the plain one too: a shared cache must
        # not hand a stored compressed copy to a client that cannot read it, or the reverse.
        "Vary": "Accept-Encoding",
        **_SECURITY,
        **(extra or {}),
        # The type of the file itself, also when its compressed copy is sent.
        "Content-Type": _TYPES.get(path.suffix)
        or mimetypes.guess_type(path.name)[0]
        or "application/octet-stream",
    }
    if coding is not None:
        headers["Content-Encoding"] = coding
    return _Chosen(send, headers=headers)


async def widget_js(request: web.Request) -> web.StreamResponse:
    # Loaded cross-origin by library pages; the CORS header lets a page use crossorigin=... too.
    name = "widget.js.map" if request.path.endswith(".map") else "widget.js"
    return _file(
        request,
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
        request,
        _dist(request) / "console" / "index.html",
        cache=_REVALIDATE,
        extra={"Content-Security-Policy": _CONSOLE_CSP, "X-Frame-Options": "DENY"},
    )


async def console_asset(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    # Vite's output names: letters, digits, '-', '_' and dots, no directories.
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,200}", name) or name.startswith("."):
        raise web.HTTPNotFound()
    # The compressed copies are only sent in place of their file, never as files themselves.
    if name.endswith(tuple(suffix for _, suffix in _ENCODINGS)):
        raise web.HTTPNotFound()
    path = _dist(request) / "console" / "assets" / name
    if not path.is_file():
        raise web.HTTPNotFound()
    return _file(request, path, cache=_IMMUTABLE)


async def console_redirect(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/console/")


_CHAT_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>html,body{{margin:0;height:100%}}</style></head>
<body>
<noscript>{noscript}</noscript>
<script src="/widget.js" data-library="{code}" data-mode="page"{lang_attr}></script>
</body></html>
"""

#: The page's own words per language; the widget inside switches by itself.
_CHAT_WORDS = {
    "zh-CN": (
        "{name} · 实时咨询",
        '实时咨询需要启用 JavaScript。<span lang="en">Live consultation needs JavaScript.</span>',
    ),
    "en": (
        "{name} · Live consultation",
        "Live consultation needs JavaScript. "
        '<span lang="zh-CN">实时咨询需要启用 JavaScript。</span>',
    ),
}


async def chat_page(request: web.Request) -> web.Response:
    """The widget in full-page mode, for a direct link (``/chat/demo-pl``, ``?lang=en``)."""
    desk = request.app[DESK_KEY]
    code = request.match_info["code"]
    lib = await desk.directory.library_by_code(code) if _CODE.match(code) else None
    if lib is None:
        raise web.HTTPNotFound(text="unknown library · 未知的成员馆")
    asked = request.query.get("lang", "")
    lang = asked if asked in _CHAT_WORDS else "zh-CN"
    title, noscript = _CHAT_WORDS[lang]
    name = lib.name_en or lib.name if lang == "en" else lib.name
    # Only the library's own sites (and the desk) may frame the chat: the page is the desk's
    # origin, so framing it elsewhere would get round the library's origin list.
    ancestors = " ".join(["'self'", *lib.allowed_origins])
    return web.Response(
        text=_CHAT_PAGE.format(
            lang=lang,
            title=html.escape(title.format(name=name)),
            noscript=noscript,
            code=html.escape(lib.code),
            lang_attr=f' data-lang="{lang}"' if asked == lang else "",
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
