"""The widget before the reader writes, when the library's live desk is outside its service
hours or nobody who could answer is online: the form service first, said plainly, and the
chat or the queue when someone could answer; the library's details kept fresh.

A real browser on a library website of another origin, against a real desk node on the real
clock: service hours are set relative to now, in the library's time zone (Asia/Shanghai).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import HostSite
from tests.browser.test_widget import (
    QUESTION,
    bots,
    bubble,
    composer,
    consultant,
    details_shown,
    launcher,
    log,
    panel,
    queue_line,
    send,
    site,
    sql,
    tell_waiting,
)
from tests.browser.test_widget_handoff import form, left_ticket
from tests.harness import Node

pytestmark = pytest.mark.browser

ZONE = ZoneInfo("Asia/Shanghai")
ALL_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
WEEKDAY_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


async def set_hours(desk: Node, weekly: list[str], closed_days: int = 0) -> datetime:
    """demo-pl's service hours: every day ``weekly`` (["08:30", "21:00"]), closed the next
    ``closed_days`` dates from today (the library's today). Returns the library's now."""
    now = datetime.now(ZONE)
    hours = {
        "timezone": "Asia/Shanghai",
        "weekly": {day: [weekly] for day in ALL_DAYS},
        "closed": [(now.date() + timedelta(days=i)).isoformat() for i in range(closed_days)],
    }
    await sql(
        desk, "UPDATE libraries SET service_hours = :h WHERE code = 'demo-pl'", h=json.dumps(hours)
    )
    return now


def gate(page: Page) -> Any:
    """The notice above the form: closed, or nobody online."""
    return panel(page).locator(".avail")


async def opens(page: Page) -> None:
    await launcher(page).click()
    await expect(panel(page)).to_be_visible()
    await details_shown(page)


async def test_closed_and_nobody_online_offers_only_the_form(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    # Closed today and tomorrow: the next opening is the day after, 08:30 the library's time.
    now = await set_hours(live_desk, ["08:30", "21:00"], closed_days=2)
    day = (now.date() + timedelta(days=2)).weekday()
    page = await new_page(await site(host_site, live_desk), timezone_id="Asia/Shanghai")
    await opens(page)

    await expect(gate(page)).to_contain_text(
        f"本馆实时咨询现在不在服务时间，下次开放：{WEEKDAY_ZH[day]} 08:30。"
    )
    await expect(gate(page)).to_contain_text("您可以在下面留言，咨询员稍后答复。")
    # The form first, with the phone; no chat to fall back on, and nothing to cancel to.
    question = form(page).get_by_label("您的问题")
    await expect(question).to_be_focused()
    await expect(form(page).get_by_text("或致电 010-5555-0101")).to_be_visible()
    await expect(panel(page).get_by_role("button", name="仍然在线咨询")).to_have_count(0)
    await expect(panel(page).get_by_role("button", name="在线排队等待")).to_be_hidden()
    await expect(form(page).get_by_role("button", name="取消")).to_be_hidden()
    await expect(composer(page)).to_be_hidden()
    await expect(log(page)).to_be_hidden()
    await expect(panel(page).get_by_role("button", name="留言咨询")).to_be_hidden()

    # In English too.
    await panel(page).get_by_role("button", name="Switch to English").click()
    await expect(gate(page)).to_contain_text(
        "Live chat is outside this library's service hours now. "
        f"Next opening: {WEEKDAY_EN[day]} 08:30."
    )
    await expect(panel(page).get_by_role("button", name="Chat anyway")).to_have_count(0)
    await panel(page).get_by_role("button", name="切换到中文").click()

    # The question is left as a ticket; no chat was opened for it.
    await question.fill("闭馆时的问题：怎样续借？")
    await form(page).get_by_role("button", name="提交留言").click()
    number, _url = await left_ticket(page)
    assert await page.evaluate(
        "() => Object.keys(localStorage).filter(k => k.includes(':lib:'))"
        ".map(k => JSON.parse(localStorage.getItem(k)).cid)"
    ) in ([], [None])
    # Back: the form again, for another question, with the ticket listed above it.
    await form(page).get_by_role("button", name="返回").click()
    await expect(question).to_be_focused()
    await expect(question).to_have_value("")
    await expect(panel(page).locator(".tickets")).to_contain_text(f"编号 {number}")
    await expect(gate(page)).to_be_visible()

    # A reader on another clock is told the library's offset with its time.
    abroad = await new_page(await site(host_site, live_desk), timezone_id="Europe/London")
    await opens(abroad)
    await expect(gate(abroad)).to_contain_text(f"下次开放：{WEEKDAY_ZH[day]} 08:30（UTC+8）。")


async def test_closed_with_someone_online_can_chat_anyway(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    await set_hours(live_desk, ["08:30", "21:00"], closed_days=1)  # opens tomorrow 08:30
    wang = await consultant(live_desk)
    page = await new_page(await site(host_site, live_desk), timezone_id="Asia/Shanghai")
    await opens(page)
    await expect(gate(page)).to_contain_text("本馆实时咨询现在不在服务时间，下次开放：明天 08:30。")
    await expect(gate(page)).to_contain_text("现在仍有联盟的咨询员在线，您也可以在线咨询。")
    await expect(form(page).get_by_label("您的问题")).to_be_visible()

    # What the reader began in the form goes with them into the chat.
    await form(page).get_by_label("您的问题").fill(QUESTION)
    await panel(page).get_by_role("button", name="仍然在线咨询").click()
    await expect(gate(page)).to_be_hidden()
    await expect(form(page)).to_be_hidden()
    await expect(composer(page)).to_be_focused()
    await expect(composer(page)).to_have_value(QUESTION)
    await composer(page).press("Enter")
    accepted = await wang.accept_next()
    assert accepted["consultation"]["subject"] == QUESTION
    await expect(panel(page).get_by_text("王老师（示例市公共图书馆）正在为您解答")).to_be_visible()
    cid = int(accepted["consultation"]["id"])
    await wang.say(cid, "您好，闭馆时间也可以为您解答。")
    await expect(bubble(page, "您好，闭馆时间也可以为您解答。")).to_be_visible()

    # A chat under way is never interrupted: not when the panel is reopened, not after a reload.
    await panel(page).get_by_role("button", name="收起咨询窗口").click()
    await launcher(page).click()
    await expect(composer(page)).to_be_focused()
    await page.reload()
    await expect(bubble(page, QUESTION)).to_be_visible()
    await details_shown(page)
    await expect(gate(page)).to_be_hidden()
    await expect(composer(page)).to_be_visible()


async def test_open_but_nobody_online_offers_the_form_and_the_queue(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    await bots(live_desk)
    await set_hours(live_desk, ["00:00", "24:00"])  # open all day, every day
    page = await new_page(await site(host_site, live_desk))
    await opens(page)
    await expect(gate(page).locator("p")).to_have_text(
        "现在暂无咨询员在线。您可以在下面留言，咨询员稍后答复；也可以在线排队等待。"
    )
    await expect(form(page).get_by_label("您的问题")).to_be_focused()
    await expect(composer(page)).to_be_hidden()
    await panel(page).get_by_role("button", name="Switch to English").click()
    await expect(gate(page)).to_contain_text("No librarian is online right now.")
    await panel(page).get_by_role("button", name="Wait in the queue").click()
    await expect(composer(page, "Your message")).to_be_focused()
    await panel(page).get_by_role("button", name="切换到中文").click()

    # Waiting in the queue: the waiting bot says nobody is online and offers the form again.
    await send(page, QUESTION)
    await expect(bubble(page, QUESTION).locator(".st")).to_be_hidden()
    await tell_waiting(live_desk)
    await expect(queue_line(page)).to_have_text("暂无咨询员在线，您可以继续等待或留言")
    await expect(panel(page).get_by_role("button", name="改为留言")).to_be_visible()
    await expect(gate(page)).to_be_hidden()


async def test_the_details_are_refreshed_on_reopening_at_most_every_minute(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    await set_hours(live_desk, ["00:00", "24:00"])
    page = await new_page()
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/api/libraries/" in r.url else None)
    await page.clock.install()
    await page.goto(await site(host_site, live_desk))
    await expect(launcher(page)).to_be_visible()
    assert asked == []  # a page view asks the desk for nothing
    await opens(page)
    await expect(gate(page)).to_contain_text("现在暂无咨询员在线")
    assert len(asked) == 1

    # Someone comes online; reopened at once, the details are fresh enough.
    wang = await consultant(live_desk)
    await panel(page).get_by_role("button", name="收起咨询窗口").click()
    await launcher(page).click()
    await expect(gate(page)).to_be_visible()
    await page.wait_for_timeout(300)
    assert len(asked) == 1

    # Reopened a minute later: asked again, and now the chat is offered as usual.
    await panel(page).get_by_role("button", name="收起咨询窗口").click()
    await page.clock.fast_forward(61_000)
    assert len(asked) == 1  # nothing while the panel is closed
    await launcher(page).click()
    await expect(gate(page)).to_be_hidden()
    await expect(composer(page)).to_be_focused()
    await expect(panel(page).locator(".intro")).to_contain_text("请直接输入您的问题")
    assert len(asked) == 2

    # While it stays open: once a minute. The librarian goes away; the form comes first again.
    await wang.ok("status.set", {"status": "away"})
    await page.clock.fast_forward(61_000)
    await expect(gate(page)).to_contain_text("现在暂无咨询员在线")
    await expect(form(page).get_by_label("您的问题")).to_be_focused()
    assert len(asked) == 3
