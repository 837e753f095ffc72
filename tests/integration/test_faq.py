"""The FAQ bot over real sockets, and the knowledge base's HTTP API: a waiting reader gets one
automatic answer and still reaches a consultant; a served reader, an unrelated question or a
library that switched the bot off get none; editors keep the entries, import and export them."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select, text

from bots.faq import CLIENT_ID_PREFIX, MAX_ANSWERS_PER_CHAT
from bots.kb_api import add_kb_routes, upsert_from_case
from bots.kb_defaults import DEFAULT_ENTRIES
from desk.app import create_app
from desk.clock import ManualClock
from desk.models import KbEntry
from desk.settings import Settings
from tests.conftest import seed_demo
from tests.harness import Consultant, Node, Reader, free_port
from transcripts.models import Message

THESIS = next(e for e in DEFAULT_ENTRIES if "学位论文" in e.question)


async def _start(url: str, clock: ManualClock) -> Node:
    """A node like ``tests.harness.start_node``, with the knowledge-base routes whether or not
    the app factory adds them yet."""
    port = free_port()
    settings = Settings(
        host="127.0.0.1", port=port, database_url=url, scheduler=False, log_format="json"
    )
    app = create_app(settings, clock=clock)
    if not any(r.canonical == "/api/kb" for r in app.router.resources()):
        add_kb_routes(app)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=2.0)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return Node(f"http://127.0.0.1:{port}", runner, app)


@pytest.fixture
async def faq_node(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Node]:
    """The demo alliance with every bot on, direct routing, no overflow for 10 minutes."""
    await seed_demo(sqlite_url, "http://unused")
    n = await _start(sqlite_url, clock)
    async with n.desk.engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE libraries SET bot_settings = '{}', routing_mode = 'direct',"
                " overflow_delay_seconds = 600"
            )
        )
        # An alliance admin at demo-pl (the demo has none).
        await conn.execute(text("UPDATE consultants SET role = 'admin' WHERE username = 'wang'"))
    n.desk.directory.forget()
    try:
        yield n
    finally:
        await n.close()


async def _faq_messages(node: Node, cid: int) -> list[Message]:
    async with node.desk.reads() as s:
        rows = await s.scalars(
            select(Message)
            .where(
                Message.consultation_id == cid,
                Message.client_msg_id.like(f"{CLIENT_ID_PREFIX}%"),
            )
            .order_by(Message.seq)
        )
        return list(rows.all())


async def _reader(node: Node, question: str, library: str = "demo-pl", **kw: Any) -> Any:
    r = await Reader.register(node.base, library)
    await r.connect()
    opened = await r.open(question, **kw)
    return r, opened["consultation"]["id"]


async def _state(node: Node, cid: int) -> str:
    async with node.desk.engine.begin() as conn:
        row = await conn.execute(text("SELECT state FROM consultations WHERE id = :i"), {"i": cid})
        return str(row.scalar_one())


async def _settled(node: Node) -> None:
    """Wait for the bot's background work (it runs off the sender's path)."""
    while node.desk.background:
        await asyncio.gather(*list(node.desk.background), return_exceptions=True)


# -- the bot -----------------------------------------------------------------------------------


async def test_a_waiting_reader_gets_one_answer_and_still_a_consultant(faq_node: Node) -> None:
    reader, cid = await _reader(faq_node, "我想下载一篇硕士论文的全文，怎么办？")
    answer = await reader.wait_for("message", lambda m: m["body"].startswith("【自动回答】"))
    assert answer["author_kind"] == "bot"
    assert THESIS.answer in answer["body"] and "咨询员仍会" in answer["body"]
    assert answer["client_msg_id"] == f"{CLIENT_ID_PREFIX}1", "the chat's first answer"
    # It takes nothing from the way to a human: the chat still waits in the queue.
    assert await _state(faq_node, cid) == "waiting"
    assert [e.consultation_id for e in await faq_node.desk.state.queue()] == [cid]

    # The same message sent again (a retry) is not answered again.
    mine = next(m for m in reader.messages(cid) if m["author_kind"] == "reader")
    await reader.say(cid, mine["body"], cmid=mine["client_msg_id"])
    await _settled(faq_node)
    assert len(await _faq_messages(faq_node, cid)) == 1

    # A consultant comes online and gets the chat (direct routing).
    li = await Consultant.login(faq_node.base, "li")
    await li.connect()
    got = await li.wait_for("chat.assigned", lambda a: a["consultation"]["id"] == cid)
    assert got["consultation"]["id"] == cid
    # Once a consultant holds the chat, the bot says nothing more.
    await reader.say(cid, "另外，参考文献格式怎么写？")
    assert len(await _faq_messages(faq_node, cid)) == 1


async def test_an_unrelated_question_gets_no_answer(faq_node: Node) -> None:
    reader, cid = await _reader(faq_node, "图书馆附近有什么好吃的餐馆？")
    await reader.say(cid, "你好")
    await reader.say(cid, "谢谢")
    assert await _faq_messages(faq_node, cid) == []
    # The greeting still came: the other bots are on.
    assert [m["author_kind"] for m in reader.messages(cid)].count("bot") == 1


async def test_english_and_the_cap_per_chat(faq_node: Node) -> None:
    reader, cid = await _reader(faq_node, "Is this service free of charge?", language="en")
    first = await reader.wait_for("message", lambda m: "Automatic answer" in m["body"])
    assert "free public services" in first["body"]
    # Sent at once: the bot considers them side by side, and answers up to the cap, no more.
    await asyncio.gather(
        *[
            reader.say(cid, q)
            for q in (
                "How do I format references in APA style?",
                "Can I access the databases from home?",
                "How do I get a library card?",
                "What are the opening hours?",
                "How do I renew a book online?",
            )
        ]
    )
    await _settled(faq_node)
    answers = await _faq_messages(faq_node, cid)
    assert len(answers) == MAX_ANSWERS_PER_CHAT, [a.body[:40] for a in answers]
    assert all(m.author_kind == "bot" for m in answers)


def _side_by_side(node: Node) -> list[int]:
    """Make the bot look up its next two questions at the same moment: each waits until both
    are looking. Returns how many looked (one item, filled in as they do)."""
    from bots.api import BOTS_KEY

    bot = node.app[BOTS_KEY].faq
    real_match = bot.match
    both_looked = asyncio.Event()
    looking = [0]

    async def match_side_by_side(library_id: int, question: str) -> Any:
        looking[0] += 1
        if looking[0] == 2:
            both_looked.set()
        await both_looked.wait()
        return await real_match(library_id, question)

    bot.match = match_side_by_side
    return looking


async def test_the_cap_holds_when_questions_are_considered_at_once(faq_node: Node) -> None:
    """Two questions looked up side by side, each seeing two answers so far: one answer more,
    not two (the slot is the chat's n-th answer, and the store keeps one per client id)."""
    reader, cid = await _reader(faq_node, "Is this service free of charge?", language="en")
    await reader.wait_for("message", lambda m: "Automatic answer" in m["body"])
    await reader.say(cid, "How do I format references in APA style?")
    await _settled(faq_node)
    assert len(await _faq_messages(faq_node, cid)) == 2

    looking = _side_by_side(faq_node)
    await asyncio.gather(
        reader.say(cid, "Can I access the databases from home?"),
        reader.say(cid, "How do I get a library card?"),
    )
    await _settled(faq_node)
    assert looking == [2], "both questions were considered"
    answers = await _faq_messages(faq_node, cid)
    assert len(answers) == MAX_ANSWERS_PER_CHAT
    assert sorted(a.client_msg_id for a in answers) == [f"{CLIENT_ID_PREFIX}{n}" for n in (1, 2, 3)]


async def test_questions_considered_side_by_side_are_each_answered_below_the_cap(
    faq_node: Node,
) -> None:
    """Two questions looked up at once, each seeing one answer so far: both want the chat's
    second answer; the one that finds it taken takes the third, so both are answered."""
    reader, cid = await _reader(faq_node, "Is this service free of charge?", language="en")
    await reader.wait_for("message", lambda m: "Automatic answer" in m["body"])
    await _settled(faq_node)
    looking = _side_by_side(faq_node)
    await asyncio.gather(
        reader.say(cid, "How do I format references in APA style?"),
        reader.say(cid, "How do I get a library card?"),
    )
    await _settled(faq_node)
    assert looking == [2], "both questions were considered"
    answers = await _faq_messages(faq_node, cid)
    assert [a.client_msg_id for a in answers] == [f"{CLIENT_ID_PREFIX}{n}" for n in (1, 2, 3)]
    assert len({a.body for a in answers}) == 3, "each question got its own answer"


async def test_no_answer_when_a_consultant_is_free_to_take_the_chat(faq_node: Node) -> None:
    li = await Consultant.login(faq_node.base, "li")
    await li.connect()
    reader, cid = await _reader(faq_node, "怎样获取学位论文全文？")
    await li.wait_for("chat.assigned", lambda a: a["consultation"]["id"] == cid)
    assert await _faq_messages(faq_node, cid) == []


async def test_the_library_switch(faq_node: Node) -> None:
    async with faq_node.desk.engine.begin() as conn:
        await conn.execute(
            text("UPDATE libraries SET bot_settings = '{\"faq\": false}' WHERE code = 'demo-pl'")
        )
    faq_node.desk.directory.forget()
    reader, cid = await _reader(faq_node, "怎样获取学位论文全文？")
    await reader.say(cid, "咨询要收费吗？")
    assert await _faq_messages(faq_node, cid) == []
    # The other library's readers still get answers.
    other, other_cid = await _reader(faq_node, "怎样获取学位论文全文？", library="demo-ul")
    await other.wait_for("message", lambda m: m["body"].startswith("【自动回答】"))


# -- the HTTP API ------------------------------------------------------------------------------


async def _http(
    node: Node,
    who: Consultant,
    method: str,
    path: str,
    body: Any = None,
    *,
    data: bytes | None = None,
    content_type: str | None = None,
) -> tuple[int, Any]:
    headers = {"Origin": node.base, "Cookie": f"desk_session={who.cookie}"}
    if content_type:
        headers["Content-Type"] = content_type
    async with (
        aiohttp.ClientSession() as http,
        http.request(
            method,
            node.base + path,
            json=body if data is None else None,
            data=data,
            headers=headers,
        ) as resp,
    ):
        raw = await resp.read()
        if resp.content_type == "application/json":
            return resp.status, json.loads(raw.decode("utf-8"))
        return resp.status, raw


NEW = {
    "language": "zh-CN",
    "question": "校史馆怎么预约参观？",
    "answer": "校史馆参观请提前一天在本馆网站“参观预约”页面登记。",
    "keywords": "校史 参观 预约 展览",
}


async def test_editors_keep_the_knowledge_base_and_the_bot_uses_it(faq_node: Node) -> None:
    chen = await Consultant.login(faq_node.base, "chen")  # supervisor, demo-ul
    zhao = await Consultant.login(faq_node.base, "zhao")  # consultant, demo-ul
    wang = await Consultant.login(faq_node.base, "wang")  # admin, demo-pl

    status, got = await _http(faq_node, zhao, "GET", "/api/kb")
    assert status == 200 and got["can_edit"] is False
    assert len(got["entries"]) == len(DEFAULT_ENTRIES)
    assert {e["scope"] for e in got["entries"]} == {"alliance"}
    assert not any(e["editable"] for e in got["entries"])

    status, got = await _http(faq_node, zhao, "POST", "/api/kb", NEW)
    assert status == 403 and got["error"]["code"] == "forbidden"
    status, got = await _http(faq_node, chen, "POST", "/api/kb", {**NEW, "scope": "alliance"})
    assert status == 403
    status, got = await _http(faq_node, chen, "POST", "/api/kb", {**NEW, "answer": "  "})
    assert status == 400 and got["error"]["code"] == "invalid_payload"
    status, got = await _http(faq_node, chen, "POST", "/api/kb", NEW)
    assert status == 201, got
    entry = got["entry"]
    assert entry["scope"] == "library" and entry["source"] == "manual"
    status, got = await _http(
        faq_node, chen, "POST", "/api/kb", {**NEW, "question": " 校史馆怎么预约参观？ "}
    )
    assert status == 409 and got["error"]["code"] == "kb_duplicate"

    # A reader of demo-ul gets the new entry at once; a reader of demo-pl does not.
    r, cid = await _reader(faq_node, "想去校史馆参观，需要预约吗", library="demo-ul")
    said = await r.wait_for("message", lambda m: m["body"].startswith("【自动回答】"))
    assert NEW["answer"] in said["body"]
    other, other_cid = await _reader(faq_node, "想去校史馆参观，需要预约吗")
    assert await _faq_messages(faq_node, other_cid) == []

    # Searching shows what the bot would answer.
    status, got = await _http(faq_node, zhao, "GET", "/api/kb?q=校史馆参观预约")
    assert got["entries"][0]["id"] == entry["id"]
    assert got["bot_answer"]["id"] == entry["id"]
    status, got = await _http(faq_node, zhao, "GET", "/api/kb?language=en")
    assert {e["language"] for e in got["entries"]} == {"en"}

    # Editing: the owner library's supervisor; not another library, not an alliance entry.
    path = f"/api/kb/{entry['id']}"
    status, got = await _http(faq_node, chen, "PATCH", path, {"active": False})
    assert status == 200 and got["entry"]["active"] is False
    r2, cid2 = await _reader(faq_node, "想去校史馆参观，需要预约吗", library="demo-ul")
    assert await _faq_messages(faq_node, cid2) == []
    status, got = await _http(faq_node, wang, "PATCH", path, {"active": True})
    assert status == 404 and got["error"]["code"] == "kb_entry_not_found"
    alliance_id = next(
        e["id"]
        for e in (await _http(faq_node, chen, "GET", "/api/kb"))[1]["entries"]
        if e["scope"] == "alliance"
    )
    status, got = await _http(faq_node, chen, "PATCH", f"/api/kb/{alliance_id}", {"keywords": "x"})
    assert status == 403
    status, got = await _http(faq_node, wang, "PATCH", f"/api/kb/{alliance_id}", {"keywords": "x"})
    assert status == 200 and got["entry"]["keywords"] == "x"
    status, got = await _http(faq_node, chen, "DELETE", path)
    assert status == 200
    status, got = await _http(faq_node, chen, "DELETE", path)
    assert status == 404
    # Writes follow the console's origin rule.
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            faq_node.base + "/api/kb",
            json=NEW,
            headers={"Origin": "https://evil.example", "Cookie": f"desk_session={chen.cookie}"},
        ) as resp,
    ):
        assert resp.status == 403


