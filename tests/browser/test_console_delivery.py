"""Document delivery in the console, in a real browser against a real desk node: a PDF dropped
into a chat goes out with its own title after the consultant confirms it, the reader (the
harness's Socket.IO client) hears it and downloads it over HTTP, and the delivery ledger page
counts it; the library's limits refuse files in the dialog with the reason; a link to an
intranet address is warned about; a reader's screenshot is previewed; a dropped connection is
retried without a second copy; the library's file limits are set on the settings page.

Demo users: wang (consultant, demo-pl); chen (supervisor) and zhao (consultant) at demo-ul.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import re
import struct
import zlib
from pathlib import Path
from typing import Any
from uuid import uuid4

import aiohttp
import pytest
from playwright.async_api import Locator, Page, Route, expect
from sqlalchemy import select, update

from desk.models import LedgerEntry, Library
from tests.browser.conftest import HostSite
from tests.browser.test_console import SEEN_MS, accept_offer, go_online, log, reader_asks, signed_in
from tests.harness import Node, Reader

pytestmark = pytest.mark.browser

MB = 1024 * 1024

TITLE = "图书馆联盟与文献传递研究"
AUTHOR = "Wang Xiaoming"


def utf16_hex(text: str) -> str:
    return "<FEFF" + text.encode("utf-16-be").hex().upper() + ">"


def make_pdf(title: str = TITLE, author: str = AUTHOR, *, padding: int = 2000) -> bytes:
    """A small but well-formed PDF whose information dictionary names its title (UTF-16BE
    hex, as Chinese titles are stored), author and creation date."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [] /Count 0 >>",
        f"<< /Title {utf16_hex(title)} /Author ({author}) /CreationDate (D:20190501120000+08'00') "
        f"/Producer (test) >>".encode(),
        b"<< /Length 0 >>\nstream\n" + b"%" * padding + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 3 0 R >>\n".encode()
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def make_png(width: int = 24, height: int = 16) -> bytes:
    """A real PNG (a blue rectangle) the browser can show."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    row = b"\x00" + b"\x1f\x5f\xbf" * width
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


async def chat_with_reader(
    node: Node, site: HostSite, page: Page, question: str
) -> tuple[Reader, int]:
    r, cid = await reader_asks(node, site, question)
    await accept_offer(page, question)
    await r.wait_for("consultation", lambda c: c["state"] == "assigned")
    return r, cid


async def drop_files(page: Page, target: Locator, files: list[tuple[str, str, bytes]]) -> None:
    """Drag files from the desktop onto `target`: a DataTransfer made in the page, then
    dragenter, dragover (the drop zone shows) and drop, as the browser fires them."""
    payload = [
        {"name": n, "type": t, "b64": base64.b64encode(data).decode()} for n, t, data in files
    ]
    dt = await page.evaluate_handle(
        """(files) => {
            const dt = new DataTransfer();
            for (const f of files) {
                const bytes = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0));
                dt.items.add(new File([bytes], f.name, { type: f.type }));
            }
            return dt;
        }""",
        payload,
    )
    await target.dispatch_event("dragenter", {"dataTransfer": dt})
    await target.dispatch_event("dragover", {"dataTransfer": dt})
    zone = page.get_by_test_id("drop-zone")
    await expect(zone).to_have_text("松开鼠标，把文件发给读者（发送前可以核对文献信息）")
    await target.dispatch_event("drop", {"dataTransfer": dt})
    await expect(zone).to_have_count(0)


def send_dialog(page: Page, cid: int) -> Locator:
    return page.get_by_role("dialog", name=f"发送文献 · 对话 #{cid}")


async def ledger_rows(node: Node) -> list[LedgerEntry]:
    async with node.desk.reads() as s:
        return list((await s.scalars(select(LedgerEntry).order_by(LedgerEntry.id))).all())


async def reader_get(node: Node, site: HostSite, reader: Reader, path: str) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {reader.token}", "Origin": site.origin}
    async with aiohttp.ClientSession() as http, http.get(node.base + path, headers=headers) as r:
        return r.status, await r.read()


async def test_a_dropped_pdf_goes_out_with_its_own_title_is_downloaded_and_counted(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    page = await signed_in(new_page, live_desk, "wang")
    await go_online(page)
    reader, cid = await chat_with_reader(live_desk, host_site, page, "想要一篇文献传递的论文全文")
    pdf = make_pdf()

    # Dropped on the chat: the dialog reads the PDF's own title, authors and year.
    await drop_files(
        page, page.locator("#chat-panel"), [("CNKI_a3f9e1.pdf", "application/pdf", pdf)]
    )
    dialog = send_dialog(page, cid)
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_label("题名")).to_have_value(TITLE, timeout=SEEN_MS)
    await expect(dialog.get_by_label("作者")).to_have_value(AUTHOR)
    await expect(dialog.get_by_label("年份")).to_have_value("2019")
    await expect(dialog.get_by_text("题名等信息取自 PDF 文件本身，请核对。")).to_be_visible()
    await expect(dialog.get_by_label("文件名")).to_have_value("CNKI_a3f9e1")
    await expect(dialog.get_by_test_id("send-limits")).to_contain_text("单个文件不超过 20 MB")
    # The consultant confirms and completes the details, and gives the file a readable name.
    await dialog.get_by_label("作者").fill("王小明; 李四")
    await dialog.get_by_label("来源").fill("图书馆杂志")
    await dialog.get_by_label("类型").select_option(label="期刊论文")
    await dialog.get_by_label("文件名").fill("文献传递研究")
    await dialog.get_by_role("button", name="发送给读者").click()
    await expect(dialog).to_have_count(0, timeout=SEEN_MS)

    card = log(page).get_by_test_id("attachment")
    await expect(card).to_have_count(1)
    await expect(card.locator(".att-title")).to_have_text(TITLE)
    await expect(card.locator(".att-byline")).to_have_text("王小明; 李四 · 图书馆杂志 · 2019")
    await expect(card.locator(".att-type")).to_have_text("期刊论文")
    await expect(card.locator(".att-file")).to_have_text(
        f"文献传递研究.pdf · {len(pdf) / 1024:.1f} KB"
    )
    await expect(card).to_contain_text("咨询员传递的文献")

    # The reader hears it over Socket.IO and downloads it over HTTP with their token.
    heard = await reader.wait_for("message", lambda m: m.get("attachment") is not None)
    att = heard["attachment"]
    assert att["title"] == TITLE and att["name"] == "文献传递研究.pdf" and att["size"] == len(pdf)
    assert att["authors"] == "王小明; 李四" and att["source"] == "图书馆杂志"
    assert att["year"] == 2019 and att["doc_type"] == "journal_article"
    assert att["direction"] == "to_reader" and att["kind"] == "file"
    status, got = await reader_get(
        live_desk, host_site, reader, f"/api/readers/consultations/{cid}/files/{heard['seq']}"
    )
    assert status == 200 and got == pdf
    # The consultant's download is a plain link the desk answers as an attachment.
    async with page.expect_download() as info:
        await card.get_by_role("link", name="下载 文献传递研究.pdf").click()
    download = await info.value
    assert download.suggested_filename == "文献传递研究.pdf"
    assert Path(await download.path()).read_bytes() == pdf

    # The ledger page: the row and the count, exported as CSV with the same filters.
    await page.get_by_role("button", name="文献传递统计").click()
    ledger = page.get_by_test_id("ledger")
    await expect(ledger).to_contain_text("联盟上报的“传递文献数量”")
    await expect(ledger).to_contain_text("您看到的是您本人的记录。")
    rows = ledger.get_by_test_id("ledger-rows")
    await expect(rows.locator("tbody tr")).to_have_count(1, timeout=SEEN_MS)
    row = rows.locator("tbody tr").first
    for text in (
        TITLE,
        "王小明; 李四",
        "图书馆杂志",
        "期刊论文",
        "文献传递研究.pdf",
        "传递给读者",
        f"对话 #{cid}",
    ):
        await expect(row).to_contain_text(text)
    counts = ledger.get_by_test_id("ledger-counts")
    await expect(counts.locator('tbody tr[data-key="wang"]')).to_contain_text("王老师（wang）")
    await expect(counts.locator('tbody tr[data-key="wang"] td').first).to_have_text("1")
    await expect(ledger.get_by_test_id("ledger-total").locator("td").first).to_have_text("1")
    # By readers' library, and what readers sent (nothing yet).
    await ledger.get_by_label("分组").select_option(label="按读者所在图书馆")
    await expect(counts.locator("tbody tr").first).to_contain_text("示例市公共图书馆")
    await ledger.get_by_label("方向").select_option(label="读者发送")
    await expect(counts).to_contain_text("这段时间没有记录。")
    await expect(rows).to_contain_text("没有符合条件的记录。")
    await ledger.get_by_label("方向").select_option(label="传递给读者")
    await ledger.get_by_role("button", name="今天").click()
    await expect(rows.locator("tbody tr")).to_have_count(1)
    export = ledger.get_by_role("link", name="导出明细 CSV")
    assert "direction=to_reader" in (await export.get_attribute("href") or "")
    async with page.expect_download() as info:
        await export.click()
    csv_text = Path(await (await info.value).path()).read_text(encoding="utf-8-sig")
    assert TITLE in csv_text and "journal_article" in csv_text
    async with page.expect_download() as info:
        await ledger.get_by_role("link", name="导出统计 CSV").click()
    counts_csv = Path(await (await info.value).path()).read_text(encoding="utf-8-sig").splitlines()
    assert counts_csv[0].startswith("origin_library,name,total") and counts_csv[1].startswith(
        "demo-pl,"
    )

    [entry] = await ledger_rows(live_desk)
    assert (entry.title, entry.kind, entry.direction) == (TITLE, "file", "to_reader")


async def test_the_dialog_refuses_a_file_too_large_or_of_a_wrong_type_and_says_why(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    async with live_desk.desk.sessions.begin() as s:
        await s.execute(
            update(Library)
            .where(Library.code == "demo-pl")
            .values(file_limits={"max_mb": 1, "types": ["pdf", "image"]})
        )
    page = await signed_in(new_page, live_desk, "wang")
    await go_online(page)
    await chat_with_reader(live_desk, host_site, page, "能发一个大文件吗")

    await page.get_by_role("button", name="📎 附件").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog.get_by_test_id("send-limits")).to_have_text(
        "本馆的对话可以发送：PDF、图片；单个文件不超过 1 MB。"
    )
    picker = dialog.locator('input[type="file"]')
    accept = await picker.get_attribute("accept") or ""
    assert ".pdf" in accept.split(",") and ".docx" not in accept.split(",")

    big = make_pdf(padding=MB + MB // 2)
    await picker.set_input_files(
        files=[{"name": "big.pdf", "mimeType": "application/pdf", "buffer": big}]
    )
    refusal = dialog.get_by_test_id("send-refusal")
    await expect(refusal).to_have_text(
        f"不能发送：这个文件有 {len(big) / MB:.1f} MB，超过了本馆单个文件 1 MB 的上限。"
    )
    # Nothing to send: the button says so (aria-disabled) and Enter does nothing.
    await expect(dialog.get_by_role("button", name="发送给读者")).to_have_attribute(
        "aria-disabled", "true"
    )
    await dialog.get_by_label("题名").press("Enter")
    await expect(refusal).to_be_visible()

    await picker.set_input_files(
        files=[
            {"name": "馆藏报告.docx", "mimeType": "application/msword", "buffer": b"PK\x03\x04xx"}
        ]
    )
    await expect(refusal).to_contain_text("不能发送：本馆不接收 .docx 文件。可以发送的类型：")
    await expect(refusal).to_contain_text(".pdf")
    # Nothing to send: the button says so (aria-disabled) and Enter does nothing.
    await expect(dialog.get_by_role("button", name="发送给读者")).to_have_attribute(
        "aria-disabled", "true"
    )
    await dialog.get_by_label("题名").press("Enter")
    await expect(refusal).to_be_visible()

    # A file that fits goes out; nothing refused was uploaded or counted.
    await picker.set_input_files(
        files=[{"name": "small.pdf", "mimeType": "application/pdf", "buffer": make_pdf("小文件")}]
    )
    await expect(refusal).to_have_count(0)
    await expect(dialog.get_by_label("题名")).to_have_value("小文件")
    await dialog.get_by_role("button", name="发送给读者").click()
    await expect(log(page).get_by_test_id("attachment")).to_contain_text("小文件", timeout=SEEN_MS)
    assert [e.title for e in await ledger_rows(live_desk)] == ["小文件"]

    # English, for the one who switches.
    await page.get_by_role("button", name="English").click()
    await page.get_by_role("button", name="📎 Attach").click()
    dialog = page.get_by_role("dialog")
    await dialog.locator('input[type="file"]').set_input_files(
        files=[{"name": "setup.exe", "mimeType": "application/octet-stream", "buffer": b"MZ"}]
    )
    await expect(dialog.get_by_test_id("send-refusal")).to_contain_text(
        "Cannot be sent: this library does not take .exe files."
    )


async def test_a_link_to_an_intranet_address_is_warned_about(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    page = await signed_in(new_page, live_desk, "wang")
    await go_online(page)
    reader, cid = await chat_with_reader(live_desk, host_site, page, "有没有全文链接")

    await page.get_by_role("button", name="📎 附件").click()
    dialog = send_dialog(page, cid)
    await dialog.get_by_role("tab", name="链接").click()
    address = dialog.get_by_label("链接地址")
    await address.fill("http://10.1.2.3/fulltext/123.pdf")
    warning = dialog.get_by_test_id("link-warning")
    await expect(warning).to_contain_text("读者可能打不开这个链接")
    await expect(warning).to_contain_text("内网地址，馆外打不开")
    await expect(warning).to_contain_text("《非实时参考咨询回复规范》第 5 条")
    await expect(dialog.get_by_role("button", name="仍然发送")).to_be_visible()
    # Without a title nothing goes out.
    await dialog.get_by_role("button", name="仍然发送").click()
    await expect(dialog.get_by_role("alert")).to_have_text("请填写文献的题名。")
    await expect(dialog.get_by_label("题名")).to_be_focused()

    # An open address: no warning; delivered and counted as a link.
    await address.fill("https://doi.org/10.1000/xyz123")
    await expect(warning).to_have_count(0)
    await dialog.get_by_label("题名").fill("开放获取的论文")
    await dialog.get_by_label("类型").select_option(label="会议论文")
    await dialog.get_by_role("button", name="发送给读者").click()
    await expect(dialog).to_have_count(0, timeout=SEEN_MS)
    card = log(page).get_by_test_id("attachment")
    await expect(card.locator(".att-title")).to_have_text("开放获取的论文")
    link = card.get_by_role("link", name="https://doi.org/10.1000/xyz123")
    await expect(link).to_have_attribute("target", "_blank")
    await expect(link).to_have_attribute("rel", "noopener noreferrer")
    heard = await reader.wait_for("message", lambda m: m.get("attachment") is not None)
    assert heard["attachment"]["kind"] == "link"
    assert heard["attachment"]["url"] == "https://doi.org/10.1000/xyz123"
    [entry] = await ledger_rows(live_desk)
    assert (entry.kind, entry.doc_type) == ("link", "conference_paper")


async def test_a_readers_screenshot_is_previewed_in_the_console(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    page = await signed_in(new_page, live_desk, "wang")
    await go_online(page)
    reader, cid = await chat_with_reader(live_desk, host_site, page, "我截了个图")

    png = make_png()
    form = aiohttp.FormData(quote_fields=False)
    form.add_field(
        "meta", json.dumps({"client_msg_id": uuid4().hex}), content_type="application/json"
    )
    form.add_field("file", io.BytesIO(png), filename="截图.png", content_type="image/png")
    headers = {"Authorization": f"Bearer {reader.token}", "Origin": host_site.origin}
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{live_desk.base}/api/readers/consultations/{cid}/files", data=form, headers=headers
        ) as r,
    ):
        assert r.status == 200, await r.text()

    card = log(page).get_by_test_id("attachment")
    await expect(card).to_contain_text("读者发送的文件", timeout=SEEN_MS)
    await expect(card.locator(".att-file")).to_have_text(f"截图.png · {len(png)} B")
    img = card.get_by_role("img", name="读者发送的图片：截图.png")
    await expect(img).to_be_visible()
    await expect(img).to_have_attribute("src", re.compile(r"/files/\d+\?inline=1$"))
    # Loaded and decoded (polled from here: the console's CSP forbids wait_for_function's
    # string evaluation).
    for _ in range(100):
        if await img.evaluate("(el) => el.complete && el.naturalWidth") == 24:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the preview did not load")
    await expect(card.get_by_role("link", name="下载 截图.png")).to_be_visible()
    # What readers send is counted apart from documents delivered.
    [entry] = await ledger_rows(live_desk)
    assert (entry.direction, entry.kind) == ("from_reader", "file")


async def test_a_cancelled_upload_and_a_dropped_connection_are_retried_once(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    page = await signed_in(new_page, live_desk, "wang")
    await go_online(page)
    reader, cid = await chat_with_reader(live_desk, host_site, page, "网络不好")
    pdf = make_pdf("断网重试的论文")
    attempts: list[str] = []
    release = asyncio.Event()

    async def flaky(route: Route) -> None:
        found = re.search(rb'"client_msg_id":"([^"]+)"', route.request.post_data_buffer or b"")
        attempts.append(found.group(1).decode() if found else "")
        if len(attempts) == 1:
            # Held until the consultant cancels: never reaches the desk.
            await release.wait()
            with contextlib.suppress(Exception):
                await route.abort()
            return
        if len(attempts) == 2:
            # Stored by the desk, but the answer is lost on the way back.
            await route.fetch()
            await route.abort("connectionreset")
            return
        await route.continue_()

    await page.route("**/api/consultations/*/files", flaky)
    await drop_files(page, page.locator("#chat-panel"), [("x.pdf", "application/pdf", pdf)])
    dialog = send_dialog(page, cid)
    await expect(dialog.get_by_label("题名")).to_have_value("断网重试的论文")
    await dialog.get_by_role("button", name="发送给读者").click()
    await expect(dialog.get_by_role("status").filter(has_text="正在上传")).to_be_visible()
    await dialog.get_by_role("button", name="取消上传").click()
    await expect(dialog.get_by_text("已取消上传，文件没有发出。")).to_be_visible()
    release.set()
    assert await ledger_rows(live_desk) == []

    await dialog.get_by_role("button", name="发送给读者").click()
    await expect(dialog.get_by_role("alert")).to_contain_text(
        "网络中断，没有发出。", timeout=SEEN_MS
    )
    await expect(dialog.get_by_role("alert")).to_contain_text("重试不会重复发送，也不会重复计数。")
    await dialog.get_by_role("button", name="重试").click()
    await expect(dialog).to_have_count(0, timeout=SEEN_MS)
    await expect(log(page).get_by_test_id("attachment")).to_have_count(1)
    assert len(attempts) == 3 and attempts[1] == attempts[2], attempts
    assert [e.title for e in await ledger_rows(live_desk)] == ["断网重试的论文"]
    heard = [m for m in reader.messages(cid) if m.get("attachment")]
    assert len({m["seq"] for m in heard}) == 1


async def test_a_supervisor_sets_the_librarys_file_limits(live_desk: Node, new_page: Any) -> None:
    chen = await signed_in(new_page, live_desk, "chen")
    await chen.get_by_role("button", name="服务时间与电话", exact=True).click()
    dialog = chen.get_by_role("dialog", name="服务时间与电话")
    limits = dialog.get_by_test_id("file-limits")
    await expect(limits).to_contain_text("对话中的文件")
    size = limits.get_by_label("单个文件最大（MB）")
    await expect(size).to_have_value("20")
    archive = limits.get_by_role("checkbox", name="压缩包")
    await expect(archive).not_to_be_checked()
    await expect(limits.locator('[data-family="archive"]')).to_contain_text(".zip")
    await expect(limits.locator('[data-family="ebook"]')).to_contain_text(".caj")

    await size.fill("500")
    await dialog.get_by_role("button", name="保存", exact=True).click()
    await expect(limits.get_by_role("alert")).to_have_text("请填写 1 到 100 之间的整数。")
    await expect(size).to_be_focused()

    await size.fill("5")
    await archive.check()
    await limits.get_by_role("checkbox", name="办公文档").uncheck()
    await dialog.get_by_role("button", name="保存", exact=True).click()
    await expect(dialog.get_by_role("status").filter(has_text="已保存。")).to_be_visible()
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{live_desk.base}/api/libraries/demo-ul") as r,
    ):
        files = (await r.json())["library"]["files"]
    assert files["max_bytes"] == 5 * MB
    assert files["types"] == ["pdf", "image", "text", "ebook", "archive"]
    assert ".zip" in files["accept"] and ".docx" not in files["accept"]

    # A consultant of the library reads them, and cannot change them.
    zhao = await signed_in(new_page, live_desk, "zhao")
    await zhao.get_by_role("button", name="服务时间与电话", exact=True).click()
    ro = zhao.get_by_role("dialog", name="服务时间与电话").get_by_test_id("file-limits")
    await expect(ro.get_by_label("单个文件最大（MB）")).to_have_value("5")
    await expect(ro.get_by_label("单个文件最大（MB）")).to_have_attribute("readonly", "")
    await expect(ro.get_by_role("checkbox", name="压缩包")).to_be_checked()
    await expect(ro.get_by_role("checkbox", name="压缩包")).to_be_disabled()
