"""One whole consultation through both real front ends, as the issue describes it.

A library's page on another origin embeds the widget; a reader asks; the bot greets at once;
a consultant logs in to the console and accepts; they exchange messages both ways; both pages
reload mid-chat and carry on with their full history; the consultant closes. Every step is
asserted on what each side sees.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import text

from tests.browser.conftest import HostSite, embed_html
from tests.browser.test_console import SEEN_MS, accept_offer, go_online, signed_in
from tests.browser.test_console import composer as console_composer
from tests.browser.test_console import log as console_log
from tests.browser.test_widget import bubble, open_widget, panel
from tests.browser.test_widget import send as reader_send
from tests.harness import Node

pytestmark = pytest.mark.browser

QUESTION = "请问贵馆能否查到2019年的这篇硕士学位论文？"


async def bots_on(node: Node) -> None:
    async with node.desk.engine.begin() as conn:
        await conn.execute(text("UPDATE libraries SET bot_settings = '{}'"))
    node.desk.directory.forget()


async def console_send(page: Page, body: str) -> None:
    await console_composer(page).fill(body)
    await console_composer(page).press("Enter")


async def reader_sees_once(page: Page, body: str, kind: str) -> None:
    await expect(bubble(page, body)).to_have_count(1, timeout=SEEN_MS)
    await expect(bubble(page, body)).to_have_class(f"msg m-{kind}")


async def console_sees_once(page: Page, body: str) -> None:
    await expect(console_log(page).locator(".msg", has_text=body)).to_have_count(1, timeout=SEEN_MS)


async def test_a_whole_consultation_through_widget_and_console(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    await bots_on(live_desk)
    site = host_site.page("/library", embed_html(live_desk.base, "demo-pl"))
    assert not site.startswith(live_desk.base)

    console = await signed_in(new_page, live_desk, "wang")
    await go_online(console)

    reader = await new_page(site)
    await open_widget(reader)
    await reader_send(reader, QUESTION)
    await reader_sees_once(reader, QUESTION, "reader")
    # The desk answers at once: the bot states the service's scope before anyone else.
    greeting = panel(reader).locator(".msg.m-bot")
    await expect(greeting).to_have_count(1, timeout=SEEN_MS)
    await expect(greeting).to_contain_text("事实性咨询")

    await accept_offer(console, QUESTION)
    await console_sees_once(console, QUESTION)
    await console_sees_once(console, "事实性咨询")
    await expect(panel(reader).get_by_text("王老师（示例市公共图书馆）正在为您解答")).to_be_visible(
        timeout=SEEN_MS
    )

    await console_send(console, "您好，请告诉我论文的题名和作者。")
    await reader_sees_once(reader, "您好，请告诉我论文的题名和作者。", "consultant")
    await reader_send(reader, "题名是《城市公共图书馆服务效能研究》，作者张三。")
    await console_sees_once(console, "题名是《城市公共图书馆服务效能研究》")

    # Both reload mid-chat: each comes back to the same chat with its whole history, once.
    await reader.reload()
    await console.reload()
    await expect(panel(reader)).to_be_visible(timeout=SEEN_MS)
    for body, kind in (
        (QUESTION, "reader"),
        ("您好，请告诉我论文的题名和作者。", "consultant"),
        ("题名是《城市公共图书馆服务效能研究》，作者张三。", "reader"),
    ):
        await reader_sees_once(reader, body, kind)
    await expect(panel(reader).locator(".msg.m-bot")).to_have_count(1)
    for body in (
        QUESTION,
        "事实性咨询",
        "您好，请告诉我论文的题名和作者。",
        "题名是《城市公共图书馆",
    ):
        await console_sees_once(console, body)

    # And they carry on after the reload, both ways.
    await console_send(console, "找到了，稍后发给您。")
    await reader_sees_once(reader, "找到了，稍后发给您。", "consultant")
    await reader_send(reader, "谢谢！")
    await console_sees_once(console, "谢谢！")

    # The consultant closes; each side sees the chat ended.
    await console.get_by_role("button", name="结束对话").click()
    await console.get_by_role("button", name="确认结束").click()
    await expect(console.get_by_text("对话已结束，不能再发送消息。")).to_be_visible(timeout=SEEN_MS)
    await expect(panel(reader).get_by_text("咨询员已结束本次咨询。")).to_be_visible(timeout=SEEN_MS)
