"""The consultant console in a real browser against a real desk node.

Readers are the harness's Python clients (from the host site's origin, which the browser
fixture's libraries allow); consultants use the console at ``/console/``. Assertions are on
what the consultant sees.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Locator, Page, expect
from sqlalchemy import text as sql
from sqlalchemy import update

from desk.app import SIO_KEY
from desk.backlog.actions import sweep_overdue
from desk.demo import DEMO_PASSWORD
from desk.models import Ticket
from tests.browser.conftest import HostSite, lose_relay
from tests.harness import Node, Reader

pytestmark = pytest.mark.browser

#: Generous for a slow machine; every wait is on something the page shows.
SEEN_MS = 15_000


async def open_console(new_page: Any, node: Node) -> Page:
    page: Page = await new_page(f"{node.base}/console/")
    await expect(page.get_by_role("button", name="登录", exact=True)).to_be_visible(timeout=SEEN_MS)
    return page


async def sign_in(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill(password)
    await page.get_by_role("button", name="登录", exact=True).click()


async def signed_in(new_page: Any, node: Node, username: str) -> Page:
    page = await open_console(new_page, node)
    await sign_in(page, username)
    await expect(page.get_by_text("已连接", exact=True)).to_be_visible(timeout=SEEN_MS)
    return page


async def go_online(page: Page) -> None:
    await page.get_by_role("radio", name="在线").click()
    await expect(page.get_by_role("radio", name="在线")).to_have_attribute("aria-checked", "true")


async def reader_asks(
    node: Node, site: HostSite, question: str, library: str = "demo-pl", language: str = "zh-CN"
) -> tuple[Reader, int]:
    r = await Reader.register(node.base, library, origin=site.origin)
    await r.connect(origin=site.origin)
    opened = await r.open(question, language=language)
    return r, int(opened["consultation"]["id"])


async def drop_console_sockets(node: Node) -> None:
    """Hang up every console socket from the desk's side (a dropped connection)."""
    sio = node.app[SIO_KEY]
    ns = sio.namespace_handlers["/console"]
    for sid in list(ns.sessions):
        await sio.disconnect(sid, namespace="/console")


def tab(page: Page, cid: int) -> Locator:
    return page.locator(f'[role="tab"][data-consultation="{cid}"]')


def log(page: Page) -> Locator:
    return page.get_by_role("log")


def composer(page: Page) -> Locator:
    return page.locator("textarea.composer-input")


async def accept_offer(page: Page, question: str) -> None:
    offer = page.locator(".offer", has_text=question)
    await expect(offer).to_be_visible(timeout=SEEN_MS)
    await offer.get_by_role("button", name="接受").click()
    await expect(offer).to_have_count(0)


async def send(page: Page, text: str) -> None:
    await composer(page).fill(text)
    await composer(page).press("Enter")
    await expect(log(page).locator(".msg:not(.pending)", has_text=text)).to_be_visible(
        timeout=SEEN_MS
    )


async def test_wrong_password_then_sign_in_and_out(live_desk: Node, new_page: Any) -> None:
    page = await open_console(new_page, live_desk)
    await sign_in(page, "wang", "not-the-password")
    await expect(page.get_by_role("alert")).to_have_text("用户名或密码错误，请重试。")

    await sign_in(page, "wang")
    await expect(page.get_by_text("王老师")).to_be_visible()
    await expect(page.get_by_text("已连接", exact=True)).to_be_visible(timeout=SEEN_MS)
    # A first sign-in sends no status: the desk's default (online) applies, and the console
    # says so rather than going online silently, with a way to go away at once.
    await expect(page.get_by_role("radio", name="在线")).to_have_attribute("aria-checked", "true")
    notice = page.get_by_role("status").filter(has_text="咨询台默认")
    await expect(notice).to_be_visible()
    await notice.get_by_role("button", name="改为离开").click()
    await expect(page.get_by_role("radio", name="离开")).to_have_attribute("aria-checked", "true")
    await expect(notice).to_have_count(0)
    await go_online(page)
    await expect(page.get_by_test_id("load")).to_have_text("接待 0/4")

    # The session survives a reload (GET /api/me decides), and English is one click away.
    await page.reload()
    await expect(page.get_by_role("radio", name="在线")).to_have_attribute(
        "aria-checked", "true", timeout=SEEN_MS
    )
    await page.get_by_role("button", name="English").click()
    await expect(page.get_by_role("radio", name="Online")).to_be_visible()
    await page.get_by_role("button", name="中文").click()

    await page.get_by_role("button", name="退出登录").click()
    await expect(page.get_by_role("button", name="登录", exact=True)).to_be_visible()
    await page.reload()
    await expect(page.get_by_role("button", name="登录", exact=True)).to_be_visible(timeout=SEEN_MS)


