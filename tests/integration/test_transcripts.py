"""Transcripts for supervisors, with the readers' privacy: search in Chinese and English on
both databases, scope and reveal by role, the audit log, masked exports, retention and
erasure that leave the statistics, typical cases, and the reader's own copy.

Personal-data canaries are planted in the chats; no export, search result, case or view
without a reveal may carry any of them."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select, text

from desk.clock import ManualClock
from desk.models import Consultation, ReaderToken
from tests.harness import EMBED_ORIGIN, Consultant, Node, Reader
from tests.integration.test_backlog import Inbox, mailing_node, smtp  # noqa: F401 (fixtures)
from transcripts import search
from transcripts.index import index_pending
from transcripts.models import AuditEntry, Message, TranscriptDoc
from transcripts.retention import anonymise_expired

PHONE = "13987654321"
EMAIL = "canary.reader@example.net"
STUDENT = "2021405566"
NAME = "欧阳晓峰"
CANARIES = (PHONE, EMAIL, STUDENT, NAME, "华南理工大学")


async def http(
    node: Node,
    method: str,
    path: str,
    body: Any = None,
    *,
    who: Consultant | None = None,
    reader: Reader | None = None,
) -> tuple[int, Any, str]:
    headers = {"Origin": node.base if reader is None else EMBED_ORIGIN}
    if who is not None:
        headers["Cookie"] = f"desk_session={who.cookie}"
    if reader is not None:
        headers["Authorization"] = f"Bearer {reader.token}"
    async with (
        aiohttp.ClientSession() as s,
        s.request(method, node.base + path, json=body, headers=headers) as resp,
    ):
        raw = await resp.text()
        data = json.loads(raw) if resp.content_type == "application/json" else None
        return resp.status, data, raw


async def served_chat(node: Node, question: str, answer: str, *more: str) -> tuple[Reader, int]:
    """A chat at demo-pl served by wang, ended, indexed."""
    async with node.desk.engine.begin() as conn:
        await conn.execute(text("UPDATE libraries SET routing_mode = 'direct'"))
    node.desk.directory.forget()
    wang = await Consultant.login(node.base, "wang")
    await wang.connect()
    reader = await Reader.register(node.base, "demo-pl")
    await reader.connect()
    cid = (await reader.open(question))["consultation"]["id"]
    await wang.wait_for("chat.assigned", lambda a: a["consultation"]["id"] == cid)
    await wang.say(cid, answer)
    for line in more:
        await reader.say(cid, line)
    await wang.say(cid, "内部备注：读者是研究生", private=True)
    await wang.ok("consultation.close", {"consultation_id": cid})
    await wang.disconnect()
    await settle(node)
    return reader, cid


async def settle(node: Node) -> None:
    while node.desk.background:
        await asyncio.gather(*list(node.desk.background), return_exceptions=True)
    await index_pending(node.desk)


def clean(raw: str) -> bool:
    return not any(c in raw for c in CANARIES)


async def role(node: Node, username: str, value: str) -> Consultant:
    async with node.desk.engine.begin() as conn:
        await conn.execute(
            text("UPDATE consultants SET role = :r WHERE username = :u"),
            {"r": value, "u": username},
        )
    node.desk.directory.forget()
    return await Consultant.login(node.base, username)


async def test_search_finds_chinese_and_english_phrases_masked_on_both_databases(
    any_node: Node,
) -> None:
    _, cid = await served_chat(
        any_node,
        f"我叫{NAME}，手机{PHONE}，想找查收查引的办理方法",
        "查收查引可以在本馆的科技查新站办理，也可以使用 Web of Science 核心合集。",
        f"我的学号是{STUDENT}，邮箱 {EMAIL}",
    )
    _, other = await served_chat(any_node, "请问学位论文怎么提交？", "学位论文请在毕业前提交。")
    wang = await Consultant.login(any_node.base, "wang")

    async def hits(q: str) -> list[int]:
        status, got, raw = await http(any_node, "GET", f"/api/transcripts?q={q}", who=wang)
        assert status == 200, got
        assert clean(raw), "search results never carry personal data"
        return [r["consultation_id"] for r in got["results"]]

    assert await hits("查收查引") == [cid]
    assert await hits("学位论文") == [other]
    assert await hits("论文") == [other]
    assert await hits("web%20of%20science") == [cid]
    assert await hits("Science") == [cid]
    assert await hits("查") == [cid]  # one character
    assert await hits("查收查引%20science") == [cid]  # both parts
    assert await hits("查收查引%20学位论文") == []
    assert await hits("收查查") == [], "a phrase, not a bag of characters"
    assert sorted(await hits("")) == sorted([cid, other])
    # The hit is highlighted, as text pieces.
    status, got, _ = await http(any_node, "GET", "/api/transcripts?q=查收查引", who=wang)
    pieces = [p for snip in got["results"][0]["snippets"] for p in snip]
    assert ["查收查引", True] in pieces
    assert got["results"][0]["has_personal_data"] is True
    # Filters.
    status, got, _ = await http(any_node, "GET", "/api/transcripts?state=abandoned", who=wang)
    assert got["results"] == []
    status, got, _ = await http(
        any_node, "GET", "/api/transcripts?language=zh-CN&library=demo-pl", who=wang
    )
    assert len(got["results"]) == 2


async def test_few_and_many_hits_give_the_same_results(
    any_node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL a query with few hits reads them from the GIN index first, one with many
    goes newest-first; both ways find the same consultations."""
    _, a = await served_chat(any_node, "请问馆际互借怎么申请？", "请在馆际互借系统提交。")
    _, b = await served_chat(any_node, "馆际互借要多久？", "一般三天。")
    wang = await Consultant.login(any_node.base, "wang")
    seen = []
    for few in (search.FEW_HITS, 0):
        monkeypatch.setattr(search, "FEW_HITS", few)
        status, got, _ = await http(any_node, "GET", "/api/transcripts?q=馆际互借", who=wang)
        assert status == 200
        seen.append([r["consultation_id"] for r in got["results"]])
    assert seen[0] == seen[1] == [b, a]


