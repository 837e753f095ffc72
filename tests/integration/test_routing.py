"""Every routing rule over real sockets: own library first, overflow, capacity, language,
offer timeout and decline, direct assignment, transfer, and a dropped consultant's grace."""

from __future__ import annotations

from sqlalchemy import text

from desk.clock import ManualClock
from desk.routing import sweeps
from tests.harness import Consultant, Node, Reader


async def _set(node: Node, sql: str, **params: object) -> None:
    async with node.desk.engine.begin() as conn:
        await conn.execute(text(sql), params)
    node.desk.directory.forget()


async def _open(node: Node, library: str = "demo-pl", **kw: object) -> tuple[Reader, int]:
    r = await Reader.register(node.base, library)
    await r.connect()
    opened = await r.open(**kw)  # type: ignore[arg-type]
    return r, opened["consultation"]["id"]


async def test_own_library_first_then_overflow_after_delay(node: Node, clock: ManualClock) -> None:
    # zhao (demo-ul) is online; nobody of demo-pl is free, but li (demo-pl) is online and full.
    await _set(node, "UPDATE consultants SET max_chats = 1 WHERE username = 'li'")
    li = await Consultant.login(node.base, "li")
    await li.connect()
    zhao = await Consultant.login(node.base, "zhao")
    await zhao.connect()
    _, first = await _open(node)
    await li.wait_for("offer", lambda o: o["consultation"]["id"] == first)
    _, second = await _open(node)
    await node.router.route()
    assert not zhao.events.get("offer"), "overflowed before the library's delay"
    await node.advance(31)  # demo libraries overflow after 30 s in the tests
    await node.router.route()
    offer = await zhao.wait_for("offer")
    assert offer["consultation"]["id"] == second
    assert offer["consultation"]["serving_library_id"] != offer["consultation"].get("library_id")


async def test_overflow_at_once_when_the_library_has_nobody_online(node: Node) -> None:
    zhao = await Consultant.login(node.base, "zhao")
    await zhao.connect()
    _, cid = await _open(node)
    offer = await zhao.wait_for("offer")
    assert offer["consultation"]["id"] == cid


async def test_least_loaded_then_longest_idle(node: Node) -> None:
    wang = await Consultant.login(node.base, "wang")
    await wang.connect()
    li = await Consultant.login(node.base, "li")
    await li.connect()
    _, a = await _open(node)
    _, b = await _open(node)
    offers = {}
    for c in (wang, li):
        o = await c.wait_for("offer")
        offers[c.username] = o["consultation"]["id"]
    assert sorted(offers.values()) == sorted([a, b]), "each got one: least loaded first"


async def test_capacity_is_never_exceeded(node: Node) -> None:
    await _set(node, "UPDATE consultants SET max_chats = 2 WHERE username = 'wang'")
    wang = await Consultant.login(node.base, "wang")
    await wang.connect()
    ids = [(await _open(node))[1] for _ in range(4)]
    await node.router.route()
    await wang.wait_for("offer")
    offered = {o["consultation"]["id"] for o in wang.events["offer"]}
    assert len(offered) == 2
    assert offered == set(ids[:2]), "first come, first served"
    queue = await wang.ok("queue.list")
    assert [q["consultation_id"] for q in queue["queue"]] == ids[2:]
    assert [q["position"] for q in queue["queue"]] == [1, 2]
    # One ends: the next in line is offered.
    await wang.ok("offer.accept", {"consultation_id": ids[0]})
    await wang.ok("consultation.close", {"consultation_id": ids[0]})
    nxt = await wang.wait_for("offer", lambda o: o["consultation"]["id"] == ids[2])
    assert nxt


async def test_language_is_respected(node: Node) -> None:
    li = await Consultant.login(node.base, "li")  # zh-CN only
    await li.connect()
    wang = await Consultant.login(node.base, "wang")  # zh-CN and en
    await wang.connect(status="away")
    _, cid = await _open(node, question="Where can I find theses?", language="en")
    await node.router.route()
    assert not li.events.get("offer")
    await wang.ok("status.set", {"status": "online"})
    offer = await wang.wait_for("offer")
    assert offer["consultation"]["id"] == cid


async def test_never_routed_to_away_busy_or_offline(node: Node) -> None:
    wang = await Consultant.login(node.base, "wang")
    await wang.connect(status="busy")
    li = await Consultant.login(node.base, "li")
    await li.connect(status="away")
    zhao = await Consultant.login(node.base, "zhao")
    await zhao.connect()
    await zhao.disconnect()
    _, _cid = await _open(node)
    await node.router.route()
    for c in (wang, li, zhao):
        assert not c.events.get("offer"), c.username


async def test_offer_times_out_and_moves_to_the_next(node: Node, clock: ManualClock) -> None:
    wang = await Consultant.login(node.base, "wang")
    await wang.connect()
    _, cid = await _open(node)
    await wang.wait_for("offer")
    li = await Consultant.login(node.base, "li")
    await li.connect()
    await node.advance(31)  # offers last 30 s by default
    assert await sweeps.expire(node.desk) == 1
    await wang.wait_for("offer.withdrawn", lambda w: w["reason"] == "expired")
    offer = await li.wait_for("offer")
    assert offer["consultation"]["id"] == cid
    late = await wang.call("offer.accept", {"consultation_id": cid})
    assert late["ok"] is False and late["error"]["code"] == "not_offered_to_you"


