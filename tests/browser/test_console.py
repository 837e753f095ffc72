"""The consultant console in a real browser against a real desk node.

Readers are the harness's Python clients (from the host site's origin, which the browser
fixture's libraries allow); consultants use the console at ``/console/``. Assertions are on
what the consultant sees.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from playwright.async_api import Locator, Page, expect
from sqlalchemy import text as sql

from desk.app import SIO_KEY
from desk.demo import DEMO_PASSWORD
from tests.browser.conftest import HostSite
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
    node: Node, site: HostSite, question: str, library: str = "demo-pl"
) -> tuple[Reader, int]:
    r = await Reader.register(node.base, library, origin=site.origin)
    await r.connect(origin=site.origin)
    opened = await r.open(question)
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
    await expect(tab(page, c1)).to_contain_text("zh-CN")
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
    await send(page, "请用读者证登录 VPN。")

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
    for text in (q2, "请用读者证登录 VPN。"):
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


async def test_direct_assignment_opens_a_tab_without_an_offer(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    async with live_desk.desk.sessions.begin() as s:
        await s.execute(sql("UPDATE libraries SET routing_mode = 'direct' WHERE code = 'demo-ul'"))
    live_desk.desk.directory.forget()
    page = await signed_in(new_page, live_desk, "zhao")
    await go_online(page)
    q = "学位论文提交截止日期是哪天？"
    r, cid = await reader_asks(live_desk, host_site, q, "demo-ul")
    await expect(tab(page, cid)).to_be_visible(timeout=SEEN_MS)
    await expect(tab(page, cid)).to_contain_text("示例大学图书馆")
    await expect(page.locator(".offer")).to_have_count(0)
    await expect(log(page)).to_contain_text(q)
    await send(page, "本学期截止到6月1日。")
    await r.wait_for("message", lambda m: m["body"] == "本学期截止到6月1日。")
