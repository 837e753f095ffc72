"""The console's library settings pages: the knowledge base (知识库), service hours and phone
(服务时间与电话), the etiquette lists (用语提醒). Supervisors edit, other consultants read.

Demo users at demo-ul: chen (supervisor) and zhao (consultant).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from playwright.async_api import FilePayload, Locator, Page, expect
from sqlalchemy import select, update

from bots.kb import upsert_from_case
from desk.models import Consultant, Library
from tests.browser.test_console import SEEN_MS, signed_in
from tests.harness import Node

pytestmark = pytest.mark.browser

DAYS = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]


async def open_page(page: Page, name: str) -> Locator:
    await page.get_by_role("button", name=name, exact=True).click()
    dialog = page.get_by_role("dialog", name=name)
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_text("正在加载…")).to_have_count(0, timeout=SEEN_MS)
    return dialog


async def public_library(node: Node, code: str = "demo-ul") -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.get(f"{node.base}/api/libraries/{code}") as r:
        assert r.status == 200
        return (await r.json())["library"]  # type: ignore[no-any-return]


async def api_get(page: Page, node: Node, path: str) -> dict[str, Any]:
    """A GET with the page's session cookie."""
    r = await page.request.get(f"{node.base}{path}")
    assert r.ok, await r.text()
    return await r.json()  # type: ignore[no-any-return]


async def library_id(node: Node, code: str = "demo-ul") -> int:
    async with node.desk.reads() as s:
        lid = await s.scalar(select(Library.id).where(Library.code == code))
    assert lid is not None
    return int(lid)


# ---- service hours and phone ------------------------------------------------------------------


async def test_service_hours_set_by_a_supervisor_decide_open_now_others_read_only(
    live_desk: Node, new_page: Any
) -> None:
    chen = await signed_in(new_page, live_desk, "chen")
    dialog = await open_page(chen, "服务时间与电话")
    now_line = dialog.get_by_test_id("hours-now")
    await expect(now_line).to_have_text("现在：未设服务时间（读者随时可以发起实时咨询）")
    await expect(dialog.get_by_label("时区")).to_have_value("Asia/Shanghai")

    # Every day 00:00–24:00 (so the desk is open whatever the time of the test), Monday wrong
    # first: the desk's refusal is shown at Monday's row, in words.
    for day in DAYS:
        await dialog.get_by_role("button", name=f"{day}添加时段").click()
        await dialog.get_by_label(f"{day}第 1 段开始").fill("00:00")
        await dialog.get_by_label(f"{day}第 1 段结束").fill("24:00")
    await dialog.get_by_label("周一第 1 段开始").fill("9:00")
    await dialog.get_by_label("周一第 1 段结束").fill("8:00")
    await dialog.get_by_label("咨询电话").fill("010-6275 1234")
    await dialog.get_by_role("button", name="保存", exact=True).click()
    monday = dialog.locator('[data-day="mon"]')
    await expect(monday.get_by_role("alert")).to_have_text(
        "周一 09:00–08:00：结束时间要晚于开始时间"
    )
    await expect(dialog.get_by_label("周一第 1 段结束")).to_have_attribute("aria-invalid", "true")
    await expect(now_line).to_contain_text("未设服务时间")  # nothing was stored
    assert (await public_library(live_desk))["open_now"] is None

    # A second span on Monday, then removed again; at most 4 a day.
    await dialog.get_by_role("button", name="周二添加时段").click()
    await expect(dialog.get_by_label("周二第 2 段开始")).to_be_focused()
    await dialog.get_by_role("button", name="删除周二第 2 段").click()
    await expect(dialog.get_by_label("周二第 2 段开始")).to_have_count(0)

    await dialog.get_by_label("周一第 1 段开始").fill("00:00")
    await dialog.get_by_label("周一第 1 段结束").fill("24:00")
    await dialog.get_by_role("button", name="保存", exact=True).click()
    await expect(dialog.get_by_role("status").filter(has_text="已保存。")).to_be_visible()
    await expect(now_line).to_have_text("现在：服务中")
    await expect(monday.get_by_role("alert")).to_have_count(0)
    lib = await public_library(live_desk)
    assert lib["open_now"] is True and lib["opens_at"] is None
    assert lib["phone"] == "010-6275 1234"

    # Today (the library's date) is a holiday: closed now, open again at midnight.
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    tomorrow = today + timedelta(days=1)
    await dialog.get_by_label("新的闭馆日期").fill(today.isoformat())
    await dialog.get_by_role("button", name="添加日期").click()
    await expect(dialog.locator(f'[data-date="{today.isoformat()}"]')).to_be_visible()
    await dialog.get_by_role("button", name="保存", exact=True).click()
    await expect(now_line).to_contain_text("现在：已下班，下次开放")
    await expect(now_line).to_contain_text(f"{tomorrow.month}月{tomorrow.day}日")
    await expect(now_line).to_contain_text("00:00")
    lib = await public_library(live_desk)
    assert lib["open_now"] is False
    assert lib["opens_at"].startswith(f"{tomorrow.isoformat()}T00:00")

    # A consultant of the library sees the same, read-only; the desk refuses a write anyway.
    zhao = await signed_in(new_page, live_desk, "zhao")
    ro = await open_page(zhao, "服务时间与电话")
    await expect(ro.get_by_role("note")).to_have_text(
        "只有本馆的主管和管理员可以修改，您可以查看。"
    )
    await expect(ro.get_by_test_id("hours-now")).to_contain_text("已下班")
    start = ro.get_by_label("周三第 1 段开始")
    await expect(start).to_have_value("00:00")
    await expect(start).to_have_attribute("readonly", "")
    await expect(ro.get_by_label("咨询电话")).to_have_value("010-6275 1234")
    await expect(ro.get_by_label("咨询电话")).to_have_attribute("readonly", "")
    await expect(ro.locator(f'[data-date="{today.isoformat()}"]')).to_be_visible()
    for name in ("保存", "不设服务时间", "添加日期", "周三添加时段"):
        await expect(ro.get_by_role("button", name=name, exact=True)).to_have_count(0)
    refused = await zhao.request.put(
        f"{live_desk.base}/api/library/settings", data={"clear_hours": True}
    )
    assert refused.status == 403

    # 不设服务时间 (after a confirmation) clears them: no set hours again.
    await dialog.get_by_role("button", name="不设服务时间").click()
    await dialog.get_by_role("button", name="确认清除").click()
    await expect(dialog.get_by_role("status").filter(has_text="已清除服务时间。")).to_be_visible()
    await expect(now_line).to_contain_text("未设服务时间")
    await expect(dialog.get_by_text("不服务", exact=True)).to_have_count(7)
    await expect(dialog.get_by_text("没有闭馆日期。")).to_be_visible()
    lib = await public_library(live_desk)
    assert lib["open_now"] is None and lib["phone"] == "010-6275 1234"


