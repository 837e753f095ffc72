"""Files in the reader widget (docs/delivery.md, docs/widget.md): the reader sends a screenshot,
a consultant delivers a PDF the reader downloads, the library's limits said before a byte is
sent, the desk's refusals, a dropped upload retried with the same client_msg_id, links, and
markup in an attachment shown as text.

A real browser on a library website of another origin, against a real desk node; the
consultant side is the harness's Socket.IO client and the delivery HTTP API with the
consultant's session cookie, as the console uses it.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
from pathlib import Path
from typing import Any
from uuid import uuid4

import aiohttp
import pytest
from playwright.async_api import Page, Route, expect

from desk.app import SIO_KEY
from tests.browser.conftest import HostSite, embed_html
from tests.browser.test_widget import (
    RECONNECT_MS,
    _abort,
    _no_readers,
    chat_with_wang,
    composer,
    consultant,
    log,
    open_widget,
    panel,
    reader_sids,
    send,
    site,
    sql,
)
from tests.harness import Consultant, Node

pytestmark = pytest.mark.browser

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
PDF = b"%PDF-1.7\n1 0 obj << /Title (Test) >> endobj\n" + b"x" * 3000 + b"\n%%EOF\n"
EVIL = '<img src=x onerror="window.__xss=1">'


PASTE_PNG = """el => {
    const data = new DataTransfer();
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10, 0, 0, 0, 0]);
    data.items.add(new File([png], "image.png", {type: "image/png"}));
    el.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true}));
}"""


def attach(page: Page) -> Any:
    return panel(page).get_by_role("button", name="发送文件")


def file_input(page: Page) -> Any:
    """The file input behind the attach button, inside the widget's shadow root."""
    return panel(page).locator("input[type=file]")


def cards(page: Page) -> Any:
    return log(page).locator(".msg .card")


def card(page: Page, text: str) -> Any:
    return log(page).locator(".msg").filter(has=page.locator(".card", has_text=text))


def alert(page: Page) -> Any:
    return panel(page).get_by_role("alert")


async def staff(
    desk: Node, who: Consultant, method: str, path: str, **kw: Any
) -> tuple[int, Any, bytes]:
    """The delivery API as the console uses it: the session cookie and the desk's Origin."""
    headers = {"Origin": desk.base, "Cookie": f"desk_session={who.cookie}"}
    async with (
        aiohttp.ClientSession() as s,
        s.request(method, desk.base + path, headers=headers, **kw) as resp,
    ):
        raw = await resp.read()
        body = json.loads(raw) if resp.content_type == "application/json" else None
        return resp.status, body, raw


async def deliver(
    desk: Node, who: Consultant, cid: int, name: str, data: bytes, **meta: Any
) -> Any:
    form = aiohttp.FormData(quote_fields=False)
    form.add_field(
        "meta",
        json.dumps({"client_msg_id": uuid4().hex, **meta}),
        content_type="application/json",
    )
    form.add_field("file", io.BytesIO(data), filename=name, content_type="application/pdf")
    status, body, _ = await staff(desk, who, "POST", f"/api/consultations/{cid}/files", data=form)
    assert status == 200, body
    return body["message"]


UPLOADS = """() => {
    window.__uploads = [];
    const append = FormData.prototype.append;
    FormData.prototype.append = function (name, value, ...rest) {
        if (name === "meta") window.__uploads.push(JSON.parse(value).client_msg_id);
        return append.call(this, name, value, ...rest);
    };
}"""


async def watch_uploads(page: Page) -> list[str]:
    """Every upload the widget sends from now on, as its meta part's client_msg_id (the list
    fills as they go). Chromium does not show Playwright a multipart body with a file, so the
    page's FormData is watched instead, and each request is counted as it leaves."""
    await page.evaluate(UPLOADS)
    requests: list[str] = []

    def on_request(request: Any) -> None:
        if request.method == "POST" and re.search(
            r"/api/readers/consultations/\d+/files$", request.url
        ):
            requests.append(request.url)

    page.on("request", on_request)
    return requests