async def test_declined_offer_goes_to_someone_else(node: Node) -> None:
    wang = await Consultant.login(node.base, "wang")
    await wang.connect()
    li = await Consultant.login(node.base, "li")
    await li.connect(status="away")
    _, cid = await _open(node)
    await wang.wait_for("offer")
    await wang.ok("offer.decline", {"consultation_id": cid})
    await node.router.route()
    assert len(wang.events["offer"]) == 1, "not offered back to who declined"
    await li.ok("status.set", {"status": "online"})
    assert (await li.wait_for("offer"))["consultation"]["id"] == cid


async def test_direct_assignment(node: Node) -> None:
    await _set(node, "UPDATE libraries SET routing_mode = 'direct'")
    wang = await Consultant.login(node.base, "wang")
    await wang.connect()
    reader, cid = await _open(node)
    got = await wang.wait_for("chat.assigned")
    assert got["consultation"]["id"] == cid and got["how"] == "direct"
    assert [m["body"] for m in got["messages"]] == ["请问如何查找学位论文？"]
    await reader.wait_for("consultation", lambda c: c["state"] == "assigned")


async def test_transfer_to_colleague_with_note(node: Node) -> None:
    await _set(node, "UPDATE libraries SET routing_mode = 'direct'")
    wang = await Consultant.login(node.base, "wang")
    await wang.connect()
    reader, cid = await _open(node)
    await wang.wait_for("chat.assigned")
    li = await Consultant.login(node.base, "li")
    await li.connect(status="busy")  # hand-overs go to colleagues who are online
    colleagues = await wang.ok("colleagues.list")
    li_id = next(c["id"] for c in colleagues["colleagues"] if c["name"] == "李老师")
    refused = await wang.call(
        "consultation.transfer", {"consultation_id": cid, "to_consultant_id": li_id}
    )
    assert refused["ok"] is False and refused["error"]["code"] == "colleague_unavailable"
    await li.ok("status.set", {"status": "online"})
    done = await wang.ok(
        "consultation.transfer",
        {"consultation_id": cid, "to_consultant_id": li_id, "note": "读者需要外文学位论文"},
    )
    assert done["consultation"]["assignee_id"] == li_id
    await wang.wait_for("chat.released", lambda r: r["consultation_id"] == cid)
    got = await li.wait_for("chat.assigned")
    assert got["how"] == "transfer"
    note = await li.wait_for("message", lambda m: m["visibility"] == "staff")
    assert note["body"] == "读者需要外文学位论文"
    await reader.wait_for("message", lambda m: m["author_kind"] == "system")
    assert all(m["visibility"] == "all" for m in reader.events["message"])
    assert "读者需要外文学位论文" not in str(reader.events)
    gone = await wang.call(
        "message.send", {"consultation_id": cid, "client_msg_id": "x1", "body": "还在吗"}
    )
    assert gone["ok"] is False and gone["error"]["code"] == "not_assigned"


async def test_transfer_to_another_library(node: Node) -> None:
    await _set(node, "UPDATE libraries SET routing_mode = 'direct'")
    wang = await Consultant.login(node.base, "wang")
    await wang.connect()
    li = await Consultant.login(node.base, "li")
    await li.connect()
    reader, cid = await _open(node)
    state = await reader.wait_for("consultation", lambda c: c["state"] == "assigned")
    holder = wang if state["consultant"]["name"] == "王老师" else li
    await holder.wait_for("chat.assigned")
    zhao = await Consultant.login(node.base, "zhao")
    await zhao.connect()
    await holder.ok(
        "consultation.transfer",
        {"consultation_id": cid, "to_library": "demo-ul", "note": "专业问题"},
    )
    got = await zhao.wait_for("chat.assigned")
    assert got["consultation"]["id"] == cid
    assert any(m["body"] == "专业问题" and m["visibility"] == "staff" for m in got["messages"])


async def test_dropped_consultant_keeps_chats_during_grace_then_requeued_first(
    node: Node, clock: ManualClock
) -> None:
    await _set(node, "UPDATE libraries SET routing_mode = 'direct'")
    wang = await Consultant.login(node.base, "wang")
    await wang.connect()
    reader, cid = await _open(node)
    await wang.wait_for("chat.assigned")
    _, later = await _open(node)  # waits behind (wang has room, so he gets it too)
    await wang.disconnect()
    await node.offline(1)
    await node.advance(30)
    assert await sweeps.sweep_consultants(node.desk) == 0, "still within grace"
    wang2 = await Consultant.login(node.base, "wang")
    await wang2.connect()
    chats = await wang2.ok("chats.list")
    assert {c["id"] for c in chats["chats"]} >= {cid}
    await wang2.disconnect()
    await node.offline(1)
    await node.advance(61)
    assert await sweeps.sweep_consultants(node.desk) >= 1
    await reader.wait_for("consultation", lambda c: c["state"] == "waiting")
    await reader.wait_for("message", lambda m: m["author_kind"] == "system")
    _, newcomer = await _open(node)
    li = await Consultant.login(node.base, "li")
    await _set(node, "UPDATE consultants SET max_chats = 1 WHERE username = 'li'")
    await li.connect()
    got = await li.wait_for("chat.assigned")
    assert got["consultation"]["id"] in (cid, later), "requeued chats go first in line"
    assert got["consultation"]["id"] != newcomer


async def test_a_presence_lost_by_the_shared_state_is_put_back(node: Node) -> None:
    wang = await Consultant.login(node.base, "wang")
    await wang.connect()
    await node.desk.state.drop_presence(1)  # as if Redis had restarted
    await node.advance(10)
    p = await node.desk.state.presence(1)
    assert p is not None and p.status == "away" and p.connected
    got = await wang.wait_for("presence", lambda e: e["status"] == "away")
    assert got["connected"] is True