async def test_scope_reveal_and_the_audit_log(node: Node) -> None:
    _, cid = await served_chat(
        node, f"我叫{NAME}，电话{PHONE}，在华南理工大学读书", "好的，请稍等。"
    )
    li = await Consultant.login(node.base, "li")  # same library, did not serve
    zhao = await Consultant.login(node.base, "zhao")  # another library
    chen = await Consultant.login(node.base, "chen")  # supervisor of another library
    wang = await Consultant.login(node.base, "wang")  # served it

    status, got, raw = await http(node, "GET", f"/api/transcripts/{cid}", who=li)
    assert status == 200 and clean(raw)
    bodies = [m["body"] for m in got["transcript"]["messages"]]
    assert any("〔姓名〕" in b and "〔电话〕" in b for b in bodies)
    assert "内部备注：读者是研究生" in bodies, "staff see private notes"
    assert got["transcript"]["may_reveal"] is False
    status, got, _ = await http(
        node, "GET", f"/api/transcripts/{cid}?reveal=1&reason=follow-up", who=li
    )
    assert status == 403
    for outsider in (zhao, chen):
        status, got, _ = await http(node, "GET", f"/api/transcripts/{cid}", who=outsider)
        assert status == 404 and got["error"]["code"] == "transcript_not_found"
        status, got, _ = await http(node, "GET", "/api/transcripts", who=outsider)
        assert got["results"] == []
    assert (await http(node, "GET", f"/api/transcripts/{cid}"))[0] == 401

    status, got, _ = await http(node, "GET", f"/api/transcripts/{cid}?reveal=1", who=wang)
    assert status == 400 and got["error"]["code"] == "reason_required"
    status, got, raw = await http(
        node, "GET", f"/api/transcripts/{cid}?reveal=1&reason=读者要求回电", who=wang
    )
    assert status == 200 and PHONE in raw and got["transcript"]["revealed"] is True

    # The alliance's admin sees it; a supervisor of demo-pl reads the log of its readers' data.
    admin = await role(node, "zhao", "admin")
    assert (await http(node, "GET", f"/api/transcripts/{cid}", who=admin))[0] == 200
    sup = await role(node, "li", "supervisor")
    status, got, raw = await http(node, "GET", "/api/audit", who=sup)
    assert status == 200 and clean(raw)
    seen = [(e["consultant"], e["action"], e["consultation_id"]) for e in got["entries"]]
    assert ("li", "open", cid) in seen and ("wang", "reveal", cid) in seen
    assert ("zhao", "open", cid) in seen
    reveal = next(e for e in got["entries"] if e["action"] == "reveal")
    assert reveal["detail"] == {"reason": "读者要求回电"}
    assert (await http(node, "GET", "/api/audit", who=wang))[0] == 403
    status, got, _ = await http(node, "GET", "/api/audit", who=chen)
    assert got["entries"] == [], "another library's supervisor reads none of it"


