"""Nothing lost, nothing doubled: stored before acknowledged, retries stored once, resume with
exactly the missing messages, private notes kept from readers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select, text

from desk.actions import presence
from desk.clock import ManualClock
from desk.logs import QUIET_LOGGERS, setup_logging
from desk.routing import sweeps
from tests.harness import Consultant, Node, Reader
from transcripts.batch import WRITER_APPLICATION_NAME
from transcripts.models import Message


async def _chat(node: Node) -> tuple[Reader, Consultant, int]:
    async with node.desk.engine.begin() as conn:
        await conn.execute(text("UPDATE libraries SET routing_mode = 'direct'"))
    node.desk.directory.forget()
    wang = await Consultant.login(node.base, "wang")
    await wang.connect()
    reader = await Reader.register(node.base, "demo-pl")
    await reader.connect()
    cid = (await reader.open())["consultation"]["id"]
    await wang.wait_for("chat.assigned", lambda a: a["consultation"]["id"] == cid)
    return reader, wang, cid


async def _stored(node: Node, cid: int) -> list[tuple[int, str]]:
    async with node.desk.sessions() as s:
        rows = await s.execute(
            select(Message.seq, Message.body)
            .where(Message.consultation_id == cid)
            .order_by(Message.seq)
        )
        return [(r[0], r[1]) for r in rows]


async def test_a_retry_is_stored_once_and_answered_with_the_same_message(any_node: Node) -> None:
    reader, wang, cid = await _chat(any_node)
    first = await reader.say(cid, "第一次", cmid="m-1")
    again = await reader.say(cid, "第一次", cmid="m-1")
    assert again["duplicate"] is True
    assert again["seq"] == first["seq"]
    assert await _stored(any_node, cid) == [(1, "请问如何查找学位论文？"), (2, "第一次")]
    # Concurrent retries of one id, and many different ids at once: each stored exactly once.
    replies = await asyncio.gather(
        *[reader.say(cid, f"并发{i % 5}", cmid=f"c-{i % 5}") for i in range(20)]
    )
    assert len({r["seq"] for r in replies}) == 5
    stored = await _stored(any_node, cid)
    assert [seq for seq, _ in stored] == list(range(1, 8)), "seq has no gaps and no repeats"


async def test_many_writers_get_distinct_increasing_seqs(any_node: Node) -> None:
    reader, wang, cid = await _chat(any_node)
    results = await asyncio.gather(
        *[reader.say(cid, f"r{i}") for i in range(30)], *[wang.say(cid, f"c{i}") for i in range(30)]
    )
    seqs = sorted(r["seq"] for r in results)
    assert seqs == list(range(2, 62))
    # Each side hears every message of the other; the sending socket has its own in the ack.
    for i in range(30):
        await wang.wait_for("message", lambda m, i=i: m["body"] == f"r{i}")
        await reader.wait_for("message", lambda m, i=i: m["body"] == f"c{i}")
    assert not [m for m in wang.messages(cid) if m["author_kind"] == "consultant"]


@pytest.mark.postgres
async def test_the_postgres_writer_survives_losing_its_connection(
    postgres_run_db: str, clock: ManualClock
) -> None:
    """PostgreSQL restarted or the link dropped between batches: the next message is stored
    anyway, once, on a new connection."""
    from tests.conftest import seed_demo, truncate_all
    from tests.harness import start_node

    await truncate_all(postgres_run_db)
    await seed_demo(postgres_run_db, "http://unused")
    node = await start_node(postgres_run_db, clock=clock)
    try:
        reader, wang, cid = await _chat(node)
        await reader.say(cid, "断线之前", cmid="before")
        async with node.desk.engine.connect() as conn:
            killed = await conn.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database()"
                    " AND application_name = :name"
                ),
                {"name": WRITER_APPLICATION_NAME},
            )
        assert killed == 1, "the writer has one connection of its own"
        after = await reader.say(cid, "断线之后", cmid="after")
        assert after["duplicate"] is False
        assert [b for _, b in await _stored(node, cid)][-2:] == ["断线之前", "断线之后"]
    finally:
        await node.close()


async def test_private_notes_never_reach_the_reader(node: Node) -> None:
    reader, wang, cid = await _chat(node)
    await wang.say(cid, "内部备注：读者可能是研究生", private=True)
    await wang.say(cid, "您好")
    await reader.wait_for("message", lambda m: m["body"] == "您好")
    resumed = await reader.ok(
        "resume", {"consultations": [{"consultation_id": cid, "last_seq": 0}]}
    )
    bodies = [m["body"] for m in resumed["consultations"][0]["messages"]]
    assert bodies == ["请问如何查找学位论文？", "您好"]
    history = await reader.ok("history", {"consultation_id": cid})
    assert "内部备注" not in str(history)
    assert "内部备注" not in str(reader.events)
    staff = await wang.ok("history", {"consultation_id": cid})
    assert [m["visibility"] for m in staff["messages"]] == ["all", "staff", "all"]


async def test_each_live_message_names_the_one_its_side_was_shown_before(
    any_node: Node,
) -> None:
    """``prev`` follows each side's own messages: staff's chain runs through a private note,
    the reader's skips it. Lists carry none (they are whole), nor does a retry's answer."""
    reader, wang, cid = await _chat(any_node)  # seq 1: the reader's question
    note = await wang.say(cid, "备注", private=True)
    hello = await wang.say(cid, "您好")
    assert (note["seq"], note["prev"], hello["seq"], hello["prev"]) == (2, 1, 3, 2)
    heard = await reader.wait_for("message", lambda m: m["body"] == "您好")
    assert (heard["seq"], heard["prev"]) == (3, 1)
    thanks = await reader.say(cid, "谢谢", cmid="thanks")
    assert (thanks["seq"], thanks["prev"]) == (4, 3)
    got = await wang.wait_for("message", lambda m: m["body"] == "谢谢")
    assert (got["seq"], got["prev"]) == (4, 3)
    again = await reader.say(cid, "谢谢", cmid="thanks")
    assert again["duplicate"] is True and "prev" not in again
    resumed = await reader.ok(
        "resume", {"consultations": [{"consultation_id": cid, "last_seq": 0}]}
    )
    listed = resumed["consultations"][0]["messages"]
    assert [m["seq"] for m in listed] == [1, 3, 4]
    assert not [m for m in listed if "prev" in m]
    staff = await wang.ok("history", {"consultation_id": cid})
    assert [m["seq"] for m in staff["messages"]] == [1, 2, 3, 4]
    assert not [m for m in staff["messages"] if "prev" in m]
    async with any_node.desk.sessions() as s:
        sides = (
            await s.execute(
                text("SELECT last_reader_seq, last_staff_seq FROM consultations WHERE id = :c"),
                {"c": cid},
            )
        ).one()
    assert tuple(sides) == (4, 4)


async def test_resume_after_a_drop_gives_exactly_the_missing_messages_in_order(
    any_node: Node,
) -> None:
    reader, wang, cid = await _chat(any_node)
    await wang.say(cid, "一")
    seen = await reader.wait_for("message", lambda m: m["body"] == "一")
    known = (await reader.wait_for("consultation", lambda c: c["state"] == "assigned"))["version"]
    await reader.disconnect()
    for word in ("二", "三", "四"):
        await wang.say(cid, word)
    await wang.ok("consultation.close", {"consultation_id": cid})
    await reader.reconnect()
    resumed = await reader.ok(
        "resume",
        {"consultations": [{"consultation_id": cid, "last_seq": seen["seq"], "version": known}]},
    )
    item = resumed["consultations"][0]
    assert item["consultation"]["state"] == "closed", "state first when it changed"
    assert [m["body"] for m in item["messages"]] == ["二", "三", "四"]
    assert [m["seq"] for m in item["messages"]] == [
        seen["seq"] + 1,
        seen["seq"] + 2,
        seen["seq"] + 3,
    ]
    same = await reader.ok(
        "resume",
        {
            "consultations": [
                {
                    "consultation_id": cid,
                    "last_seq": seen["seq"] + 3,
                    "version": item["consultation"]["version"],
                }
            ]
        },
    )
    assert same["consultations"][0]["messages"] == []
    assert "consultation" not in same["consultations"][0], "state omitted when unchanged"


async def test_reader_reload_continues_the_same_consultation(node: Node) -> None:
    reader, wang, cid = await _chat(node)
    await reader.reconnect()
    again = await reader.open("又问一次")
    assert again["created"] is False
    assert again["consultation"]["id"] == cid
    resumed = await reader.ok("resume", {})
    assert [c["consultation_id"] for c in resumed["consultations"]] == [cid]


async def test_consultant_resume_after_reload_restores_every_open_chat(node: Node) -> None:
    reader, wang, cid = await _chat(node)
    r2 = await Reader.register(node.base, "demo-pl")
    await r2.connect()
    cid2 = (await r2.open("第二位读者"))["consultation"]["id"]
    await wang.wait_for("chat.assigned", lambda a: a["consultation"]["id"] == cid2)
    await wang.reconnect()
    resumed = await wang.ok("resume", {})
    by_id = {c["consultation_id"]: c for c in resumed["consultations"]}
    assert set(by_id) == {cid, cid2}
    assert by_id[cid2]["messages"][0]["body"] == "第二位读者"
    assert resumed["load"] == 2


async def test_reader_gone_past_grace_is_abandoned(node: Node, clock: ManualClock) -> None:
    reader, wang, cid = await _chat(node)
    await reader.disconnect()
    await node.until(lambda: _no_local_readers(node), "reader socket closed")
    await node.advance(100)
    assert await sweeps.sweep_readers(node.desk) == 0
    await node.advance(100)
    assert await sweeps.sweep_readers(node.desk) == 1
    state = await wang.wait_for("consultation", lambda c: c["state"] == "abandoned")
    assert state["ended_by"] == "system"


async def test_readers_leaving_at_once_are_recorded_together(
    any_node: Node, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A node's readers all drop at once (a network blip): their departures go to the shared
    state in a few writes, not one each (which would queue for the bounded Redis pool past its
    timeout), and a failed write is logged once, never raised into the disconnect handlers."""
    desk = any_node.desk
    real = desk.state.reader_seen
    calls: list[int] = []

    async def counted(ids: set[int], now: float) -> None:
        calls.append(len(set(ids)))
        await asyncio.sleep(0.01)  # a write in flight while more readers leave
        await real(ids, now)

    monkeypatch.setattr(desk.state, "reader_seen", counted)
    base = 900_000
    await asyncio.gather(*[desk.reader_left({base + i}) for i in range(300)])
    assert sum(calls) == 300 and len(calls) <= 3, calls
    seen = await desk.state.reader_last_seen(range(base, base + 300))
    assert set(seen) == set(range(base, base + 300))

    async def down(ids: set[int], now: float) -> None:
        raise ConnectionError("No connection available.")

    monkeypatch.setattr(desk.state, "reader_seen", down)
    with caplog.at_level(logging.WARNING, logger="desk.context"):
        await asyncio.gather(*[desk.reader_left({base + 1000 + i}) for i in range(100)])
    warned = [r for r in caplog.records if r.getMessage() == "could not record readers' departures"]
    assert 1 <= len(warned) <= 2


