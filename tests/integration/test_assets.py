"""The built front ends as the desk serves them (desk/assets.py): compressed copies chosen by
the browser's Accept-Encoding, their headers, and the widget's full-page mode."""

from __future__ import annotations

import gzip
import os
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import seed_demo
from tests.harness import Node, start_node
from tests.services import unavailable

WEB_DIST = Path(__file__).resolve().parents[2] / "web" / "dist"

WIDGET = ("/* the widget */\nconst words = '在线咨询 Ask a librarian';\n" * 200).encode()


async def _start(sqlite_url: str, dist: Path) -> Node:
    await seed_demo(sqlite_url, "http://unused")
    return await start_node(sqlite_url, static_dir=dist)


@pytest.fixture
async def dist_node(tmp_path: Path, sqlite_url: str) -> AsyncIterator[tuple[Node, Path]]:
    """A desk serving a small stand-in build: the widget with both compressed copies, the
    console's page and assets with a gzip copy each."""
    dist = tmp_path / "dist"
    (dist / "widget").mkdir(parents=True)
    (dist / "console" / "assets").mkdir(parents=True)
    widget = dist / "widget" / "widget.js"
    widget.write_bytes(WIDGET)
    (dist / "widget" / "widget.js.gz").write_bytes(gzip.compress(WIDGET))
    # The desk never decodes a copy, so any bytes stand in for brotli here.
    (dist / "widget" / "widget.js.br").write_bytes(b"brotli stand-in")
    for name, body in (
        ("index.html", b"<!doctype html><title>console</title>" * 20),
        ("assets/app-1a2b.js", b"/* app */" * 300),
        ("assets/app-1a2b.css", b"body { margin: 0 }\n" * 100),
    ):
        (dist / "console" / name).write_bytes(body)
        (dist / "console" / f"{name}.gz").write_bytes(gzip.compress(body))
    node = await _start(sqlite_url, dist)
    try:
        yield node, dist
    finally:
        await node.close()


async def _get(
    node: Node, path: str, accept: str | None, **headers: str
) -> tuple[aiohttp.ClientResponse, bytes]:
    """GET without aiohttp's own Accept-Encoding and without decoding the body."""
    if accept is not None:
        headers["Accept-Encoding"] = accept
    async with (
        aiohttp.ClientSession(auto_decompress=False, skip_auto_headers=["Accept-Encoding"]) as s,
        s.get(node.base + path, headers=headers) as resp,
    ):
        return resp, await resp.read()


async def test_the_widget_comes_gzipped_when_the_browser_takes_gzip(
    dist_node: tuple[Node, Path],
) -> None:
    node, _ = dist_node
    resp, body = await _get(node, "/widget.js", "gzip")
    assert resp.status == 200
    assert resp.headers["Content-Encoding"] == "gzip"
    assert resp.headers["Vary"] == "Accept-Encoding"
    assert resp.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert len(body) < len(WIDGET) / 5
    assert gzip.decompress(body) == WIDGET
    # The widget's other headers as before.
    assert resp.headers["Cache-Control"] == "no-cache"
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    gz_etag = resp.headers["ETag"]

    # Without Accept-Encoding: the file itself, still saying that it varies.
    resp, body = await _get(node, "/widget.js", None)
    assert resp.status == 200 and body == WIDGET
    assert "Content-Encoding" not in resp.headers
    assert resp.headers["Vary"] == "Accept-Encoding"
    assert resp.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert resp.headers["ETag"] != gz_etag  # each variant has its own validator

    # Revalidation of the gzipped copy.
    resp, body = await _get(node, "/widget.js", "gzip", **{"If-None-Match": gz_etag})
    assert resp.status == 304 and body == b""


@pytest.mark.parametrize(
    ("accept", "coding"),
    [
        ("gzip, deflate, br, zstd", "br"),  # what browsers send: brotli first
        ("br;q=0.5, gzip", "gzip"),
        ("GZIP", "gzip"),
        ("x-gzip", "gzip"),
        ("*", "br"),
        ("*;q=0.5, br;q=0", "gzip"),
        ("gzip;q=0, br;q=0", None),  # refused, though the names are there
        ("gzip;q=bad", None),
        ("identity", None),
        ("deflate", None),
        ("", None),
    ],
)
async def test_the_copy_sent_follows_accept_encoding(
    dist_node: tuple[Node, Path], accept: str, coding: str | None
) -> None:
    node, dist = dist_node
    resp, body = await _get(node, "/widget.js", accept)
    assert resp.status == 200
    assert resp.headers.get("Content-Encoding") == coding
    assert resp.headers["Vary"] == "Accept-Encoding"
    assert resp.headers["Content-Type"] == "text/javascript; charset=utf-8"
    if coding == "gzip":
        assert gzip.decompress(body) == WIDGET
    else:
        assert body == ((dist / "widget" / "widget.js.br").read_bytes() if coding else WIDGET)