async def sent_ids(page: Page) -> list[str]:
    return list(await page.evaluate("() => window.__uploads"))


async def test_reader_sends_a_screenshot_the_consultant_receives_it(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    page = await new_page(await site(host_site, live_desk))
    # Playwright turns on Chromium's file chooser interception when the first listener comes,
    # asynchronously: a key pressed before it is on opens a native dialog that headless
    # Chromium never closes, and no chooser event comes. A listener from the start keeps it on.
    page.on("filechooser", lambda _chooser: None)
    wang = await consultant(live_desk)
    await open_widget(page)
    # Files only go into a chat under way.
    await expect(attach(page)).to_be_hidden()
    await send(page, "请帮我看看这个检索结果")
    cid = int((await wang.accept_next())["consultation"]["id"])
    await expect(attach(page)).to_be_visible()
    await expect(attach(page)).to_be_enabled()
    accept = (await file_input(page).get_attribute("accept") or "").split(",")
    assert ".pdf" in accept and ".png" in accept and ".ris" in accept and "image/*" in accept
    assert ".zip" not in accept  # archives are off by default
    sent = await watch_uploads(page)

    await file_input(page).set_input_files(
        files=[{"name": "检索结果截图.png", "mimeType": "image/png", "buffer": PNG}]
    )
    got = await wang.wait_for("message", lambda m: m.get("attachment") is not None)
    assert got["author_kind"] == "reader" and got["consultation_id"] == cid
    att = got["attachment"]
    assert (att["kind"], att["direction"], att["name"], att["size"]) == (
        "file",
        "from_reader",
        "检索结果截图.png",
        len(PNG),
    )
    assert att["content_type"] == "image/png"

    # The reader sees it once, as stored, in the log (the live region), with its size.
    mine = card(page, "检索结果截图.png")
    await expect(mine).to_have_count(1)
    await expect(mine).to_have_class(re.compile(r"\bm-reader\b"))
    await expect(mine).not_to_have_class(re.compile(r"pending|failed"))
    await expect(mine.locator("strong")).to_have_text("检索结果截图.png")
    await expect(mine.locator(".cf")).to_have_text("1 KB")  # the name is the title: said once
    await expect(cards(page)).to_have_count(1)
    # The consultant fetches the same bytes.
    status, _, raw = await staff(
        live_desk, wang, "GET", f"/api/consultations/{cid}/files/{got['seq']}"
    )
    assert status == 200 and raw == PNG
    assert len(sent) == 1 and await sent_ids(page) == [got["client_msg_id"]]

    # By keyboard: the button after the text box opens the file chooser.
    await composer(page).focus()
    await page.keyboard.press("Tab")
    await expect(attach(page)).to_be_focused()
    async with page.expect_file_chooser() as chooser:
        await page.keyboard.press("Enter")
    await (await chooser.value).set_files(
        files=[{"name": "第二张.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8\xff" + PNG}]
    )
    second = await wang.wait_for(
        "message", lambda m: (m.get("attachment") or {}).get("name") == "第二张.jpg"
    )
    assert second["attachment"]["content_type"] == "image/jpeg"
    await expect(cards(page)).to_have_count(2)

    # A screenshot pasted into the text box is sent as a file; the text box keeps its words.
    await composer(page).fill("见截图")
    await composer(page).evaluate(PASTE_PNG)
    pasted = await wang.wait_for(
        "message", lambda m: (m.get("attachment") or {}).get("name") == "image.png"
    )
    assert pasted["attachment"]["size"] == 12
    await expect(cards(page)).to_have_count(3)
    await expect(composer(page)).to_have_value("见截图")

    # A scan of a few MB (more than the desk's 1 MiB for JSON bodies: uploads stream).
    scan = PDF + b"0" * (3 << 20)
    await file_input(page).set_input_files(
        files=[{"name": "扫描件.pdf", "mimeType": "application/pdf", "buffer": scan}]
    )
    big = await wang.wait_for(
        "message", lambda m: (m.get("attachment") or {}).get("name") == "扫描件.pdf"
    )
    assert big["attachment"]["size"] == len(scan)
    await expect(card(page, "扫描件.pdf").locator(".cf")).to_have_text("3.0 MB")


async def test_a_dropped_upload_is_retried_with_the_same_client_msg_id_and_stored_once(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    page, wang, cid = await chat_with_wang(live_desk, host_site, new_page)
    sent = await watch_uploads(page)
    first = True

    async def drop_the_answer(route: Route) -> None:
        # The first upload reaches the desk, which stores it, but its answer is lost on the way
        # back: to the widget the connection dropped.
        nonlocal first
        if first:
            first = False
            await route.fetch()
            await route.abort("connectionreset")
        else:
            await route.continue_()

    await page.route("**/api/readers/consultations/*/files", drop_the_answer)
    # The first answer the widget gets is the retry's (the first attempt has none).
    async with page.expect_response(re.compile(r"/files$"), timeout=15_000) as answer:
        await file_input(page).set_input_files(
            files=[
                {
                    "name": "引文列表.ris",
                    "mimeType": "application/x-research-info-systems",
                    "buffer": "TY  - JOUR\nTI  - 图书馆联盟\nER  - \n".encode(),
                }
            ]
        )
        got = await wang.wait_for("message", lambda m: m.get("attachment") is not None)
        # The socket brought it first: shown once, as stored.
        await expect(card(page, "引文列表.ris")).to_have_count(1)
    retried = await (await answer.value).json()
    # Sent again (after 2 s) with the same id: the desk answers with the stored message.
    assert retried["duplicate"] is True and retried["message"]["seq"] == got["seq"]
    ids = await sent_ids(page)
    assert len(sent) == len(ids) == 2 and set(ids) == {got["client_msg_id"]}
    await expect(log(page).locator(".msg.pending, .msg.failed")).to_have_count(0)
    await expect(cards(page)).to_have_count(1)
    history = await wang.ok("history", {"consultation_id": cid, "after_seq": 0})
    assert [m["seq"] for m in history["messages"] if m["attachment"]] == [got["seq"]]


async def test_an_upload_can_be_cancelled(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    page, wang, cid = await chat_with_wang(live_desk, host_site, new_page)
    held: list[Route] = []

    async def hold(route: Route) -> None:
        held.append(route)  # never answered: the upload stays on its way

    await page.route("**/api/readers/consultations/*/files", hold)
    await file_input(page).set_input_files(
        files=[{"name": "scan.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    pending = card(page, "scan.pdf")
    await expect(pending).to_have_class(re.compile(r"\bpending\b"))
    await expect(pending.locator(".st")).to_have_text("正在上传…")
    await expect(pending.get_by_role("progressbar", name="进度")).to_be_visible()
    await pending.get_by_role("button", name="取消发送 scan.pdf").click()
    await expect(pending).to_have_count(0)
    assert held  # it had gone out
    await page.unroute("**/api/readers/consultations/*/files")
    # Nothing reached the chat: the next message is the reader's text.
    await send(page, "算了，不发了")
    got = await wang.wait_for("message", lambda m: m["body"] == "算了，不发了")
    assert all(m.get("attachment") is None for m in wang.messages(cid)), got


async def test_a_consultant_delivers_a_pdf_and_the_reader_downloads_it(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    # The library's page has a router that takes over every link clicked in it: the
    # download's own click never reaches it.
    router = (
        "<script>document.addEventListener('click', e => {"
        "if (e.composedPath().some(n => n.tagName === 'A')) {"
        "e.preventDefault(); window.__routed = (window.__routed || 0) + 1; }}, true);</script>"
    )
    url = host_site.page("/router", embed_html(live_desk.base, body=router))
    page = await new_page(url)
    wang = await consultant(live_desk)
    await open_widget(page)
    await send(page, "我要这篇论文的全文")
    cid = int((await wang.accept_next())["consultation"]["id"])
    await expect(attach(page)).to_be_visible()

    msg = await deliver(
        live_desk,
        wang,
        cid,
        "论文 “全文”.pdf",
        PDF,
        title="图书馆联盟研究",
        authors="张三; 李四",
        source="图书馆杂志",
        year=2019,
        doc_type="journal_article",
    )
    doc = card(page, "图书馆联盟研究")
    await expect(doc).to_have_class(re.compile(r"\bm-consultant\b"))
    await expect(doc.locator(".by")).to_have_text("王老师 · 示例市公共图书馆")
    body = doc.locator(".card")
    await expect(body.locator(".ck")).to_have_text("文件")
    await expect(body.locator("strong")).to_have_text("图书馆联盟研究")
    await expect(body).to_contain_text("张三; 李四 · 图书馆杂志 · 2019")
    await expect(body.locator(".cf")).to_have_text("论文 “全文”.pdf · 3 KB")

    button = body.get_by_role("button", name="下载 论文 “全文”.pdf")
    async with page.expect_download() as info:
        await button.click()
    download = await info.value
    assert download.suggested_filename == "论文 “全文”.pdf"  # from filename*, not the ASCII one
    assert Path(await download.path()).read_bytes() == PDF
    await expect(body.locator(".ds")).to_have_text("下载完成")
    await expect(body.get_by_role("progressbar")).to_be_hidden()
    assert await page.evaluate("() => window.__routed") is None
    # The object URL is the page's own, given as opaque bytes.
    assert download.url.startswith("blob:" + host_site.origin)

    # After a reload the card comes back from history, and downloads again; while the bytes
    # come, the card says so and shows the progress.
    await page.reload()
    doc = card(page, "图书馆联盟研究")
    button = doc.get_by_role("button", name="下载 论文 “全文”.pdf")
    release = asyncio.Event()

    async def slow(route: Route) -> None:
        await release.wait()
        await route.continue_()

    await page.route(re.compile(r"/files/\d+$"), slow)
    async with page.expect_download() as info:
        await button.click()
        await expect(doc.locator(".ds")).to_have_text("正在下载…")
        await expect(doc.get_by_role("progressbar", name="进度")).to_be_visible()
        release.set()
    assert Path(await (await info.value).path()).read_bytes() == PDF
    await expect(doc.locator(".ds")).to_have_text("下载完成")
    await page.unroute(re.compile(r"/files/\d+$"))

    # Past the retention period the desk keeps the record but not the file: the reader is told.
    await sql(
        live_desk,
        "UPDATE delivery_ledger SET file_purged_at = CURRENT_TIMESTAMP "
        "WHERE consultation_id = :c AND seq = :s",
        c=cid,
        s=msg["seq"],
    )
    await button.click()
    await expect(card(page, "图书馆联盟研究").locator(".ds")).to_have_text(
        "这个文件已超过保存期限，已被删除。如仍需要，请向咨询员重新索取。"
    )


async def test_too_large_and_wrong_kinds_are_refused_before_upload(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    await sql(
        live_desk,
        "UPDATE libraries SET file_limits = :l WHERE code = 'demo-pl'",
        l='{"max_mb": 1, "types": ["pdf"]}',
    )
    page, wang, cid = await chat_with_wang(live_desk, host_site, new_page)
    assert await file_input(page).get_attribute("accept") == ".pdf"  # no camera roll then
    sent = await watch_uploads(page)

    await file_input(page).set_input_files(
        files=[
            {"name": "大文件.pdf", "mimeType": "application/pdf", "buffer": PDF + b"x" * (1 << 20)}
        ]
    )
    await expect(alert(page)).to_have_text("文件太大，没有发出。本馆最大接收 1 MB 的文件。")
    await file_input(page).set_input_files(
        files=[{"name": "截图.png", "mimeType": "image/png", "buffer": PNG}]
    )
    await expect(alert(page)).to_have_text("本馆不接收这种文件（.png），没有发出。可以发送：PDF。")
    await expect(cards(page)).to_have_count(0)

    # In English too.
    await panel(page).get_by_role("button", name="Switch to English").click()
    await file_input(page).set_input_files(
        files=[{"name": "big.pdf", "mimeType": "application/pdf", "buffer": PDF + b"x" * (1 << 20)}]
    )
    await expect(alert(page)).to_have_text(
        "The file is too large and was not sent. This library takes files up to 1 MB."
    )
    await expect(panel(page).get_by_role("button", name="Send a file")).to_be_visible()
    assert sent == []  # not a byte went out

    # What only the desk can tell (the content does not match the name) comes back from it,
    # on the file's card, with a way to remove it.
    await file_input(page).set_input_files(
        files=[{"name": "fake.pdf", "mimeType": "application/pdf", "buffer": b"<html>no</html>"}]
    )
    refused = card(page, "fake.pdf")
    await expect(refused).to_have_class(re.compile(r"\bfailed\b"))
    await expect(refused.locator(".st")).to_have_text(
        "The file's content does not match its name (was its extension changed?); it was not sent."
    )
    await refused.get_by_role("button", name="Remove fake.pdf").click()
    await expect(refused).to_have_count(0)
    assert len(sent) == 1
    assert all(m.get("attachment") is None for m in wang.messages(cid))


async def test_files_only_while_connected_and_the_chat_is_under_way(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    page, wang, cid = await chat_with_wang(live_desk, host_site, new_page)
    await expect(attach(page)).to_be_enabled()
    context = page.context
    await context.set_offline(True)
    await context.route("**/socket.io/**", _abort)
    sio = live_desk.app[SIO_KEY]
    for sid in reader_sids(live_desk):
        await sio.eio.disconnect(sio.manager.eio_sid_from_sid(sid, "/reader"))
    await live_desk.until(lambda: _no_readers(live_desk), "the reader's socket is gone")
    await expect(attach(page)).to_be_disabled()
    await context.unroute("**/socket.io/**")
    await context.set_offline(False)
    await expect(attach(page)).to_be_enabled(timeout=RECONNECT_MS)

    await wang.ok("consultation.close", {"consultation_id": cid})
    await expect(panel(page).get_by_text("咨询员已结束本次咨询。")).to_be_visible()
    await expect(attach(page)).to_be_hidden()
    await expect(composer(page)).to_be_disabled()


async def test_a_link_is_a_safe_link_and_markup_in_an_attachment_is_text(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    page, wang, cid = await chat_with_wang(live_desk, host_site, new_page)
    status, body, _ = await staff(
        live_desk,
        wang,
        "POST",
        f"/api/consultations/{cid}/links",
        json={
            "client_msg_id": uuid4().hex,
            "url": "https://doi.org/10.1000/xyz123?a=1&b=<2>",
            "title": EVIL + "开放获取的论文",
            "authors": "<b>王五</b>",
            "doc_type": "journal_article",
        },
    )
    assert status == 200, body
    doc = card(page, "开放获取的论文")
    await expect(doc.locator(".ck")).to_have_text("链接")
    await expect(doc.locator("strong")).to_have_text(EVIL + "开放获取的论文")
    await expect(doc.locator(".card")).to_contain_text("<b>王五</b>")
    a = doc.get_by_role("link")
    await expect(a).to_have_text("https://doi.org/10.1000/xyz123?a=1&b=<2>")
    await expect(a).to_have_attribute("href", "https://doi.org/10.1000/xyz123?a=1&b=%3C2%3E")
    await expect(a).to_have_attribute("target", "_blank")
    await expect(a).to_have_attribute("rel", "noopener noreferrer")
    await expect(doc.get_by_role("button")).to_have_count(0)  # nothing to download

    await deliver(live_desk, wang, cid, "x.pdf", PDF, title=EVIL, source="<i>期刊</i>")
    doc = card(page, "x.pdf")
    await expect(doc.locator("strong")).to_have_text(EVIL)
    await expect(doc.locator(".card")).to_contain_text("<i>期刊</i>")
    assert await log(page).locator("img, b, i").count() == 0
    assert await page.evaluate("() => window.__xss") is None
