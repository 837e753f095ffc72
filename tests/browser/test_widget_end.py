"""The end of a chat in the reader widget (docs/widget.md): after a consultant served it, the
reader rates it (满意 / 不满意 with a comment, stored as the consultation's fact) and takes a
copy of the conversation (downloaded with their token, or mailed when the desk sends mail). A
chat nobody served offers neither.

A real browser on a library website of another origin, against a real desk node; the
consultant is the harness's Socket.IO client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect
from sqlalchemy import select, text

from desk.db import make_engine
from stats.models import ConsultationFact
from tests.browser.conftest import WEB_DIST, HostSite
from tests.browser.test_widget import (
    QUESTION,
    bubble,
    chat_with_wang,
    composer,
    open_widget,
    panel,
    send,
    site,
)
from tests.conftest import seed_demo
from tests.harness import Node, start_node
from tests.integration.test_backlog import Inbox, smtp  # noqa: F401 (the fixture)

pytestmark = pytest.mark.browser

ANSWER = "您好，学位论文可以在本馆的学位论文库中检索。"
COMMENT = "回复太慢了，<b>希望</b>改进"


async def fact(desk: Node, cid: int) -> ConsultationFact | None:
    async with desk.desk.reads() as s:
        return await s.scalar(
            select(ConsultationFact).where(ConsultationFact.consultation_id == cid)
        )


async def test_a_served_chat_is_rated_and_its_copy_downloaded(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    page, wang, cid = await chat_with_wang(live_desk, host_site, new_page)
    await wang.ok("message.send", {"consultation_id": cid, "client_msg_id": "a1", "body": ANSWER})
    await expect(bubble(page, ANSWER)).to_have_count(1)
    # Nothing to rate while the chat is under way.
    await expect(panel(page).get_by_role("group", name="您对本次咨询满意吗？")).to_have_count(0)

    await wang.ok("consultation.close", {"consultation_id": cid})
    await expect(panel(page).get_by_text("咨询员已结束本次咨询。")).to_be_visible()
    rating = panel(page).get_by_role("group", name="您对本次咨询满意吗？")
    await expect(rating).to_be_visible()
    await expect(panel(page).get_by_role("heading", name="对话记录")).to_be_visible()
    # This desk sends no mail: only the download is offered.
    await expect(panel(page).get_by_label("发送到电子邮箱")).to_be_hidden()

    # Sent without a choice: the reader is told to choose first, nothing goes out.
    send_rating = panel(page).get_by_role("button", name="提交评价")
    await send_rating.click()
    await expect(panel(page).get_by_role("alert")).to_have_text("请先选择“满意”或“不满意”。")
    before = await fact(live_desk, cid)
    assert before is None or before.rating is None

    # By keyboard: the radio group, the comment, then Enter on the button.
    await rating.get_by_role("radio", name="不满意").check()
    comment = panel(page).get_by_label("意见或建议（选填，最多 500 字）")
    await expect(comment).to_have_attribute("maxlength", "500")
    await comment.fill(COMMENT)
    await send_rating.focus()
    await page.keyboard.press("Enter")
    thanks = panel(page).get_by_text("感谢您的评价！")
    await expect(thanks).to_be_visible()
    await expect(thanks).to_be_focused()
    await expect(panel(page).get_by_role("alert")).to_have_text("")
    stored = await fact(live_desk, cid)
    assert stored is not None and stored.rating == 0 and stored.rating_comment == COMMENT

    # The reader's copy: a text file with the chat as they saw it.
    async with page.expect_download() as info:
        await panel(page).get_by_role("button", name="下载对话记录").click()
    download = await info.value
    assert download.suggested_filename == f"consultation-{cid}.txt"
    assert download.url.startswith("blob:" + host_site.origin)
    copy = Path(await download.path()).read_text(encoding="utf-8")
    assert QUESTION in copy and ANSWER in copy and "咨询员" in copy
    await expect(panel(page).locator(".after [aria-live]")).to_have_text("下载完成")

    # A second rating replaces the first.
    await panel(page).get_by_role("button", name="修改评价").click()
    await expect(rating.get_by_role("radio", name="不满意")).to_be_focused()
    await rating.get_by_role("radio", name="满意", exact=True).check()
    await comment.fill("")
    await send_rating.click()
    await expect(thanks).to_be_visible()
    stored = await fact(live_desk, cid)
    assert stored is not None and stored.rating == 1 and stored.rating_comment == ""

    # In English too; and a new chat starts without any of it.
    await panel(page).get_by_role("button", name="Switch to English").click()
    await expect(panel(page).get_by_text("Thank you for your rating!")).to_be_visible()
    await expect(
        panel(page).get_by_role("button", name="Download the conversation")
    ).to_be_visible()
    await panel(page).get_by_role("button", name="Start a new chat").click()
    await expect(panel(page).get_by_text("Thank you for your rating!")).to_be_hidden()
    await expect(panel(page).locator(".after")).to_be_hidden()


async def test_a_chat_nobody_served_offers_no_rating(
    live_desk: Node, host_site: HostSite, new_page: Any
) -> None:
    page = await new_page(await site(host_site, live_desk))
    await open_widget(page)
    await send(page, "没人接也没关系")
    await expect(bubble(page, "没人接也没关系")).to_have_count(1)
    await panel(page).get_by_role("button", name="结束咨询").click()
    await panel(page).get_by_role("button", name="结束", exact=True).click()
    await expect(panel(page).get_by_text("您已结束本次咨询。")).to_be_visible()
    await expect(composer(page)).to_be_disabled()
    await expect(panel(page).locator(".after")).to_be_hidden()
    await expect(panel(page).get_by_role("button", name="提交评价")).to_have_count(0)


@pytest.fixture
async def mailing_desk(
    sqlite_url: str,
    host_site: HostSite,
    smtp: tuple[int, Inbox],  # noqa: F811 (the fixture imported above)
) -> AsyncIterator[Node]:
    """The browser tests' desk (see conftest.live_desk), sending mail to a local SMTP inbox."""
    await seed_demo(sqlite_url, "http://unused")
    engine = make_engine(sqlite_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE libraries SET allowed_origins = :o"), {"o": f'["{host_site.origin}"]'}
            )
    finally:
        await engine.dispose()
    node = await start_node(
        sqlite_url,
        scheduler=True,
        static_dir=WEB_DIST,
        smtp_host="127.0.0.1",
        smtp_port=smtp[0],
    )
    try:
        yield node
    finally:
        await node.close()


async def test_the_copy_is_mailed_when_the_desk_sends_mail(
    mailing_desk: Node,
    host_site: HostSite,
    new_page: Any,
    smtp: tuple[int, Inbox],  # noqa: F811
) -> None:
    page, wang, cid = await chat_with_wang(mailing_desk, host_site, new_page)
    await wang.ok("message.send", {"consultation_id": cid, "client_msg_id": "a1", "body": ANSWER})
    await wang.ok("consultation.close", {"consultation_id": cid})
    email = panel(page).get_by_label("发送到电子邮箱")
    await expect(email).to_be_visible()
    send_mail = panel(page).get_by_role("button", name="发送邮件")

    await email.fill("not-an-address")
    await send_mail.click()
    await expect(panel(page).get_by_role("alert")).to_have_text("邮箱地址格式不正确，请检查。")
    await expect(email).to_be_focused()
    assert smtp[1].mail == []

    await email.fill("reader@example.org")
    await email.press("Enter")
    await expect(panel(page).get_by_text("对话记录已发送到 reader@example.org。")).to_be_visible()
    [mail] = smtp[1].mail
    assert mail["To"] == "reader@example.org"
    body = mail.get_content()  # type: ignore[attr-defined]
    assert QUESTION in body and ANSWER in body