# ---- knowledge base ---------------------------------------------------------------------------


def entry(dialog: Locator, question: str) -> Locator:
    return dialog.locator(".kb-entry").filter(
        has=dialog.page.locator(".kb-question", has_text=question)
    )


async def test_knowledge_base_add_edit_switch_off_delete_and_read_only(
    live_desk: Node, new_page: Any
) -> None:
    await upsert_from_case(
        live_desk.desk,
        library_id=await library_id(live_desk),
        language="zh-CN",
        question="毕业生离校后还能用数据库吗",
        answer="离校后账号停用；可以到馆使用公共检索机。",
        case_id=41,
    )
    chen = await signed_in(new_page, live_desk, "chen")
    dialog = await open_page(chen, "知识库")
    case = entry(dialog, "毕业生离校后还能用数据库吗")
    await expect(case).to_contain_text("来自典型案例 · 案例 #41")
    await expect(case).to_contain_text("本馆")
    # The alliance's defaults are listed, marked, and not the supervisor's to change.
    alliance = dialog.locator('.kb-entry[data-scope="alliance"]')
    await expect(alliance.first).to_contain_text("全联盟")
    assert await alliance.count() >= 20
    await expect(alliance.get_by_role("button", name="编辑")).to_have_count(0)

    # Add: a blank question is refused at the field; then a duplicate; then saved.
    await dialog.get_by_role("button", name="新增条目").click()
    form = dialog.locator("form.kb-form")
    await expect(form.get_by_label("问题", exact=True)).to_be_focused()
    await form.get_by_label("问题", exact=True).fill("   ")
    await form.get_by_label("回答", exact=True).fill("需要提前一天在网上预约。")
    await form.get_by_role("button", name="保存").click()
    await expect(form.locator("#kb-question-error")).to_have_text("不能为空")
    await expect(form.get_by_label("问题", exact=True)).to_have_attribute("aria-invalid", "true")
    await form.get_by_label("问题", exact=True).fill("毕业生离校后还能用数据库吗")
    await form.get_by_role("button", name="保存").click()
    await expect(form.locator("#kb-question-error")).to_have_text(
        "同一范围、同一语言中已经有这个问题。"
    )
    await form.get_by_label("问题", exact=True).fill("古籍阅览室需要预约吗")
    await form.get_by_label("关键词", exact=True).fill("古籍 善本 预约 特藏")
    await form.get_by_role("button", name="保存").click()
    await expect(form).to_have_count(0)
    added = entry(dialog, "古籍阅览室需要预约吗")
    await expect(added).to_contain_text("需要提前一天在网上预约。")
    await expect(added).to_contain_text("关键词：古籍 善本 预约 特藏")

    # Search: the entry comes first, marked as the one the bot would answer with.
    await dialog.get_by_label("搜索").fill("古籍阅览室需要预约吗")
    await expect(dialog.get_by_test_id("kb-count")).to_contain_text("最相关的")
    await expect(dialog.locator(".kb-entry").first).to_contain_text("古籍阅览室需要预约吗")
    await expect(added.get_by_test_id("kb-bot-answer")).to_contain_text("自动回答会用这一条")
    await dialog.get_by_label("搜索").fill("")

    # Edit the answer.
    await added.get_by_role("button", name="编辑").click()
    await expect(form.get_by_role("heading")).to_contain_text("编辑条目")
    await form.get_by_label("回答", exact=True).fill("需要提前三天在网上预约，并带上读者证。")
    await form.get_by_role("button", name="保存").click()
    await expect(added).to_contain_text("需要提前三天在网上预约，并带上读者证。")

    # Switch it off and on.
    await added.get_by_role("button", name="停用").click()
    await expect(added).to_contain_text("已停用")
    got = await api_get(chen, live_desk, "/api/kb?language=zh-CN")
    mine = next(e for e in got["entries"] if e["question"] == "古籍阅览室需要预约吗")
    assert mine["active"] is False and mine["answer"].startswith("需要提前三天")
    await added.get_by_role("button", name="启用").click()
    await expect(added).not_to_contain_text("已停用")

    # The language filter.
    await dialog.get_by_label("语言").select_option("en")
    await expect(dialog.locator(".kb-entry .lang").first).to_have_text("en")
    langs = await dialog.locator(".kb-entry .lang").all_inner_texts()
    assert langs and set(langs) == {"en"}
    await dialog.get_by_label("语言").select_option("")
    await expect(added).to_be_visible()

    # A consultant reads, without any way to change or export.
    zhao = await signed_in(new_page, live_desk, "zhao")
    ro = await open_page(zhao, "知识库")
    await expect(ro.get_by_role("note")).to_have_text(
        "只有本馆的主管和管理员可以修改，您可以查看。"
    )
    await expect(entry(ro, "古籍阅览室需要预约吗")).to_be_visible()
    for name in ("新增条目", "编辑", "停用", "删除", "导入", "导出 CSV"):
        await expect(ro.get_by_role("button", name=name, exact=True)).to_have_count(0)
    await expect(ro.get_by_text("导入与导出", exact=True)).to_have_count(0)

    # Delete, after a confirmation (cancel first).
    await added.get_by_role("button", name="删除").click()
    await expect(added).to_contain_text("删除“古籍阅览室需要预约吗”？删除后不能恢复")
    await added.get_by_role("button", name="取消").click()
    await added.get_by_role("button", name="删除").click()
    await added.get_by_role("button", name="确认删除").click()
    await expect(dialog.get_by_role("status").filter(has_text="已删除。")).to_be_visible()
    await expect(added).to_have_count(0)
    got = await api_get(chen, live_desk, "/api/kb")
    assert all(e["question"] != "古籍阅览室需要预约吗" for e in got["entries"])