async def test_exports_are_masked_supervisor_only_and_audited(node: Node) -> None:
    _, cid = await served_chat(
        node, f"我的邮箱是{EMAIL}，学号{STUDENT}", f"已记下，{NAME}同学。", f"电话 {PHONE}"
    )
    wang = await Consultant.login(node.base, "wang")
    assert (await http(node, "GET", "/api/transcripts/export", who=wang))[0] == 403
    sup = await role(node, "li", "supervisor")
    for fmt in ("csv", "jsonl"):
        status, _, raw = await http(node, "GET", f"/api/transcripts/export?format={fmt}", who=sup)
        assert status == 200 and str(cid) in raw
        assert clean(raw), f"the {fmt} export carries personal data"
    async with node.desk.reads() as s:
        rows = (await s.scalars(select(AuditEntry).where(AuditEntry.action == "export"))).all()
    assert [r.detail["count"] for r in rows] == [1, 1]


async def test_tags_are_kept_and_filtered(node: Node) -> None:
    _, cid = await served_chat(node, "如何使用维普数据库？", "请从本馆主页进入。")
    wang = await Consultant.login(node.base, "wang")
    status, got, _ = await http(
        node,
        "PUT",
        f"/api/transcripts/{cid}/tags",
        {"tags": ["数据库", " 数据库 ", "维普"]},
        who=wang,
    )
    assert status == 200 and got["tags"] == ["数据库", "维普"]
    status, got, _ = await http(node, "GET", "/api/transcripts?tag=维普", who=wang)
    assert [r["consultation_id"] for r in got["results"]] == [cid]
    status, got, _ = await http(node, "GET", "/api/transcripts?tag=other", who=wang)
    assert got["results"] == []


async def test_retention_anonymises_and_the_statistics_stay(node: Node, clock: ManualClock) -> None:
    reader, cid = await served_chat(node, f"我叫{NAME}，电话{PHONE}", "好的，记下了。")
    clock.advance(731 * 86400)
    assert await anonymise_expired(node.desk) == 1
    assert await anonymise_expired(node.desk) == 0
    async with node.desk.reads() as s:
        bodies = (await s.scalars(select(Message.body).where(Message.consultation_id == cid))).all()
        c = await s.get(Consultation, cid)
        tokens = await s.scalar(
            select(func.count())
            .select_from(ReaderToken)
            .where(ReaderToken.reader_id == c.reader_id)
        )
        doc = await s.get(TranscriptDoc, cid)
    assert clean("\n".join(bodies)), "no personal data left in the messages"
    assert c.state == "closed" and c.assigned_at is not None and c.anonymised_at is not None
    assert tokens == 0, "the visitor is forgotten"
    assert doc is not None and doc.has_personal_data is False


async def test_erasure_on_request_keeps_the_counts(node: Node) -> None:
    reader, cid = await served_chat(node, f"我叫{NAME}，手机{PHONE}", "请稍等。", "谢谢")
    sup = await role(node, "li", "supervisor")
    wang = await Consultant.login(node.base, "wang")
    status, got, _ = await http(
        node, "POST", f"/api/transcripts/{cid}/erase-reader", {"reason": "读者来电要求"}, who=wang
    )
    assert status == 403
    status, got, _ = await http(
        node, "POST", f"/api/transcripts/{cid}/erase-reader", {"reason": "读者来电要求"}, who=sup
    )
    assert status == 200 and got["consultations"] == 1
    async with node.desk.reads() as s:
        rows = (
            await s.execute(
                select(Message.author_kind, Message.body).where(Message.consultation_id == cid)
            )
        ).all()
        consultations = await s.scalar(select(func.count()).select_from(Consultation))
        erased = (await s.scalars(select(AuditEntry).where(AuditEntry.action == "erase"))).all()
    assert all("已应读者要求删除" in b for k, b in rows if k == "reader")
    assert clean("\n".join(b for _, b in rows))
    assert consultations == 1 and len(erased) == 1 and erased[0].detail["reason"] == "读者来电要求"
    status, got, _ = await http(
        node, "GET", f"/api/readers/consultations/{cid}/transcript", reader=reader
    )
    assert status == 401, "the reader's token is gone"


