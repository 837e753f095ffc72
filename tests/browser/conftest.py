"""Browser tests: Debian's chromium driven by Playwright against a real desk node.

The desk runs on 127.0.0.1 with the real clock and its scheduler on; the "library website"
that embeds the widget runs on ``localhost`` on another port, so it is a different origin (and
a different site) from the desk, as on a member library's real website.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import text

from desk.app import SIO_KEY
from desk.db import make_engine
from tests.conftest import seed_demo
from tests.harness import Node, free_port, start_node
from tests.services import chromium_path, unavailable

WEB_DIST = Path(__file__).resolve().parents[2] / "web" / "dist"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = pytest.mark.browser


def _require_assets() -> None:
    for built in (WEB_DIST / "widget" / "widget.js", WEB_DIST / "console" / "index.html"):
        if not built.is_file():
            unavailable(
                f"web assets are not built ({built} missing): run `make test` or "
                "`cd web && npm ci && npm run build`"
            )


@dataclass
class HostSite:
    """A plain website on another origin, standing in for a member library's site."""

    origin: str
    pages: dict[str, str] = field(default_factory=dict)

    def page(self, path: str, html: str) -> str:
        """Serve ``html`` at ``path``; returns the page's URL."""
        self.pages[path] = html
        return self.origin + path

    def url(self, path: str) -> str:
        return self.origin + path


def embed_html(desk: str, library: str = "demo-pl", *, attrs: str = "", body: str = "") -> str:
    """A minimal library page that embeds the widget with its one script tag."""
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Library home</title></head><body>"
        f"{body}<h1>Library home</h1>"
        f'<script src="{desk}/widget.js" data-library="{library}" {attrs} async></script>'
        "</body></html>"
    )


def lose_relay(monkeypatch: pytest.MonkeyPatch, node: Node, namespace: str, body: str) -> list[Any]:
    """Drop the first live ``message`` with ``body`` on its way to ``namespace``, as a Redis
    reconnect can on a deployment: it is stored, only its relay is lost. Returns what was
    dropped (for the test to check that it was)."""
    sio = node.app[SIO_KEY]
    real = sio.emit
    dropped: list[Any] = []

    async def emit(event: str, data: Any = None, *args: Any, **kw: Any) -> Any:
        if (
            not dropped
            and event == "message"
            and kw.get("namespace") == namespace
            and isinstance(data, dict)
            and data.get("body") == body
        ):
            dropped.append(data)
            return None
        return await real(event, data, *args, **kw)

    monkeypatch.setattr(sio, "emit", emit)
    return dropped


@pytest.fixture
async def host_site() -> AsyncIterator[HostSite]:
    port = free_port()
    site = HostSite(origin=f"http://localhost:{port}")

    async def serve(request: web.Request) -> web.Response:
        html = site.pages.get(request.path)
        if html is None:
            raise web.HTTPNotFound()
        return web.Response(text=html, content_type="text/html")

    app = web.Application()
    app.router.add_get("/{tail:.*}", serve)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, "localhost", port).start()
    try:
        yield site
    finally:
        await runner.cleanup()


@pytest.fixture
async def live_desk(sqlite_url: str, host_site: HostSite) -> AsyncIterator[Node]:
    """A desk node with the demo alliance, serving the built web assets, on the real clock.

    Both demo libraries allow the host site's origin to embed their widget. Demo consultants:
    wang and li (demo-pl), zhao and chen (demo-ul), password ``demo-password-2026``.
    """
    _require_assets()
    await seed_demo(sqlite_url, "http://unused")
    engine = make_engine(sqlite_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE libraries SET allowed_origins = :o"), {"o": f'["{host_site.origin}"]'}
            )
    finally:
        await engine.dispose()
    node = await start_node(sqlite_url, scheduler=True, static_dir=WEB_DIST)
    try:
        yield node
    finally:
        await node.close()


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    """Headless Debian chromium (Playwright's own browser download cannot work here)."""
    executable = chromium_path()
    try:
        from playwright.async_api import async_playwright
    except ImportError:  # pragma: no cover - the dev extras install it
        unavailable("the playwright package is not installed (pip install -e '.[dev]')")
    args = [
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
    if os.geteuid() == 0:
        args.append("--no-sandbox")
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=executable, headless=True, args=args)
        try:
            yield b
        finally:
            await b.close()


PageErrors = list[str]


@pytest.fixture
async def new_page(
    browser: object, request: pytest.FixtureRequest
) -> AsyncIterator[Callable[..., Awaitable[object]]]:
    """``await new_page(url, **context_options)``: a page in a fresh browser context (its own
    cookies and storage, like a separate person). Uncaught page errors fail the test; on a
    failure each page's screenshot goes to ``test-artifacts/``."""
    contexts: list[object] = []
    pages: list[object] = []
    errors: PageErrors = []

    async def make(url: str | None = None, **options: object) -> object:
        ctx = await browser.new_context(**options)  # type: ignore[attr-defined]
        contexts.append(ctx)
        page = await ctx.new_page()
        page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
        pages.append(page)
        if url is not None:
            await page.goto(url)
        return page

    try:
        yield make
    finally:
        failed = getattr(request.node, "rep_call", None)
        if failed is not None and failed.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            for i, page in enumerate(pages):
                with contextlib.suppress(Exception):  # best effort on a failed test
                    await page.screenshot(  # type: ignore[attr-defined]
                        path=str(ARTIFACTS / f"{request.node.name}-{i}.png"), full_page=True
                    )
        for ctx in contexts:
            await ctx.close()  # type: ignore[attr-defined]
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call":
        item.rep_call = rep  # type: ignore[attr-defined]