def upload(name: str, data: bytes, mime: str = "text/csv") -> FilePayload:
    return {"name": name, "mimeType": mime, "buffer": data}


def csv_file(rows: list[list[str]]) -> bytes:
    out = io.StringIO(newline="")
    w = csv.writer(out)
    w.writerow(["language", "question", "answer", "keywords", "active"])
    w.writerows(rows)
    return out.getvalue().encode("utf-8")


async def test_knowledge_base_import_refused_then_written_and_exported(
    live_desk: Node, new_page: Any
) -> None:
    chen = await signed_in(new_page, live_desk, "chen")
    dialog = await open_page(chen, "知识库")
    await dialog.get_by_text("导入与导出", exact=True).click()
    file_input = dialog.get_by_label("文件（CSV 或 JSON）")

    # One good row and two bad ones: the rows' problems in a table, nothing written.
    bad = csv_file(
        [
            ["zh-CN", "研究间怎么预约", "在图书馆网站“空间预约”中预约。", "研讨间 小间", "是"],
            ["zh-CN", "可以带饮料进馆吗", "", "", ""],
            ["中文", "自习室几点关门", "晚上十点。", "", "maybe"],
        ]
    )
    await file_input.set_input_files(files=[upload("bad.csv", bad)])
    await expect(dialog.get_by_label("格式")).to_have_value("csv")
    await dialog.get_by_role("button", name="导入").click()
    refused = dialog.locator(".kb-refused")
    await expect(refused).to_contain_text("没有写入任何条目")
    await expect(refused.locator('tr[data-row="3"]')).to_contain_text("answer")
    await expect(refused.locator('tr[data-row="3"]')).to_contain_text("不能为空")
    await expect(refused.locator('tr[data-row="4"]').first).to_contain_text("language")
    await expect(refused.locator('tr[data-row="4"]').filter(has_text="active")).to_contain_text(
        "应为 true 或 false"
    )
    await expect(refused.locator('tr[data-row="2"]')).to_have_count(0)
    got = await api_get(chen, live_desk, "/api/kb")
    assert all(e["question"] != "研究间怎么预约" for e in got["entries"])

    # A file without the needed columns is refused as a whole.
    headless = b"question,answer\nx,y\n"
    await file_input.set_input_files(files=[upload("cols.csv", headless)])
    await dialog.get_by_role("button", name="导入").click()
    await expect(dialog.get_by_role("alert").filter(has_text="无法读取这个文件")).to_contain_text(
        "表头缺少列：language"
    )

    # The corrected file is written: the count shown, the entries listed.
    good = csv_file(
        [
            ["zh-CN", "研究间怎么预约", "在图书馆网站“空间预约”中预约。", "研讨间 小间", "是"],
            ["zh-CN", "可以带饮料进馆吗", "可以带有盖的饮料，不能带食物。", "喝水 水杯", ""],
            ["en", "Can I bring a drink?", "Drinks with a lid are fine; no food.", "water", "true"],
        ]
    )
    await file_input.set_input_files(files=[upload("good.csv", good)])
    await dialog.get_by_role("button", name="导入").click()
    await expect(dialog.get_by_role("status").filter(has_text="已导入")).to_have_text(
        "已导入 3 条（新增 3，更新 0），0 条没有变化。"
    )
    await expect(refused).to_have_count(0)
    await expect(entry(dialog, "研究间怎么预约")).to_contain_text("本馆")
    await expect(entry(dialog, "Can I bring a drink?")).to_be_visible()

    # Export CSV and JSON: real downloads with the library's entries.
    async with chen.expect_download() as info:
        await dialog.get_by_role("button", name="导出 CSV").click()
    download = await info.value
    assert download.suggested_filename == "kb-demo-ul.csv"
    data = (await download.path()).read_bytes()
    assert data.startswith("\ufeff".encode())  # Excel shows Chinese
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert {r["question"] for r in rows} == {
        "研究间怎么预约",
        "可以带饮料进馆吗",
        "Can I bring a drink?",
    }
    assert all(r["scope"] == "library" for r in rows)
    await expect(dialog.get_by_text("已下载 kb-demo-ul.csv。")).to_be_visible()

    async with chen.expect_download() as info:
        await dialog.get_by_role("button", name="导出 JSON").click()
    download = await info.value
    assert download.suggested_filename == "kb-demo-ul.json"
    exported = json.loads((await download.path()).read_text("utf-8"))
    assert len(exported["entries"]) == 3
    drink = next(e for e in exported["entries"] if e["language"] == "en")
    assert drink["answer"] == "Drinks with a lid are fine; no food." and drink["active"] is True

    # The export imported again, one answer changed: one updated, two unchanged.
    drink["answer"] = "Drinks with a lid are fine."
    body = json.dumps(exported, ensure_ascii=False).encode()
    await file_input.set_input_files(files=[upload("kb-demo-ul.json", body, "application/json")])
    await expect(dialog.get_by_label("格式")).to_have_value("json")
    await dialog.get_by_role("button", name="导入").click()
    await expect(dialog.get_by_role("status").filter(has_text="已导入")).to_have_text(
        "已导入 1 条（新增 0，更新 1），2 条没有变化。"
    )
    await expect(entry(dialog, "Can I bring a drink?")).to_contain_text(
        "Drinks with a lid are fine."
    )


