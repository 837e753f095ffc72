"""The reader widget in a real browser, embedded on a library website of another origin, against
a real desk node; the consultant side is the harness's Socket.IO client.

Everything is asserted on what the reader sees, with Playwright's auto-waiting ``expect``.
Playwright's CSS and role locators pierce the widget's open shadow root.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import text

from bots.api import BOTS_KEY
from desk.app import SIO_KEY
from desk.sockets.reader import reader_room
from tests.browser.conftest import HostSite, embed_html, lose_relay
from tests.harness import Consultant, Node, Reader

pytestmark = pytest.mark.browser

QUESTION = "请问如何查找学位论文？"
#: Reconnecting takes a few backoff steps of socket.io-client; waits that span one get longer.
RECONNECT_MS = 30_000

HOSTILE_CSS = """<style>
html { font-size: 40px !important; }
* { color: red !important; font-size: 40px !important; display: block;
    line-height: 4 !important; font-family: serif !important; letter-spacing: 6px !important;
    text-transform: uppercase !important;
    visibility: visible; transform: rotate(2deg); box-sizing: content-box !important; }
div { padding: 30px !important; margin: 20px !important; border: 5px solid green !important;
      background: yellow !important; width: 50px !important; position: static !important; }
button { background: black !important; width: 500px !important; border-radius: 0 !important; }
textarea { display: none !important; }
section, h2, p { display: inline !important; }
[hidden] { display: block !important; }
</style>"""


def panel(page: Page) -> Any:
    return page.get_by_role("dialog")


def launcher(page: Page, name: str = "在线咨询") -> Any:
    return page.get_by_role("button", name=name)


def log(page: Page) -> Any:
    return page.get_by_role("log")


def composer(page: Page, name: str = "输入消息") -> Any:
    return page.get_by_role("textbox", name=name)


async def details_shown(page: Page) -> None:
    """The library's public details have come (the header shows its name, not the generic
    title): what the start view offers from them is decided by then."""
    await expect(panel(page).locator("h2.title")).not_to_have_text(
        re.compile(r"^(在线咨询|Live help)$")
    )


async def open_widget(page: Page) -> None:
    """Open the panel, ready to write. With nobody online the widget offers the form first
    (test_widget_hours.py); this then goes on to wait in the queue, as a reader may."""
    await launcher(page).click()
    await expect(panel(page)).to_be_visible()
    await details_shown(page)
    wait = panel(page).get_by_role("button", name="在线排队等待")
    if await wait.is_visible():
        await wait.click()
    await expect(composer(page)).to_be_focused()


async def send(page: Page, text: str) -> None:
    await composer(page).fill(text)
    await composer(page).press("Enter")


def bubble(page: Page, text: str) -> Any:
    """A message in the list whose body is exactly ``text``."""
    return log(page).locator(".msg").filter(has=page.locator(".body", has_text=text))


async def site(host_site: HostSite, desk: Node, library: str = "demo-pl", **kw: str) -> str:
    return host_site.page(f"/{library}", embed_html(desk.base, library, **kw))


async def consultant(desk: Node, username: str = "wang") -> Consultant:
    c = await Consultant.login(desk.base, username)
    await c.connect()
    return c


async def chat_with_wang(
    live_desk: Node, host_site: HostSite, new_page: Any, **context: Any
) -> tuple[Page, Consultant, int]:
    """A reader on the library's site asks; wang accepts. Returns the page, wang and the id."""
    page = await new_page(await site(host_site, live_desk), **context)
    wang = await consultant(live_desk)
    await open_widget(page)
    await send(page, QUESTION)
    accepted = await wang.accept_next()
    cid = int(accepted["consultation"]["id"])
    await expect(panel(page).get_by_text("王老师（示例市公共图书馆）正在为您解答")).to_be_visible()
    return page, wang, cid


async def stored_bodies(wang: Consultant, cid: int) -> list[str]:
    page = await wang.ok("history", {"consultation_id": cid})
    return [m["body"] for m in page["messages"] if m["visibility"] == "all"]


def reader_sids(desk: Node) -> list[str]:
    ns = desk.app[SIO_KEY].namespace_handlers["/reader"]
    return list(ns.sessions)  # type: ignore[attr-defined]


