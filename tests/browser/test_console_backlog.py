"""The console's form service (表单咨询), switching a chat to it, session end, bot settings.

Readers are the harness's Python clients; consultants use the console in the browser.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Locator, Page, expect
from sqlalchemy import select, update

from desk.backlog.rules import SAME_TOPIC
from desk.models import Ticket
from tests.browser.conftest import HostSite
from tests.browser.test_console import (
    SEEN_MS,
    accept_offer,
    composer,
    log,
    reader_asks,
    sign_in,
    signed_in,
    tab,
)
from tests.harness import Node

pytestmark = pytest.mark.browser


def ticket_row(page: Page, tid: int) -> Locator:
    return page.locator(f'.ticket-row[data-ticket="{tid}"]')


async def open_backlog(page: Page) -> None:
    await page.get_by_role("button", name="表单咨询", exact=True).click()
    await expect(page.get_by_role("button", name="待领取", exact=True)).to_be_visible()


async def test_backlog_pool_claim_return_and_the_72_hour_rules(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    page = await signed_in(new_page, live_desk, "wang")
    await page.get_by_role("radio", name="离开").click()
    await open_backlog(page)
    await expect(page.get_by_text("没有待领取的表单咨询。")).to_be_visible()

    # A reader moves a document request to the form service: it shows in the pool live.
    q = "请帮我找《城市公共图书馆服务效能研究》（张三，2019年硕士论文）全文"
    r, cid = await reader_asks(live_desk, host_site, q)
    handed = await r.ok("handoff", {"consultation_id": cid, "kind": "document"})
    tid = int(handed["ticket"]["id"])
    row = ticket_row(page, tid)
    await expect(row).to_be_visible(timeout=SEEN_MS)
    await expect(row).to_contain_text("文献需求")
    await expect(row).to_contain_text("示例市公共图书馆")
    await expect(row).to_contain_text("中文")  # languages by name
    await expect(row).to_contain_text("城市公共图书馆服务效能研究")
    await expect(row).to_contain_text(re.compile(r"距72小时还剩 (71|72) 小时"))

    # Claim it and read the chat it came from.
    await row.click()
    detail = page.locator(f'article.ticket[data-ticket="{tid}"]')
    await expect(detail.get_by_role("heading", name=f"表单咨询 #{tid}")).to_be_visible()
    await detail.get_by_role("button", name="领取", exact=True).click()
    await expect(detail).to_contain_text("领取人：我", timeout=SEEN_MS)
    transcript = detail.get_by_role("log", name="实时咨询记录")
    await expect(transcript.locator(".msg.from-reader", has_text=q)).to_be_visible()
    await expect(row).to_have_count(0, timeout=SEEN_MS)  # gone from the pool

    # Before 72 hours only "found" is allowed; the console says to return it instead.
    await expect(detail.get_by_role("radio", name="已找到指定文献")).to_be_enabled()
    await expect(
        detail.get_by_role("radio", name=re.compile("提供相同主题的文献"))
    ).to_be_disabled()
    await expect(detail.get_by_role("radio", name=re.compile("未找到"))).to_be_disabled()
    await expect(detail.get_by_role("note")).to_contain_text("退回任务")

    # Not found: 退回任务 with a note, so a colleague searches too.
    await detail.get_by_role("button", name="退回任务").click()
    await detail.get_by_label("退回说明（可选，同事可见）").fill("本馆没有，请外馆同事查找")
    await detail.get_by_role("button", name="确认退回").click()
    await expect(detail).to_contain_text("待领取", timeout=SEEN_MS)
    await expect(detail.locator(".ticket-events")).to_contain_text("本馆没有，请外馆同事查找")
    await expect(ticket_row(page, tid)).to_be_visible(timeout=SEEN_MS)

    # Claimed again, and 72 hours pass (the ticket's submission is moved back).
    await detail.get_by_role("button", name="领取", exact=True).click()
    await expect(detail).to_contain_text("领取人：我", timeout=SEEN_MS)
    await page.get_by_role("button", name="我领取的").click()
    await expect(ticket_row(page, tid)).to_be_visible(timeout=SEEN_MS)
    async with live_desk.desk.sessions.begin() as s:
        submitted = await s.scalar(select(Ticket.submitted_at).where(Ticket.id == tid))
        assert submitted is not None
        await s.execute(
            update(Ticket)
            .where(Ticket.id == tid)
            .values(submitted_at=submitted - timedelta(hours=73))
        )
    await detail.get_by_role("button", name="刷新").click()
    await expect(detail.get_by_text("已超72小时").first).to_be_visible(timeout=SEEN_MS)
    same_topic = detail.get_by_role("radio", name=re.compile("提供相同主题的文献"))
    await expect(same_topic).to_be_enabled()

    # Same-topic material: the norms' wording goes to the top of the answer box.
    await same_topic.check()
    box = detail.get_by_label("答复内容")
    await expect(box).to_have_value(re.compile("^" + re.escape(SAME_TOPIC["zh-CN"])))
    await box.press("End")
    await box.type("推荐：李四《公共图书馆绩效评估》，2018，https://example.org/a.pdf")
    await detail.get_by_role("button", name="提交答复").click()
    await expect(page.get_by_text(f"表单咨询 #{tid} 已答复。")).to_be_visible(timeout=SEEN_MS)

    await page.get_by_role("button", name="已答复", exact=True).click()
    await expect(ticket_row(page, tid)).to_be_visible(timeout=SEEN_MS)
    await ticket_row(page, tid).click()
    answer = detail.locator(".answer")
    await expect(answer).to_contain_text(SAME_TOPIC["zh-CN"])
    await expect(answer).to_contain_text("公共图书馆绩效评估")
    # The link in the answer is clickable, opened safely in a new tab.
    link = answer.get_by_role("link", name="https://example.org/a.pdf")
    await expect(link).to_have_attribute("rel", "noopener noreferrer")
    await expect(link).to_have_attribute("target", "_blank")
    async with live_desk.desk.reads() as s:
        t = await s.get(Ticket, tid)
        assert t is not None and t.state == "answered" and t.answer_kind == "same_topic"
        assert t.answer is not None and t.answer.startswith(SAME_TOPIC["zh-CN"])


async def test_switch_a_chat_to_the_form_service(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    page = await signed_in(new_page, live_desk, "wang")
    await page.get_by_role("radio", name="在线").click()
    q = "我想要一篇1985年的会议论文，馆里能帮忙找吗？"
    r, cid = await reader_asks(live_desk, host_site, q)
    await accept_offer(page, q)
    await expect(tab(page, cid)).to_have_attribute("aria-selected", "true")

    # The library's phrase explaining the switch is at hand.
    await composer(page).press_sequentially("/form")
    picker = page.get_by_role("listbox", name="快捷用语")
    await expect(picker.get_by_role("option").first).to_contain_text("表单咨询")
    await composer(page).press("Enter")
    await composer(page).press("Enter")
    await r.wait_for("message", lambda m: "表单咨询服务" in m["body"])

    await page.get_by_role("button", name="转表单咨询").click()
    dialog = page.get_by_role("dialog", name=f"对话 #{cid} 转表单咨询")
    await dialog.get_by_role("radio", name=re.compile("文献需求")).check()
    await dialog.get_by_label("备注（可选，只有咨询员可见）").fill("需要查会议论文集")
    await dialog.get_by_role("button", name="转为表单咨询").click()
    await expect(dialog).to_have_count(0)
    await expect(log(page)).to_contain_text("对话已转为表单咨询（编号 #", timeout=SEEN_MS)
    await expect(tab(page, cid)).to_contain_text("已转出")
    await expect(page.get_by_text("对话已结束，不能再发送消息。")).to_be_visible()

    # The reader is told, with the number and their link.
    msg = await r.wait_for(
        "message", lambda m: m["author_kind"] == "system" and "/tickets/" in m["body"]
    )
    async with live_desk.desk.reads() as s:
        t = (await s.scalars(select(Ticket).where(Ticket.consultation_id == cid))).one()
    assert f"编号 {t.id}" in msg["body"] and t.kind == "document"
    assert t.handed_off_by == "consultant"

    # And the ticket waits in the pool, the reader's question first.
    await page.get_by_role("button", name="表单咨询", exact=True).click()
    await expect(ticket_row(page, t.id)).to_be_visible(timeout=SEEN_MS)
    await expect(ticket_row(page, t.id)).to_contain_text("1985年的会议论文")


async def test_the_readers_ticket_link_never_reaches_the_console(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    page = await signed_in(new_page, live_desk, "wang")
    await page.get_by_role("radio", name="在线").click()
    q = "能帮我找一篇旧报纸上的文章吗？"
    r, cid = await reader_asks(live_desk, host_site, q)
    await accept_offer(page, q)
    await page.get_by_role("button", name="转表单咨询").click()
    await page.get_by_role("dialog").get_by_role("button", name="转为表单咨询").click()
    await r.wait_for("message", lambda m: m["author_kind"] == "system" and "/tickets/" in m["body"])
    await expect(log(page)).to_contain_text("对话已转为表单咨询", timeout=SEEN_MS)
    await page.wait_for_timeout(1000)
    await expect(log(page)).not_to_contain_text("/tickets/", timeout=1000)


async def session_cookie(page: Page) -> str:
    for c in await page.context.cookies():
        if c["name"] == "desk_session":
            return str(c["value"])
    raise AssertionError("no desk_session cookie")


async def test_sign_out_warnings_other_tabs_and_session_end(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    page = await signed_in(new_page, live_desk, "wang")
    await page.get_by_role("radio", name="在线").click()
    q = "请问还书可以在别的分馆还吗？"
    r, cid = await reader_asks(live_desk, host_site, q)
    await accept_offer(page, q)
    await expect(page.get_by_test_id("load")).to_have_text("接待 1/4", timeout=SEEN_MS)

    # Signing out with a chat open warns, and offers to go away first.
    await page.get_by_role("button", name="退出登录").click()
    warning = page.get_by_role("dialog", name="退出登录")
    await expect(warning).to_contain_text("1 个进行中的对话")
    await warning.get_by_role("button", name="先设为离开").click()
    await expect(warning).to_have_count(0)
    await expect(page.get_by_role("radio", name="离开")).to_have_attribute("aria-checked", "true")
    await expect(tab(page, cid)).to_be_visible()

    # A second tab of the same browser keeps the status (it sends none) and shows the chat.
    second = await page.context.new_page()
    await second.goto(f"{live_desk.base}/console/")
    await expect(second.get_by_text("已连接", exact=True)).to_be_visible(timeout=SEEN_MS)
    await expect(second.get_by_role("radio", name="离开")).to_have_attribute("aria-checked", "true")
    await expect(tab(second, cid)).to_be_visible(timeout=SEEN_MS)
    await expect(page.get_by_role("radio", name="离开")).to_have_attribute("aria-checked", "true")

    # Signing out in one tab signs out the other, which forgets its local state.
    await second.get_by_role("button", name="退出登录").click()
    await (
        second.get_by_role("dialog", name="退出登录").get_by_role("button", name="仍然退出").click()
    )
    await expect(second.get_by_role("button", name="登录", exact=True)).to_be_visible()
    await expect(page.get_by_role("button", name="登录", exact=True)).to_be_visible(timeout=SEEN_MS)
    await expect(page.get_by_text("您已在其他页面或设备上退出登录")).to_be_visible()
    kept = await page.evaluate(
        "Object.keys(localStorage)"
        ".filter(k => /^desk\\.console\\.(chats|outbox|status)\\./.test(k))"
    )
    assert kept == []
    await second.close()

    # A sign-out from elsewhere with the same session (another device, a script): the desk
    # ends the session and the console shows its sign-in screen.
    await sign_in(page, "wang")
    await expect(page.get_by_text("已连接", exact=True)).to_be_visible(timeout=SEEN_MS)
    cookie = await session_cookie(page)
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{live_desk.base}/api/logout", headers={"Cookie": f"desk_session={cookie}"}
        ) as resp,
    ):
        assert resp.status == 200, await resp.text()
    await expect(page.get_by_role("button", name="登录", exact=True)).to_be_visible(timeout=SEEN_MS)
    await expect(page.get_by_text("您已在其他页面或设备上退出登录")).to_be_visible()


async def test_bot_settings_for_supervisors_read_only_for_others(
    live_desk: Node, new_page: Any
) -> None:
    chen = await signed_in(new_page, live_desk, "chen")
    await chen.get_by_role("button", name="自动回复设置").click()
    dialog = chen.get_by_role("dialog", name="自动回复设置")
    greeting = dialog.locator('.bot-text[data-key="greeting"][data-language="zh-CN"]')
    await expect(greeting).to_contain_text("联盟默认")
    await expect(greeting).to_contain_text("{library}")
    box = greeting.locator("textarea")

    # A placeholder the greeting does not know is refused, shown beside the text.
    await box.fill("欢迎！{reader_name}")
    await greeting.get_by_role("button", name="保存").click()
    await expect(greeting.get_by_role("alert")).to_contain_text("模板有误")

    text = "欢迎来到{library}实时咨询！本台解答事实性咨询和平台使用问题。"
    await box.fill(text)
    await greeting.get_by_role("button", name="保存").click()
    await expect(greeting.get_by_text("已保存。")).to_be_visible()
    await expect(greeting).to_contain_text("本馆自定义")
    await expect(greeting.get_by_role("alert")).to_have_count(0)

    # Settings: a switch and the long-wait minutes.
    await dialog.get_by_label("预计等候超过多少分钟时建议表单或电话咨询").fill("15")
    await dialog.get_by_role("switch", name="排队等候提示").uncheck()
    await dialog.get_by_role("button", name="保存设置").click()
    await expect(dialog.locator(".bot-switches").get_by_text("已保存。")).to_be_visible()

    # A consultant of the same library sees all of it, read-only.
    zhao = await signed_in(new_page, live_desk, "zhao")
    await zhao.get_by_role("button", name="自动回复设置").click()
    ro = zhao.get_by_role("dialog", name="自动回复设置")
    await expect(ro.get_by_text("只有本馆的主管和管理员可以修改")).to_be_visible()
    ro_greeting = ro.locator('.bot-text[data-key="greeting"][data-language="zh-CN"]')
    await expect(ro_greeting.locator("textarea")).to_have_value(text)
    await expect(ro_greeting.locator("textarea")).to_have_attribute("readonly", "")
    await expect(ro.get_by_role("button", name="保存")).to_have_count(0)
    await expect(ro.get_by_role("button", name="恢复默认")).to_have_count(0)
    await expect(ro.get_by_label("预计等候超过多少分钟时建议表单或电话咨询")).to_have_value("15")
    await expect(ro.get_by_role("switch", name="排队等候提示")).not_to_be_checked()
    await expect(ro.get_by_role("switch", name="排队等候提示")).to_be_disabled()

    # The supervisor restores the default wording.
    await greeting.get_by_role("button", name="恢复默认").click()
    await expect(greeting).to_contain_text("联盟默认")
    await expect(box).not_to_have_value(text)
