"""Screenshots of the widget and the console at desktop and phone width, saved as test
artifacts (``test-artifacts/screenshots/``, not committed) for people to look at, with the
checks a screenshot cannot make by itself: nothing overflows the phone's width."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import text

from tests.browser.conftest import ARTIFACTS, HostSite, embed_html
from tests.browser.test_console import SEEN_MS, accept_offer, go_online, signed_in
from tests.browser.test_console import composer as console_composer
from tests.browser.test_widget import bubble, open_widget
from tests.browser.test_widget import send as reader_send
from tests.harness import Node

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 780}
QUESTION = "请问如何查找2019年的硕士学位论文全文？"


async def shoot(page: Page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    await page.screenshot(path=str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return path


async def fits_width(page: Page) -> None:
    overflow = await page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page is {overflow}px wider than the screen"


async def test_screenshots_at_desktop_and_phone_width(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    async with live_desk.desk.engine.begin() as conn:
        await conn.execute(text("UPDATE libraries SET bot_settings = '{}'"))
    live_desk.desk.directory.forget()
    site = host_site.page(
        "/library",
        embed_html(
            live_desk.base,
            "demo-pl",
            body="<p>示例市公共图书馆 · 开放时间 8:30–21:00</p>",
        ),
    )

    console = await signed_in(new_page, live_desk, "wang")
    await console.set_viewport_size(DESKTOP)
    await go_online(console)
    reader = await new_page(site, viewport=DESKTOP)
    await shoot(reader, "widget-desktop-closed")
    await open_widget(reader)
    await reader_send(reader, QUESTION)
    await accept_offer(console, QUESTION)
    await console_composer(console).fill("您好，请问论文的题名和作者是？")
    await console_composer(console).press("Enter")
    await expect(bubble(reader, "您好，请问论文的题名和作者是？")).to_have_count(1, timeout=SEEN_MS)
    await shoot(reader, "widget-desktop-chat")
    await shoot(console, "console-desktop-chat")

    await reader.set_viewport_size(PHONE)
    await expect(bubble(reader, QUESTION)).to_be_visible()
    await fits_width(reader)
    await shoot(reader, "widget-phone-chat")

    await console.set_viewport_size(PHONE)
    await fits_width(console)
    await shoot(console, "console-phone-chat")

    direct = await new_page(f"{live_desk.base}/chat/demo-pl", viewport=PHONE)
    await expect(direct.get_by_role("dialog")).to_be_visible(timeout=SEEN_MS)
    await fits_width(direct)
    await shoot(direct, "chat-page-phone")