async def test_import_and_export_round_trip(faq_node: Node) -> None:
    chen = await Consultant.login(faq_node.base, "chen")
    zhao = await Consultant.login(faq_node.base, "zhao")
    rows = [
        NEW,
        {
            "language": "en",
            "question": "Where is the university archive exhibition?",
            "answer": "On the second floor of the old library.",
            "keywords": "",
            "active": True,
        },
    ]
    # JSON in; a bad row refuses the whole file, with its row number and field.
    bad = [*rows, {"language": "zh-CN", "question": "", "answer": "x"}]
    status, got = await _http(faq_node, chen, "POST", "/api/kb/import?format=json", bad)
    assert status == 400 and got["error"]["code"] == "kb_import_invalid"
    assert got["error"]["details"]["rows"] == [
        {"row": 3, "field": "question", "problem": "String should have at least 1 character"}
    ]
    status, got = await _http(faq_node, zhao, "POST", "/api/kb/import?format=json", rows)
    assert status == 403
    status, got = await _http(faq_node, chen, "POST", "/api/kb/import?format=json", rows)
    assert status == 200 and (got["created"], got["updated"]) == (2, 0)

    # JSON out and in again: nothing changes.
    status, exported = await _http(faq_node, chen, "GET", "/api/kb/export?format=json")
    assert status == 200 and len(exported["entries"]) == 2
    status, got = await _http(faq_node, chen, "POST", "/api/kb/import?format=json", exported)
    assert (got["created"], got["updated"], got["unchanged"]) == (0, 0, 2)

    # CSV out (with a BOM for Excel), edited, and in: the same question updates its entry.
    status, raw = await _http(faq_node, chen, "GET", "/api/kb/export?format=csv")
    assert status == 200 and raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [r["question"] for r in table] == [r["question"] for r in rows]
    table[0]["answer"] = "请提前三天预约。"
    table.append(
        {**table[1], "id": "", "question": "Can I visit the archive on Sunday?", "answer": "No."}
    )
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(table[0]))
    writer.writeheader()
    writer.writerows(table)
    status, got = await _http(
        faq_node,
        chen,
        "POST",
        "/api/kb/import?format=csv",
        data=out.getvalue().encode("utf-8"),
        content_type="text/csv",
    )
    assert status == 200, got
    assert (got["created"], got["updated"], got["unchanged"]) == (1, 1, 1)

    # A CSV with a bad row and a repeated question: row numbers as a spreadsheet shows them.
    broken = (
        "language,question,answer\n"
        "zh-CN,新问题,新回答\n"
        "klingon language,问题,回答\n"
        "zh-CN,新问题,另一个回答\n"
    ).encode()
    status, got = await _http(
        faq_node, chen, "POST", "/api/kb/import?format=csv", data=broken, content_type="text/csv"
    )
    assert status == 400 and got["error"]["code"] == "kb_import_invalid"
    assert [(p["row"], p["field"]) for p in got["error"]["details"]["rows"]] == [
        (3, "language"),
        (4, "question"),
    ]
    status, got = await _http(
        faq_node,
        chen,
        "POST",
        "/api/kb/import?format=csv",
        data=b"question,answer\nq,a\n",
        content_type="text/csv",
    )
    assert status == 400 and "language" in got["error"]["message"]
    status, got = await _http(
        faq_node, chen, "POST", "/api/kb/import?format=xml", data=b"<x/>", content_type="text/xml"
    )
    assert status == 400 and got["error"]["code"] == "kb_bad_format"
    status, got = await _http(faq_node, chen, "POST", "/api/kb/import?format=csv", rows)
    assert status == 400 and got["error"]["code"] == "kb_bad_format"
    async with faq_node.desk.reads() as s:
        mine = await s.scalar(select(func.count(KbEntry.id)).where(KbEntry.library_id.is_not(None)))
    assert mine == 3

    # Alliance scope: admins only.
    status, got = await _http(
        faq_node, chen, "POST", "/api/kb/import?format=json&scope=alliance", rows
    )
    assert status == 403
    status, exported = await _http(
        faq_node, chen, "GET", "/api/kb/export?format=json&scope=alliance"
    )
    assert len(exported["entries"]) == len(DEFAULT_ENTRIES)