async def test_the_reader_sweep_reads_the_active_chats_a_few_rows_at_a_time(
    any_node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One row between turns for the loop: the sweep still sees every active chat, ends
    those whose reader has gone and leaves the others; reconcile still counts every hold."""
    monkeypatch.setattr(sweeps, "ROWS_PER_TURN", 1)
    stay, wang, kept = await _chat(any_node)
    gone = []
    for _ in range(2):
        r = await Reader.register(any_node.base, "demo-pl")
        await r.connect()
        cid = (await r.open("请帮我查一本书的馆藏"))["consultation"]["id"]
        await wang.wait_for("chat.assigned", lambda a, cid=cid: a["consultation"]["id"] == cid)
        await r.disconnect()
        gone.append(cid)
    await any_node.until(
        lambda: _only_local_reader(any_node, kept), "the two readers' sockets closed"
    )
    await any_node.advance(100)
    await sweeps.sweep_readers(any_node.desk)  # within the grace period: nothing ends yet
    await any_node.advance(100)
    assert await sweeps.sweep_readers(any_node.desk) == 2
    for cid in gone:
        await wang.wait_for(
            "consultation", lambda c, cid=cid: c["id"] == cid and c["state"] == "abandoned"
        )
    assigned = await wang.wait_for("chat.assigned", lambda a: a["consultation"]["id"] == kept)
    await sweeps.reconcile(any_node.desk)
    held = await any_node.desk.state.holdings(assigned["consultation"]["assignee_id"])
    assert set(held) == {kept}


async def _only_local_reader(node: Node, cid: int) -> bool:
    return list(node.desk.local_reader_consultations.values()) == [{cid}]


async def _no_local_readers(node: Node) -> bool:
    return not node.desk.local_reader_consultations


async def test_a_connected_reader_is_never_abandoned(node: Node, clock: ManualClock) -> None:
    reader, wang, cid = await _chat(node)
    await node.advance(1000)
    assert await sweeps.sweep_readers(node.desk) == 0


async def test_typing_and_read_marks_reach_the_other_side(node: Node) -> None:
    reader, wang, cid = await _chat(node)
    await reader.ok("typing", {"consultation_id": cid, "typing": True})
    t = await wang.wait_for("typing")
    assert t == {"consultation_id": cid, "author_kind": "reader", "typing": True}
    await wang.ok("typing", {"consultation_id": cid, "typing": True})
    assert (await reader.wait_for("typing"))["author_kind"] == "consultant"
    await wang.say(cid, "请看")
    msg = await reader.wait_for("message", lambda m: m["body"] == "请看")
    marked = await reader.ok("read", {"consultation_id": cid, "seq": msg["seq"]})
    assert marked["seq"] == msg["seq"]
    got = await wang.wait_for("read")
    assert got == {"consultation_id": cid, "side": "reader", "seq": msg["seq"]}
    back = await reader.ok("read", {"consultation_id": cid, "seq": 1})
    assert back["seq"] == msg["seq"], "read marks never move back"


async def test_logs_never_carry_message_text(node: Node, caplog: pytest.LogCaptureFixture) -> None:
    # The desk's own logging set-up at its most verbose, captured.
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, {n: logging.getLogger(n).level for n in QUIET_LOGGERS})
    setup_logging("DEBUG", "json")
    root.addHandler(caplog.handler)
    caplog.handler.setLevel(logging.DEBUG)
    try:
        await _talk_with_secrets(node, caplog)
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
        for n, lvl in saved[2].items():
            logging.getLogger(n).setLevel(lvl)


async def _talk_with_secrets(node: Node, caplog: pytest.LogCaptureFixture) -> None:
    reader, wang, cid = await _chat(node)
    await reader.say(cid, "我的手机号是13800138000")
    await wang.say(cid, "秘密备注", private=True)
    await reader.call("message.send", {"consultation_id": cid, "body": "坏的载荷 13800138000"})
    text_logged = caplog.text + " ".join(str(r.__dict__) for r in caplog.records)
    for secret in ("13800138000", "秘密备注", "请问如何查找学位论文", reader.token):
        assert secret not in text_logged


async def test_stored_before_acknowledged(node: Node) -> None:
    reader, wang, cid = await _chat(node)
    reply = await reader.say(cid, "已存储？")
    async with node.desk.sessions() as s:
        n = await s.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.consultation_id == cid, Message.seq == reply["seq"])
        )
    assert n == 1


async def test_read_marks_come_back_with_the_consultation_on_resume(node: Node) -> None:
    reader, wang, cid = await _chat(node)
    await reader.ok("read", {"consultation_id": cid, "seq": 1})
    await wang.reconnect()
    resumed = await wang.ok("resume", {"consultations": [{"consultation_id": cid, "last_seq": 1}]})
    assert resumed["consultations"][0]["consultation"]["read"] == {"reader": 1, "staff": 0}


async def _write_during_handshake(
    monkeypatch: pytest.MonkeyPatch,
    owner: Any,
    step: str,
    client: Reader | Consultant,
    cid: int,
    last_seq: int,
    write: Callable[[], Awaitable[Any]],
) -> None:
    """Reconnect ``client`` while ``owner.step``, awaited by its connect handler, also has the
    other side post a message: no event may reach the client before its CONNECT (clients
    resume from the last seq they hold, so an early message would hide the ones missed), and
    the resume after CONNECT returns the message."""
    original = getattr(owner, step)
    fired: list[bool] = []

    def in_the_handshake() -> bool:
        # Not the old socket's departure (which may take the same step): the new socket's
        # transport is up and its namespace not yet connected.
        sio = client.sio
        return sio.eio.state == "connected" and client.namespace not in sio.namespaces

    async def and_a_message(*args: Any, **kwargs: Any) -> Any:
        result = await original(*args, **kwargs)
        if not fired and in_the_handshake():
            fired.append(True)
            await write()
        return result

    monkeypatch.setattr(owner, step, and_a_message)
    await client.reconnect()
    monkeypatch.setattr(owner, step, original)
    assert fired, f"{step} was not awaited during the handshake"
    assert client.arrivals[:1] == ["connect"], client.arrivals
    resumed = await client.ok(
        "resume", {"consultations": [{"consultation_id": cid, "last_seq": last_seq}]}
    )
    assert [m["body"] for m in resumed["consultations"][0]["messages"]] == ["握手期间的消息"]


async def test_nothing_reaches_a_reconnecting_console_before_its_connect(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader, wang, cid = await _chat(node)
    assigned = await wang.wait_for("chat.assigned", lambda a: a["consultation"]["id"] == cid)
    await _write_during_handshake(
        monkeypatch,
        presence,
        "consultant_connected",
        wang,
        cid,
        assigned["messages"][-1]["seq"],
        lambda: reader.say(cid, "握手期间的消息"),
    )


async def test_nothing_reaches_a_reconnecting_reader_before_its_connect(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader, wang, cid = await _chat(node)
    seen = await reader.wait_for("message", lambda m: m["consultation_id"] == cid)
    await _write_during_handshake(
        monkeypatch,
        node.desk.state,
        "reader_seen",
        reader,
        cid,
        seen["seq"],
        lambda: wang.say(cid, "握手期间的消息"),
    )


async def test_a_restarted_embedded_node_queues_waiting_chats_again(
    sqlite_url: str, clock: ManualClock
) -> None:
    from tests.conftest import seed_demo
    from tests.harness import start_node

    await seed_demo(sqlite_url, "http://unused")
    first = await start_node(sqlite_url, clock=clock)
    reader = await Reader.register(first.base, "demo-pl")
    await reader.connect()
    cid = (await reader.open("重启前的问题"))["consultation"]["id"]
    await first.close()  # the process's memory (queue, presence) is gone with it
    second = await start_node(sqlite_url, clock=clock)
    try:
        assert [e.consultation_id for e in await second.desk.state.queue()] == [cid]
        wang = await Consultant.login(second.base, "wang")
        await wang.connect()
        offer = await wang.wait_for("offer")
        assert offer["consultation"]["id"] == cid
        await reader.reconnect(base=second.base)
        resumed = await reader.ok(
            "resume", {"consultations": [{"consultation_id": cid, "last_seq": 0}]}
        )
        assert [m["body"] for m in resumed["consultations"][0]["messages"]] == ["重启前的问题"]
    finally:
        await second.close()


async def test_a_message_reaches_the_senders_other_tabs_but_not_the_sending_one(
    node: Node,
) -> None:
    wang = await Consultant.login(node.base, "wang")
    await wang.connect()
    wang_tab2 = Consultant(node.base, "/console")
    wang_tab2.cookie = wang.cookie
    await wang_tab2.connect()
    reader = await Reader.register(node.base, "demo-pl")
    await reader.connect()
    reader_tab2 = Reader(node.base, "/reader")
    reader_tab2.token, reader_tab2.library = reader.token, reader.library
    await reader_tab2.connect()
    cid = (await reader.open("第一个问题"))["consultation"]["id"]
    await wang.accept_next()

    sent = await reader.say(cid, "读者的话")
    got = await reader_tab2.wait_for("message", lambda m: m["seq"] == sent["seq"])
    assert got["body"] == "读者的话"
    await wang_tab2.wait_for("message", lambda m: m["seq"] == sent["seq"])

    answer = await wang.say(cid, "咨询员的话")
    await wang_tab2.wait_for("message", lambda m: m["seq"] == answer["seq"])
    await reader.wait_for("message", lambda m: m["seq"] == answer["seq"])
    # Everything has arrived everywhere by now; the sending sockets got only acks.
    await reader_tab2.wait_for("message", lambda m: m["seq"] == answer["seq"])
    assert sent["seq"] not in {m["seq"] for m in reader.messages(cid)}
    assert answer["seq"] not in {m["seq"] for m in wang.messages(cid)}


async def test_the_console_hears_its_load_and_the_readers_tabs_hear_a_new_chat(
    node: Node,
) -> None:
    wang = await Consultant.login(node.base, "wang")
    await wang.connect()
    reader = await Reader.register(node.base, "demo-pl")
    await reader.connect()
    other_tab = Reader(node.base, "/reader")
    other_tab.token, other_tab.library = reader.token, reader.library
    await other_tab.connect()
    cid = (await reader.open("新问题"))["consultation"]["id"]
    opened = await other_tab.wait_for("consultation", lambda c: c["id"] == cid)
    assert opened["state"] == "waiting"

    await wang.accept_next()
    await wang.wait_for("presence", lambda p: p["load"] == 1 and p["capacity"] == 4)
    await wang.ok("consultation.close", {"consultation_id": cid})
    await wang.wait_for("presence", lambda p: p["load"] == 0 and p["status"] == "online")