async def test_typical_cases_anonymised_reviewed_published_and_exported(node: Node) -> None:
    _, cid = await served_chat(
        node,
        f"我是{NAME}，华南理工大学的研究生，怎样查一篇论文被SCI引用的次数？",
        "可以在 Web of Science 中检索该论文，查看“被引频次”。",
    )
    wang = await Consultant.login(node.base, "wang")
    status, got, raw = await http(
        node,
        "POST",
        "/api/cases",
        {
            "consultation_id": cid,
            "category": "文献检索",
            "tags": ["引用", "SCI"],
            "summary": f"联系{PHONE}",
        },
        who=wang,
    )
    assert status == 201 and clean(raw)
    case = got["case"]
    assert (
        case["state"] == "draft" and "被引频次" in case["answer"] and "〔姓名〕" in case["question"]
    )
    li = await Consultant.login(node.base, "li")
    status, got, _ = await http(node, "GET", f"/api/cases/{case['id']}", who=li)
    assert status == 404, "a draft is its author's and the supervisors'"
    # The author edits; personal data typed back in is masked again.
    status, got, raw = await http(
        node, "PATCH", f"/api/cases/{case['id']}", {"title": f"查被引次数（{EMAIL}）"}, who=wang
    )
    assert status == 200 and clean(raw) and "〔邮箱〕" in got["case"]["title"]
    assert (await http(node, "POST", f"/api/cases/{case['id']}/publish", {}, who=wang))[0] == 403
    sup = await role(node, "li", "supervisor")
    status, got, _ = await http(node, "POST", f"/api/cases/{case['id']}/publish", {}, who=sup)
    assert status == 200 and got["case"]["state"] == "published" and got["case"]["kb_entry_id"]
    # Published: every consultant finds it, and the FAQ bot's knowledge base has it.
    zhao = await Consultant.login(node.base, "zhao")
    status, got, _ = await http(node, "GET", "/api/cases?q=被引", who=zhao)
    assert [c["id"] for c in got["cases"]] == [case["id"]]
    status, got, raw = await http(node, "GET", "/api/kb?q=被引", who=sup)
    assert any(e["source"] == "case" for e in got["entries"]) and clean(raw)
    for fmt in ("md", "json"):
        status, _, raw = await http(node, "GET", f"/api/cases/export?format={fmt}", who=zhao)
        assert status == 200 and "被引频次" in raw and clean(raw)
    status, got, _ = await http(node, "POST", f"/api/cases/{case['id']}/withdraw", {}, who=sup)
    assert got["case"]["state"] == "withdrawn"


async def test_the_reader_takes_a_copy_of_the_chat(
    mailing_node: Node,  # noqa: F811 (the fixture imported above)
    smtp: tuple[int, Inbox],  # noqa: F811
) -> None:
    reader, cid = await served_chat(mailing_node, f"我的电话是{PHONE}", "好的。")
    status, _, raw = await http(
        mailing_node, "GET", f"/api/readers/consultations/{cid}/transcript", reader=reader
    )
    assert status == 200 and PHONE in raw, "their own words, unmasked"
    assert "内部备注" not in raw and "我:" in raw and "咨询员:" in raw
    other = await Reader.register(mailing_node.base, "demo-pl")
    status, *_ = await http(
        mailing_node, "GET", f"/api/readers/consultations/{cid}/transcript", reader=other
    )
    assert status == 404
    status, got, _ = await http(
        mailing_node,
        "POST",
        f"/api/readers/consultations/{cid}/transcript/email",
        {"email": "me@example.org"},
        reader=reader,
    )
    assert status == 200, got
    [mail] = smtp[1].mail
    assert mail["To"] == "me@example.org" and PHONE in mail.get_content()
