"""Document delivery through both real front ends (docs/delivery.md, docs/widget.md,
docs/console.md).

1. In a chat: the real widget on a library's page of another origin; a reader asks, a
   consultant accepts in the console and drags a PDF into the chat; the send dialog takes the
   PDF's own title, the consultant completes it and sends; the reader sees the card in the
   widget and downloads the same bytes; the console's delivery ledger lists the row.
2. With a backlog answer: a consultant answers a document request in the console with a file
   (its title from the PDF, checked in the same dialog) and a link, sent with their upload
   progress; the ticket lists what was delivered (downloaded by staff), and the reader's
   ticket page offers the file.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Page, Route, expect
from sqlalchemy import func, select

from desk.models import Consultation, LedgerEntry
from tests.browser.conftest import HostSite, embed_html
from tests.browser.test_console import SEEN_MS, accept_offer, go_online, reader_asks, signed_in
from tests.browser.test_console import log as console_log
from tests.browser.test_console_backlog import open_backlog, ticket_row
from tests.browser.test_console_delivery import TITLE, drop_files, make_pdf, send_dialog
from tests.browser.test_widget import bubble, open_widget, panel
from tests.browser.test_widget import log as widget_log
from tests.browser.test_widget import send as reader_send
from tests.harness import Node

pytestmark = pytest.mark.browser

QUESTION = "能把《图书馆联盟与文献传递研究》的全文发给我吗？"
EDITED = "图书馆联盟与文献传递研究（修订版）"


async def ledger(node: Node) -> list[LedgerEntry]:
    async with node.desk.reads() as s:
        return list((await s.scalars(select(LedgerEntry).order_by(LedgerEntry.id))).all())


async def test_a_pdf_dragged_into_the_chat_reaches_the_widget_and_the_ledger(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    console = await signed_in(new_page, live_desk, "wang")
    await go_online(console)
    reader = await new_page(host_site.page("/library", embed_html(live_desk.base, "demo-pl")))
    await open_widget(reader)
    await reader_send(reader, QUESTION)
    await expect(bubble(reader, QUESTION)).to_have_count(1, timeout=SEEN_MS)
    await accept_offer(console, QUESTION)
    await expect(panel(reader).get_by_text("王老师（示例市公共图书馆）正在为您解答")).to_be_visible(
        timeout=SEEN_MS
    )
    async with live_desk.desk.reads() as s:
        cid = int(await s.scalar(select(func.max(Consultation.id))) or 0)

    pdf = make_pdf()
    await drop_files(
        console, console.locator("#chat-panel"), [("CNKI_77.pdf", "application/pdf", pdf)]
    )
    dialog = send_dialog(console, cid)
    await expect(dialog).to_be_visible()
    title = dialog.get_by_label("题名")
    await expect(title).to_have_value(TITLE, timeout=SEEN_MS)  # the PDF's own title
    await title.fill(EDITED)
    await dialog.get_by_label("来源").fill("图书馆杂志")
    await dialog.get_by_role("button", name="发送给读者").click()
    await expect(dialog).to_have_count(0, timeout=SEEN_MS)
    await expect(
        console_log(console).get_by_test_id("attachment").locator(".att-title")
    ).to_have_text(EDITED)

    # The reader's widget shows the card, as text, and downloads the very bytes.
    doc = widget_log(reader).locator(".msg").filter(has=reader.locator(".card", has_text=EDITED))
    await expect(doc).to_have_count(1, timeout=SEEN_MS)
    await expect(doc.locator(".card strong")).to_have_text(EDITED)
    await expect(doc.locator(".card")).to_contain_text("图书馆杂志 · 2019")
    async with reader.expect_download() as info:
        await doc.get_by_role("button", name="下载 CNKI_77.pdf").click()
    download = await info.value
    assert download.suggested_filename == "CNKI_77.pdf"
    assert Path(await download.path()).read_bytes() == pdf
    await expect(doc.locator(".ds")).to_have_text("下载完成")

    # The console's ledger lists it under the title the consultant gave.
    await console.get_by_role("button", name="文献传递统计").click()
    rows = console.get_by_test_id("ledger").get_by_test_id("ledger-rows")
    await expect(rows.locator("tbody tr")).to_have_count(1, timeout=SEEN_MS)
    await expect(rows.locator("tbody tr").first).to_contain_text(EDITED)
    await expect(rows.locator("tbody tr").first).to_contain_text("CNKI_77.pdf")
    [entry] = await ledger(live_desk)
    assert (entry.title, entry.kind, entry.direction, entry.source) == (
        EDITED,
        "file",
        "to_reader",
        "图书馆杂志",
    )


async def claimed_document_request(
    node: Node, site: HostSite, page: Page, question: str
) -> tuple[int, str]:
    """A reader hands a chat off as a document request; wang claims it in the console. Returns
    the ticket's id and the reader's link to it."""
    r, cid = await reader_asks(node, site, question)
    handed = await r.ok("handoff", {"consultation_id": cid, "kind": "document"})
    tid, url = int(handed["ticket"]["id"]), str(handed["ticket"]["url"])
    await open_backlog(page)
    await ticket_row(page, tid).click()
    detail = page.locator(f'article.ticket[data-ticket="{tid}"]')
    await detail.get_by_role("button", name="领取", exact=True).click()
    await expect(detail).to_contain_text("领取人：我", timeout=SEEN_MS)
    return tid, url


async def test_a_backlog_answer_with_a_file_and_a_link_reaches_the_readers_ticket_page(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    page = await signed_in(new_page, live_desk, "wang")
    await page.get_by_role("radio", name="离开").click()
    tid, url = await claimed_document_request(
        live_desk, host_site, page, "请提供《图书馆联盟与文献传递研究》全文"
    )
    detail = page.locator(f'article.ticket[data-ticket="{tid}"]')
    await detail.get_by_role("radio", name="已找到指定文献").check()
    await detail.get_by_label("答复内容").fill("您好，已找到您需要的文献，见附件。")
    docs = detail.get_by_role("group", name="随答复提供的文献")
    await expect(docs).to_contain_text("最多 10 个")

    # A file, in the chat's dialog: the PDF's own title, checked against the library's limits.
    pdf = make_pdf()
    await docs.get_by_role("button", name="添加文件").click()
    dialog = page.get_by_role("dialog", name=f"添加文献 · 表单咨询 #{tid}")
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_test_id("send-limits")).to_contain_text("单个文件不超过 20 MB")
    await dialog.locator('input[type="file"]').set_input_files(
        files=[{"name": "全文.pdf", "mimeType": "application/pdf", "buffer": pdf}]
    )
    await expect(dialog.get_by_label("题名")).to_have_value(TITLE, timeout=SEEN_MS)
    await dialog.get_by_label("类型").select_option(label="期刊论文")
    await dialog.get_by_role("button", name="添加到答复").click()
    await expect(dialog).to_have_count(0)

    # A link: a title is required.
    await docs.get_by_role("button", name="添加链接").click()
    dialog = page.get_by_role("dialog", name=f"添加文献 · 表单咨询 #{tid}")
    await dialog.get_by_label("链接地址").fill("https://oa.example.org/paper/77")
    await dialog.get_by_role("button", name="添加到答复").click()
    await expect(dialog.get_by_text("请填写文献的题名。")).to_be_visible()
    await dialog.get_by_label("题名").fill("开放获取版本")
    await dialog.get_by_role("button", name="添加到答复").click()
    await expect(dialog).to_have_count(0)

    pending = docs.get_by_test_id("answer-doc")
    await expect(pending).to_have_count(2)
    await expect(pending.nth(0)).to_contain_text(TITLE)
    await expect(pending.nth(0)).to_contain_text("全文.pdf")
    await expect(pending.nth(1)).to_contain_text("https://oa.example.org/paper/77")

    # A file whose content is not what its name says: the desk refuses the whole answer, and
    # the console says why in words; the documents stay, the bad one is removed.
    await docs.get_by_role("button", name="添加文件").click()
    dialog = page.get_by_role("dialog", name=f"添加文献 · 表单咨询 #{tid}")
    await dialog.locator('input[type="file"]').set_input_files(
        files=[{"name": "假的.pdf", "mimeType": "application/pdf", "buffer": b"not a pdf at all"}]
    )
    await expect(dialog.get_by_label("题名")).to_have_value("假的")
    await dialog.get_by_role("button", name="添加到答复").click()
    await expect(pending).to_have_count(3)
    submit = detail.get_by_role("button", name="提交答复")
    await submit.click()
    await expect(detail.get_by_role("alert")).to_have_text(
        "答复没有提交：文件的内容与文件名不符（或是网页文件），不能发送。", timeout=SEEN_MS
    )
    await expect(detail.locator(".ticket-state")).to_have_text("已领取")
    await detail.get_by_role("button", name="移除 假的").click()
    await expect(pending).to_have_count(2)

    # While the answer goes, its progress and a cancel; cancelled, nothing is stored.
    held = asyncio.Event()

    async def hold(route: Route) -> None:
        # Held until the consultant cancels; then it never reaches the desk.
        await held.wait()
        with contextlib.suppress(Exception):  # already cancelled in the page
            await route.abort()

    await page.route("**/api/backlog/*/reply", hold)
    await submit.click()
    progress = detail.get_by_role("status").filter(has=page.get_by_role("progressbar"))
    await expect(progress).to_contain_text("正在提交答复和文件")
    await progress.get_by_role("button", name="取消上传").click()
    await expect(detail.get_by_text("已取消，答复没有提交。")).to_be_visible()
    held.set()
    await page.unroute("**/api/backlog/*/reply")
    assert await ledger(live_desk) == []

    await submit.click()
    await expect(detail.locator(".ticket-state")).to_have_text("已答复", timeout=SEEN_MS)
    delivered = detail.get_by_test_id("ticket-doc")
    await expect(delivered).to_have_count(2)
    await expect(delivered.nth(0)).to_contain_text(TITLE)
    await expect(delivered.nth(0)).to_contain_text("期刊论文")
    await expect(
        delivered.nth(1).get_by_role("link", name="https://oa.example.org/paper/77")
    ).to_be_visible()
    # Staff download the delivered file.
    async with page.expect_download() as info:
        await delivered.nth(0).get_by_role("link", name="下载 全文.pdf").click()
    assert Path(await (await info.value).path()).read_bytes() == pdf

    entries = await ledger(live_desk)
    assert [(e.kind, e.title, e.ticket_id) for e in entries] == [
        ("file", TITLE, tid),
        ("link", "开放获取版本", tid),
    ]

    # The reader's ticket page: the answer, the documents, and the file itself.
    reader = await new_page(url)
    await expect(reader.get_by_text("您好，已找到您需要的文献，见附件。")).to_be_visible()
    await expect(reader.locator("li", has_text=TITLE)).to_contain_text("全文.pdf")
    await expect(reader.get_by_role("link", name="开放获取版本")).to_have_attribute(
        "href", "https://oa.example.org/paper/77"
    )
    href = await reader.locator('a[href*="/files/"]').first.get_attribute("href")
    assert href is not None
    async with aiohttp.ClientSession() as http, http.get(live_desk.base + href) as resp:
        assert resp.status == 200 and await resp.read() == pdf