async def test_embed_on_other_origin_chat_both_ways(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    assert host_site.origin.split(":")[:2] != live_desk.base.split(":")[:2]
    page, wang, cid = await chat_with_wang(live_desk, host_site, new_page)

    # The library's name is in the header; the reader's question is shown as theirs.
    await expect(panel(page).get_by_role("heading", name="示例市公共图书馆")).to_be_visible()
    await expect(bubble(page, QUESTION)).to_have_class("msg m-reader")

    # The consultant's reply, with name and library.
    await wang.say(cid, "您好，请问是哪个专业的论文？")
    reply = bubble(page, "您好，请问是哪个专业的论文？")
    await expect(reply).to_have_class("msg m-consultant")
    await expect(reply.locator(".by")).to_have_text("王老师 · 示例市公共图书馆")

    # Typing indicator, both ways off again.
    await wang.ok("typing", {"consultation_id": cid, "typing": True})
    await expect(panel(page).get_by_text("咨询员正在输入…")).to_be_visible()
    await wang.ok("typing", {"consultation_id": cid, "typing": False})
    await expect(panel(page).get_by_text("咨询员正在输入…")).to_be_hidden()

    # The reader's typing reaches the consultant, then the reply itself.
    await composer(page).press_sequentially("计算")
    typing = await wang.wait_for("typing", lambda e: e["consultation_id"] == cid)
    assert typing["author_kind"] == "reader" and typing["typing"] is True
    await composer(page).fill("计算机专业，第二行\n第三行")
    await composer(page).press("Enter")
    got = await wang.wait_for("message", lambda m: m["body"].startswith("计算机专业"))
    assert got["body"] == "计算机专业，第二行\n第三行" and got["author_kind"] == "reader"
    mine = bubble(page, "计算机专业")
    await expect(mine).to_have_class("msg m-reader")
    await expect(mine.locator(".st")).to_be_hidden()  # acked: neither "sending" nor "not sent"
    assert await mine.locator(".body").inner_text() == "计算机专业，第二行\n第三行"

    # The panel is visible, so the reader's read mark reaches the consultant.
    read = await wang.wait_for("read", lambda e: e["consultation_id"] == cid and e["seq"] >= 3)
    assert read["side"] == "reader"
    # And the consultant's read mark shows on the reader's last message.
    await wang.ok("read", {"consultation_id": cid, "seq": got["seq"]})
    await expect(mine.locator(".st")).to_have_text("已读")


async def test_reload_mid_chat_keeps_history_without_duplicates(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    page, wang, cid = await chat_with_wang(live_desk, host_site, new_page)
    await wang.say(cid, "第一条回复")
    await send(page, "读者的第二个问题")
    await wang.wait_for("message", lambda m: m["body"] == "读者的第二个问题")
    await wang.say(cid, "第二条回复")
    await expect(bubble(page, "第二条回复")).to_be_visible()

    await page.reload()
    # The panel was open, so it opens again, with the whole conversation exactly once.
    await expect(panel(page)).to_be_visible()
    for body in (QUESTION, "第一条回复", "读者的第二个问题", "第二条回复"):
        await expect(bubble(page, body)).to_have_count(1)
    await expect(log(page).locator(".msg")).to_have_count(4)
    await expect(panel(page).get_by_text("王老师（示例市公共图书馆）正在为您解答")).to_be_visible()

    # The same reader and consultation go on: new messages both ways.
    await wang.say(cid, "重新加载后的回复")
    await expect(bubble(page, "重新加载后的回复")).to_be_visible()
    await send(page, "收到，谢谢")
    await wang.wait_for("message", lambda m: m["body"] == "收到，谢谢")
    assert await stored_bodies(wang, cid) == [
        QUESTION,
        "第一条回复",
        "读者的第二个问题",
        "第二条回复",
        "重新加载后的回复",
        "收到，谢谢",
    ]

    # A reload in launcher mode after closing the panel: the launcher counts new replies.
    await page.keyboard.press("Escape")
    await expect(panel(page)).to_be_hidden()
    await page.reload()
    await wang.say(cid, "关闭面板时的回复")
    await expect(launcher(page, "在线咨询, 1 条新消息")).to_be_visible()
    await launcher(page, "在线咨询, 1 条新消息").click()
    await expect(bubble(page, "关闭面板时的回复")).to_be_visible()
    await expect(log(page).locator(".msg")).to_have_count(7)


async def test_messages_written_offline_are_sent_once_on_reconnect(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    page, wang, cid = await chat_with_wang(live_desk, host_site, new_page)
    assert len(reader_sids(live_desk)) == 1

    # Cut the reader off: the browser goes offline (new requests, including socket.io's
    # polling handshake and WebSocket opens, fail) and the desk drops the reader's Engine.IO
    # connection, which an emulated offline state alone does not close.
    context = page.context
    await context.set_offline(True)
    await context.route("**/socket.io/**", _abort)
    sio = live_desk.app[SIO_KEY]
    for sid in reader_sids(live_desk):
        await sio.eio.disconnect(sio.manager.eio_sid_from_sid(sid, "/reader"))
    await expect(panel(page).get_by_role("status").filter(has_text="网络已断开")).to_be_visible()
    await live_desk.until(lambda: _no_readers(live_desk), "the reader's socket is gone")

    await send(page, "离线时写的第一条")
    await send(page, "离线时写的第二条")
    for body in ("离线时写的第一条", "离线时写的第二条"):
        await expect(bubble(page, body).locator(".st")).to_have_text("尚未发送")
    assert not reader_sids(live_desk)  # still offline: nothing can have been sent

    # Unsent messages survive a reload while offline (the outbox is in localStorage).
    outbox = await page.evaluate(
        "() => Object.keys(localStorage).filter(k => k.startsWith('deskwidget:'))"
        ".map(k => localStorage.getItem(k)).join('')"
    )
    assert "离线时写的第一条" in outbox and "离线时写的第二条" in outbox

    await context.unroute("**/socket.io/**")
    await context.set_offline(False)
    first = await wang.wait_for(
        "message", lambda m: m["body"] == "离线时写的第一条", timeout=RECONNECT_MS / 1000
    )
    second = await wang.wait_for("message", lambda m: m["body"] == "离线时写的第二条")
    assert first["seq"] < second["seq"]  # sent in the order written
    for body in ("离线时写的第一条", "离线时写的第二条"):
        await expect(bubble(page, body).locator(".st")).to_be_hidden(timeout=RECONNECT_MS)
        await expect(bubble(page, body)).to_have_count(1)
    await expect(panel(page).get_by_role("status").filter(has_text="网络已断开")).to_be_hidden()
    bodies = await stored_bodies(wang, cid)
    assert bodies.count("离线时写的第一条") == 1 and bodies.count("离线时写的第二条") == 1
    # The outbox has a key of its own (per library), removed once it is empty.
    assert await page.evaluate(
        "() => Object.keys(localStorage).filter(k => k.includes(':out:')).length === 0"
    )


async def _abort(route: Any) -> None:
    await route.abort()


async def _no_readers(desk: Node) -> bool:
    return not reader_sids(desk)


async def test_server_hang_up_reconnects_and_catches_up(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    """A desk node going down disconnects its sockets on purpose ("io server disconnect"),
    which socket.io-client does not retry by itself: the widget must."""
    page, wang, cid = await chat_with_wang(live_desk, host_site, new_page)
    sio = live_desk.app[SIO_KEY]
    for sid in reader_sids(live_desk):
        await sio.disconnect(sid, namespace="/reader")
    await live_desk.until(lambda: _no_readers(live_desk), "the reader's socket is gone")
    await wang.say(cid, "读者断开期间的回复")  # missed as an event, recovered by resume
    await expect(bubble(page, "读者断开期间的回复")).to_be_visible(timeout=RECONNECT_MS)
    await expect(bubble(page, "读者断开期间的回复")).to_have_count(1)


async def test_a_reply_whose_relay_was_lost_is_fetched_and_kept_across_a_reload(
    live_desk: Node, host_site: HostSite, new_page: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The next reply names the lost one as the message before it (``prev``): the widget
    fetches it, shows it once and in its place, and does not resume past it after a reload."""
    page, wang, cid = await chat_with_wang(live_desk, host_site, new_page)
    dropped = lose_relay(monkeypatch, live_desk, "/reader", "这条的转发丢了")
    await wang.say(cid, "这条的转发丢了")
    await wang.say(cid, "下一条回复")
    await expect(bubble(page, "下一条回复")).to_be_visible()
    assert dropped, "the first reply's relay was dropped"
    await expect(bubble(page, "这条的转发丢了")).to_have_count(1)
    bodies = log(page).locator(".msg .body")
    await expect(bodies).to_have_count(3)
    assert [b.strip() for b in await bodies.all_inner_texts()] == [
        QUESTION,
        "这条的转发丢了",
        "下一条回复",
    ]
    await page.reload()
    await expect(panel(page)).to_be_visible()
    await expect(bodies).to_have_count(3)
    assert [b.strip() for b in await bodies.all_inner_texts()][1] == "这条的转发丢了"


async def test_reader_ends_the_chat(live_desk: Node, host_site: HostSite, new_page: Any) -> None:
    page, wang, cid = await chat_with_wang(live_desk, host_site, new_page)
    await panel(page).get_by_role("button", name="结束咨询").click()
    await expect(panel(page).get_by_text("确定结束本次咨询吗？")).to_be_visible()
    await panel(page).get_by_role("button", name="继续咨询").click()  # changed their mind
    await expect(panel(page).get_by_text("确定结束本次咨询吗？")).to_be_hidden()
    await composer(page).fill("还没写完的话")

    await panel(page).get_by_role("button", name="结束咨询").click()
    await panel(page).get_by_role("button", name="结束", exact=True).click()
    await expect(panel(page).get_by_text("您已结束本次咨询。")).to_be_visible()
    ended = await wang.wait_for("consultation", lambda c: c["id"] == cid)
    assert ended["state"] == "closed" and ended["ended_by"] == "reader"
    await expect(panel(page).get_by_role("button", name="结束咨询")).to_be_hidden()
    await expect(composer(page)).to_be_disabled()
    await expect(composer(page)).to_have_value("还没写完的话")  # nothing typed is lost

    # A new consultation starts from the ended one.
    await panel(page).get_by_role("button", name="开始新的咨询").click()
    await expect(log(page).locator(".msg")).to_have_count(0)
    await expect(composer(page)).to_be_enabled()
    await composer(page).press("Enter")
    offer = await wang.wait_for("offer", lambda o: o["consultation"]["id"] != cid)
    assert offer["consultation"]["subject"] == "还没写完的话"


async def test_consultant_ending_says_so(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    page, wang, cid = await chat_with_wang(live_desk, host_site, new_page)
    await wang.ok("consultation.close", {"consultation_id": cid})
    await expect(panel(page).get_by_text("咨询员已结束本次咨询。")).to_be_visible()
    await expect(panel(page).get_by_role("button", name="开始新的咨询")).to_be_visible()


async def test_markup_is_shown_as_text(live_desk: Node, host_site: HostSite, new_page: Any) -> None:
    page, wang, cid = await chat_with_wang(live_desk, host_site, new_page)
    evil = '<img src=x onerror="window.__xss=1">'
    await wang.say(cid, evil)
    await send(page, evil + "<b>bold</b>")
    await wang.wait_for("message", lambda m: m["body"] == evil + "<b>bold</b>")
    await expect(bubble(page, evil).first.locator(".body")).to_have_text(evil)
    await expect(bubble(page, evil + "<b>bold</b>").locator(".body")).to_have_text(
        evil + "<b>bold</b>"
    )
    assert await log(page).locator("img, b").count() == 0
    assert await page.evaluate("() => window.__xss") is None


STYLE_PROPS = [
    "color",
    "font-size",
    "font-family",
    "line-height",
    "letter-spacing",
    "text-transform",
    "display",
    "position",
    "padding-top",
    "margin-top",
    "border-top-width",
    "background-color",
    "width",
    "height",
    "transform",
    "visibility",
]

COMPUTED = """([sel, props]) => {
    const host = document.querySelector('[data-desk-widget]');
    const hostStyle = getComputedStyle(host);
    const out = {host: props.map(p => hostStyle.getPropertyValue(p))};
    for (const s of sel) {
        const el = host.shadowRoot.querySelector(s);
        const cs = getComputedStyle(el);
        out[s] = props.map(p => cs.getPropertyValue(p));
    }
    return out;
}"""


async def test_hostile_page_css_does_not_change_the_widget(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    plain = host_site.page("/plain", embed_html(live_desk.base, "demo-pl"))
    hostile = host_site.page("/hostile", embed_html(live_desk.base, "demo-pl", body=HOSTILE_CSS))
    seen = []
    for url in (plain, hostile):
        # Phone width: there the page's transform on <body> would capture position: fixed
        # (the widget sits in the top layer to escape it).
        page = await new_page(url, viewport={"width": 360, "height": 640})
        await expect(launcher(page)).to_be_in_viewport()
        closed = await page.evaluate(COMPUTED, [[".launcher"], STYLE_PROPS])
        await open_widget(page)
        assert await panel(page).bounding_box() == {"x": 0, "y": 0, "width": 360, "height": 640}
        await send(page, "一个问题")
        await expect(bubble(page, "一个问题").locator(".st")).to_be_hidden()
        opened = await page.evaluate(
            COMPUTED,
            [
                [".panel", "header", ".title", ".input", ".send", ".msg", ".body", ".log"],
                STYLE_PROPS,
            ],
        )
        seen.append((closed, opened))
    assert seen[0] == seen[1]
    # And it looks like the widget, not like the page: e.g. the launcher's own text colour.
    assert seen[1][0][".launcher"][0] == "rgb(255, 255, 255)"


async def test_widget_leaves_the_host_page_alone(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    bare = (
        "<!doctype html><html><head><title>t</title></head>"
        "<body><h1>Library home</h1></body></html>"
    )
    before_url = host_site.page("/bare", bare)
    page = await new_page(before_url)
    globals_before = set(await page.evaluate("() => Object.keys(window)"))
    page = await new_page(await site(host_site, live_desk))
    await expect(launcher(page)).to_be_visible()
    added = set(await page.evaluate("() => Object.keys(window)")) - globals_before
    assert added <= {"DeskWidget"}, added
    shape = await page.evaluate(
        """() => ({
            body: [...document.body.children]
                .map(e => e.tagName + (e.dataset.deskWidget ? ':w' : '')),
            styles: document.querySelectorAll('style, link[rel=stylesheet]').length,
            h1: getComputedStyle(document.querySelector('h1')).fontSize,
        })"""
    )
    assert shape == {"body": ["H1", "SCRIPT", "DIV:w"], "styles": 0, "h1": "32px"}
    # No visitor token is created merely by viewing a page.
    assert await page.evaluate("() => Object.keys(localStorage).length") == 0


async def test_english_is_sent_as_the_consultation_language(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    page = await new_page(await site(host_site, live_desk))
    wang = await consultant(live_desk)
    await open_widget(page)
    await panel(page).get_by_role("button", name="Switch to English").click()
    await expect(panel(page)).to_have_accessible_name("Demo City Public Library live help")
    await send_en(page, "How do I renew a book?")
    offer = await wang.wait_for("offer")
    assert offer["consultation"]["language"] == "en"
    await wang.ok("offer.accept", {"consultation_id": offer["consultation"]["id"]})
    await expect(
        panel(page).get_by_text("王老师 (Demo City Public Library) is answering you")
    ).to_be_visible()
    # The choice is remembered for this library.
    await page.reload()
    await expect(panel(page).get_by_role("button", name="切换到中文")).to_be_visible()


async def send_en(page: Page, text: str) -> None:
    await composer(page, "Your message").fill(text)
    await composer(page, "Your message").press("Enter")


async def test_data_lang_en_and_a_language_the_library_does_not_serve(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    # demo-ul answers in Chinese only: the refusal is explained and the question kept.
    page = await new_page(await site(host_site, live_desk, "demo-ul", attrs='data-lang="en"'))
    await launcher(page, "Ask a librarian").click()
    await expect(panel(page).get_by_text("This library answers in: Chinese.")).to_be_visible()
    await send_en(page, "Do you have English books?")
    await expect(panel(page).get_by_role("alert")).to_have_text(
        "This library does not answer in that language. Available: Chinese."
    )
    await expect(composer(page, "Your message")).to_have_value("Do you have English books?")


async def test_too_long_message_is_refused_and_kept(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    page = await new_page(await site(host_site, live_desk))
    await open_widget(page)
    long = "书" * 4001
    await send(page, long)
    await expect(panel(page).get_by_role("alert")).to_have_text(
        "消息太长了（最多 4000 字），请缩短后再发送。"
    )
    await expect(composer(page)).to_have_value(long)


async def test_phone_width_fills_the_screen(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    page = await new_page(await site(host_site, live_desk), viewport={"width": 360, "height": 640})
    await expect(launcher(page)).to_be_in_viewport()
    await open_widget(page)
    box = await panel(page).bounding_box()
    assert box == {"x": 0, "y": 0, "width": 360, "height": 640}
    for part in (composer(page), panel(page).get_by_role("button", name="发送"), log(page)):
        await expect(part).to_be_in_viewport()
    await send(page, "手机上的问题")
    await expect(bubble(page, "手机上的问题")).to_be_in_viewport()


async def test_keyboard_only(live_desk: Node, host_site: HostSite, new_page: Any) -> None:
    page, wang, cid = await chat_with_wang(live_desk, host_site, new_page)
    await page.keyboard.press("Escape")
    await expect(panel(page)).to_be_hidden()
    await expect(launcher(page)).to_be_focused()

    await page.keyboard.press("Enter")
    await expect(panel(page)).to_be_visible()
    await expect(composer(page)).to_be_focused()
    await page.keyboard.type("第一行")
    await page.keyboard.press("Shift+Enter")
    await page.keyboard.type("第二行")
    await page.keyboard.press("Enter")
    got = await wang.wait_for("message", lambda m: m["body"].startswith("第一行"))
    assert got["body"] == "第一行\n第二行"
    await expect(composer(page)).to_have_value("")

    # Back from the text box to "end chat", confirm, and land on "start a new chat".
    await page.keyboard.press("Shift+Tab")  # the message list
    await page.keyboard.press("Shift+Tab")  # minimize
    await page.keyboard.press("Shift+Tab")  # end chat
    await expect(panel(page).get_by_role("button", name="结束咨询")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(panel(page).get_by_role("button", name="继续咨询")).to_be_focused()
    await page.keyboard.press("Shift+Tab")
    await expect(panel(page).get_by_role("button", name="结束", exact=True)).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(panel(page).get_by_text("您已结束本次咨询。")).to_be_visible()
    await expect(panel(page).get_by_role("button", name="开始新的咨询")).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(launcher(page)).to_be_focused()


async def test_accessible_roles(live_desk: Node, host_site: HostSite, new_page: Any) -> None:
    page = await new_page(await site(host_site, live_desk))
    await expect(launcher(page)).to_have_attribute("aria-expanded", "false")
    await open_widget(page)
    await expect(launcher(page)).to_be_hidden()
    await expect(panel(page)).to_have_accessible_name("示例市公共图书馆 在线咨询")
    await expect(log(page)).to_have_attribute("aria-live", "polite")
    await expect(log(page)).to_have_accessible_name("咨询记录")
    await expect(panel(page).get_by_role("status")).to_have_attribute("aria-live", "polite")
    await expect(composer(page)).to_be_visible()
    for name in ("发送", "English", "收起咨询窗口"):
        await expect(panel(page).get_by_role("button", name=name)).to_be_visible()


async def test_refused_token_is_replaced(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    url = await site(host_site, live_desk)
    page = await new_page()
    key = f"deskwidget:{live_desk.base}:token"
    await page.add_init_script(f"localStorage.setItem({json.dumps(key)}, 'not-a-token')")
    await page.goto(url)
    wang = await consultant(live_desk)
    await open_widget(page)
    await send(page, QUESTION)
    await wang.accept_next()
    await expect(bubble(page, QUESTION).locator(".st")).to_be_hidden()
    assert await page.evaluate(f"() => localStorage.getItem({json.dumps(key)})") != "not-a-token"


async def test_full_page_mode(live_desk: Node, host_site: HostSite, new_page: Any) -> None:
    page = await new_page(
        await site(host_site, live_desk, attrs='data-mode="page"'),
        viewport={"width": 1000, "height": 700},
    )
    await expect(panel(page)).to_be_visible()
    await expect(launcher(page)).to_have_count(0)
    assert await panel(page).bounding_box() == {"x": 0, "y": 0, "width": 1000, "height": 700}
    await expect(panel(page).get_by_role("button", name="收起咨询窗口")).to_be_hidden()


async def test_desk_chat_page(live_desk: Node, new_page: Any) -> None:
    """The desk's own full-page chat (``/chat/{code}``), same origin as the desk."""
    wang = await consultant(live_desk)  # online first: the page offers the chat at once
    page = await new_page(f"{live_desk.base}/chat/demo-pl?lang=en")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(panel(page)).to_have_accessible_name("Demo City Public Library live help")
    await send_en(page, "A question from the desk's own page")
    offer = await wang.wait_for("offer")
    assert offer["consultation"]["language"] == "en"
    await expect(bubble(page, "A question from the desk's own page").locator(".st")).to_be_hidden()


# ---- the queue status line (the waiting bot's live `queue.position`) -----------------------

#: Every text the status line was given, in order, recorded inside the page: a repeated status
#: with the same wording must not touch the DOM (a polite live region would announce it again).
WATCH_QUEUE_LINE = """() => {
    const el = document.querySelector('[data-desk-widget]').shadowRoot.querySelector('.queue');
    window.__queueTexts = [];
    new MutationObserver((records) => {
        for (const r of records) {
            const added = [...r.addedNodes].map((n) => n.textContent).join('');
            window.__queueTexts.push(r.type === 'characterData' ? r.target.data : added);
        }
    }).observe(el, {childList: true, characterData: true, subtree: true});
}"""


def queue_line(page: Page) -> Any:
    return panel(page).locator(".queue")


async def queue_texts(page: Page) -> list[str]:
    return list(await page.evaluate("() => window.__queueTexts"))


async def sql(desk: Node, statement: str, **params: Any) -> None:
    async with desk.desk.engine.begin() as conn:
        await conn.execute(text(statement), params)
    desk.desk.directory.forget()


async def bots(desk: Node, settings: str = "{}") -> None:
    """Switch the library bots on (every setting at its default) or as ``settings`` says."""
    await sql(desk, "UPDATE libraries SET bot_settings = :s", s=settings)


async def tell_waiting(desk: Node) -> None:
    """One pass of the waiting bot now (the scheduler also runs one every 5 s)."""
    await desk.app[BOTS_KEY].tell_waiting()


async def widget_consultation(page: Page) -> int:
    cid = await page.evaluate(
        "() => Object.keys(localStorage).filter(k => k.includes(':lib:'))"
        ".map(k => JSON.parse(localStorage.getItem(k)).cid)[0]"
    )
    assert isinstance(cid, int)
    return cid


async def other_reader_asks(desk: Node, host_site: HostSite, question: str) -> tuple[Reader, int]:
    r = await Reader.register(desk.base, "demo-pl", origin=host_site.origin)
    await r.connect(origin=host_site.origin)
    opened = await r.open(question)
    return r, int(opened["consultation"]["id"])


async def barrier(page: Page, body: str) -> None:
    """The reader sends a message and sees it acknowledged: every event the desk emitted to
    this reader before has been handled by the widget by then (one socket keeps the order)."""
    await send(page, body)
    await expect(bubble(page, body).locator(".st")).to_be_hidden()


async def test_queue_status_line_follows_the_place_until_assigned(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    await bots(live_desk)
    # li takes one chat at a time and holds reader A's: later readers queue behind.
    await sql(live_desk, "UPDATE consultants SET max_chats = 1 WHERE username = 'li'")
    li = await consultant(live_desk, "li")
    _a, cid_a = await other_reader_asks(live_desk, host_site, "读者甲的问题")
    assert int((await li.accept_next())["consultation"]["id"]) == cid_a
    reader_c, cid_c = await other_reader_asks(live_desk, host_site, "读者丙的问题")

    page = await new_page(await site(host_site, live_desk))
    await page.evaluate(WATCH_QUEUE_LINE)
    await open_widget(page)
    await send(page, QUESTION)
    await expect(bubble(page, QUESTION).locator(".st")).to_be_hidden()
    cid = await widget_consultation(page)
    # The greeting bot's message has its own author label.
    greeting = log(page).locator(".msg.m-bot").first
    await expect(greeting.locator(".by")).to_have_text("咨询台助手")

    # Second in line behind reader C.
    await tell_waiting(live_desk)
    second = re.compile(r"^排队中：您前面还有 1 位读者，预计等待约 \d+ 分钟$")
    await expect(queue_line(page)).to_have_text(second)
    await expect(queue_line(page)).to_have_attribute("aria-live", "polite")
    first_text = await queue_line(page).text_content()
    # The same place again, and a status for another consultation: no change at all.
    await tell_waiting(live_desk)
    await tell_waiting(live_desk)
    reader_id = await reader_of(live_desk, cid)
    await live_desk.app[SIO_KEY].emit(
        "queue.position",
        {
            "consultation_id": cid_c,
            "position": 7,
            "ahead": 6,
            "minutes": 40,
            "consultants_online": True,
        },
        room=reader_room(reader_id),
        namespace="/reader",
    )
    await barrier(page, "还要等多久？")
    assert await queue_texts(page) == [first_text]

    # Reader C gives up: now next in line, told in one update.
    await reader_c.ok("consultation.close", {"consultation_id": cid_c})
    await tell_waiting(live_desk)
    next_re = re.compile(r"^排队中：您是下一位，预计等待约 \d+ 分钟$")
    await expect(queue_line(page)).to_have_text(next_re)
    next_text = await queue_line(page).text_content()
    await tell_waiting(live_desk)
    await barrier(page, "好的，我再等等")
    assert await queue_texts(page) == [first_text, next_text]

    # The same words in English when the reader switches.
    await panel(page).get_by_role("button", name="Switch to English").click()
    await expect(queue_line(page)).to_have_text(
        re.compile(r"^In the queue: you are next, about \d+ min$")
    )
    await expect(greeting.locator(".by")).to_have_text("Desk assistant")
    await panel(page).get_by_role("button", name="切换到中文").click()
    await expect(queue_line(page)).to_have_text(next_text or "")

    # li finishes with A and takes this chat: the status goes away.
    await li.ok("consultation.close", {"consultation_id": cid_a})
    offer = await li.wait_for("offer", lambda o: o["consultation"]["id"] == cid)
    await li.ok("offer.accept", {"consultation_id": offer["consultation"]["id"]})
    await expect(panel(page).get_by_text("李老师（示例市公共图书馆）正在为您解答")).to_be_visible()
    await expect(queue_line(page)).to_be_empty()
    texts = await queue_texts(page)
    assert texts[-1] == "" and texts.count("") == 1


async def reader_of(desk: Node, cid: int) -> int:
    async with desk.desk.engine.begin() as conn:
        row = await conn.execute(
            text("SELECT reader_id FROM consultations WHERE id = :id"), {"id": cid}
        )
        return int(row.scalar_one())


async def test_queue_status_when_nobody_is_online_and_not_after_a_reload(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    await bots(live_desk)
    page = await new_page(await site(host_site, live_desk))
    await open_widget(page)
    await send(page, QUESTION)
    await expect(bubble(page, QUESTION).locator(".st")).to_be_hidden()
    await tell_waiting(live_desk)
    await expect(queue_line(page)).to_have_text("暂无咨询员在线，您可以继续等待或留言")
    await panel(page).get_by_role("button", name="Switch to English").click()
    await expect(queue_line(page)).to_have_text(
        "No librarian is online right now. You can keep waiting or leave a message."
    )

    # A reload shows no old status: nothing until the bot tells the place again.
    await bots(live_desk, '{"waiting": false}')
    await page.reload()
    await expect(
        panel(page).get_by_text("Finding a librarian for you. Please wait…")
    ).to_be_visible()
    await expect(bubble(page, QUESTION)).to_have_count(1)  # resumed
    await expect(queue_line(page)).to_be_empty()
    await bots(live_desk)
    await tell_waiting(live_desk)
    await expect(queue_line(page)).to_have_text(
        "No librarian is online right now. You can keep waiting or leave a message."
    )


async def test_long_wait_offer_follows_the_librarys_threshold(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    # demo-pl offers the form after 20 minutes (the default is 10).
    await bots(live_desk, '{"long_wait_minutes": 20}')
    # li takes one chat at a time and holds reader A's; with no ended chats yet, each chat is
    # taken to last 6 minutes, so the n-th in line waits about 6n minutes.
    await sql(live_desk, "UPDATE consultants SET max_chats = 1 WHERE username = 'li'")
    li = await consultant(live_desk, "li")
    _a, cid_a = await other_reader_asks(live_desk, host_site, "读者甲的问题")
    assert int((await li.accept_next())["consultation"]["id"]) == cid_a
    await other_reader_asks(live_desk, host_site, "读者乙的问题")

    async def reader_asks(question: str) -> Page:
        page: Page = await new_page(await site(host_site, live_desk))
        await open_widget(page)
        await send(page, question)
        await expect(bubble(page, question).locator(".st")).to_be_hidden()
        await widget_consultation(page)
        return page

    second = await reader_asks("第二位读者的问题")  # second in line: about 12 minutes
    await other_reader_asks(live_desk, host_site, "读者丙的问题")
    fourth = await reader_asks("第四位读者的问题")  # fourth: about 24 minutes

    await tell_waiting(live_desk)
    await expect(queue_line(second)).to_have_text("排队中：您前面还有 1 位读者，预计等待约 12 分钟")
    await expect(queue_line(fourth)).to_have_text("排队中：您前面还有 3 位读者，预计等待约 24 分钟")
    offer = "改为留言"
    await expect(panel(fourth).get_by_role("button", name=offer)).to_be_visible()
    await expect(panel(second).get_by_role("button", name=offer)).to_be_hidden()
    # The next statuses say the same; then at the default threshold 12 minutes is long.
    await tell_waiting(live_desk)
    await expect(panel(second).get_by_role("button", name=offer)).to_be_hidden()
    await bots(live_desk, '{"long_wait_minutes": 10}')
    await tell_waiting(live_desk)
    await expect(panel(second).get_by_role("button", name=offer)).to_be_visible()
    await expect(queue_line(second)).to_have_text(re.compile(r"约 12 分钟$"))


async def test_widget_text_is_utf8_whatever_the_page_says(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    """Many library sites are still GBK, and a classic script without a charset is read in
    the page's encoding (or its tag's ``charset``): the desk says UTF-8 with the script."""
    page = await new_page(await site(host_site, live_desk, attrs='charset="gbk"'))
    await expect(launcher(page).locator("span").first).to_have_text("在线咨询")
    await open_widget(page)
    await expect(panel(page).get_by_role("heading", name="示例市公共图书馆")).to_be_visible()
