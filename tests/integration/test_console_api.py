"""The console's HTTP helpers: quick phrases, the library list, and the served front ends."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import text

from desk.clock import ManualClock
from desk.phrases import DEFAULT_PHRASES
from tests.harness import Consultant, Node, Reader


async def _call(
    node: Node, who: Consultant | None, method: str, path: str, body: Any = None, **headers: str
) -> tuple[int, dict[str, Any]]:
    h = {"Origin": node.base, **headers}
    if who is not None:
        h["Cookie"] = f"desk_session={who.cookie}"
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, node.base + path, json=body, headers=h) as resp,
    ):
        return resp.status, await resp.json()


async def test_a_library_starts_with_the_norms_default_phrases(any_node: Node) -> None:
    wang = await Consultant.login(any_node.base, "wang")
    status, got = await _call(any_node, wang, "GET", "/api/phrases")
    assert status == 200 and got["ok"] and got["can_edit_library"] is False
    assert {(p["shortcut"], p["language"]) for p in got["phrases"]} == {
        (d[0], d[1]) for d in DEFAULT_PHRASES
    }
    assert all(p["scope"] == "library" for p in got["phrases"])
    busy = next(p for p in got["phrases"] if p["shortcut"] == "busy" and p["language"] == "zh-CN")
    assert "{minutes}" in busy["body"]


async def test_personal_phrases_are_private_and_come_first(node: Node) -> None:
    wang = await Consultant.login(node.base, "wang")
    li = await Consultant.login(node.base, "li")
    new = {"scope": "personal", "shortcut": "isbn", "title": "ISBN", "body": "请提供 ISBN。"}
    status, got = await _call(node, wang, "POST", "/api/phrases", new)
    assert status == 201 and got["phrase"]["scope"] == "personal"
    pid = got["phrase"]["id"]

    _, mine = await _call(node, wang, "GET", "/api/phrases")
    assert mine["phrases"][0]["id"] == pid
    _, theirs = await _call(node, li, "GET", "/api/phrases")
    assert pid not in {p["id"] for p in theirs["phrases"]}

    # A colleague can neither edit nor delete it, and learns nothing about it.
    status, got = await _call(node, li, "PATCH", f"/api/phrases/{pid}", {"title": "x"})
    assert status == 404 and got["error"]["code"] == "phrase_not_found"
    status, got = await _call(node, li, "DELETE", f"/api/phrases/{pid}")
    assert status == 404

    status, got = await _call(node, wang, "PATCH", f"/api/phrases/{pid}", {"body": "ISBN 是？"})
    assert status == 200 and got["phrase"]["body"] == "ISBN 是？"
    status, _ = await _call(node, wang, "DELETE", f"/api/phrases/{pid}")
    assert status == 200
    _, mine = await _call(node, wang, "GET", "/api/phrases")
    assert pid not in {p["id"] for p in mine["phrases"]}


async def test_library_phrases_are_kept_by_supervisors(node: Node) -> None:
    zhao = await Consultant.login(node.base, "zhao")  # consultant at demo-ul
    chen = await Consultant.login(node.base, "chen")  # supervisor at demo-ul
    wang = await Consultant.login(node.base, "wang")  # consultant at demo-pl
    new = {"scope": "library", "shortcut": "hours", "title": "开放时间", "body": "本馆 8:30 开馆。"}
    status, got = await _call(node, zhao, "POST", "/api/phrases", new)
    assert status == 403 and got["error"]["code"] == "forbidden"
    status, got = await _call(node, chen, "POST", "/api/phrases", new)
    assert status == 201
    pid = got["phrase"]["id"]

    _, seen = await _call(node, zhao, "GET", "/api/phrases")
    assert pid in {p["id"] for p in seen["phrases"]}
    _, other_library = await _call(node, wang, "GET", "/api/phrases")
    assert pid not in {p["id"] for p in other_library["phrases"]}

    status, _ = await _call(node, zhao, "PATCH", f"/api/phrases/{pid}", {"body": "x"})
    assert status == 403
    status, _ = await _call(node, wang, "DELETE", f"/api/phrases/{pid}")
    assert status == 404
    status, got = await _call(node, chen, "POST", "/api/phrases", new)
    assert status == 409 and got["error"]["code"] == "shortcut_taken"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scope": "team", "shortcut": "a", "title": "t", "body": "b"}, "scope"),
        ({"scope": "personal", "shortcut": "a b", "title": "t", "body": "b"}, "shortcut"),
        ({"scope": "personal", "shortcut": "a", "title": "t", "body": "   "}, "body"),
        ({"scope": "personal", "shortcut": "a", "title": "t", "body": "b" * 2001}, "body"),
        ({"scope": "personal", "shortcut": "a", "title": "t", "body": "b", "x": 1}, "x"),
    ],
)
async def test_bad_phrases_are_refused_with_the_field(
    node: Node, body: dict[str, Any], field: str
) -> None:
    wang = await Consultant.login(node.base, "wang")
    status, got = await _call(node, wang, "POST", "/api/phrases", body)
    assert status == 400 and got["error"]["code"] == "invalid_payload"
    assert field in {f["field"] for f in got["error"]["details"]["fields"]}


async def test_phrases_need_a_session_and_the_desks_origin(node: Node) -> None:
    status, got = await _call(node, None, "GET", "/api/phrases")
    assert status == 401 and got["error"]["code"] == "unauthenticated"
    wang = await Consultant.login(node.base, "wang")
    new = {"scope": "personal", "shortcut": "a", "title": "t", "body": "b"}
    status, got = await _call(node, wang, "POST", "/api/phrases", new, Origin="http://evil.example")
    assert status == 403 and got["error"]["code"] == "origin_not_allowed"


async def test_library_list_is_public(node: Node) -> None:
    status, got = await _call(node, None, "GET", "/api/libraries")
    assert status == 200
    assert [x["code"] for x in got["libraries"]] == ["demo-pl", "demo-ul"]
    assert set(got["libraries"][0]) == {"id", "code", "name", "name_en", "languages"}


async def test_the_reader_sees_the_consultants_library(node: Node) -> None:
    wang = await Consultant.login(node.base, "wang")
    await wang.connect()
    reader = await Reader.register(node.base, "demo-pl")
    await reader.connect()
    opened = await reader.open("你好")
    cid = opened["consultation"]["id"]
    await wang.accept_next()
    view = await reader.wait_for(
        "consultation", lambda c: c["id"] == cid and c["state"] == "assigned"
    )
    assert view["consultant"]["name"] == "王老师"
    assert view["consultant"]["library"]["code"] == "demo-pl"


async def test_front_ends_are_served_with_safe_headers(tmp_path: Path, sqlite_url: str) -> None:
    from tests.conftest import seed_demo
    from tests.harness import start_node

    dist = tmp_path / "dist"
    (dist / "widget").mkdir(parents=True)
    (dist / "console" / "assets").mkdir(parents=True)
    (dist / "widget" / "widget.js").write_text("/* widget */")
    (dist / "console" / "index.html").write_text("<!doctype html><title>console</title>")
    (dist / "console" / "assets" / "app-1a2b.js").write_text("/* app */")
    (tmp_path / "secret.txt").write_text("not served")
    await seed_demo(sqlite_url, "http://unused")
    node = await start_node(sqlite_url, static_dir=dist)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(node.base + "/widget.js") as r:
                assert r.status == 200 and "javascript" in r.content_type
                assert r.headers["Access-Control-Allow-Origin"] == "*"
                assert r.headers["X-Content-Type-Options"] == "nosniff"
                assert r.headers["Cache-Control"] == "no-cache" and r.headers.get("ETag")
            async with http.get(node.base + "/console", allow_redirects=False) as r:
                assert r.status == 302 and r.headers["Location"] == "/console/"
            async with http.get(node.base + "/console/") as r:
                assert (
                    r.status == 200
                    and "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
                )
            async with http.get(node.base + "/console/assets/app-1a2b.js") as r:
                assert r.status == 200 and "immutable" in r.headers["Cache-Control"]
            for probe in ("/console/assets/..%2f..%2fsecret.txt", "/console/assets/.hidden"):
                async with http.get(node.base + probe) as r:
                    assert r.status == 404
            async with http.get(node.base + "/chat/demo-pl?lang=en") as r:
                page = await r.text()
                assert r.status == 200
                framers = r.headers["Content-Security-Policy"]
                assert framers == "frame-ancestors 'self' http://library.example.test"
                assert 'data-library="demo-pl"' in page and 'data-mode="page"' in page
                assert 'data-lang="en"' in page
            async with http.get(node.base + "/chat/demo-pl?lang=%22%3E%3Cscript%3E") as r:
                assert "<script>" not in (await r.text()).replace('<script src="/widget.js"', "")
            async with http.get(node.base + "/chat/nope") as r:
                assert r.status == 404
    finally:
        await node.close()
    empty = await start_node(sqlite_url, static_dir=tmp_path / "missing")
    try:
        async with aiohttp.ClientSession() as http, http.get(empty.base + "/widget.js") as r:
            assert r.status == 503 and "make run" in await r.text()
    finally:
        await empty.close()


async def test_etiquette_lists_defaults_and_a_librarys_own(node: Node) -> None:
    zhao = await Consultant.login(node.base, "zhao")  # consultant, demo-ul
    chen = await Consultant.login(node.base, "chen")  # supervisor, demo-ul
    status, got = await _call(node, zhao, "GET", "/api/etiquette")
    assert status == 200 and got["can_edit"] is False
    assert "OPAC" in {t["term"] for t in got["defaults"]["terms"]}
    assert got["library"] == {"terms": [], "hosts": []}
    lists = {
        "terms": [{"term": "馆际互借单", "hint": "借书申请"}, {"term": "馆际互借单", "hint": "x"}],
        "hosts": [
            {"host": "Lib.Campus.Example.EDU.cn", "reason": "campus"},
            {"host": ".intranet.example.cn", "reason": "intranet"},
        ],
    }
    status, got = await _call(node, zhao, "PUT", "/api/etiquette", lists)
    assert status == 403
    status, got = await _call(node, chen, "PUT", "/api/etiquette", lists)
    assert status == 200
    assert got["library"]["terms"] == [{"term": "馆际互借单", "hint": "x"}]
    assert got["library"]["hosts"][0]["host"] == "lib.campus.example.edu.cn"
    status, got = await _call(node, zhao, "GET", "/api/etiquette")
    assert len(got["library"]["hosts"]) == 2
    bad = {"hosts": [{"host": "http://x.example/path", "reason": "paid"}]}
    status, got = await _call(node, chen, "PUT", "/api/etiquette", bad)
    assert status == 400 and got["error"]["code"] == "invalid_payload"
    # Another library's consultants see nothing of it.
    wang = await Consultant.login(node.base, "wang")
    status, got = await _call(node, wang, "GET", "/api/etiquette")
    assert got["library"] == {"terms": [], "hosts": []}


async def test_a_librarys_public_details_say_whether_it_is_open(node: Node) -> None:
    status, got = await _call(node, None, "GET", "/api/libraries/demo-pl")
    assert got["library"]["open_now"] is None  # no hours set: no verdict
    hours = '{"timezone": "Asia/Shanghai", "weekly": {}, "closed": []}'
    async with node.desk.engine.begin() as conn:
        await conn.execute(
            text("UPDATE libraries SET service_hours = :h WHERE code = 'demo-pl'"),
            {"h": hours.replace('"weekly": {}', '"weekly": {"sun": [["00:00", "00:01"]]}')},
        )
    node.desk.directory.forget()
    status, got = await _call(node, None, "GET", "/api/libraries/demo-pl")
    assert got["library"]["open_now"] is False and got["library"]["opens_at"]


async def test_a_supervisor_sets_the_service_hours_and_the_widget_sees_them(
    node: Node, clock: ManualClock
) -> None:
    chen = await Consultant.login(node.base, "chen")  # supervisor at demo-ul
    zhao = await Consultant.login(node.base, "zhao")
    status, got = await _call(node, zhao, "GET", "/api/library/settings")
    assert status == 200 and got["can_edit"] is False and got["service_hours"] == {}
    hours = {
        "timezone": "Asia/Shanghai",
        "weekly": {"mon": [["14:00", "17:30"], ["08:30", "12:00"]], "sat": [["09:00", "12:00"]]},
        "closed": ["2026-10-01", "2026-10-01"],
    }
    status, got = await _call(node, zhao, "PUT", "/api/library/settings", {"service_hours": hours})
    assert status == 403 and got["error"]["code"] == "forbidden"
    status, got = await _call(
        node, chen, "PUT", "/api/library/settings", {"service_hours": hours, "phone": "0755-1234"}
    )
    assert status == 200, got
    assert got["service_hours"]["weekly"]["mon"] == [["08:30", "12:00"], ["14:00", "17:30"]]
    assert got["service_hours"]["closed"] == ["2026-10-01"] and got["phone"] == "0755-1234"

    # Monday 2026-11-30 13:00 in Beijing: between the spans, closed until 14:00.
    clock.advance(datetime(2026, 11, 30, 5, 0, tzinfo=UTC).timestamp() - clock.now())
    status, pub = await _call(node, None, "GET", "/api/libraries/demo-ul")
    assert pub["library"]["open_now"] is False
    assert pub["library"]["opens_at"].startswith("2026-11-30T14:00:00+08:00")
    assert pub["library"]["phone"] == "0755-1234"
    clock.advance(2 * 3600)  # 15:00 there
    status, pub = await _call(node, None, "GET", "/api/libraries/demo-ul")
    assert pub["library"]["open_now"] is True

    for bad in (
        {"service_hours": {"weekly": {"mon": [["09:00", "08:00"]]}}},
        {"service_hours": {"weekly": {"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}}},
        {"service_hours": {"weekly": {"someday": [["09:00", "12:00"]]}}},
        {"service_hours": {"weekly": {"mon": [["9am", "12:00"]]}}},
        {"service_hours": {"timezone": "Mars/Olympus"}},
        {"service_hours": {"closed": ["next tuesday"]}},
        {"phone": "<script>"},
    ):
        status, got = await _call(node, chen, "PUT", "/api/library/settings", bad)
        assert status == 400 and got["error"]["code"] == "invalid_payload", bad
    status, got = await _call(node, chen, "PUT", "/api/library/settings", {"clear_hours": True})
    assert got["service_hours"] == {} and got["open_now"] is None


async def test_the_public_details_say_who_is_online_per_language(node: Node) -> None:
    status, got = await _call(node, None, "GET", "/api/libraries/demo-pl")
    assert got["library"]["live"] == {"zh-CN": False, "en": False}
    li = await Consultant.login(node.base, "li")  # speaks Chinese only
    await li.connect()
    status, got = await _call(node, None, "GET", "/api/libraries/demo-pl")
    assert got["library"]["live"] == {"zh-CN": True, "en": False}
    await li.ok("status.set", {"status": "away"})
    status, got = await _call(node, None, "GET", "/api/libraries/demo-pl")
    assert got["library"]["live"] == {"zh-CN": False, "en": False}