# ---- etiquette lists --------------------------------------------------------------------------


async def test_etiquette_lists_saved_read_back_and_refusals_shown(
    live_desk: Node, new_page: Any
) -> None:
    chen = await signed_in(new_page, live_desk, "chen")
    dialog = await open_page(chen, "用语提醒")
    defaults = dialog.locator("details.etq-defaults")
    await defaults.locator("summary").click()
    await expect(defaults).to_contain_text("OPAC")
    await expect(defaults).to_contain_text("馆藏目录查询")
    await expect(defaults.locator("input")).to_have_count(0)  # read-only
    await expect(dialog.get_by_text("本馆没有自己的术语。")).to_be_visible()

    await dialog.get_by_role("button", name="添加术语").click()
    await expect(dialog.get_by_label("第 1 个术语", exact=True)).to_be_focused()
    await chen.keyboard.type("馆藏地")
    await dialog.get_by_label("第 1 个术语的通俗说法").fill("书放在哪个阅览室")
    await dialog.get_by_role("button", name="添加术语").click()
    await dialog.get_by_label("第 2 个术语", exact=True).fill("OA")
    await dialog.get_by_label("第 2 个术语的通俗说法").fill("开放获取（免费阅读）")
    await dialog.get_by_role("button", name="添加术语").click()  # left empty: not sent
    await dialog.get_by_role("button", name="添加网址").click()
    await dialog.get_by_label("第 1 个网址", exact=True).fill("https://db.demo-ul.edu.cn/login")
    await dialog.get_by_role("button", name="添加网址").click()
    await dialog.get_by_label("第 2 个网址", exact=True).fill(".intranet.demo-ul.edu.cn")
    await dialog.get_by_label("第 2 个网址的原因").select_option(label="内网地址")

    await chen.evaluate(
        "() => { window.etqChanged = 0;"
        " addEventListener('desk:etiquette-changed', () => window.etqChanged++); }"
    )
    # A host with a scheme and path is refused, at its row.
    await dialog.get_by_role("button", name="保存", exact=True).click()
    await expect(dialog.locator("#etq-host-0-error")).to_contain_text("主机名")
    await expect(dialog.get_by_label("第 1 个网址", exact=True)).to_have_attribute(
        "aria-invalid", "true"
    )
    await expect(dialog.get_by_role("alert").filter(has_text="没有保存")).to_be_visible()

    await dialog.get_by_label("第 1 个网址", exact=True).fill("db.demo-ul.edu.cn")
    await dialog.get_by_label("第 1 个网址的原因").select_option(label="需要付费")
    await dialog.get_by_role("button", name="保存", exact=True).click()
    await expect(dialog.get_by_role("status").filter(has_text="已保存。")).to_be_visible()
    await expect(dialog.locator("#etq-host-0-error")).to_have_count(0)
    await expect(dialog.get_by_label("第 3 个术语", exact=True)).to_have_count(0)  # the empty row
    # The composer's etiquette helper is told to load the lists again (once: one save).
    assert await chen.evaluate("() => window.etqChanged") == 1

    got = await api_get(chen, live_desk, "/api/etiquette")
    assert got["library"] == {
        "terms": [
            {"term": "馆藏地", "hint": "书放在哪个阅览室"},
            {"term": "OA", "hint": "开放获取（免费阅读）"},
        ],
        "hosts": [
            {"host": "db.demo-ul.edu.cn", "reason": "paid"},
            {"host": ".intranet.demo-ul.edu.cn", "reason": "intranet"},
        ],
    }

    # Read back after closing and opening the page; remove a term and save.
    await dialog.get_by_role("button", name="关闭").click()
    dialog = await open_page(chen, "用语提醒")
    await expect(dialog.get_by_label("第 1 个术语", exact=True)).to_have_value("馆藏地")
    await expect(dialog.get_by_label("第 2 个网址", exact=True)).to_have_value(
        ".intranet.demo-ul.edu.cn"
    )
    await expect(dialog.get_by_label("第 2 个网址的原因")).to_have_value("intranet")
    await dialog.get_by_role("button", name="删除第 1 个术语").click()
    await dialog.get_by_role("button", name="保存", exact=True).click()
    await expect(dialog.get_by_role("status").filter(has_text="已保存。")).to_be_visible()
    got = await api_get(chen, live_desk, "/api/etiquette")
    assert [t["term"] for t in got["library"]["terms"]] == ["OA"]

    # A consultant reads the same lists, read-only.
    zhao = await signed_in(new_page, live_desk, "zhao")
    ro = await open_page(zhao, "用语提醒")
    await expect(ro.get_by_role("note")).to_have_text(
        "只有本馆的主管和管理员可以修改，您可以查看。"
    )
    await expect(ro.get_by_label("第 1 个术语", exact=True)).to_have_value("OA")
    await expect(ro.get_by_label("第 1 个术语", exact=True)).to_have_attribute("readonly", "")
    await expect(ro.get_by_label("第 1 个网址的原因")).to_be_disabled()
    for name in ("保存", "添加术语", "添加网址", "删除第 1 个术语"):
        await expect(ro.get_by_role("button", name=name, exact=True)).to_have_count(0)

    # The desk's own refusal is shown: chen is no longer a supervisor when he saves.
    async with live_desk.desk.sessions.begin() as s:
        await s.execute(
            update(Consultant).where(Consultant.username == "chen").values(role="consultant")
        )
    await dialog.get_by_role("button", name="添加术语").click()
    await dialog.get_by_label("第 2 个术语", exact=True).fill("ILL")
    await dialog.get_by_role("button", name="保存", exact=True).click()
    await expect(dialog.get_by_role("alert").filter(has_text="没有保存")).to_contain_text(
        "咨询台拒绝了这次修改"
    )
    got = await api_get(zhao, live_desk, "/api/etiquette")
    assert [t["term"] for t in got["library"]["terms"]] == ["OA"]