async def test_offers_chats_unread_phrases_and_private_notes(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    page = await signed_in(new_page, live_desk, "wang")
    await go_online(page)

    # A reader's question arrives as an offer with its preview; accepting opens a tab.
    q1 = "请问如何查找学位论文？"
    r1, c1 = await reader_asks(live_desk, host_site, q1)
    await accept_offer(page, q1)
    await expect(tab(page, c1)).to_have_attribute("aria-selected", "true")
    await expect(tab(page, c1)).to_contain_text("示例市公共图书馆")
    # Languages by name, not by code.
    await expect(tab(page, c1)).to_contain_text("中文")
    await expect(tab(page, c1)).not_to_contain_text("zh-CN")
    await expect(log(page)).to_contain_text(q1)
    await expect(page.get_by_test_id("load")).to_have_text("接待 1/4")
    await r1.wait_for("consultation", lambda c: c["state"] == "assigned")

    # Messages both ways.
    await send(page, "您好，我来帮您查找。")
    await r1.wait_for("message", lambda m: m["body"] == "您好，我来帮您查找。")
    await r1.say(c1, "谢谢老师")
    await expect(log(page)).to_contain_text("谢谢老师", timeout=SEEN_MS)

    # Typing and read marks, both ways.
    await r1.ok("typing", {"consultation_id": c1, "typing": True})
    await expect(page.get_by_text("读者正在输入…")).to_be_visible(timeout=SEEN_MS)
    await r1.ok("typing", {"consultation_id": c1, "typing": False})
    await expect(page.get_by_text("读者正在输入…")).to_have_count(0)
    await composer(page).press_sequentially("正在查")
    await r1.wait_for("typing", lambda p: p["consultation_id"] == c1 and p["typing"] is True)
    await composer(page).fill("")
    await r1.wait_for("read", lambda p: p["side"] == "staff" and p["seq"] >= 3)
    await r1.ok("read", {"consultation_id": c1, "seq": 3})
    await expect(log(page).locator(".msg.mine .read-mark")).to_have_text("已读")

    # A second chat; a message in the first one meanwhile shows as unread on its tab.
    q2 = "图书馆周末开放吗？"
    r2, c2 = await reader_asks(live_desk, host_site, q2)
    await accept_offer(page, q2)
    await expect(tab(page, c2)).to_have_attribute("aria-selected", "true")
    await r1.say(c1, "还有一个问题")
    await expect(tab(page, c1).locator(".unread")).to_have_text("1", timeout=SEEN_MS)
    await r1.say(c1, "是关于馆际互借的")
    await expect(tab(page, c1).locator(".unread")).to_have_text("2", timeout=SEEN_MS)
    await expect(tab(page, c2).locator(".unread")).to_have_count(0)
    await tab(page, c1).click()
    await expect(tab(page, c1).locator(".unread")).to_have_count(0)
    await expect(log(page)).to_contain_text("是关于馆际互借的")
    # Alt+Down switches to the next chat.
    await composer(page).press("Alt+ArrowDown")
    await expect(tab(page, c2)).to_have_attribute("aria-selected", "true")
    await expect(log(page)).to_contain_text(q2)

    # Quick phrase: "/" opens the picker, Enter inserts; {minutes} asks for the number.
    await composer(page).press_sequentially("/bus")
    picker = page.get_by_role("listbox", name="快捷用语")
    await expect(picker.get_by_role("option").first).to_contain_text("正忙，请稍候")
    await composer(page).press("Enter")
    minutes = page.get_by_role("spinbutton", name="请读者等候几分钟？")
    await expect(minutes).to_have_value("5")
    await minutes.fill("10")
    await minutes.press("Enter")
    await expect(composer(page)).to_have_value(
        "您好，咨询员正在为其他读者解答，请您稍候约10分钟，我们会尽快回复您。"
    )
    await expect(composer(page)).to_be_focused()
    await composer(page).press("Enter")
    await r2.wait_for("message", lambda m: "约10分钟" in m["body"])

    # Alt+N switches to a private staff note: shown as such, never sent to the reader.
    await composer(page).press("Alt+n")
    await expect(page.get_by_role("checkbox", name="内部备注（读者看不到）")).to_be_checked()
    await composer(page).fill("读者可能是本校研究生，注意核实身份")
    await composer(page).press("Enter")
    note = log(page).locator(".msg.note", has_text="注意核实身份")
    await expect(note).to_be_visible(timeout=SEEN_MS)
    await expect(note).to_contain_text("内部备注")
    await composer(page).press("Alt+n")
    await send(page, "周末正常开放，9:00–17:00。")
    await r2.wait_for("message", lambda m: m["body"].startswith("周末正常开放"))
    assert all("核实身份" not in m["body"] for m in r2.messages(c2))

    # Message bodies are text, never markup.
    await r2.say(c2, "<b>粗体</b><img src=x onerror=alert(1)>")
    await expect(log(page)).to_contain_text("<b>粗体</b><img src=x onerror=alert(1)>")
    await expect(log(page).locator("b, img")).to_have_count(0)


async def test_reload_restores_every_chat_and_the_outbox(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    page = await signed_in(new_page, live_desk, "wang")
    await go_online(page)
    q1, q2 = "想借《红楼梦》脂评本", "电子资源校外怎么访问？"
    r1, c1 = await reader_asks(live_desk, host_site, q1)
    await accept_offer(page, q1)
    r2, c2 = await reader_asks(live_desk, host_site, q2)
    await accept_offer(page, q2)
    await tab(page, c1).click()
    await send(page, "馆藏有影印本，在古籍部。")
    await r1.say(c1, "需要预约吗？")
    await expect(log(page)).to_contain_text("需要预约吗？", timeout=SEEN_MS)
    await tab(page, c2).click()
    await send(page, "请用读者证登录校外访问系统。")

    # More than one page (500) of messages: the reload must page on with `history`.
    for start in range(1, 521, 40):
        await asyncio.gather(*(r1.say(c1, f"第{n}条") for n in range(start, min(start + 40, 521))))

    await page.reload()
    await expect(page.get_by_text("已连接", exact=True)).to_be_visible(timeout=SEEN_MS)
    await expect(page.get_by_role("radio", name="在线")).to_have_attribute("aria-checked", "true")
    await expect(page.get_by_role("tab")).to_have_count(2)
    await tab(page, c1).click()
    for text in (q1, "馆藏有影印本，在古籍部。", "需要预约吗？", "第1条", "第520条"):
        await expect(log(page)).to_contain_text(text)
    await expect(log(page).locator(".msg", has_text=re.compile(r"第\d+条"))).to_have_count(520)
    await tab(page, c2).click()
    for text in (q2, "请用读者证登录校外访问系统。"):
        await expect(log(page)).to_contain_text(text)

    # A dropped network: the reply waits in the outbox, shown as such, and goes out after
    # the console reconnects and resumes, exactly once.
    await page.context.set_offline(True)
    await drop_console_sockets(live_desk)
    await expect(
        page.get_by_role("status").filter(has_text=re.compile("连接已中断|网络已断开"))
    ).to_be_visible(timeout=SEEN_MS)
    await composer(page).fill("网络恢复后再发")
    await composer(page).press("Enter")
    await expect(log(page).locator(".msg.pending", has_text="网络恢复后再发")).to_be_visible()
    await page.context.set_offline(False)
    await expect(page.get_by_text("已连接", exact=True)).to_be_visible(timeout=30_000)
    await expect(log(page).locator(".msg:not(.pending)", has_text="网络恢复后再发")).to_be_visible(
        timeout=SEEN_MS
    )
    await r2.wait_for("message", lambda m: m["body"] == "网络恢复后再发")
    assert [m["body"] for m in r2.messages(c2)].count("网络恢复后再发") == 1


async def test_phrase_manager_adds_a_personal_phrase(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    page = await signed_in(new_page, live_desk, "li")
    await go_online(page)
    await page.get_by_role("button", name="管理快捷用语").click()
    dialog = page.get_by_role("dialog", name="管理快捷用语")
    # A consultant sees the library's phrases but may not edit them.
    await expect(dialog.get_by_text("/busy").first).to_be_visible()
    await expect(dialog.get_by_role("button", name="编辑")).to_have_count(0)
    await dialog.get_by_role("button", name="新增").click()
    await dialog.get_by_label("快捷键").fill("thx")
    await dialog.get_by_label("标题").fill("致谢")
    await dialog.get_by_label("内容").fill("感谢您耐心等待！")
    await dialog.get_by_role("button", name="保存").click()
    await expect(dialog.locator(".phrase-list li", has_text="/thx")).to_be_visible()
    await dialog.get_by_role("button", name="关闭").last.click()
    await expect(dialog).to_have_count(0)

    q = "古籍可以复印吗？"
    r, cid = await reader_asks(live_desk, host_site, q)
    await accept_offer(page, q)
    await composer(page).press_sequentially("/thx")
    await composer(page).press("Enter")
    await expect(composer(page)).to_have_value("感谢您耐心等待！")
    await composer(page).press("Enter")
    await r.wait_for("message", lambda m: m["body"] == "感谢您耐心等待！")


async def test_transfer_to_a_colleague_then_close(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    wang = await signed_in(new_page, live_desk, "wang")
    await go_online(wang)
    q = "请帮我查一下这本书在哪个分馆"
    r, cid = await reader_asks(live_desk, host_site, q)
    await accept_offer(wang, q)
    await send(wang, "请稍等，我请同事帮您。")

    li = await signed_in(new_page, live_desk, "li")
    await go_online(li)

    await wang.get_by_role("button", name="转接").click()
    dialog = wang.get_by_role("dialog")
    await dialog.get_by_label("李老师").check()
    await dialog.get_by_label("给接手同事的备注（读者看不到）").fill("读者要找分馆馆藏")
    await dialog.get_by_role("button", name="转接").click()
    await expect(dialog).to_have_count(0)
    await expect(tab(wang, cid)).to_have_count(0)
    await expect(wang.get_by_text(f"对话 #{cid} 已转接。")).to_be_visible()

    # The colleague gets the chat with its whole history and the note, marked private.
    await expect(tab(li, cid)).to_be_visible(timeout=SEEN_MS)
    await tab(li, cid).click()
    await expect(log(li)).to_contain_text(q)
    await expect(log(li)).to_contain_text("请稍等，我请同事帮您。")
    await expect(log(li).locator(".msg.note", has_text="读者要找分馆馆藏")).to_be_visible()
    await r.wait_for("consultation", lambda c: (c.get("consultant") or {}).get("name") == "李老师")
    assert all("分馆馆藏" not in m["body"] for m in r.messages(cid))

    await send(li, "在东城分馆三楼。")
    await r.wait_for("message", lambda m: m["body"] == "在东城分馆三楼。")
    await li.get_by_role("button", name="结束对话").click()
    await li.get_by_role("button", name="确认结束").click()
    await expect(li.get_by_text("对话已结束，不能再发送消息。")).to_be_visible(timeout=SEEN_MS)
    await r.wait_for("consultation", lambda c: c["state"] == "closed")
    await li.get_by_role("button", name="关闭标签").click()
    await expect(tab(li, cid)).to_have_count(0)

    await li.get_by_role("button", name="退出登录").click()
    await expect(li.get_by_role("button", name="登录", exact=True)).to_be_visible()


async def zhao_online_for_direct_chats(node: Node, new_page: Any) -> Page:
    """demo-ul assigns chats directly; zhao, of demo-ul, is signed in and online."""
    async with node.desk.sessions.begin() as s:
        await s.execute(sql("UPDATE libraries SET routing_mode = 'direct' WHERE code = 'demo-ul'"))
    node.desk.directory.forget()
    page = await signed_in(new_page, node, "zhao")
    await go_online(page)
    return page


async def test_direct_assignment_opens_a_tab_without_an_offer(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    page = await zhao_online_for_direct_chats(live_desk, new_page)
    q = "学位论文提交截止日期是哪天？"
    r, cid = await reader_asks(live_desk, host_site, q, "demo-ul")
    await expect(tab(page, cid)).to_be_visible(timeout=SEEN_MS)
    await expect(tab(page, cid)).to_contain_text("示例大学图书馆")
    await expect(page.locator(".offer")).to_have_count(0)
    await expect(log(page)).to_contain_text(q)
    await send(page, "本学期截止到6月1日。")
    await r.wait_for("message", lambda m: m["body"] == "本学期截止到6月1日。")


async def test_a_message_whose_relay_was_lost_is_fetched_and_shown_once(
    live_desk: Node, host_site: HostSite, new_page: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader's next message names the lost one as the message before it (``prev``): the
    console fetches it, shows it once and in its place, and a reload keeps it."""
    page = await zhao_online_for_direct_chats(live_desk, new_page)
    q = "馆际互借要多久？"
    r, cid = await reader_asks(live_desk, host_site, q, "demo-ul")
    await expect(log(page)).to_contain_text(q, timeout=SEEN_MS)
    dropped = lose_relay(monkeypatch, live_desk, "/console", "这句的转发丢了")
    await r.say(cid, "这句的转发丢了")
    await r.say(cid, "还有一句")
    await expect(log(page)).to_contain_text("还有一句", timeout=SEEN_MS)
    assert dropped, "the reader's first message's relay was dropped"
    lost = log(page).locator(".msg", has_text="这句的转发丢了")
    await expect(lost).to_have_count(1, timeout=SEEN_MS)
    text = await log(page).inner_text()
    assert text.index(q) < text.index("这句的转发丢了") < text.index("还有一句")
    await page.reload()
    await expect(log(page)).to_contain_text("还有一句", timeout=SEEN_MS)
    await expect(lost).to_have_count(1)


#: Stands in for the browser's notifications: records what the page asks for (permission is
#: granted), and lets a test say the page is in the background (document.hasFocus false).
NOTIFICATIONS = """
window.__notes = [];
window.__background = false;
class RecordedNotification {
  constructor(title, options) {
    window.__notes.push({ title, options: options || {} });
    this.onclick = null;
  }
  close() {}
}
RecordedNotification.permission = "granted";
RecordedNotification.requestPermission = () => Promise.resolve("granted");
Object.defineProperty(window, "Notification", {
  value: RecordedNotification, configurable: true, writable: true,
});
const hasFocus = Document.prototype.hasFocus;
Document.prototype.hasFocus = function () {
  return window.__background ? false : hasFocus.call(this);
};
"""


async def console_with_notifications(new_page: Any, node: Node, username: str) -> Page:
    page: Page = await new_page()
    await page.add_init_script(NOTIFICATIONS)
    await page.goto(f"{node.base}/console/")
    await sign_in(page, username)
    await expect(page.get_by_text("已连接", exact=True)).to_be_visible(timeout=SEEN_MS)
    return page


async def notes(page: Page) -> list[dict[str, Any]]:
    return list(await page.evaluate("window.__notes"))


async def notes_count(page: Page, n: int) -> None:
    """Wait for the page to have recorded ``n`` notifications. Polled from here: the
    console's CSP forbids the string evaluation page.wait_for_function uses."""
    deadline = asyncio.get_running_loop().time() + SEEN_MS / 1000
    while await page.evaluate("() => window.__notes.length") != n:
        assert asyncio.get_running_loop().time() < deadline, f"never {n} notifications"
        await asyncio.sleep(0.05)


async def test_desktop_notifications_hide_the_text_and_respect_mute(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    page = await console_with_notifications(new_page, live_desk, "wang")
    await go_online(page)
    await page.evaluate("window.__background = true")

    # A new chat: the reader's library only, never their question (privacy, norm 6).
    q = "我的借书证号是 A12345，忘了密码怎么办？"
    r, cid = await reader_asks(live_desk, host_site, q)
    await notes_count(page, 1)
    first = {
        "title": "新咨询 · 示例市公共图书馆读者",
        "options": {"tag": f"chat-{cid}", "silent": True},
    }
    assert await notes(page) == [first]
    await accept_offer(page, q)

    # A new message from the reader: again no text.
    await r.say(cid, "身份证号 110101199001011234")
    await notes_count(page, 2)
    second = (await notes(page))[1]
    assert second == {
        "title": "新消息 · 示例市公共图书馆读者",
        "options": {"tag": f"chat-{cid}", "silent": True},
    }
    assert "A12345" not in json.dumps(await notes(page))
    assert "110101" not in json.dumps(await notes(page))

    # Muted: no sound and no notification either.
    await page.get_by_role("button", name="静音").click()
    unmute = page.get_by_role("button", name="取消静音")
    await expect(unmute).to_have_attribute("aria-pressed", "true")
    await r.say(cid, "还在吗？")
    await expect(log(page)).to_contain_text("还在吗？", timeout=SEEN_MS)
    await page.wait_for_timeout(500)
    assert len(await notes(page)) == 2

    # The switch is kept in the browser; unmuted, notifications come again (in English too).
    await page.get_by_role("button", name="取消静音").click()
    await page.get_by_role("button", name="English").click()
    await r.say(cid, "hello?")
    await notes_count(page, 3)
    assert (await notes(page))[2]["title"] == "New message · reader of Demo City Public Library"
    await page.get_by_role("button", name="中文").click()


async def session_cookie(page: Page) -> str:
    for c in await page.context.cookies():
        if c["name"] == "desk_session":
            return str(c["value"])
    raise AssertionError("no desk_session cookie")


async def claim_over_http(node: Node, page: Page, ticket_id: int) -> None:
    cookie = await session_cookie(page)
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{node.base}/api/backlog/{ticket_id}/claim",
            headers={"Cookie": f"desk_session={cookie}"},
        ) as resp,
    ):
        assert resp.status == 200, await resp.text()


async def test_backlog_reminders_reach_the_holder_only(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    wang = await console_with_notifications(new_page, live_desk, "wang")
    await wang.get_by_role("radio", name="离开").click()
    li = await signed_in(new_page, live_desk, "li")
    await li.get_by_role("radio", name="离开").click()

    tickets = []
    for q in ("请帮我找《图书馆学概论》1985年版的全文", "想要一篇关于地方志编纂的硕士论文"):
        r, cid = await reader_asks(live_desk, host_site, q)
        handed = await r.ok("handoff", {"consultation_id": cid, "kind": "document"})
        tickets.append(int(handed["ticket"]["id"]))
    late, soon = tickets
    for tid in tickets:
        await claim_over_http(live_desk, wang, tid)

    # With the live node's clock: `late` passed 72 hours two days ago and was last reminded
    # 25 hours ago (the daily reminder is due); `soon` has less than a day of its 72 left.
    now = datetime.fromtimestamp(live_desk.desk.clock.now(), UTC)
    async with live_desk.desk.sessions.begin() as s:
        await s.execute(
            update(Ticket)
            .where(Ticket.id == late)
            .values(
                submitted_at=now - timedelta(hours=121),
                overdue_at=now - timedelta(hours=49),
                reminded_at=now - timedelta(hours=25),
            )
        )
        await s.execute(
            update(Ticket)
            .where(Ticket.id == soon)
            .values(submitted_at=now - timedelta(hours=49), handed_off_by="system")
        )
    await wang.evaluate("window.__background = true")
    await sweep_overdue(live_desk.desk)  # the scheduler's own sweep may be first: same result

    reminder = f"编号 {late} 的表单咨询仍未答复"
    due = f"编号 {soon} 的表单咨询距72小时还有不到一天"
    toasts = wang.locator(".toasts")
    await expect(toasts.get_by_text(reminder)).to_be_visible(timeout=SEEN_MS)
    await expect(toasts.get_by_text(due)).to_be_visible(timeout=SEEN_MS)
    await notes_count(wang, 2)
    assert sorted(n["title"] for n in await notes(wang)) == sorted([reminder, due])
    assert all(set(n["options"]) == {"tag", "silent"} for n in await notes(wang))

    # Only the holder is told; a colleague's console just refreshes its lists.
    await li.wait_for_timeout(1000)
    await expect(li.locator(".toasts")).not_to_contain_text("表单咨询")

    # A ticket the desk kept for a reader who left unserved says so.
    await wang.get_by_role("button", name="表单咨询", exact=True).click()
    await wang.get_by_role("button", name="我领取的").click()
    row = wang.locator(f'.ticket-row[data-ticket="{soon}"]')
    await expect(row).to_contain_text("读者离开前未获接待，由咨询台转入", timeout=SEEN_MS)
    other = wang.locator(f'.ticket-row[data-ticket="{late}"]')
    await expect(other).not_to_contain_text("由咨询台转入")

    # Muted: the next reminder is a toast only.
    await toasts.locator(".toast", has_text=reminder).get_by_role("button", name="关闭").click()
    await expect(toasts.get_by_text(reminder)).to_have_count(0)
    await wang.get_by_role("button", name="静音").click()
    async with live_desk.desk.sessions.begin() as s:
        await s.execute(
            update(Ticket).where(Ticket.id == late).values(reminded_at=now - timedelta(hours=25))
        )
    await sweep_overdue(live_desk.desk)
    await expect(toasts.get_by_text(reminder)).to_be_visible(timeout=SEEN_MS)
    assert len(await notes(wang)) == 2


async def test_queue_shows_who_waits_and_busy_takes_no_new_offers(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    page = await signed_in(new_page, live_desk, "wang")
    await page.get_by_role("radio", name="忙碌").click()
    await expect(page.get_by_role("radio", name="忙碌")).to_have_attribute("aria-checked", "true")

    q1 = "请问古籍阅览室几点开门？我想查一本清代的地方志。"
    r1, c1 = await reader_asks(live_desk, host_site, q1)
    q2 = "Do you lend e-books to readers outside the city?"
    r2, c2 = await reader_asks(live_desk, host_site, q2, language="en")

    # The queue: library, language by name, time waited (counting), the first question.
    first = page.locator(f'.queue-item[data-consultation="{c1}"]')
    second = page.locator(f'.queue-item[data-consultation="{c2}"]')
    await expect(first).to_be_visible(timeout=SEEN_MS)
    await expect(second).to_be_visible(timeout=SEEN_MS)
    await expect(page.locator(".queue-item").first).to_have_attribute("data-consultation", str(c1))
    await expect(first.locator("strong")).to_have_text("示例市公共图书馆")
    await expect(first.locator(".lang")).to_have_text("中文")
    await expect(second.locator(".lang")).to_have_text("英文")
    await expect(first.locator(".preview")).to_have_text(q1)
    await expect(second.locator(".preview")).to_have_text(q2)
    await expect(page.locator("#queue-title .badge")).to_have_text("2")
    waited = first.locator(".waited")
    await expect(waited).to_have_text(re.compile(r"^已等 \d+ 秒$"))
    before = int(re.sub(r"\D", "", await waited.inner_text()))
    await expect(waited).not_to_have_text(f"已等 {before} 秒", timeout=5000)

    # Busy keeps what one holds and takes nothing new, however long readers wait.
    await page.wait_for_timeout(3000)
    await expect(page.locator(".offer")).to_have_count(0)
    await expect(page.get_by_text("暂无分配给您的咨询。")).to_be_visible()

    await page.get_by_role("button", name="English").click()
    await expect(first.locator(".lang")).to_have_text("Chinese")
    await expect(second.locator(".lang")).to_have_text("English")
    await expect(first.locator(".waited")).to_have_text(re.compile(r"^waiting \d+ s$"))
    await page.get_by_role("button", name="中文").click()

    # Online again: the first in line is offered at once, with the same details.
    await go_online(page)
    offer = page.locator(f'.offer[data-consultation="{c1}"]')
    await expect(offer).to_be_visible(timeout=SEEN_MS)
    await expect(offer).to_contain_text("示例市公共图书馆")
    await expect(offer.locator(".lang")).to_have_text("中文")
    await expect(offer.locator(".preview")).to_have_text(q1)
    await expect(first).to_have_count(0, timeout=SEEN_MS)


async def test_transfer_to_another_library(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    wang = await signed_in(new_page, live_desk, "wang")
    await go_online(wang)
    zhao = await signed_in(new_page, live_desk, "zhao")
    await go_online(zhao)

    q = "想借示例大学的一本学位论文，能帮我转过去问问吗？"
    r, cid = await reader_asks(live_desk, host_site, q)
    await accept_offer(wang, q)
    await send(wang, "这篇论文在示例大学图书馆，我把您转过去。")

    await wang.get_by_role("button", name="转接").click()
    dialog = wang.get_by_role("dialog", name=f"转接对话 #{cid}")
    # The colleague list names their library, status, load and languages (by name).
    colleague = dialog.locator(".colleague", has_text="赵老师")
    await expect(colleague).to_contain_text("示例大学图书馆 · 在线 · 0/4 · 中文", timeout=SEEN_MS)
    await dialog.get_by_role("radio", name="转给其他图书馆").check()
    choice = dialog.get_by_role("combobox", name="转给其他图书馆")
    await expect(choice.locator('option[value="demo-ul"]')).to_have_text(
        "示例大学图书馆 (demo-ul) · 中文"
    )
    await expect(dialog.get_by_role("button", name="转接")).to_be_disabled()
    await choice.select_option("demo-ul")
    await dialog.get_by_label("给接手同事的备注（读者看不到）").fill("读者要借本校学位论文")
    await dialog.get_by_role("button", name="转接").click()
    await expect(dialog).to_have_count(0)
    await expect(tab(wang, cid)).to_have_count(0)
    await expect(wang.get_by_text(f"对话 #{cid} 已转接。")).to_be_visible()

    # The chat waits for the other library first; its consultant is offered it, with the
    # whole history and the note (staff only), and the reader is told where they are now.
    offer = zhao.locator(f'.offer[data-consultation="{cid}"]')
    await expect(offer).to_be_visible(timeout=SEEN_MS)
    await offer.get_by_role("button", name="接受").click()
    await expect(tab(zhao, cid)).to_have_attribute("aria-selected", "true", timeout=SEEN_MS)
    await expect(log(zhao)).to_contain_text(q)
    await expect(log(zhao)).to_contain_text("这篇论文在示例大学图书馆，我把您转过去。")
    await expect(log(zhao).locator(".msg.note", has_text="读者要借本校学位论文")).to_be_visible()
    await r.wait_for(
        "message", lambda m: m["author_kind"] == "system" and "示例大学图书馆" in m["body"]
    )
    assert all("本校学位论文" not in m["body"] for m in r.messages(cid))
    await send(zhao, "您好，我是示例大学图书馆的咨询员。")
    await r.wait_for("message", lambda m: m["body"] == "您好，我是示例大学图书馆的咨询员。")


async def test_alt_digit_inserts_the_nth_phrase_of_the_chats_language(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    page = await signed_in(new_page, live_desk, "wang")
    await go_online(page)
    q = "请问怎么续借？"
    r, cid = await reader_asks(live_desk, host_site, q)
    await accept_offer(page, q)

    # The library's phrases in the chat's language come first: 3 is "wait" (正在查找).
    await composer(page).press("Alt+3")
    await expect(composer(page)).to_have_value("请您不要着急，我正在为您查找，请稍候。")
    # Inserted at the caret.
    await composer(page).fill("您好。")
    await composer(page).press("End")
    await composer(page).press("Alt+5")
    await expect(composer(page)).to_have_value(
        "您好。文献已发送给您，请查收。如无法打开，请告诉我。"
    )
    # 2 (busy) asks for the minutes first; Esc leaves the text as it was.
    await composer(page).fill("")
    await composer(page).press("Alt+2")
    minutes = page.get_by_role("spinbutton", name="请读者等候几分钟？")
    await expect(minutes).to_be_focused()
    await minutes.press("Escape")
    await expect(minutes).to_have_count(0)
    await expect(composer(page)).to_have_value("")
    await composer(page).press("Alt+2")
    await page.get_by_role("spinbutton", name="请读者等候几分钟？").press("Enter")
    await expect(composer(page)).to_have_value(
        "您好，咨询员正在为其他读者解答，请您稍候约5分钟，我们会尽快回复您。"
    )
    await composer(page).press("Enter")
    await r.wait_for("message", lambda m: "约5分钟" in m["body"])

    # An English chat gets the English phrases first.
    q2 = "How do I renew a book?"
    r2, c2 = await reader_asks(live_desk, host_site, q2, language="en")
    await accept_offer(page, q2)
    await expect(tab(page, c2)).to_have_attribute("aria-selected", "true")
    await expect(tab(page, c2)).to_contain_text("英文")
    await composer(page).press("Alt+3")
    await expect(composer(page)).to_have_value("Please bear with me while I look this up for you.")
    # The 7th is the first of the other language's.
    await composer(page).fill("")
    await composer(page).press("Alt+7")
    await expect(composer(page)).to_have_value(
        re.compile("^您好！欢迎使用全国图书馆参考咨询联盟实时咨询")
    )
