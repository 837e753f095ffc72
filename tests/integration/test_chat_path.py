"""The whole path over real sockets: a reader opens, is routed, and talks with a consultant."""

from __future__ import annotations

from tests.harness import Consultant, Node, Reader


async def test_reader_and_consultant_hold_a_whole_consultation(any_node: Node) -> None:
    base = any_node.base
    wang = await Consultant.login(base, "wang")
    await wang.connect()
    reader = await Reader.register(base, "demo-pl")
    await reader.connect()

    opened = await reader.open("请问如何查找学位论文？")
    cid = opened["consultation"]["id"]
    assert opened["created"] is True
    assert [m["body"] for m in opened["messages"]] == ["请问如何查找学位论文？"]

    offer = await wang.wait_for("offer")
    assert offer["consultation"]["id"] == cid
    accepted = await wang.ok("offer.accept", {"consultation_id": cid})
    assert accepted["consultation"]["state"] == "assigned"
    assert [m["body"] for m in accepted["messages"]] == ["请问如何查找学位论文？"]

    state = await reader.wait_for("consultation", lambda c: c["state"] == "assigned")
    assert state["consultant"]["name"] == "王老师"

    await wang.say(cid, "您好，可以在学位论文库中检索。")
    got = await reader.wait_for("message", lambda m: m["author_kind"] == "consultant")
    assert got["body"] == "您好，可以在学位论文库中检索。"
    assert got["seq"] == 2

    await reader.say(cid, "谢谢！")
    back = await wang.wait_for("message", lambda m: m["body"] == "谢谢！")
    assert back["seq"] == 3

    closed = await wang.ok("consultation.close", {"consultation_id": cid})
    assert closed["consultation"]["state"] == "closed"
    ended = await reader.wait_for("consultation", lambda c: c["state"] == "closed")
    assert ended["ended_by"] == "consultant"
    refused = await reader.call(
        "message.send", {"consultation_id": cid, "client_msg_id": "late", "body": "还在吗"}
    )
    assert refused["ok"] is False and refused["error"]["code"] == "consultation_ended"
    await reader.disconnect()
    await wang.disconnect()