# ---- narrow screens, keyboard, English --------------------------------------------------------


async def test_settings_pages_fit_a_narrow_screen_and_switch_to_english(
    live_desk: Node, new_page: Any
) -> None:
    chen = await signed_in(new_page, live_desk, "chen")
    await chen.set_viewport_size({"width": 360, "height": 740})
    for name in ("知识库", "服务时间与电话", "用语提醒"):
        dialog = await open_page(chen, name)
        fits = await dialog.evaluate("d => d.scrollWidth <= d.clientWidth + 1")
        assert fits, f"{name} is wider than a 360 px screen"
        box = await dialog.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 361
        await chen.keyboard.press("Escape")
        await expect(dialog).to_have_count(0)

    # From the keyboard: a new span takes the focus, a whole working day to start with.
    dialog = await open_page(chen, "服务时间与电话")
    await dialog.get_by_role("button", name="周五添加时段").focus()
    await chen.keyboard.press("Enter")
    await expect(dialog.get_by_label("周五第 1 段开始")).to_be_focused()
    await expect(dialog.get_by_label("周五第 1 段开始")).to_have_value("08:30")
    await chen.keyboard.press("Escape")

    await chen.get_by_role("button", name="English").click()
    dialog = await open_page(chen, "Service hours and phone")
    await expect(dialog.get_by_test_id("hours-now")).to_have_text(
        "Now: no set hours (readers may start a live chat at any time)"
    )
    await expect(dialog.get_by_label("Time zone")).to_have_value("Asia/Shanghai")
    await chen.keyboard.press("Escape")
    dialog = await open_page(chen, "Knowledge base")
    await expect(dialog.get_by_role("button", name="Add an entry")).to_be_visible()
    await expect(dialog.locator('.kb-entry[data-scope="alliance"]').first).to_contain_text(
        "Alliance"
    )
