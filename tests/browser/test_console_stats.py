"""The console's 统计 view in a real browser against a real desk node: an admin's live dashboard
shows a reader waiting while nobody is online, then the consultant who took the chat with
his load, a stale board while the network is down; after the chat is served and the roll-up
has run, the reports page counts it and exports it; a quality inspector grades the chat and
its consultant sees the grade (a toast, then 我的质检); the consultant issues a certificate
whose public page says it is valid.

Demo users: wang (consultant) and sun (consultant, quality inspector) at demo-pl; chen at
demo-ul, made an admin here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select, text

from desk.backlog import actions as backlog_actions
from desk.models import Consultant as ConsultantRow
from desk.models import Library, Ticket
from stats.models import ConsultationFact
from stats.rollup import run_rollup
from tests.browser.conftest import HostSite
from tests.browser.test_console import SEEN_MS, accept_offer, go_online, reader_asks, send
from tests.browser.test_console import signed_in as console_signed_in
from tests.browser.test_screenshots import DESKTOP, PHONE, fits_width, shoot
from tests.harness import Node

pytestmark = pytest.mark.browser

QUESTION = "请问馆际互借怎么申请？"
ANSWER = "您好，馆际互借可以在本馆网站的“文献传递”栏目在线申请，一般三个工作日内送达。"
#: The dashboard is pushed every 5 seconds: a change shows within two pushes and some slack.
PUSH_MS = 15_000


async def make_admin(node: Node, username: str) -> None:
    async with node.desk.engine.begin() as conn:
        await conn.execute(
            text("UPDATE consultants SET role = 'admin' WHERE username = :u"), {"u": username}
        )
    node.desk.directory.forget()


async def signed_in(new_page: Any, node: Node, username: str) -> Page:
    page = await console_signed_in(new_page, node, username)
    await page.set_viewport_size(DESKTOP)
    return page


async def go_away(page: Page) -> None:
    await page.get_by_role("radio", name="离开").click()
    await expect(page.get_by_role("radio", name="离开")).to_have_attribute("aria-checked", "true")


async def open_stats(page: Page, tab: str | None = None) -> None:
    await page.get_by_role("button", name="统计", exact=True).click()
    await expect(page.get_by_role("heading", name="统计", exact=True)).to_be_visible()
    if tab is not None:
        await (
            page.get_by_role("group", name="统计页面")
            .get_by_role("button", name=tab, exact=True)
            .click()
        )


async def test_dashboard_reports_grading_my_grades_and_a_certificate(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    await make_admin(live_desk, "chen")
    chen = await signed_in(new_page, live_desk, "chen")
    await go_away(chen)
    await open_stats(chen)

    # An admin lands on the live dashboard of the whole alliance.
    board = chen.get_by_test_id("dashboard")
    await expect(chen.get_by_test_id("dashboard-state")).to_contain_text(
        "实时更新", timeout=SEEN_MS
    )
    await expect(board).to_contain_text("全联盟")
    await expect(board).to_contain_text("目前没有读者排队。")

    # A reader asks while nobody is online: the board shows them waiting.
    reader, cid = await reader_asks(live_desk, host_site, QUESTION)
    waiting = chen.get_by_test_id("dashboard-queue").locator(f'tr[data-consultation="{cid}"]')
    await expect(waiting).to_be_visible(timeout=PUSH_MS)
    await expect(waiting).to_contain_text("示例市公共图书馆")
    await expect(waiting).to_contain_text("秒")
    await expect(board.locator('[data-tile="waiting"] dd')).to_have_text("1")

    # wang comes online and takes the chat: the board shows his load and no queue.
    wang = await signed_in(new_page, live_desk, "wang")
    await go_online(wang)
    await accept_offer(wang, QUESTION)
    me = chen.get_by_test_id("dashboard-people").locator("tr", has_text="王老师")
    await expect(me.get_by_test_id("load")).to_have_text("1 / 4", timeout=PUSH_MS)
    await expect(me.get_by_role("img", name="王老师：接待 1，最多 4")).to_be_visible()
    await expect(me).not_to_contain_text("已满")
    await expect(waiting).to_have_count(0)
    await expect(board).to_contain_text("目前没有读者排队。")
    lib = chen.get_by_test_id("dashboard-libraries").locator('tr[data-library="demo-pl"]')
    await expect(lib.locator("td").nth(1)).to_have_text("1")  # chats under way
    await shoot(chen, "console-stats-dashboard")
    await chen.set_viewport_size(PHONE)
    await fits_width(chen)
    await shoot(chen, "console-stats-dashboard-phone")
    await chen.set_viewport_size(DESKTOP)

    # The network drops: the board stays, marked as stale; back online it is live again.
    await chen.context.set_offline(True)
    await expect(chen.get_by_test_id("dashboard-state")).to_contain_text(
        "连接已中断", timeout=SEEN_MS
    )
    await expect(board).to_have_attribute("data-stale", "1")
    await expect(me.get_by_test_id("load")).to_have_text("1 / 4")
    await chen.context.set_offline(False)
    await expect(chen.get_by_test_id("dashboard-state")).to_contain_text("实时更新", timeout=30_000)

    # wang answers and ends the chat; its facts are written and the roll-up runs.
    await send(wang, ANSWER)
    await reader.wait_for("message", lambda m: m["body"] == ANSWER)
    await wang.get_by_role("button", name="结束对话").click()
    await wang.get_by_role("button", name="确认结束").click()

    async def recorded() -> bool:
        async with live_desk.desk.reads() as s:
            f = await s.get(ConsultationFact, cid)
            return f is not None and f.outcome is not None

    await live_desk.until(recorded, f"chat {cid} recorded")
    await run_rollup(live_desk.desk)
    await expect(board.locator('tr[data-figure="served"] td').first).to_have_text(
        "1", timeout=PUSH_MS
    )

    # Reports: this month's alliance report counts the chat; the CSV link downloads it.
    await open_stats(chen, "报表")
    reports = chen.get_by_test_id("reports")
    await expect(reports.get_by_role("button", name="本月")).to_have_attribute(
        "aria-pressed", "true"
    )
    total = reports.get_by_test_id("report-total")
    await expect(total.locator('td[data-column="served"]')).to_have_text("1", timeout=SEEN_MS)
    chart = reports.get_by_role("img", name=re.compile("接待和传递文献"))
    await expect(chart).to_have_attribute("aria-label", re.compile("接待合计 1"))
    async with chen.expect_download() as info:
        await reports.get_by_role("link", name="导出 CSV").click()
    download = await info.value
    assert download.suggested_filename.startswith("report-alliance-")
    csv_text = Path(await download.path()).read_text(encoding="utf-8-sig")
    assert "人工接待 Served" in csv_text and "合计 Total" in csv_text
    xlsx = await reports.get_by_role("link", name="导出 Excel（XLSX）").get_attribute("href")
    assert xlsx is not None and "format=xlsx" in xlsx
    await shoot(chen, "console-stats-reports")
    await chen.set_viewport_size(PHONE)
    await fits_width(chen)
    await chen.set_viewport_size(DESKTOP)

    # sun, a quality inspector, grades the chat: a fail needs a comment; then a pass with two
    # of the six rules.
    sun = await signed_in(new_page, live_desk, "sun")
    await go_away(sun)
    await open_stats(sun, "质检")
    row = sun.get_by_test_id("candidates").locator(
        f'tr[data-target="consultation"][data-id="{cid}"]'
    )
    await expect(row).to_contain_text("王老师", timeout=SEEN_MS)
    await row.get_by_role("button", name=f"评定 #{cid}").click()
    await expect(sun.get_by_role("heading", name=f"咨询 #{cid}", exact=True)).to_be_visible()
    await expect(sun.get_by_role("log", name="对话记录")).to_contain_text(ANSWER)
    form = sun.get_by_test_id("grade-form")
    await form.get_by_role("radio", name="不合格").check()
    await form.get_by_role("button", name="提交评定").click()
    await expect(form.get_by_role("alert")).to_have_text("“不合格”须在评语中写明需要修改的地方。")
    await form.get_by_role("radio", name="合格", exact=True).check()
    await form.get_by_role("checkbox", name=re.compile("快速及时响应")).check()
    await form.get_by_role("checkbox", name=re.compile("注意服务礼仪")).check()
    await form.get_by_label("评语").fill("回复及时，用语规范。")
    await form.get_by_role("button", name="提交评定").click()
    await expect(form.get_by_role("status")).to_have_text("已评定为“合格”。")
    earlier = sun.get_by_test_id("earlier-grades")
    await expect(earlier).to_contain_text("合格")
    await expect(earlier).to_contain_text("孙老师")

    # wang hears of it at once, and 我的质检 lists it with the rules in words.
    await expect(wang.locator(".toast", has_text=f"实时咨询 #{cid}：合格")).to_be_visible(
        timeout=SEEN_MS
    )
    await open_stats(wang, "我的质检")
    mine = wang.get_by_test_id("my-grades").locator(f'li[data-target-id="{cid}"]')
    await expect(mine).to_contain_text("合格", timeout=SEEN_MS)
    await expect(mine).to_contain_text("快速及时响应")
    await expect(mine).to_contain_text("注意服务礼仪")
    await expect(mine).to_contain_text("回复及时，用语规范。")
    await expect(mine).to_contain_text("孙老师")

    # A consultant sees no dashboard, rankings or grading.
    pages = wang.get_by_role("group", name="统计页面")
    for absent in ("实时看板", "排行", "质检"):
        await expect(pages.get_by_role("button", name=absent, exact=True)).to_have_count(0)

    # wang's certificate for last month: the period has to be over; its page says it is valid.
    await open_stats(wang, "服务证明")
    certs = wang.get_by_test_id("certificates")
    await expect(certs.get_by_role("button", name="上月")).to_have_attribute("aria-pressed", "true")
    await certs.get_by_role("button", name="签发证明").click()
    await expect(certs.get_by_role("status")).to_contain_text("已签发证明", timeout=SEEN_MS)
    issued = certs.get_by_test_id("certificate-list").locator("tbody tr").first
    await expect(issued).to_contain_text("王老师")
    await expect(issued).to_contain_text("有效")
    code = await issued.get_attribute("data-code")
    assert code and re.fullmatch(r"[2-9A-HJKMNP-Z]{4}(-[2-9A-HJKMNP-Z]{4}){3}", code)
    link = issued.get_by_role("link", name="打开证明页")
    # In the console's language, whatever the browser's (the page follows `lang`).
    await expect(link).to_have_attribute("href", f"/verify/{code}?lang=zh-CN")
    await expect(link).to_have_attribute("target", "_blank")
    async with wang.context.expect_page() as opened:
        await link.click()
    proof = await opened.value
    await proof.wait_for_load_state()
    await expect(proof.locator("body")).to_contain_text("本证明有效")
    await expect(proof.locator("body")).to_contain_text(code)
    await wang.set_viewport_size(PHONE)
    await fits_width(wang)
    await shoot(wang, "console-stats-certificates-phone")


async def answered_ticket(node: Node, question: str, answer: str) -> int:
    """A backlog question of demo-pl, claimed and answered by wang."""
    async with node.desk.sessions.begin() as s:
        lib = await s.scalar(select(Library.id).where(Library.code == "demo-pl"))
        t = Ticket(
            link_hash=uuid4().hex + uuid4().hex,
            library_id=lib,
            language="zh-CN",
            kind="form",
            question=question,
            transcript=[],
            handed_off_by="form",
            state="open",
            submitted_at=datetime.fromtimestamp(node.desk.clock.now(), UTC),
        )
        s.add(t)
        await s.flush()
        tid = int(t.id)
        wang_id = await s.scalar(select(ConsultantRow.id).where(ConsultantRow.username == "wang"))
    who = await node.desk.directory.consultant(int(wang_id or 0))
    assert who is not None
    await backlog_actions.claim(node.desk, tid, who)
    await backlog_actions.reply(node.desk, tid, who, answer=answer, answer_kind="answer")
    return tid


async def test_a_failed_reply_goes_back_to_its_consultant_for_revision(
    live_desk: Node, new_page: Any
) -> None:
    tid = await answered_ticket(live_desk, "如何使用馆际互借？", "请登录后在馆际互借页面提交。")
    wang = await signed_in(new_page, live_desk, "wang")
    await go_away(wang)
    sun = await signed_in(new_page, live_desk, "sun")
    await go_away(sun)
    await open_stats(sun, "质检")
    grading = sun.get_by_test_id("grading")
    await grading.get_by_label("类别").select_option("ticket")
    row = sun.get_by_test_id("candidates").locator(f'tr[data-target="ticket"][data-id="{tid}"]')
    await expect(row).to_contain_text("如何使用馆际互借", timeout=SEEN_MS)
    await row.get_by_role("button", name=f"评定 #{tid}").click()

    # The reply as the reader got it, then the standard's cases under the chosen grade.
    ticket = sun.locator(f'article.grading-ticket[data-ticket="{tid}"]')
    await expect(ticket.get_by_role("heading", name=f"表单咨询 #{tid}")).to_be_visible()
    await expect(ticket.get_by_test_id("grading-answer")).to_have_text(
        "请登录后在馆际互借页面提交。"
    )
    form = sun.get_by_test_id("grade-form")
    await expect(form).to_contain_text("先选择档次，再勾选符合的情形。")
    await form.get_by_role("radio", name="优秀").check()
    await expect(form.get_by_role("checkbox", name=re.compile("^E1"))).to_be_visible()
    await form.get_by_role("checkbox", name=re.compile("^E1")).check()
    await form.get_by_role("radio", name="不合格").check()
    # The excellent case no longer applies; the fail cases are offered.
    await expect(form.get_by_role("checkbox", name=re.compile("^E1"))).to_have_count(0)
    await form.get_by_role("checkbox", name=re.compile("问非所答")).check()
    await form.get_by_role("button", name="提交评定").click()
    await expect(form.get_by_role("alert")).to_have_text("“不合格”须在评语中写明需要修改的地方。")
    await form.get_by_label(re.compile("^评语")).fill("答非所问，请补充馆际互借的申请条件。")
    await form.get_by_role("button", name="提交评定").click()
    await expect(form.get_by_role("status")).to_have_text(
        "已评定为“不合格”，这条答复已退回给咨询员修改。"
    )
    async with live_desk.desk.reads() as s:
        assert (await s.get(Ticket, tid)).state == "revision"  # type: ignore[union-attr]

    # The desk's own refusal in words: a revised-in-waiting reply is not graded again.
    await form.get_by_role("radio", name="合格", exact=True).check()
    await form.get_by_label(re.compile("^评语")).fill("再评一次")
    await form.get_by_role("button", name="提交评定").click()
    await expect(form.get_by_role("alert")).to_contain_text(
        "只有已结束且有咨询员接待的咨询、或已回复的表单咨询可以评定。"
    )

    # wang hears of it, and 我的质检 points to the ticket in 表单咨询.
    await expect(wang.locator(".toast", has_text=f"表单咨询 #{tid}：不合格")).to_be_visible(
        timeout=SEEN_MS
    )
    await open_stats(wang, "我的质检")
    mine = wang.get_by_test_id("my-grades").locator(f'li[data-target-id="{tid}"]')
    await expect(mine).to_contain_text("不合格", timeout=SEEN_MS)
    await expect(mine).to_contain_text("问非所答")
    await expect(mine).to_contain_text("答非所问，请补充馆际互借的申请条件。")
    await expect(mine.get_by_role("note")).to_contain_text(f"表单咨询 #{tid}")
    await mine.get_by_role("button", name="打开表单咨询").click()
    await wang.get_by_role("group", name="表单咨询").get_by_role("button", name="退回修改").click()
    await wang.locator(f'button.ticket-row[data-ticket="{tid}"]').click()
    note = wang.get_by_test_id("revision-note")
    await expect(note).to_contain_text("答非所问，请补充馆际互借的申请条件。")
    await expect(wang.get_by_role("button", name="提交答复")).to_be_visible()

    # In English, with the standard's case in English.
    await wang.get_by_role("button", name="English").click()
    await wang.get_by_role("button", name="Statistics", exact=True).click()
    await (
        wang.get_by_role("group", name="Statistics pages")
        .get_by_role("button", name="My grades")
        .click()
    )
    mine = wang.get_by_test_id("my-grades").locator(f'li[data-target-id="{tid}"]')
    await expect(mine).to_contain_text("Fail")
    await expect(mine).to_contain_text("The answer or the documents have nothing to do")
    await expect(mine.get_by_role("button", name="Open the backlog")).to_be_visible()
