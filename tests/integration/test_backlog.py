"""The form-consultation backlog: a question travels from a chat (or the widget's form) to a
ticket, is claimed, returned or answered under the 72-hour rules, and reaches the reader's page
and mailbox with nothing lost."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import aiohttp
import pytest
from aiosmtpd.controller import Controller

from desk.backlog.actions import sweep_overdue
from desk.backlog.rules import NOT_FOUND, SAME_TOPIC
from desk.clock import ManualClock
from desk.models import Consultation
from tests.conftest import seed_demo
from tests.harness import EMBED_ORIGIN, Consultant, Node, Reader, free_port, start_node

HOURS = 3600


async def http(
    node: Node,
    method: str,
    path: str,
    body: Any = None,
    *,
    who: Consultant | None = None,
    origin: str | None = None,
) -> tuple[int, Any]:
    headers = {"Origin": origin or node.base}
    if who is not None:
        headers["Cookie"] = f"desk_session={who.cookie}"
    async with (
        aiohttp.ClientSession() as s,
        s.request(method, node.base + path, json=body, headers=headers) as resp,
    ):
        if resp.content_type == "application/json":
            return resp.status, await resp.json()
        return resp.status, await resp.text()


async def waiting_reader(
    node: Node, question: str = "我想要一篇1998年的会议论文全文"
) -> tuple[Reader, int]:
    r = await Reader.register(node.base, "demo-pl")
    await r.connect()
    opened = await r.open(question)
    return r, opened["consultation"]["id"]


def token_of(url: str) -> str:
    m = re.search(r"/tickets/([A-Za-z0-9_-]+)$", url)
    assert m, url
    return m.group(1)


async def test_a_reader_leaves_the_question_and_follows_it_to_the_answer(node: Node) -> None:
    reader, cid = await waiting_reader(node)
    await reader.say(cid, "作者是王五，题目里有“图书馆联盟”。")
    left = await reader.ok(
        "handoff", {"consultation_id": cid, "kind": "document", "email": "reader@example.org"}
    )
    assert left["consultation"]["state"] == "handed_off"
    assert left["consultation"]["ended_by"] == "reader"
    url = left["ticket"]["url"]
    assert url.startswith(node.base + "/tickets/")
    # Every tab of the reader gets the number and the link in the chat itself.
    notice = await reader.wait_for("message", lambda m: m["author_kind"] == "system")
    assert url in notice["body"] and str(left["ticket"]["id"]) in notice["body"]

    wang = await Consultant.login(node.base, "wang")
    status, pool = await http(node, "GET", "/api/backlog", who=wang)
    assert status == 200
    [summary] = [t for t in pool["tickets"] if t["id"] == left["ticket"]["id"]]
    assert summary["kind"] == "document" and summary["library"] == "demo-pl"
    assert summary["handed_off_by"] == "reader"
    status, detail = await http(node, "GET", f"/api/backlog/{summary['id']}", who=wang)
    ticket = detail["ticket"]
    # Nothing lost: both of the reader's messages, and the chat as they saw it.
    assert "1998年的会议论文" in ticket["question"] and "王五" in ticket["question"]
    assert [m["author_kind"] for m in ticket["transcript"]] == ["reader", "reader"]
    assert ticket["has_contact"] is True and "reader@example.org" not in str(detail)

    status, page = await http(node, "GET", f"/api/tickets/{token_of(url)}", origin=EMBED_ORIGIN)
    assert status == 200 and page["ticket"]["state"] == "in_progress"

    assert (await http(node, "POST", f"/api/backlog/{summary['id']}/claim", {}, who=wang))[0] == 200
    status, answered = await http(
        node,
        "POST",
        f"/api/backlog/{summary['id']}/reply",
        {"answer": "已找到原文，全文见附件链接。", "answer_kind": "found"},
        who=wang,
    )
    assert status == 200
    status, page = await http(node, "GET", f"/api/tickets/{token_of(url)}", origin=EMBED_ORIGIN)
    assert page["ticket"]["state"] == "answered"
    assert page["ticket"]["answer"] == "已找到原文，全文见附件链接。"
    status, html = await http(node, "GET", f"/tickets/{token_of(url)}")
    assert status == 200 and "已找到原文" in html and "会议论文" in html
    # In the library's time (Beijing, no hours set), with a switch to English.
    assert "(UTC+8)" in html and 'href="?lang=en"' in html
    status, html = await http(node, "GET", f"/tickets/{token_of(url)}?lang=en")
    assert "Form consultation" in html and 'href="?lang=zh-CN"' in html and "中文" in html


async def test_a_consultant_switches_the_chat_to_the_form_service(node: Node) -> None:
    wang = await Consultant.login(node.base, "wang")
    await wang.connect()
    reader, cid = await waiting_reader(node, "请问贵馆古籍特藏的数字化计划和使用办法？")
    await wang.accept_next()
    li = await Consultant.login(node.base, "li")
    await li.connect()
    refused = await li.call("consultation.handoff", {"consultation_id": cid})
    assert refused["error"]["code"] == "not_assigned"

    done = await wang.ok("consultation.handoff", {"consultation_id": cid, "note": "需查档"})
    assert done["consultation"]["state"] == "handed_off"
    assert "url" not in done["ticket"], "the reader's link is the reader's alone"
    ended = await reader.wait_for("consultation", lambda c: c["state"] == "handed_off")
    assert ended["ended_by"] == "consultant"
    notice = await reader.wait_for("message", lambda m: m["author_kind"] == "system")
    assert "表单咨询" in notice["body"] and "/tickets/" in notice["body"]
    assert notice["visibility"] == "reader"
    await wang.wait_for("backlog.changed", lambda e: e["ticket_id"] == done["ticket"]["id"])
    # The link holds the reader's token: it never reaches staff, live or from the store, and
    # the reader finds it again in their history.
    assert not [m for m in wang.messages(cid) if "/tickets/" in m["body"]]
    staff_side = await node.desk.store.messages_since(cid, 0, staff=True)
    assert staff_side and not [m for m in staff_side if "/tickets/" in m.body]
    history = await reader.ok("history", {"consultation_id": cid, "after_seq": 0})
    assert [m["seq"] for m in history["messages"] if "/tickets/" in m["body"]] == [notice["seq"]]
    # The chat is over for everyone: no more messages either way.
    again = await reader.call(
        "message.send", {"consultation_id": cid, "client_msg_id": "late", "body": "还在吗"}
    )
    assert again["error"]["code"] == "consultation_ended"


async def test_the_72_hour_rules_for_document_requests(node: Node, clock: ManualClock) -> None:
    reader, cid = await waiting_reader(node)
    left = await reader.ok("handoff", {"consultation_id": cid, "kind": "document"})
    tid = left["ticket"]["id"]
    wang = await Consultant.login(node.base, "wang")
    li = await Consultant.login(node.base, "li")

    async def claim(who: Consultant) -> tuple[int, Any]:
        return await http(node, "POST", f"/api/backlog/{tid}/claim", {}, who=who)

    # Two consultants at once: exactly one gets it.
    results = await asyncio.gather(claim(wang), claim(li))
    assert sorted(s for s, _ in results) == [200, 409]
    holder, other = (wang, li) if results[0][0] == 200 else (li, wang)
    status, got = await http(
        node,
        "POST",
        f"/api/backlog/{tid}/reply",
        {"answer": "x", "answer_kind": "found"},
        who=other,
    )
    assert status == 409 and got["error"]["code"] == "ticket_not_claimed"

    # Within 72 hours "not found" and same-topic material are refused: return it instead.
    for kind in ("not_found", "same_topic"):
        status, got = await http(
            node,
            "POST",
            f"/api/backlog/{tid}/reply",
            {"answer": "", "answer_kind": kind},
            who=holder,
        )
        assert status == 409 and got["error"]["code"] == "within_72_hours"
    status, got = await http(
        node,
        "POST",
        f"/api/backlog/{tid}/reply",
        {"answer": "x", "answer_kind": "answer"},
        who=holder,
    )
    assert status == 400 and got["error"]["code"] == "wrong_answer_kind"
    assert (await http(node, "POST", f"/api/backlog/{tid}/return", {"note": "本馆无"}, who=holder))[
        0
    ] == 200
    assert (await claim(other))[0] == 200

    # Past 72 hours, the sweep marks it once and tells the consoles.
    clock.advance(72 * HOURS + 1)
    other_socket = other
    await other_socket.connect()
    assert await sweep_overdue(node.desk) == 1
    assert await sweep_overdue(node.desk) == 0
    await other_socket.wait_for("backlog.changed", lambda e: e["what"] == "overdue")
    status, listed = await http(node, "GET", "/api/backlog?state=claimed&overdue=1", who=other)
    assert [t["id"] for t in listed["tickets"]] == [tid]

    # Now same-topic material may go out, and always carries the norms' wording.
    status, got = await http(
        node,
        "POST",
        f"/api/backlog/{tid}/reply",
        {"answer": "《图书馆联盟研究》，2001。", "answer_kind": "same_topic"},
        who=other,
    )
    assert status == 200
    assert got["answer"].startswith(SAME_TOPIC["zh-CN"]) and "2001" in got["answer"]
    status, detail = await http(node, "GET", f"/api/backlog/{tid}", who=other)
    actions = [e["action"] for e in detail["ticket"]["events"]]
    assert actions == ["claimed", "returned", "claimed", "overdue", "answered"]


async def test_not_found_after_72_hours_carries_the_wording(node: Node, clock: ManualClock) -> None:
    reader, cid = await waiting_reader(node)
    tid = (await reader.ok("handoff", {"consultation_id": cid, "kind": "document"}))["ticket"]["id"]
    wang = await Consultant.login(node.base, "wang")
    await http(node, "POST", f"/api/backlog/{tid}/claim", {}, who=wang)
    clock.advance(73 * HOURS)
    status, got = await http(
        node,
        "POST",
        f"/api/backlog/{tid}/reply",
        {"answer": "", "answer_kind": "not_found"},
        who=wang,
    )
    assert status == 200 and got["answer"] == NOT_FOUND["zh-CN"]


async def test_the_widgets_form_files_a_question_without_a_chat(node: Node) -> None:
    body = {"library": "demo-pl", "question": "<b>周末</b>开放吗？", "language": "zh-CN"}
    status, got = await http(node, "POST", "/api/tickets", body, origin="http://evil.example")
    assert status == 403
    status, got = await http(
        node, "POST", "/api/tickets", {**body, "email": "not-an-email"}, origin=EMBED_ORIGIN
    )
    assert status == 400
    status, got = await http(node, "POST", "/api/tickets", body, origin=EMBED_ORIGIN)
    assert status == 200
    status, page = await http(node, "GET", f"/tickets/{token_of(got['ticket']['url'])}")
    assert "&lt;b&gt;周末&lt;/b&gt;" in page and "<b>周末" not in page
    status, _ = await http(node, "GET", "/tickets/" + "x" * 43)
    assert status == 404


class Inbox:
    def __init__(self) -> None:
        self.mail: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mail = message_from_bytes(envelope.content, policy=policy.default)
        self.mail.append(mail)  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


@pytest.fixture
async def mailing_node(
    sqlite_url: str, clock: ManualClock, smtp: tuple[int, Inbox]
) -> AsyncIterator[Node]:
    await seed_demo(sqlite_url, "http://unused")
    n = await start_node(sqlite_url, clock=clock, smtp_host="127.0.0.1", smtp_port=smtp[0])
    try:
        yield n
    finally:
        await n.close()


async def test_the_answer_is_mailed_when_the_desk_sends_mail(
    mailing_node: Node, smtp: tuple[int, Inbox]
) -> None:
    reader, cid = await waiting_reader(mailing_node, "如何在联盟平台注册？")
    tid = (await reader.ok("handoff", {"consultation_id": cid, "email": "reader@example.org"}))[
        "ticket"
    ]["id"]
    wang = await Consultant.login(mailing_node.base, "wang")
    await http(mailing_node, "POST", f"/api/backlog/{tid}/claim", {}, who=wang)
    status, _ = await http(
        mailing_node,
        "POST",
        f"/api/backlog/{tid}/reply",
        {"answer": "请在联盟首页点击“注册”。", "answer_kind": "answer"},
        who=wang,
    )
    assert status == 200
    [mail] = smtp[1].mail
    assert mail["To"] == "reader@example.org" and str(tid) in mail["Subject"]
    assert "请在联盟首页点击“注册”。" in mail.get_content()


async def test_a_reader_who_leaves_before_anyone_came_keeps_the_question(
    node: Node, clock: ManualClock
) -> None:
    """Nobody online: the reader asks, waits, and goes. The question is not lost: it waits in
    the backlog, and the reader finds the ticket when they come back. A bare greeting is
    simply abandoned."""
    from sqlalchemy import select

    from desk.models import Ticket
    from desk.routing import sweeps

    asked, asked_id = await waiting_reader(node, "请问贵馆有没有《四库全书》的影印本可以借阅？")
    hello, hello_id = await waiting_reader(node, "你好")
    await asked.disconnect()
    await hello.disconnect()
    await node.until(lambda: _no_readers(node), "reader sockets closed")
    await node.advance(node.desk.settings.reader_grace_seconds + 1)
    assert await sweeps.sweep_readers(node.desk) == 2
    async with node.desk.reads() as s:
        tickets = (await s.scalars(select(Ticket))).all()
        states = dict((await s.execute(select(Consultation.id, Consultation.state))).all())
    assert [(t.consultation_id, t.kind, t.handed_off_by) for t in tickets] == [
        (asked_id, "form", "system")
    ]
    assert "四库全书" in tickets[0].question
    assert states == {asked_id: "handed_off", hello_id: "abandoned"}

    # Back on the page: the chat's history holds the number and the reader's own link.
    await asked.reconnect()
    history = await asked.ok("history", {"consultation_id": asked_id, "after_seq": 0})
    notice = [m for m in history["messages"] if "/tickets/" in m["body"]]
    assert len(notice) == 1 and f"编号 {tickets[0].id}" in notice[0]["body"]


async def _no_readers(node: Node) -> bool:
    return not node.desk.local_reader_consultations


async def test_reminders_before_and_after_72_hours(node: Node, clock: ManualClock) -> None:
    """The holder hears a day before the 72 hours end, at 72 hours, and daily after, each
    once; a second run of the same sweep sends nothing."""
    reader, cid = await waiting_reader(node)
    tid = (await reader.ok("handoff", {"consultation_id": cid, "kind": "document"}))["ticket"]["id"]
    wang = await Consultant.login(node.base, "wang")
    await wang.connect()
    await http(node, "POST", f"/api/backlog/{tid}/claim", {}, who=wang)

    def told(what: str) -> list[Any]:
        return [e for e in wang.events["backlog.changed"] if e["what"] == what]

    clock.advance(47 * HOURS)
    assert await sweep_overdue(node.desk) == 0
    clock.advance(1 * HOURS + 1)
    assert await sweep_overdue(node.desk) == 1
    assert await sweep_overdue(node.desk) == 0
    soon = await wang.wait_for("backlog.changed", lambda e: e["what"] == "due_soon")
    assert soon["ticket_id"] == tid and soon["consultant_id"] is not None

    clock.advance(24 * HOURS)
    assert await sweep_overdue(node.desk) == 1
    await wang.wait_for("backlog.changed", lambda e: e["what"] == "overdue")
    clock.advance(23 * HOURS)
    assert await sweep_overdue(node.desk) == 0
    clock.advance(1 * HOURS + 1)
    assert await sweep_overdue(node.desk) == 1
    await wang.wait_for("backlog.changed", lambda e: e["what"] == "reminder")
    assert (len(told("due_soon")), len(told("overdue")), len(told("reminder"))) == (1, 1, 1)

    # Answered: no more reminders.
    await http(
        node,
        "POST",
        f"/api/backlog/{tid}/reply",
        {"answer": "", "answer_kind": "not_found"},
        who=wang,
    )
    clock.advance(48 * HOURS)
    assert await sweep_overdue(node.desk) == 0
    status, detail = await http(node, "GET", f"/api/backlog/{tid}", who=wang)
    actions = [e["action"] for e in detail["ticket"]["events"]]
    assert actions == ["claimed", "due_soon", "overdue", "reminder", "answered"]


async def test_a_document_request_answered_with_the_file_and_a_link(
    mailing_node: Node, smtp: tuple[int, Inbox]
) -> None:
    """领取, then 已找到 with the PDF attached and a link: the answer and its documents are one
    commit, both counted in the delivery ledger; the reader downloads the file from their
    page and finds it attached to the mail; nobody without the link can fetch it."""
    import io
    import json as jsonlib

    from sqlalchemy import select

    from desk.models import LedgerEntry

    pdf = b"%PDF-1.5\n" + b"%" * 2000 + b"\n%%EOF\n"
    reader, cid = await waiting_reader(mailing_node, "我要《图书馆联盟研究》2001年那篇论文")
    left = await reader.ok(
        "handoff", {"consultation_id": cid, "kind": "document", "email": "reader@example.org"}
    )
    tid, url = left["ticket"]["id"], left["ticket"]["url"]
    wang = await Consultant.login(mailing_node.base, "wang")
    await http(mailing_node, "POST", f"/api/backlog/{tid}/claim", {}, who=wang)

    def reply_form(meta: dict[str, Any], *parts: tuple[str, bytes]) -> aiohttp.FormData:
        f = aiohttp.FormData(quote_fields=False)
        f.add_field("meta", jsonlib.dumps(meta), content_type="application/json")
        for name, data in parts:
            f.add_field("file", io.BytesIO(data), filename=name, content_type="application/pdf")
        return f

    async def post(data: aiohttp.FormData) -> tuple[int, Any]:
        async with (
            aiohttp.ClientSession() as s,
            s.post(
                f"{mailing_node.base}/api/backlog/{tid}/reply",
                data=data,
                headers={"Origin": mailing_node.base, "Cookie": f"desk_session={wang.cookie}"},
            ) as resp,
        ):
            return resp.status, await resp.json()

    meta = {
        "answer": "找到您需要的文献原文。希望对您研究和学习有所帮助。谢谢！",
        "answer_kind": "found",
        "files": [{"title": "图书馆联盟研究", "year": 2001, "doc_type": "journal_article"}],
        "links": [{"url": "https://doi.org/10.1000/abc", "title": "同一论文的出版社页面"}],
    }
    # A refused file refuses the whole answer: nothing answered, nothing counted.
    status, got = await post(reply_form(meta, ("论文.pdf", b"<html>not a pdf</html>")))
    assert status == 400 and got["error"]["code"] == "file_content_mismatch"
    status, got = await post(reply_form({**meta, "files": []}, ("论文.pdf", pdf)))
    assert status == 400 and got["error"]["code"] == "invalid_payload"
    async with mailing_node.desk.reads() as s:
        assert (await s.scalars(select(LedgerEntry))).all() == []

    status, got = await post(reply_form(meta, ("论文.pdf", pdf)))
    assert status == 200 and got["documents"] == 2
    async with mailing_node.desk.reads() as s:
        rows = (await s.scalars(select(LedgerEntry).order_by(LedgerEntry.id))).all()
    assert [(r.ticket_id, r.kind, r.title, r.consultation_id) for r in rows] == [
        (tid, "file", "图书馆联盟研究", None),
        (tid, "link", "同一论文的出版社页面", None),
    ]
    assert rows[0].size == len(pdf) and rows[0].year == 2001

    # The reader's page lists both and serves the file; a made-up id or another link, no.
    status, page = await http(
        mailing_node, "GET", f"/api/tickets/{token_of(url)}", origin=EMBED_ORIGIN
    )
    docs = page["ticket"]["documents"]
    assert [d["kind"] for d in docs] == ["file", "link"] and docs[0]["name"] == "论文.pdf"
    async with aiohttp.ClientSession() as s, s.get(mailing_node.base + docs[0]["download"]) as resp:
        assert resp.status == 200 and await resp.read() == pdf
        assert resp.headers["Content-Disposition"].startswith("attachment;")
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
    status, html = await http(mailing_node, "GET", f"/tickets/{token_of(url)}")
    assert (
        "提供的文献" in html
        and docs[0]["download"] in html
        and "https://doi.org/10.1000/abc" in html
    )
    status, _ = await http(mailing_node, "GET", f"/tickets/{'x' * 43}/files/{docs[0]['id']}")
    assert status == 404
    # The mail carries the answer, the list, and the file.
    [mail] = smtp[1].mail
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert "图书馆联盟研究" in body and "https://doi.org/10.1000/abc" in body
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == "论文.pdf" and attachment.get_content() == pdf
    # Staff see the documents on the ticket.
    status, detail = await http(mailing_node, "GET", f"/api/backlog/{tid}", who=wang)
    assert [d["title"] for d in detail["ticket"]["documents"]] == [
        "图书馆联盟研究",
        "同一论文的出版社页面",
    ]
