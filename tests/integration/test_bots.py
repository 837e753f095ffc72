"""The bots over real sockets: the greeting once per chat, and the waiting bot's place, wait
and calm updates as the queue moves, on a clock the test moves."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select, text

from bots.runtime import Bots
from bots.texts import TEMPLATES
from desk.app import BOTS_KEY
from desk.clock import ManualClock
from desk.models import BotText
from tests.conftest import seed_demo
from tests.harness import Consultant, Node, Reader, start_node
from transcripts.models import Message


@pytest.fixture
async def bot_node(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Node]:
    """The demo alliance with its bots on (but the FAQ bot: tests/integration/test_faq.py),
    direct routing, no overflow for 10 minutes."""
    await seed_demo(sqlite_url, "http://unused")
    n = await start_node(sqlite_url, clock=clock)
    async with n.desk.engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE libraries SET bot_settings = '{\"faq\": false}', routing_mode = 'direct',"
                " overflow_delay_seconds = 600"
            )
        )
    n.desk.directory.forget()
    try:
        yield n
    finally:
        await n.close()


def bots(node: Node) -> Bots:
    return node.app[BOTS_KEY]


async def stored_bot_bodies(node: Node, cid: int) -> list[str]:
    async with node.desk.reads() as s:
        rows = await s.scalars(
            select(Message.body)
            .where(Message.consultation_id == cid, Message.author_kind == "bot")
            .order_by(Message.seq)
        )
        return list(rows)


def _count(c: Consultant) -> int:
    return len(c.events["chat.assigned"])


async def stored_bot_messages(node: Node, cid: int) -> int:
    return len(await stored_bot_bodies(node, cid))


def bot_messages(reader: Reader, cid: int) -> list[str]:
    return [m["body"] for m in reader.messages(cid) if m["author_kind"] == "bot"]


async def _reader(
    node: Node, question: str = "请问怎么查学位论文？", **kw: object
) -> tuple[Reader, int]:
    r = await Reader.register(node.base, "demo-pl")
    await r.connect()
    opened = await r.open(question, **kw)  # type: ignore[arg-type]
    return r, opened["consultation"]["id"]


async def test_the_greeting_states_the_scope_once_per_chat(bot_node: Node) -> None:
    reader, cid = await _reader(bot_node)
    greeting = await reader.wait_for("message", lambda m: m["author_kind"] == "bot")
    assert "事实性咨询" in greeting["body"] and "表单咨询" in greeting["body"]
    assert "示例市公共图书馆" in greeting["body"]
    # The greeting comes before any answer: it is the chat's first message.
    assert greeting["seq"] == 1

    # A reload opens the same chat again: no second greeting, now or after a reconnect.
    await reader.reconnect()
    again = await reader.ok("consultation.open", {"language": "zh-CN"})
    assert again["created"] is False
    bodies = [m["body"] for m in again["messages"] if m["author_kind"] == "bot"]
    assert bodies == [greeting["body"]]


async def test_the_greeting_speaks_the_readers_language(bot_node: Node) -> None:
    r = await Reader.register(bot_node.base, "demo-pl")
    await r.connect()
    opened = await r.open("How do I find a thesis?", language="en")
    msg = await r.wait_for("message", lambda m: m["author_kind"] == "bot")
    assert msg["consultation_id"] == opened["consultation"]["id"]
    assert msg["body"].startswith("Hello, and welcome")


async def test_a_librarys_own_wording_is_used(bot_node: Node) -> None:
    async with bot_node.desk.sessions.begin() as s:
        lib_id = (await s.execute(text("SELECT id FROM libraries WHERE code = 'demo-pl'"))).scalar()
        s.add(
            BotText(library_id=lib_id, key="greeting", language="zh-CN", body="{library}欢迎您！")
        )
    reader, cid = await _reader(bot_node)
    msg = await reader.wait_for("message", lambda m: m["author_kind"] == "bot")
    assert msg["body"] == "示例市公共图书馆欢迎您！"


async def test_nobody_online_is_said_once_with_the_form_service(
    bot_node: Node, clock: ManualClock
) -> None:
    reader, cid = await _reader(bot_node)
    await bots(bot_node).tell_waiting()
    live = await reader.wait_for("queue.position")
    assert live == {
        "consultation_id": cid,
        "position": 1,
        "ahead": 0,
        "minutes": None,
        "consultants_online": False,
        "offer_form": True,
    }
    told = await reader.wait_for("message", lambda m: "暂无" in m["body"])
    assert told["author_kind"] == "bot" and "表单咨询" in told["body"]
    for _ in range(5):
        clock.advance(300)
        await bots(bot_node).tell_waiting()
    assert sum("暂无" in b for b in await stored_bot_bodies(bot_node, cid)) == 1


async def test_place_and_wait_move_as_the_queue_moves(bot_node: Node, clock: ManualClock) -> None:
    async with bot_node.desk.engine.begin() as conn:
        await conn.execute(text("UPDATE consultants SET max_chats = 2 WHERE username = 'li'"))
    li = await Consultant.login(bot_node.base, "li")
    await li.connect()
    served = []
    for _ in range(2):
        _, cid = await _reader(bot_node)
        served.append(cid)
        await li.wait_for("chat.assigned", lambda a, cid=cid: a["consultation"]["id"] == cid)
    first, first_id = await _reader(bot_node)
    second, second_id = await _reader(bot_node)

    # Routing had its chance; 10 s later both are told where they stand.
    await bot_node.advance(10)
    await bots(bot_node).tell_waiting()
    one = await first.wait_for("queue.position")
    two = await second.wait_for("queue.position")
    # No chat has ended yet: 6 minutes per chat, 2 slots -> 3 minutes per place.
    assert (one["position"], one["minutes"]) == (1, 3)
    assert (two["position"], two["ahead"], two["minutes"]) == (2, 1, 6)
    await first.wait_for("message", lambda m: "排在第一位" in m["body"])
    await second.wait_for("message", lambda m: "前面还有1位" in m["body"])

    # A calm interval: the live status keeps coming, the chat stays quiet (counted in the
    # store, which the pass has written to when it returns).
    await bot_node.advance(30)
    assert await bots(bot_node).tell_waiting() == 0
    await second.wait_for("queue.position", lambda p: p is not two)
    assert await stored_bot_messages(bot_node, second_id) == 2  # greeting + one place message

    # li ends a chat: the first reader is served, the second moves up and hears it.
    await li.ok("consultation.close", {"consultation_id": served[0]})
    await li.wait_for("chat.assigned", lambda a: a["consultation"]["id"] == first_id)
    await bot_node.advance(130)
    await bots(bot_node).tell_waiting()
    await second.wait_for("queue.position", lambda p: p["position"] == 1)
    await second.wait_for("message", lambda m: "排在第一位" in m["body"])
    # Served readers are no longer in the queue: nothing more about places reaches them.
    before = len(first.events["queue.position"])
    await bot_node.advance(5)
    await bots(bot_node).tell_waiting()
    await second.wait_for("queue.position", lambda p: p["position"] == 1 and p is not two)
    assert len(first.events["queue.position"]) == before


async def test_a_long_wait_offers_the_form_service_and_the_phone(
    bot_node: Node, clock: ManualClock
) -> None:
    async with bot_node.desk.engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE libraries SET"
                ' bot_settings = \'{"long_wait_minutes": 10, "faq": false}\','
                " phone = '010-1234-5678' WHERE code = 'demo-pl'"
            )
        )
        await conn.execute(text("UPDATE consultants SET max_chats = 1 WHERE username = 'li'"))
    bot_node.desk.directory.forget()
    li = await Consultant.login(bot_node.base, "li")
    await li.connect()
    await _reader(bot_node)
    await li.wait_for("chat.assigned")
    near, near_id = await _reader(bot_node)
    far, far_id = await _reader(bot_node)
    await bot_node.advance(10)
    await bots(bot_node).tell_waiting()
    # Behind one busy slot: place 1 waits 6 minutes, place 2 12, past the library's 10.
    msg = await far.wait_for("message", lambda m: "较长" in m["body"])
    assert "表单咨询" in msg["body"] and "010-1234-5678" in msg["body"]
    await near.wait_for("message", lambda m: "排在第一位" in m["body"])
    assert not any("较长" in b for b in bot_messages(near, near_id))


async def test_a_long_queue_gets_no_flood(bot_node: Node, clock: ManualClock) -> None:
    """Twelve readers behind one consultant who finishes a chat every minute, for 20 minutes of
    5-second passes: places move all the time, yet no reader hears the bot about the queue
    twice within the calm interval (120 s by default)."""
    async with bot_node.desk.engine.begin() as conn:
        await conn.execute(text("UPDATE consultants SET max_chats = 1 WHERE username = 'li'"))
    bot_node.desk.directory.forget()
    li = await Consultant.login(bot_node.base, "li")
    await li.connect()
    readers = [await _reader(bot_node) for _ in range(12)]
    await li.wait_for("chat.assigned")
    heard: dict[int, list[tuple[float, str]]] = {cid: [] for _, cid in readers}
    seen: dict[int, int] = dict.fromkeys(heard, 0)
    for tick in range(1, 241):
        await bot_node.advance(5)
        await bots(bot_node).tell_waiting()
        held = [a["consultation"]["id"] for a in li.events["chat.assigned"]]
        if tick % 12 == 0 and len(held) < len(readers):
            served = len(held)
            await li.ok("consultation.close", {"consultation_id": held[-1]})
            await li.wait_for("chat.assigned", lambda a, n=served: _count(li) > n)
        for cid in heard:
            bodies = await stored_bot_bodies(bot_node, cid)
            heard[cid] += [(clock.now(), b) for b in bodies[seen[cid] :]]
            seen[cid] = len(bodies)
    queue_words = ("排在第一位", "前面还有", "较长")
    for cid, said in heard.items():
        about_queue = [t for t, b in said if any(w in b for w in queue_words)]
        gaps = [b - a for a, b in itertools.pairwise(about_queue)]
        assert all(g >= 120 for g in gaps), (cid, gaps)
    # The queue really moved: every reader still waiting after ten minutes heard an update.
    assert sum(len(s) for s in heard.values()) >= 2 * len(heard)


def test_templates_cover_the_norms() -> None:
    assert {"greeting", "queue_position", "queue_next", "long_wait", "nobody_online"} <= set(
        TEMPLATES
    )


async def _http(
    node: Node, who: Consultant, method: str, path: str, body: object = None
) -> tuple[int, dict[str, object]]:
    import aiohttp

    headers = {"Origin": node.base, "Cookie": f"desk_session={who.cookie}"}
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, node.base + path, json=body, headers=headers) as resp,
    ):
        return resp.status, await resp.json()


async def test_a_supervisor_edits_the_bots_and_readers_hear_it(bot_node: Node) -> None:
    chen = await Consultant.login(bot_node.base, "chen")  # supervisor, demo-ul
    zhao = await Consultant.login(bot_node.base, "zhao")  # consultant, demo-ul
    status, got = await _http(bot_node, zhao, "GET", "/api/bots")
    assert status == 200 and got["can_edit"] is False and got["library"] == "demo-ul"
    texts = got["texts"]
    assert isinstance(texts, list) and len(texts) == 2 * len(TEMPLATES)
    status, got = await _http(bot_node, zhao, "PUT", "/api/bots/settings", {"greeting": False})
    assert status == 403

    status, got = await _http(
        bot_node, chen, "PUT", "/api/bots/texts/greeting/zh-CN", {"body": "{nope}欢迎"}
    )
    assert status == 400 and got["error"]["code"] == "bad_template"  # type: ignore[index]
    status, got = await _http(
        bot_node, chen, "PUT", "/api/bots/texts/greeting/zh-CN", {"body": "欢迎来到{library}！"}
    )
    assert status == 200
    status, _ = await _http(bot_node, chen, "PUT", "/api/bots/texts/greeting/fr", {"body": "x"})
    assert status == 404

    r = await Reader.register(bot_node.base, "demo-ul")
    await r.connect()
    await r.open("你好")
    msg = await r.wait_for("message", lambda m: m["author_kind"] == "bot")
    assert msg["body"] == "欢迎来到示例大学图书馆！"

    # Back to the default wording, then the greeting switched off altogether.
    status, got = await _http(bot_node, chen, "DELETE", "/api/bots/texts/greeting/zh-CN")
    assert status == 200 and got["body"] == TEMPLATES["greeting"][1]["zh-CN"]
    status, got = await _http(
        bot_node, chen, "PUT", "/api/bots/settings", {"greeting": False, "long_wait_minutes": 20}
    )
    assert status == 200 and got["settings"] == {  # type: ignore[comparison-overlap]
        "greeting": False,
        "waiting": True,
        "long_wait_minutes": 20,
        "update_seconds": 120,
        "faq": False,
    }
    status, got = await _http(bot_node, chen, "PUT", "/api/bots/settings", {"update_seconds": 5})
    assert status == 400
    quiet = await Reader.register(bot_node.base, "demo-ul")
    await quiet.connect()
    opened = await quiet.open("还有问题")
    assert [m["author_kind"] for m in opened["messages"]] == ["reader"]
    # Another library's settings are untouched.
    other = await Reader.register(bot_node.base, "demo-pl")
    await other.connect()
    await other.open("你好")
    await other.wait_for("message", lambda m: m["author_kind"] == "bot")