async def test_a_typical_case_becomes_an_entry(faq_node: Node) -> None:
    desk = faq_node.desk
    lib = await desk.directory.library_by_code("demo-ul")
    assert lib is not None
    first = await upsert_from_case(
        desk,
        library_id=lib.id,
        language="zh-CN",
        question="古籍阅览室可以拍照吗？",
        answer="古籍阅览室禁止使用闪光灯拍照。",
        case_id=41,
    )
    again = await upsert_from_case(
        desk,
        library_id=lib.id,
        language="zh-CN",
        question="古籍阅览室可以拍照吗？",
        answer="古籍阅览室不允许拍照。",
        case_id=41,
    )
    assert first == again
    async with desk.reads() as s:
        e = await s.get(KbEntry, first)
    assert e is not None and (e.source, e.source_ref, e.answer) == (
        "case",
        41,
        "古籍阅览室不允许拍照。",
    )
    desk_bot = faq_node.app
    from desk.app import BOTS_KEY

    desk_bot[BOTS_KEY].faq.forget(lib.id)
    r, cid = await _reader(faq_node, "在古籍阅览室能拍照吗", library="demo-ul")
    said = await r.wait_for("message", lambda m: m["body"].startswith("【自动回答】"))
    assert "不允许拍照" in said["body"]
