"""The console's 审阅 view in a real browser against a real desk node: a supervisor finds an
ended chat by a Chinese phrase with the hit highlighted, opens it with the reader's phone
number masked as a label, reveals it with a reason, reads both in the audit log, marks the
chat as a typical case, edits and publishes it and finds it in the case library; a consultant
does not see another library's chat.

Chats are served by the harness's Python consultants and end before the browser looks: a
chat's search document is written the moment it ends.

Demo users: wang (consultant, demo-pl); chen (supervisor) and zhao (consultant) at demo-ul.
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import aiohttp
import pytest
from playwright.async_api import Locator, Page, expect
from sqlalchemy import select

from tests.browser.conftest import HostSite
from tests.browser.test_console import SEEN_MS, reader_asks, signed_in
from tests.harness import Consultant, Node
from transcripts.models import TranscriptDoc

pytestmark = pytest.mark.browser

PHRASE = "查收查引"
PHONE = "13912345678"
REASON = "读者来电要求补发报告，核对联系电话"


async def served_chat(
    node: Node, site: HostSite, username: str, library: str, question: str, answer: str
) -> int:
    """A reader of ``library`` asks, ``username`` (alone online) accepts, answers, leaves a
    staff note and a link, and ends the chat."""
    c = await Consultant.login(node.base, username)
    await c.connect()
    try:
        r, cid = await reader_asks(node, site, question, library)
        await c.wait_for("offer", lambda o: o["consultation"]["id"] == cid)
        await c.ok("offer.accept", {"consultation_id": cid})
        await c.say(cid, answer)
        await c.say(cid, "内部备注：已告知办理流程", private=True)
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{node.base}/api/consultations/{cid}/links",
                json={
                    "client_msg_id": uuid4().hex,
                    "url": "https://example.org/guide.pdf",
                    "title": "查收查引服务指南",
                },
                headers={"Origin": node.base, "Cookie": f"desk_session={c.cookie}"},
            ) as resp,
        ):
            assert resp.status == 200, await resp.text()
        await c.ok("consultation.close", {"consultation_id": cid})
        await r.disconnect()
    finally:
        await c.disconnect()

    async def indexed() -> bool:
        async with node.desk.reads() as s:
            doc = await s.get(TranscriptDoc, cid)
            return doc is not None

    await node.until(indexed, f"chat {cid} indexed")
    return cid


async def open_transcripts(page: Page) -> None:
    await page.get_by_role("button", name="审阅", exact=True).click()
    await expect(page.get_by_role("heading", name="审阅")).to_be_visible()


async def search(page: Page, words: str) -> Locator:
    form = page.get_by_role("search", name="检索咨询记录")
    await form.get_by_label("检索词").fill(words)
    await form.get_by_role("button", name="检索", exact=True).click()
    return page.get_by_test_id("transcript-results")


def result(page: Page, cid: int) -> Locator:
    return page.locator(f'.tr-result[data-consultation="{cid}"]')


async def test_supervisor_searches_reveals_audits_and_publishes_a_case(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    ours = await served_chat(
        live_desk,
        host_site,
        "zhao",
        "demo-ul",
        f"请问怎样办理{PHRASE}报告？我的电话是{PHONE}",
        f"您好，{PHRASE}报告可以在图书馆网站的科技查新栏目在线申请，一般三个工作日出报告。",
    )
    theirs = await served_chat(
        live_desk,
        host_site,
        "wang",
        "demo-pl",
        f"公共图书馆能做{PHRASE}吗？",
        f"本馆暂不提供{PHRASE}服务，请联系您所在高校的图书馆。",
    )
    async with live_desk.desk.reads() as s:
        ids = set((await s.scalars(select(TranscriptDoc.consultation_id))).all())
    assert {ours, theirs} <= ids

    page = await signed_in(new_page, live_desk, "chen")
    await open_transcripts(page)

    # A Chinese phrase finds the chat of chen's library only, the hit highlighted, the phone
    # number a label.
    results = await search(page, PHRASE)
    hit = result(page, ours)
    await expect(hit).to_be_visible(timeout=SEEN_MS)
    await expect(hit.locator("mark").first).to_have_text(PHRASE)
    await expect(hit).to_contain_text("含个人信息（已遮盖）")
    await expect(hit.locator(".pii-label").first).to_have_text("〔电话〕")
    await expect(hit).not_to_contain_text(PHONE)
    await expect(result(page, theirs)).to_have_count(0)
    await expect(results.locator(".tr-result")).to_have_count(1)

    # The masked export is a plain link with the search in it.
    csv_link = page.get_by_role("link", name="导出 CSV")
    href = await csv_link.get_attribute("href")
    assert href is not None and href.startswith("/api/transcripts/export?")
    exported = await page.request.get(live_desk.base + href)
    body = await exported.text()
    assert exported.ok and PHRASE in body and "〔电话〕" in body and PHONE not in body

    # The whole chat: reader, consultant, the staff note marked, the link as a card, the
    # phone masked.
    await hit.get_by_role("button", name=f"查看咨询 #{ours}").click()
    view = page.locator(f'article.tr-view[data-consultation="{ours}"]')
    await expect(view.get_by_role("heading", name=f"咨询 #{ours}")).to_be_visible()
    chat = view.get_by_role("log", name="对话记录")
    await expect(chat.locator(".msg.from-reader")).to_contain_text(PHRASE)
    await expect(chat.locator(".msg.from-reader .pii-label")).to_have_text("〔电话〕")
    await expect(chat).not_to_contain_text(PHONE)
    note = chat.locator(".msg.note")
    await expect(note).to_contain_text("内部备注：已告知办理流程")
    await expect(note.locator(".note-label")).to_have_text("内部备注（读者看不到）")
    await expect(chat.get_by_test_id("attachment")).to_contain_text("查收查引服务指南")
    await expect(view).to_contain_text("接受 赵老师")

    # Revealing asks for a reason first.
    await view.get_by_role("button", name="显示个人信息").click()
    dialog = page.get_by_role("dialog", name=f"显示个人信息 · 咨询 #{ours}")
    await dialog.get_by_role("button", name="显示", exact=True).click()
    await expect(dialog.get_by_role("alert")).to_have_text("请写明原因（至少 2 个字）。")
    await dialog.get_by_label("原因（必填）").fill(REASON)
    await dialog.get_by_role("button", name="显示", exact=True).click()
    await expect(dialog).to_have_count(0)
    await expect(chat.locator(".msg.from-reader")).to_contain_text(PHONE)
    await expect(view.get_by_text(f"正在显示个人信息（原因：{REASON}）")).to_be_visible()
    await view.get_by_role("button", name="重新遮盖").click()
    await expect(chat).not_to_contain_text(PHONE)

    # Tags are kept with the chat.
    await view.get_by_label("标签（用逗号或顿号分开）").fill("查收查引，科技查新")
    await view.get_by_role("button", name="保存标签").click()
    await expect(view.get_by_text("标签已保存。")).to_be_visible()
    async with live_desk.desk.reads() as s:
        doc = await s.get(TranscriptDoc, ours)
        assert doc is not None and doc.tags == ["查收查引", "科技查新"]

    # The audit log lists the opening and the reveal with its reason.
    await page.get_by_role("button", name="审计日志").click()
    audit = page.get_by_test_id("audit-log")
    opened = audit.locator(f'tr[data-action="open"][data-consultation="{ours}"]')
    await expect(opened.first).to_contain_text("查看")
    await expect(opened.first).to_contain_text("chen")
    revealed = audit.locator(f'tr[data-action="reveal"][data-consultation="{ours}"]')
    await expect(revealed).to_have_count(1)
    await expect(revealed).to_contain_text(f"原因：{REASON}")
    exported_row = audit.locator('tr[data-action="export"]')
    await expect(exported_row).to_contain_text("格式：csv")
    await page.get_by_role("combobox", name="操作").select_option("reveal")
    await expect(audit.locator("tbody tr")).to_have_count(1)

    # Mark it as a typical case from the audit log's link to the chat.
    await revealed.get_by_role("button", name=f"咨询 #{ours}").click()
    await expect(view.get_by_role("heading", name=f"咨询 #{ours}")).to_be_visible()
    await view.get_by_role("button", name="标为典型案例").click()
    dialog = page.get_by_role("dialog", name=f"标为典型案例 · 咨询 #{ours}")
    await dialog.get_by_label("分类").select_option("文献检索")
    await expect(dialog.get_by_label("标签（用逗号或顿号分开）")).to_have_value(
        "查收查引，科技查新"
    )
    await dialog.get_by_label("简要说明").fill("查收查引报告的在线申请流程")
    await dialog.get_by_role("button", name="生成草稿").click()
    await expect(dialog).to_have_count(0)
    line = view.get_by_text("已标为典型案例 #")
    await expect(line).to_contain_text("草稿")
    await view.get_by_role("button", name="打开案例").click()

    # The draft: anonymised text, edited, saved (masked again), published.
    case = page.locator("article.tr-case")
    await expect(case.get_by_text("草稿", exact=True)).to_be_visible()
    question = case.get_by_label("问题（已遮盖个人信息）")
    await expect(question).to_have_value(f"请问怎样办理{PHRASE}报告？我的电话是〔电话〕")
    await case.get_by_label("标题", exact=True).fill("如何办理查收查引报告")
    await question.fill(f"请问怎样办理{PHRASE}报告？可以打 {PHONE} 联系我")
    await case.get_by_role("button", name="保存", exact=True).click()
    await expect(case.get_by_text("已保存。")).to_be_visible()
    await expect(question).to_have_value(f"请问怎样办理{PHRASE}报告？可以打 〔电话〕 联系我")
    await case.get_by_role("button", name="发布", exact=True).click()
    await expect(case.get_by_text("已发布到案例库。")).to_be_visible()
    await expect(case.get_by_text("已发布", exact=True)).to_be_visible()

    # In the case library, found by its words.
    await case.get_by_role("button", name="← 返回").click()
    cases = page.get_by_role("search", name="检索典型案例")
    await cases.get_by_label("关键词").fill(PHRASE)
    await cases.get_by_role("button", name="检索", exact=True).click()
    listed = page.get_by_test_id("case-list").locator(".tr-result")
    await expect(listed).to_have_count(1)
    await expect(listed).to_contain_text("如何办理查收查引报告")
    await expect(listed).to_contain_text("已发布")
    await expect(listed).to_contain_text("文献检索")
    md = await page.request.get(
        live_desk.base
        + (await page.get_by_role("link", name="导出 Markdown").get_attribute("href") or "")
    )
    assert md.ok and "## 如何办理查收查引报告" in await md.text()


async def test_a_consultant_sees_their_library_only(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    ours = await served_chat(
        live_desk, host_site, "zhao", "demo-ul", f"{PHRASE}报告多久能出？", "一般三个工作日。"
    )
    theirs = await served_chat(
        live_desk,
        host_site,
        "wang",
        "demo-pl",
        f"你们做{PHRASE}吗？电话 {PHONE}",
        "本馆暂不提供，请联系高校图书馆。",
    )
    page = await signed_in(new_page, live_desk, "zhao")
    await open_transcripts(page)
    # A consultant has no audit log and no export.
    await expect(page.get_by_role("button", name="审计日志")).to_have_count(0)
    await expect(page.get_by_role("link", name="导出 CSV")).to_have_count(0)

    results = await search(page, PHRASE)
    await expect(result(page, ours)).to_be_visible(timeout=SEEN_MS)
    await expect(results.locator(".tr-result")).to_have_count(1)
    await expect(result(page, theirs)).to_have_count(0)

    # Asked for by its number, the other library's chat is "not found", in words.
    async with aiohttp.ClientSession() as http:
        cookies = await page.context.cookies()
        session = next(c["value"] for c in cookies if c["name"] == "desk_session")
        async with http.get(
            f"{live_desk.base}/api/transcripts/{theirs}",
            headers={"Cookie": f"desk_session={session}"},
        ) as resp:
            assert resp.status == 404
            assert (await resp.json())["error"]["code"] == "transcript_not_found"

    # He may open the chat he served, but erasing a reader's data is for supervisors.
    await result(page, ours).get_by_role("button", name=f"查看咨询 #{ours}").click()
    view = page.locator(f'article.tr-view[data-consultation="{ours}"]')
    await expect(view.get_by_role("log", name="对话记录")).to_contain_text("一般三个工作日。")
    await expect(view.get_by_role("button", name="删除读者个人数据")).to_have_count(0)
    # Keyboard users land on the chat they opened, and back on its button when they leave.
    await expect(view.get_by_role("heading", name=f"咨询 #{ours}")).to_be_focused()
    await view.get_by_role("button", name="← 返回检索结果").click()
    await expect(result(page, ours).get_by_role("button", name=f"查看咨询 #{ours}")).to_be_focused()


async def test_supervisor_erases_a_readers_data_after_confirming(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    cid = await served_chat(
        live_desk,
        host_site,
        "zhao",
        "demo-ul",
        f"请删除我的信息，电话 {PHONE}，问题是{PHRASE}",
        "好的，已记录。",
    )
    page = await signed_in(new_page, live_desk, "chen")
    await open_transcripts(page)
    await search(page, PHRASE)
    await result(page, cid).get_by_role("button", name=f"查看咨询 #{cid}").click()
    view = page.locator(f'article.tr-view[data-consultation="{cid}"]')
    chat = view.get_by_role("log", name="对话记录")
    await expect(chat.locator(".msg.from-reader")).to_contain_text(PHRASE)

    # Escape leaves everything as it was; the confirm needs a reason.
    await view.get_by_role("button", name="删除读者个人数据").click()
    dialog = page.get_by_role("dialog", name=f"删除读者个人数据 · 咨询 #{cid}")
    await expect(dialog).to_contain_text("不能撤销")
    await page.keyboard.press("Escape")
    await expect(dialog).to_have_count(0)
    await view.get_by_role("button", name="删除读者个人数据").click()
    await dialog.get_by_role("button", name="确认删除").click()
    await expect(dialog.get_by_role("alert")).to_have_text("请写明原因（至少 2 个字）。")
    await dialog.get_by_label("原因（必填）").fill("读者来函要求删除")
    await dialog.get_by_role("button", name="确认删除").click()
    await expect(dialog).to_have_count(0)
    await expect(view.get_by_text("已删除这位读者在 1 次咨询中的个人数据。")).to_be_visible()
    await expect(chat.locator(".msg.from-reader")).to_contain_text("已应读者要求删除")
    await expect(chat.locator(".msg.from-reader")).not_to_contain_text(PHONE)
    await expect(chat.locator(".msg.from-consultant").first).to_contain_text("好的，已记录。")

    await page.get_by_role("button", name="审计日志").click()
    erased = page.get_by_test_id("audit-log").locator('tr[data-action="erase"]')
    await expect(erased).to_contain_text("原因：读者来函要求删除")
    await expect(erased).to_contain_text(f"#{cid}")
