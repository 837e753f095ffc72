"""The console's composer checks before a reply goes out: the etiquette helper (jargon and
abbreviations with plain words, links a reader could not open) and a "/shortcut" that names
no quick phrase. Both warn once; a second send sends.

Readers are the harness's Python clients; the consultant uses the console in the browser.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import update

from desk.models import Library
from tests.browser.conftest import HostSite
from tests.browser.test_console import (
    SEEN_MS,
    accept_offer,
    composer,
    go_online,
    log,
    reader_asks,
    signed_in,
)
from tests.harness import Node, Reader

pytestmark = pytest.mark.browser

#: The library's own lists, as its supervisors keep them (PUT /api/etiquette).
LISTS = {
    "terms": [{"term": "读秀", "hint": "读秀学术搜索（一个查图书和论文的网站）"}],
    "hosts": [
        {"host": "lib.example.edu.cn", "reason": "campus"},
        {"host": ".cnki.example.com", "reason": "paid"},
    ],
}


async def chat_with_reader(node: Node, site: HostSite, page: Page, q: str) -> tuple[Reader, int]:
    r, cid = await reader_asks(node, site, q)
    await accept_offer(page, q)
    await r.wait_for("consultation", lambda c: c["state"] == "assigned")
    return r, cid


def said(r: Reader, cid: int) -> list[str]:
    return [m["body"] for m in r.messages(cid) if m["author_kind"] == "consultant"]


async def test_jargon_and_closed_links_are_flagged_before_a_reply_goes_out(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    async with live_desk.desk.sessions.begin() as s:
        await s.execute(update(Library).where(Library.code == "demo-pl").values(etiquette=LISTS))
    page = await signed_in(new_page, live_desk, "wang")
    await go_online(page)
    r, cid = await chat_with_reader(live_desk, host_site, page, "学位论文在哪里查？")
    flags = page.get_by_test_id("etiquette")
    checks = page.locator(".composer-checks")
    await expect(checks).to_have_attribute("aria-live", "polite")

    # First Enter: the flags, each with what to do; nothing is sent.
    text = (
        "请先用OPAC查，全文在 http://10.1.2.3/thesis 和 https://lib.example.edu.cn/db ，"
        "也可以试试 https://kns.cnki.example.com/x"
    )
    await composer(page).fill(text)
    await composer(page).press("Enter")
    await expect(flags).to_be_visible()
    await expect(flags.locator(".etiquette-title")).to_have_text("发送前请检查（4 处）：")
    items = flags.locator("li")
    await expect(items.nth(0)).to_have_text(
        "“OPAC”是缩写或术语，读者可能看不懂。 建议说：馆藏目录查询（书目检索系统）"
    )
    await expect(items.nth(1)).to_contain_text("http://10.1.2.3/thesis")
    await expect(items.nth(1)).to_contain_text("读者可能打不开：内网地址，馆外打不开。")
    await expect(items.nth(2)).to_contain_text("本馆列为仅限校园网或馆内访问（lib.example.edu.cn）")
    await expect(items.nth(3)).to_contain_text(
        "本馆列为需要付费、注册或登录才能阅读（.cnki.example.com）"
    )
    await expect(flags).to_contain_text("《非实时参考咨询回复规范》第 5 条")
    await expect(composer(page)).to_have_value(text)
    await expect(composer(page)).to_have_attribute(
        "aria-describedby", re.compile(r"composer-checks-")
    )
    await expect(log(page).locator(".msg.mine")).to_have_count(0)

    # Editing checks again as one types: fixed flags go, the rest stay.
    fixed = (
        "请先用馆藏目录查询，全文在 http://10.1.2.3/thesis 和 https://lib.example.edu.cn/db ，"
        "也可以试试 https://kns.cnki.example.com/x"
    )
    await composer(page).fill(fixed)
    await expect(flags.locator(".etiquette-title")).to_have_text("发送前请检查（3 处）：")
    await expect(flags).not_to_contain_text("OPAC")
    # Every remaining flag was shown: the second Enter sends it as it is.
    await composer(page).press("Enter")
    await r.wait_for("message", lambda m: m["body"] == fixed)
    await expect(flags).to_have_count(0)
    await expect(composer(page)).to_have_value("")

    # A flag that appears while editing is shown before anything goes out.
    await composer(page).fill("书的索书号请看 http://opac/item/1")
    await composer(page).press("Enter")
    await expect(flags.locator(".etiquette-title")).to_have_text("发送前请检查（2 处）：")
    await expect(flags).to_contain_text("不完整的内网主机名（没有域名）")
    await expect(flags).to_contain_text("建议说：书在书架上的位置编号（索书号）")
    await composer(page).press("End")
    await composer(page).press_sequentially("，也可以用读秀")
    await expect(flags.locator(".etiquette-title")).to_have_text("发送前请检查（3 处）：")
    await expect(flags).to_contain_text("建议说：读秀学术搜索（一个查图书和论文的网站）")
    await composer(page).press("Enter")
    await expect(flags).to_be_visible()
    await expect(composer(page)).to_have_value("书的索书号请看 http://opac/item/1，也可以用读秀")

    # "仍然发送" from the keyboard: it is the next stop after the input.
    await composer(page).press("Tab")
    anyway = flags.get_by_role("button", name="仍然发送")
    await expect(anyway).to_be_focused()
    await anyway.press("Enter")
    await r.wait_for("message", lambda m: m["body"].endswith("也可以用读秀"))
    await expect(flags).to_have_count(0)

    # A reply with nothing to flag goes at once; so does a staff note, which no reader sees.
    await composer(page).fill("国家图书馆的网站是 https://www.nlc.cn/ 。")
    await composer(page).press("Enter")
    await r.wait_for("message", lambda m: "www.nlc.cn" in m["body"])
    await composer(page).press("Alt+n")
    await composer(page).fill("读者可能需要 ILL，内网 http://192.168.1.5/ 查")
    await composer(page).press("Enter")
    await expect(log(page).locator(".msg.note", has_text="读者可能需要 ILL")).to_be_visible(
        timeout=SEEN_MS
    )
    await expect(flags).to_have_count(0)

    # In English the flags are in English.
    await composer(page).press("Alt+n")
    await page.get_by_role("button", name="English").click()
    await composer(page).fill("pls check http://printer.local/")
    await composer(page).press("Enter")
    await expect(flags.locator(".etiquette-title")).to_have_text("Check before sending (2):")
    await expect(flags).to_contain_text("Plain words: please")
    await expect(flags).to_contain_text("an intranet domain (.local)")
    await page.get_by_role("button", name="中文").click()

    # What the reader got: each reply once, the staff note never.
    assert said(r, cid) == [
        fixed,
        "书的索书号请看 http://opac/item/1，也可以用读秀",
        "国家图书馆的网站是 https://www.nlc.cn/ 。",
    ]


async def test_a_slash_word_that_is_no_phrase_is_not_sent_by_mistake(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    page = await signed_in(new_page, live_desk, "wang")
    await go_online(page)
    r, cid = await chat_with_reader(live_desk, host_site, page, "请问可以远程访问数据库吗？")
    hint = page.get_by_test_id("slash-hint")

    # The picker finds nothing for "/xyz": Enter tells so instead of sending "/xyz".
    await composer(page).press_sequentially("/xyz")
    picker = page.get_by_role("listbox", name="快捷用语")
    await expect(picker).to_contain_text("没有匹配的快捷用语")
    await composer(page).press("Enter")
    await expect(hint).to_contain_text("没有名为 /xyz 的快捷用语")
    await expect(hint).to_contain_text("再按 Enter 按原样发送")
    await expect(picker).to_have_count(0)
    await expect(composer(page)).to_have_value("/xyz")
    await page.wait_for_timeout(500)
    assert said(r, cid) == []

    # Esc takes the hint back; editing does too (and checks again on the next Enter).
    await composer(page).press("Escape")
    await expect(hint).to_have_count(0)
    await composer(page).press_sequentially(" 请问")
    await composer(page).press("Enter")
    await expect(hint).to_contain_text("没有名为 /xyz 的快捷用语")
    await composer(page).press("Backspace")
    await expect(hint).to_have_count(0)
    await composer(page).press("Enter")
    await expect(hint).to_be_visible()

    # A second Enter sends the text as typed, deliberately.
    await composer(page).press("Enter")
    await r.wait_for("message", lambda m: m["body"] == "/xyz 请")
    await expect(hint).to_have_count(0)

    # A real shortcut still inserts its phrase; in English the hint is English.
    await composer(page).press_sequentially("/wait")
    # As a consultant does: Enter once the picker shows the phrase.
    await expect(picker).to_contain_text("请您不要着急")
    await composer(page).press("Enter")
    await expect(composer(page)).to_have_value("请您不要着急，我正在为您查找，请稍候。")
    await composer(page).fill("")
    await page.get_by_role("button", name="English").click()
    await composer(page).press_sequentially("/nope")
    await composer(page).press("Enter")
    await expect(hint).to_contain_text("No quick phrase /nope")
    await page.get_by_role("button", name="中文").click()
    assert said(r, cid) == ["/xyz 请"]
