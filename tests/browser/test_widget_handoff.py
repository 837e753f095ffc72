"""The reader widget's form service (留言 / 表单咨询) and the review fixes: stale ids in `resume`,
the outbox shared by tabs, clearing the device, links and message times.

A real browser on a library website of another origin, against a real desk node; the
consultant side is the harness's clients (Socket.IO and the backlog's HTTP API).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from playwright.async_api import Page, expect

from desk.app import SIO_KEY
from desk.sockets.reader import reader_room
from tests.browser.conftest import HostSite
from tests.browser.test_widget import (
    QUESTION,
    RECONNECT_MS,
    bots,
    bubble,
    chat_with_wang,
    composer,
    consultant,
    log,
    open_widget,
    other_reader_asks,
    panel,
    reader_of,
    reader_sids,
    send,
    site,
    stored_bodies,
    tell_waiting,
    widget_consultation,
)
from tests.harness import Consultant, Node

pytestmark = pytest.mark.browser

STORED = (
    "() => Object.fromEntries(Object.keys(localStorage)"
    ".filter(k => k.startsWith('deskwidget:')).map(k => [k, localStorage.getItem(k)]))"
)


async def staff_http(desk: Node, who: Consultant, method: str, path: str, body: Any = None) -> Any:
    """The backlog's HTTP API as the console uses it: session cookie and the desk's Origin."""
    headers = {"Origin": desk.base, "Cookie": f"desk_session={who.cookie}"}
    async with (
        aiohttp.ClientSession() as s,
        s.request(method, desk.base + path, json=body, headers=headers) as resp,
    ):
        got = await resp.json()
        assert resp.status == 200, got
        return got


def form(page: Page) -> Any:
    return panel(page).locator("form.leave")


async def left_ticket(page: Page) -> tuple[int, str]:
    """The number and link the form shows once the question is left."""
    done = form(page).locator(".done")
    await expect(done).to_be_visible()
    await expect(done).to_contain_text(re.compile(r"留言已提交，编号 \d+。"))
    number = int(re.search(r"编号 (\d+)", await done.inner_text()).group(1))  # type: ignore[union-attr]
    view = done.get_by_role("link", name="查看答复")
    await expect(view).to_have_attribute("target", "_blank")
    await expect(view).to_have_attribute("rel", "noopener noreferrer")
    url = await view.get_attribute("href")
    assert url
    return number, url


async def test_reader_leaves_a_waiting_chat_and_reads_the_answer(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    await bots(live_desk)
    page = await new_page(await site(host_site, live_desk))
    await open_widget(page)
    await send(page, QUESTION)
    await send(page, "需要近五年的，计算机专业")
    await expect(bubble(page, "需要近五年的，计算机专业").locator(".st")).to_be_hidden()
    cid = await widget_consultation(page)

    # A short wait with people online offers nothing; a long one, or nobody online, does.
    offer = panel(page).get_by_role("button", name="改为留言")
    reader_id = await reader_of(live_desk, cid)
    for minutes, shown in ((3, False), (12, True)):
        await live_desk.app[SIO_KEY].emit(
            "queue.position",
            {
                "consultation_id": cid,
                "position": 2,
                "ahead": 1,
                "minutes": minutes,
                "consultants_online": True,
                "offer_form": shown,  # the desk's word (the library's long-wait threshold)
            },
            room=reader_room(reader_id),
            namespace="/reader",
        )
        await expect(panel(page).locator(".queue")).to_contain_text(f"约 {minutes} 分钟")
        if shown:
            await expect(offer).to_be_visible()
        else:
            await expect(offer).to_be_hidden()
    await tell_waiting(live_desk)  # nobody is online
    await expect(panel(page).locator(".queue")).to_have_text("暂无咨询员在线，您可以继续等待或留言")
    await expect(offer).to_be_visible()

    # The form: the question so far, editable; two kinds; an optional email; the phone.
    await composer(page).fill("还没发出的补充")
    await offer.click()
    question = form(page).get_by_label("您的问题")
    await expect(question).to_be_focused()
    await expect(question).to_have_value(f"{QUESTION}\n需要近五年的，计算机专业\n还没发出的补充")
    await expect(log(page)).to_be_hidden()
    await expect(form(page).get_by_text("或致电 010-5555-0101")).to_be_visible()
    await expect(form(page).get_by_text("仅用于把答复发送给您。")).to_be_visible()
    await question.fill(await question.input_value() + "（最好是全文）")
    await form(page).get_by_role("radio", name=re.compile("^文献需求")).check()

    # A wrong email is refused in the page; nothing typed is lost.
    email = form(page).get_by_label("电子邮箱（选填）")
    await email.fill("reader-at-example")
    await form(page).get_by_role("button", name="提交留言").click()
    await expect(panel(page).get_by_role("alert")).to_have_text(
        "邮箱地址格式不正确，请检查，或留空。"
    )
    await expect(email).to_be_focused()
    await expect(question).to_have_value(re.compile("（最好是全文）$"))
    await email.fill("reader@example.org")
    await form(page).get_by_role("button", name="提交留言").click()
    number, url = await left_ticket(page)
    assert url.startswith(f"{live_desk.base}/tickets/")
    await expect(panel(page).locator(".alert")).to_be_empty()

    # Back in the chat: it ended as handed off; the desk's notice links to the ticket.
    await form(page).get_by_role("button", name="返回").click()
    await expect(panel(page).get_by_text("本次咨询已转为留言（表单咨询）。")).to_be_visible()
    notice = log(page).locator(".msg.m-system").filter(has_text=f"编号 {number}")
    await expect(notice.get_by_role("link")).to_have_attribute("href", url)
    await expect(notice.get_by_role("link")).to_have_attribute("rel", "noopener noreferrer")
    await expect(composer(page)).to_have_value("")  # it went into the question
    mine = panel(page).locator(".tickets")
    await expect(mine.get_by_role("link", name="查看答复")).to_have_attribute("href", url)
    await expect(mine).to_contain_text(f"编号 {number}")

    # The consultant's pool has it, as asked.
    wang = await Consultant.login(live_desk.base, "wang")
    detail = (await staff_http(live_desk, wang, "GET", f"/api/backlog/{number}"))["ticket"]
    assert detail["kind"] == "document" and detail["has_contact"] is True
    assert detail["question"].endswith("还没发出的补充（最好是全文）")
    assert detail["state"] == "open"

    # The reader's link page shows the question, then the answer.
    ticket_page = await new_page(url)
    await expect(ticket_page.get_by_text("还没发出的补充（最好是全文）")).to_be_visible()
    await expect(ticket_page.get_by_text("咨询员正在处理您的问题")).to_be_visible()
    await staff_http(live_desk, wang, "POST", f"/api/backlog/{number}/claim", {})
    await staff_http(
        live_desk,
        wang,
        "POST",
        f"/api/backlog/{number}/reply",
        {
            "answer": "已找到，可通过本馆学位论文库检索，全文见 https://lib.example.org/theses",
            "answer_kind": "found",
        },  # a document request is answered as found (or not)
    )
    await ticket_page.reload()
    await expect(ticket_page.get_by_text("可通过本馆学位论文库检索")).to_be_visible()
    await expect(ticket_page.get_by_text("已答复")).to_be_visible()

    # The ended chat was seen, so it is not kept; the ticket link is. (Nobody is online, so
    # the start view offers the form first.)
    await page.reload()
    await expect(panel(page)).to_be_visible()
    await expect(panel(page).locator(".avail")).to_contain_text("现在暂无咨询员在线")
    await expect(log(page).locator(".msg")).to_have_count(0)
    await expect(
        panel(page).locator(".tickets").get_by_role("link", name="查看答复")
    ).to_have_attribute("href", url)


async def test_leaving_a_question_without_a_chat(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    page = await new_page(await site(host_site, live_desk))
    await open_widget(page)
    await panel(page).get_by_role("button", name="留言咨询").click()
    question = form(page).get_by_label("您的问题")
    await expect(question).to_have_value("")
    await expect(form(page).get_by_text("提交后，本次在线咨询将结束")).to_be_hidden()
    await form(page).get_by_role("button", name="提交留言").click()
    await expect(panel(page).get_by_role("alert")).to_have_text("请先写下您的问题。")

    # The desk cannot be reached: said in plain words, the question kept.
    await question.fill("想借阅馆藏古籍的影印本，需要什么手续？")
    await page.route("**/api/tickets", lambda route: route.abort())
    await form(page).get_by_role("button", name="提交留言").click()
    await expect(panel(page).get_by_role("alert")).to_contain_text("暂时连不上咨询台")
    await expect(question).to_have_value("想借阅馆藏古籍的影印本，需要什么手续？")
    await page.unroute("**/api/tickets")

    await form(page).get_by_role("button", name="提交留言").click()
    number, url = await left_ticket(page)
    # No chat was opened for it; the ticket is remembered on this device.
    stored = await page.evaluate(STORED)
    assert all(json.loads(v).get("cid") is None for k, v in stored.items() if ":lib:" in k)
    assert url in next(v for k, v in stored.items() if ":tickets:demo-pl" in k)

    wang = await Consultant.login(live_desk.base, "wang")
    detail = (await staff_http(live_desk, wang, "GET", f"/api/backlog/{number}"))["ticket"]
    assert detail["kind"] == "form" and detail["library"] == "demo-pl"
    assert detail["language"] == "zh-CN" and detail["handed_off_by"] == "form"
    assert detail["question"] == "想借阅馆藏古籍的影印本，需要什么手续？"
    assert detail["has_contact"] is False

    await form(page).get_by_role("button", name="返回").click()
    await expect(composer(page)).to_be_focused()
    await expect(panel(page).locator(".tickets")).to_contain_text(f"编号 {number}")


async def test_resume_with_a_stale_consultation_id_still_connects_and_sends(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    # The stored chat is another reader's (as after a token change), the token is valid, and
    # an unsent message of that chat waits in the outbox.
    _other, other_cid = await other_reader_asks(live_desk, host_site, "另一位读者的问题")
    async with (
        aiohttp.ClientSession() as s,
        s.post(
            f"{live_desk.base}/api/readers/visitor",
            json={"library": "demo-pl"},
            headers={"Origin": host_site.origin},
        ) as resp,
    ):
        token = (await resp.json())["token"]
    prefix = f"deskwidget:{live_desk.base}:"
    seed = {
        prefix + "token": token,
        prefix + "lib:demo-pl": json.dumps({"cid": other_cid, "lastSeq": 0, "version": 1}),
        prefix + "out:demo-pl": json.dumps(
            [{"cmid": "kept-offline-1", "body": "离线时存下的问题", "cid": other_cid}]
        ),
    }
    page = await new_page()
    await page.add_init_script(
        f"for (const [k, v] of Object.entries({json.dumps(seed)})) localStorage.setItem(k, v)"
    )
    wang = await consultant(live_desk)
    await page.goto(await site(host_site, live_desk))

    # It connects on its own (a token and a chat), forgets the stale chat, and sends.
    offer = await wang.wait_for("offer", lambda o: o["consultation"]["id"] != other_cid)
    assert offer["consultation"]["subject"] == "离线时存下的问题"
    cid = int(offer["consultation"]["id"])
    await wang.ok("offer.accept", {"consultation_id": cid})
    await open_widget(page)
    await expect(bubble(page, "离线时存下的问题")).to_have_count(1)
    await expect(bubble(page, "另一位读者的问题")).to_have_count(0)
    await send(page, "还有一个问题")
    await wang.wait_for("message", lambda m: m["body"] == "还有一个问题")
    assert await widget_consultation(page) == cid


async def test_links_and_times_in_messages(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    page, wang, cid = await chat_with_wang(
        live_desk, host_site, new_page, timezone_id="Asia/Shanghai"
    )
    body = (
        "指南见 https://lib.example.org/guide?a=1&b=2。"
        "不要点 javascript:alert(1) 或 <a href=x onclick=alert(1)>这个</a>"
    )
    said = await wang.say(cid, body)
    reply = bubble(page, "指南见")
    await expect(reply.locator(".body")).to_have_text(body)  # every character, as text
    links = reply.locator(".body a")
    await expect(links).to_have_count(1)
    await expect(links).to_have_text("https://lib.example.org/guide?a=1&b=2")
    await expect(links).to_have_attribute("href", "https://lib.example.org/guide?a=1&b=2")
    await expect(links).to_have_attribute("target", "_blank")
    await expect(links).to_have_attribute("rel", "noopener noreferrer")
    assert await log(page).locator("[onclick], a[href^='javascript'], a[href='x']").count() == 0

    # The time under it, HH:MM in the reader's local time.
    local = datetime.fromisoformat(said["created_at"]).astimezone(ZoneInfo("Asia/Shanghai"))
    await expect(reply.locator("time.tm")).to_have_text(local.strftime("%H:%M"))

    # The reader's own message too; trailing punctuation is not part of the link.
    await send(page, "是这个吗 http://example.org/x.")
    mine = bubble(page, "是这个吗")
    await expect(mine.locator(".body a")).to_have_attribute("href", "http://example.org/x")
    await expect(mine.locator(".body")).to_have_text("是这个吗 http://example.org/x.")
    await expect(mine.locator("time.tm")).to_have_text(re.compile(r"^\d\d:\d\d$"))


async def test_two_tabs_with_offline_messages_send_each_once(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    page, wang, cid = await chat_with_wang(live_desk, host_site, new_page)
    context = page.context
    other = await context.new_page()
    errors: list[str] = []
    other.on("pageerror", lambda exc: errors.append(str(exc)))
    await other.goto(page.url)
    await expect(bubble(other, QUESTION)).to_have_count(1)  # the same chat in the second tab
    await live_desk.until(lambda: _sockets(live_desk, 2), "both tabs are connected")

    await context.set_offline(True)
    await context.route("**/socket.io/**", _abort)
    sio = live_desk.app[SIO_KEY]
    for sid in reader_sids(live_desk):
        await sio.eio.disconnect(sio.manager.eio_sid_from_sid(sid, "/reader"))
    await live_desk.until(lambda: _sockets(live_desk, 0), "the readers' sockets are gone")

    await send(page, "第一个标签页离线写的")
    await send(other, "第二个标签页离线写的")
    # Neither tab overwrote the other's: both wait in the shared outbox, and both tabs show both.
    stored = await page.evaluate(STORED)
    outbox = json.loads(next(v for k, v in stored.items() if k.endswith(":out:demo-pl")))
    assert [o["body"] for o in outbox] == ["第一个标签页离线写的", "第二个标签页离线写的"]
    for tab in (page, other):
        for body in ("第一个标签页离线写的", "第二个标签页离线写的"):
            await expect(bubble(tab, body).locator(".st")).to_have_text("尚未发送")

    await context.unroute("**/socket.io/**")
    await context.set_offline(False)
    for body in ("第一个标签页离线写的", "第二个标签页离线写的"):
        await wang.wait_for(
            "message", lambda m, b=body: m["body"] == b, timeout=RECONNECT_MS / 1000
        )
        for tab in (page, other):
            await expect(bubble(tab, body).locator(".st")).to_be_hidden(timeout=RECONNECT_MS)
            await expect(bubble(tab, body)).to_have_count(1)
    bodies = await stored_bodies(wang, cid)
    assert bodies.count("第一个标签页离线写的") == 1 and bodies.count("第二个标签页离线写的") == 1
    assert not any(":out:" in k for k in await page.evaluate(STORED))
    assert not errors


async def _abort(route: Any) -> None:
    await route.abort()


async def _sockets(desk: Node, n: int) -> bool:
    return len(reader_sids(desk)) == n


async def test_clearing_the_conversation_leaves_nothing_on_the_device(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    page, wang, cid = await chat_with_wang(live_desk, host_site, new_page)
    await wang.say(cid, "请问还有其他问题吗？")
    await expect(bubble(page, "请问还有其他问题吗？")).to_be_visible()
    assert await page.evaluate(STORED)

    await panel(page).get_by_role("button", name="清除本机记录").click()
    await expect(
        panel(page).get_by_text("清除本机上的咨询记录？进行中的咨询将会结束。")
    ).to_be_visible()
    await panel(page).get_by_role("button", name="清除", exact=True).click()
    await expect(panel(page).get_by_role("alert")).to_have_text("已清除本机记录。")
    await expect(log(page).locator(".msg")).to_have_count(0)
    await expect(panel(page).locator(".intro")).to_be_visible()
    ended = await wang.wait_for("consultation", lambda c: c["id"] == cid)
    assert ended["state"] == "closed" and ended["ended_by"] == "reader"
    assert await page.evaluate(STORED) == {}

    # The next person finds nothing either: they start as a new visitor.
    await page.reload()
    await open_widget(page)
    await expect(log(page).locator(".msg")).to_have_count(0)
    await expect(panel(page).locator(".intro")).to_be_visible()
    await send(page, "新读者的问题")
    offer = await wang.wait_for("offer", lambda o: o["consultation"]["id"] != cid)
    assert offer["consultation"]["subject"] == "新读者的问题"
    assert await reader_of(live_desk, int(offer["consultation"]["id"])) != await reader_of(
        live_desk, cid
    )


async def test_an_ended_chat_is_not_kept_once_seen(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    page, wang, cid = await chat_with_wang(live_desk, host_site, new_page)
    await wang.ok("consultation.close", {"consultation_id": cid})
    await expect(panel(page).get_by_text("咨询员已结束本次咨询。")).to_be_visible()
    await expect(bubble(page, QUESTION)).to_be_visible()  # still shown until the page goes
    stored = await page.evaluate(STORED)
    lib = json.loads(next(v for k, v in stored.items() if k.endswith(":lib:demo-pl")))
    assert lib["cid"] is None
    await page.reload()
    await expect(panel(page)).to_be_visible()
    await expect(log(page).locator(".msg")).to_have_count(0)