async def test_a_copy_older_than_its_file_is_not_sent(dist_node: tuple[Node, Path]) -> None:
    node, dist = dist_node
    widget = dist / "widget" / "widget.js"
    for name in ("widget.js.gz", "widget.js.br"):
        copy = dist / "widget" / name
        st = widget.stat()
        os.utime(copy, ns=(st.st_atime_ns, st.st_mtime_ns - 10**9))
    resp, body = await _get(node, "/widget.js", "gzip, br")
    assert "Content-Encoding" not in resp.headers and body == WIDGET


async def test_the_console_is_sent_compressed_with_its_own_headers(
    dist_node: tuple[Node, Path],
) -> None:
    node, dist = dist_node
    resp, body = await _get(node, "/console/", "gzip, br")
    assert resp.headers["Content-Encoding"] == "gzip"  # no brotli copy: gzip
    assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["Cache-Control"] == "no-cache"
    assert gzip.decompress(body) == (dist / "console" / "index.html").read_bytes()
    for name, kind in (("app-1a2b.js", "text/javascript"), ("app-1a2b.css", "text/css")):
        resp, body = await _get(node, f"/console/assets/{name}", "gzip")
        assert resp.headers["Content-Encoding"] == "gzip"
        assert resp.headers["Content-Type"] == f"{kind}; charset=utf-8"
        assert "immutable" in resp.headers["Cache-Control"]
        assert resp.headers["Vary"] == "Accept-Encoding"
        assert gzip.decompress(body) == (dist / "console" / "assets" / name).read_bytes()
    # A compressed copy is never a file of its own.
    for name in ("app-1a2b.js.gz", "app-1a2b.js.br"):
        resp, _ = await _get(node, f"/console/assets/{name}", None)
        assert resp.status == 404


async def test_the_built_widget_is_served_compressed(tmp_path: Path, sqlite_url: str) -> None:
    """The real build (`npm run build`): its compressed copies are the widget, smaller."""
    widget = WEB_DIST / "widget" / "widget.js"
    if not (
        widget.with_name("widget.js.gz").is_file() and widget.with_name("widget.js.br").is_file()
    ):
        unavailable(
            "the web assets are not built with their compressed copies: `cd web && npm run build`"
        )
    node = await _start(sqlite_url, WEB_DIST)
    try:
        plain = widget.read_bytes()
        resp, body = await _get(node, "/widget.js", "gzip")
        assert resp.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(body) == plain
        assert len(body) < 40_000, "the widget's aim: under 40 KB gzipped"
        resp, body = await _get(node, "/widget.js", "gzip, deflate, br, zstd")
        assert resp.headers["Content-Encoding"] == "br"
        assert body == widget.with_name("widget.js.br").read_bytes() and len(body) < len(plain)
        resp, body = await _get(node, "/widget.js", None)
        assert "Content-Encoding" not in resp.headers and body == plain
    finally:
        await node.close()


async def test_the_chat_page_declares_its_language(sqlite_url: str, tmp_path: Path) -> None:
    node = await _start(sqlite_url, tmp_path / "no-build")
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(node.base + "/chat/demo-pl?lang=en") as r:
                page = await r.text()
                assert r.status == 200
                assert '<html lang="en">' in page
                assert "<title>Demo City Public Library · Live consultation</title>" in page
                assert 'data-lang="en"' in page
            async with http.get(node.base + "/chat/demo-pl") as r:
                page = await r.text()
                assert '<html lang="zh-CN">' in page
                assert "<title>示例市公共图书馆 · 实时咨询</title>" in page
                assert "data-lang" not in page
            async with http.get(node.base + "/chat/demo-pl?lang=zh-CN") as r:
                page = await r.text()
                assert '<html lang="zh-CN">' in page and 'data-lang="zh-CN"' in page
            async with http.get(node.base + "/chat/demo-pl?lang=%22%3E%3Cscript%3E") as r:
                page = await r.text()
                assert '<html lang="zh-CN">' in page and "data-lang" not in page
                assert "<script>" not in page
    finally:
        await node.close()
