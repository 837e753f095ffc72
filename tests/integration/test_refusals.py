"""Refusals: every bad input gets a clear code, every action is authorised, nothing is stored."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
import socketio
from sqlalchemy import func, select, text

from tests.harness import EMBED_ORIGIN, Consultant, Node, Reader
from transcripts.models import Message


async def _count(node: Node) -> int:
    async with node.desk.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(Message)) or 0)


async def _direct(node: Node) -> None:
    async with node.desk.engine.begin() as conn:
        await conn.execute(text("UPDATE libraries SET routing_mode = 'direct'"))
    node.desk.directory.forget()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"consultation_id": "x", "client_msg_id": "a", "body": "hi"}, "consultation_id"),
        ({"consultation_id": 1, "client_msg_id": "a b", "body": "hi"}, "client_msg_id"),
        ({"consultation_id": 1, "client_msg_id": "a" * 65, "body": "hi"}, "client_msg_id"),
        ({"consultation_id": 1, "body": "hi"}, "client_msg_id"),
        ({"consultation_id": 1, "client_msg_id": "a", "body": "hi", "extra": 1}, "extra"),
        ({"consultation_id": -5, "client_msg_id": "a", "body": "hi"}, "consultation_id"),
        ({"consultation_id": 1, "client_msg_id": "a", "body": ""}, "body"),
    ],
)
async def test_malformed_payloads_are_refused_with_the_field_named(
    node: Node, payload: dict[str, object], field: str
) -> None:
    reader = await Reader.register(node.base, "demo-pl")
    await reader.connect()
    reply = await reader.call("message.send", payload)
    assert reply["ok"] is False
    assert reply["error"]["code"] == "invalid_payload"
    assert field in {f["field"] for f in reply["error"]["details"]["fields"]}


async def test_payload_that_is_not_an_object_and_unknown_events(node: Node) -> None:
    reader = await Reader.register(node.base, "demo-pl")
    await reader.connect()
    assert (await reader.call("message.send", ["a"]))["error"]["code"] == "invalid_payload"
    assert (await reader.call("message.send", "text"))["error"]["code"] == "invalid_payload"
    assert (await reader.call("nope", {}))["error"]["code"] == "unknown_event"
    # A console-only event on the reader namespace is unknown there.
    assert (await reader.call("offer.accept", {"consultation_id": 1}))["error"][
        "code"
    ] == "unknown_event"


@pytest.mark.parametrize("name", ["connect", "disconnect"])
async def test_reserved_event_names_are_refused_before_dispatch(node: Node, name: str) -> None:
    reader = await Reader.register(node.base, "demo-pl")
    await reader.connect()
    reply = await reader.call(name, {"library": "demo-ul", "token": "forged"})
    assert reply["ok"] is False and reply["error"]["code"] == "reserved_event"
    # Still connected, with the same identity: the forged handshake ran nothing.
    opened = await reader.open()
    assert opened["consultation"]["library"] == "demo-pl"
    assert len(node.desk.local_reader_consultations) == 1


async def test_too_long_message_is_refused_and_oversized_packet_closes_the_socket(
    node: Node,
) -> None:
    reader = await Reader.register(node.base, "demo-pl")
    await reader.connect()
    cid = (await reader.open())["consultation"]["id"]
    before = await _count(node)
    reply = await reader.call(
        "message.send", {"consultation_id": cid, "client_msg_id": "long", "body": "长" * 4001}
    )
    assert reply["error"]["code"] == "message_too_long"
    blank = await reader.call(
        "message.send", {"consultation_id": cid, "client_msg_id": "b", "body": "   "}
    )
    assert blank["error"]["code"] == "empty_message"
    dropped = asyncio.Event()
    reader.sio.on("disconnect", lambda *_: dropped.set(), namespace="/reader")
    await reader.sio.emit(
        "message.send",
        {"consultation_id": cid, "client_msg_id": "huge", "body": "x" * (70 * 1024)},
        namespace="/reader",
    )
    await asyncio.wait_for(dropped.wait(), 10)
    assert await _count(node) == before


async def test_reader_cannot_touch_another_readers_consultation(node: Node) -> None:
    a = await Reader.register(node.base, "demo-pl")
    await a.connect()
    cid = (await a.open())["consultation"]["id"]
    b = await Reader.register(node.base, "demo-pl")
    await b.connect()
    for event, payload in [
        ("message.send", {"consultation_id": cid, "client_msg_id": "x", "body": "偷看"}),
        ("history", {"consultation_id": cid}),
        ("typing", {"consultation_id": cid, "typing": True}),
        ("read", {"consultation_id": cid, "seq": 1}),
        ("consultation.close", {"consultation_id": cid}),
    ]:
        reply = await b.call(event, payload)
        assert reply["ok"] is False and reply["error"]["code"] == "consultation_not_found", event
    resumed = await b.ok("resume", {"consultations": [{"consultation_id": cid}]})
    assert resumed["consultations"][0]["error"]["code"] == "consultation_not_found"
    assert "请问" not in str(b.events)


async def test_consultant_touches_only_chats_assigned_to_them(node: Node) -> None:
    await _direct(node)
    wang = await Consultant.login(node.base, "wang")
    await wang.connect()
    reader = await Reader.register(node.base, "demo-pl")
    await reader.connect()
    cid = (await reader.open())["consultation"]["id"]
    await wang.wait_for("chat.assigned")
    li = await Consultant.login(node.base, "li")
    await li.connect()
    for event, payload in [
        ("message.send", {"consultation_id": cid, "client_msg_id": "x", "body": "插话"}),
        ("history", {"consultation_id": cid}),
        ("typing", {"consultation_id": cid, "typing": True}),
        ("consultation.close", {"consultation_id": cid}),
        ("consultation.transfer", {"consultation_id": cid, "to_library": "demo-ul"}),
        ("offer.accept", {"consultation_id": cid}),
    ]:
        reply = await li.call(event, payload)
        assert reply["ok"] is False, event
        assert reply["error"]["code"] in {"not_assigned", "not_offered_to_you", "wrong_state"}, (
            reply
        )
    resumed = await li.ok("resume", {"consultations": [{"consultation_id": cid}]})
    assert resumed["consultations"][0] == {"consultation_id": cid, "lost": True}


async def test_offered_chat_is_not_yet_the_consultants(node: Node) -> None:
    wang = await Consultant.login(node.base, "wang")
    await wang.connect()
    reader = await Reader.register(node.base, "demo-pl")
    await reader.connect()
    cid = (await reader.open())["consultation"]["id"]
    await wang.wait_for("offer")
    reply = await wang.call(
        "message.send", {"consultation_id": cid, "client_msg_id": "x", "body": "先说"}
    )
    assert reply["error"]["code"] == "not_assigned"


async def _refused(base: str, **connect: object) -> str:
    """Connect and expect a refusal; returns what the client was told (message and code)."""
    client = socketio.AsyncClient(reconnection=False)
    told: list[object] = []
    for ns in connect.get("namespaces", []):  # type: ignore[attr-defined]
        client.on("connect_error", lambda data: told.append(data), namespace=ns)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(base, transports=["websocket"], wait_timeout=5, **connect)  # type: ignore[arg-type]
    await client.disconnect()
    return str(told)


async def test_widget_only_from_allowed_origins_and_with_a_server_token(node: Node) -> None:
    reader = await Reader.register(node.base, "demo-pl")
    auth = {"library": "demo-pl", "token": reader.token}
    msg = await _refused(
        node.base, namespaces=["/reader"], auth=auth, headers={"Origin": "http://evil.example"}
    )
    assert "may not embed" in msg
    msg = await _refused(node.base, namespaces=["/reader"], auth=auth)
    assert "may not embed" in msg
    msg = await _refused(
        node.base,
        namespaces=["/reader"],
        auth={"library": "demo-pl", "token": "made-up"},
        headers={"Origin": EMBED_ORIGIN},
    )
    assert "unknown reader token" in msg
    msg = await _refused(
        node.base,
        namespaces=["/reader"],
        auth={"library": "nope", "token": reader.token},
        headers={"Origin": EMBED_ORIGIN},
    )
    assert "unknown library" in msg
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{node.base}/api/readers/visitor",
            json={"library": "demo-pl"},
            headers={"Origin": "http://evil.example"},
        ) as resp,
    ):
        assert resp.status == 403
        assert (await resp.json())["error"]["code"] == "origin_not_allowed"


async def test_console_needs_a_login_from_the_desks_origin(node: Node) -> None:
    wang = await Consultant.login(node.base, "wang")
    msg = await _refused(node.base, namespaces=["/console"], headers={"Origin": node.base})
    assert "log in first" in msg
    msg = await _refused(
        node.base,
        namespaces=["/console"],
        headers={"Origin": "http://evil.example", "Cookie": f"desk_session={wang.cookie}"},
    )
    assert "desk itself" in msg
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{node.base}/api/login", json={"username": "wang", "password": "wrong-password"}
        ) as resp:
            assert resp.status == 401
            assert (await resp.json())["error"]["code"] == "login_failed"
        async with http.post(
            f"{node.base}/api/login",
            data="username=wang&password=demo-password-2026",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ) as resp:
            assert resp.status == 400, "a cross-site form post cannot log anyone in"
        async with http.post(
            f"{node.base}/api/login",
            json={"username": "wang", "password": "demo-password-2026"},
            headers={"Origin": "http://evil.example"},
        ) as resp:
            assert resp.status == 403
    # Logging out ends the session for sockets too.
    async with (
        aiohttp.ClientSession(cookies={"desk_session": wang.cookie}) as http,
        http.post(f"{node.base}/api/logout", json={}, headers={"Origin": node.base}) as resp,
    ):
        assert resp.status == 200
    msg = await _refused(
        node.base,
        namespaces=["/console"],
        headers={"Origin": node.base, "Cookie": f"desk_session={wang.cookie}"},
    )
    assert "log in first" in msg


async def test_healthz(node: Node) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{node.base}/healthz") as resp:
        body = await resp.json()
    assert resp.status == 200
    assert body["checks"] == {"database": "ok", "shared_state": "ok"}


async def test_a_reader_account_is_recognised_at_every_library(node: Node) -> None:
    """Reader sharing: one alliance account, the same reader at any member library."""
    from desk.admin import add_reader_account

    await add_reader_account(
        node.desk.sessions, email="Reader@Example.org", password="a-long-password"
    )
    tokens = []
    async with aiohttp.ClientSession() as http:
        for lib in ("demo-pl", "demo-ul"):
            async with http.post(
                f"{node.base}/api/readers/login",
                json={"library": lib, "email": "reader@example.org", "password": "a-long-password"},
                headers={"Origin": EMBED_ORIGIN},
            ) as resp:
                body = await resp.json()
                assert resp.status == 200, body
                tokens.append((lib, body["token"], body["reader_id"]))
        async with http.post(
            f"{node.base}/api/readers/login",
            json={
                "library": "demo-pl",
                "email": "reader@example.org",
                "password": "wrong-password",
            },
            headers={"Origin": EMBED_ORIGIN},
        ) as resp:
            assert resp.status == 401
    assert tokens[0][2] == tokens[1][2], "the same reader at both libraries"
    opened = []
    for lib, token, _ in tokens:
        r = Reader(node.base, "/reader")
        r.token, r.library = token, lib
        await r.connect()
        opened.append((await r.open(f"在{lib}提问"))["consultation"])
    assert {c["library"] for c in opened} == {"demo-pl", "demo-ul"}


async def test_index_page_names_the_node_and_libraries(node: Node) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{node.base}/") as resp:
        page = await resp.text()
    assert resp.status == 200 and resp.content_type == "text/html"
    assert '<a href="/chat/demo-pl">示例市公共图书馆</a>' in page
    assert node.desk.settings.node_id in page and 'href="/console/"' in page


async def test_an_expired_console_session_is_refused(node: Node) -> None:
    wang = await Consultant.login(node.base, "wang")
    async with node.desk.engine.begin() as conn:
        await conn.execute(
            text("UPDATE staff_sessions SET expires_at = '2000-01-01 00:00:00.000000'")
        )
    msg = await _refused(
        node.base,
        namespaces=["/console"],
        headers={"Origin": node.base, "Cookie": f"desk_session={wang.cookie}"},
    )
    assert "log in first" in msg


async def test_a_same_origin_page_without_origin_header_may_connect(node: Node) -> None:
    """Browsers send no Origin on the same-origin GET that opens a long-polling session; they
    mark it Sec-Fetch-Site instead, which no page can forge."""
    wang = await Consultant.login(node.base, "wang")
    cookie = {"Cookie": f"desk_session={wang.cookie}"}
    polling = socketio.AsyncClient(reconnection=False)
    await polling.connect(
        node.base,
        namespaces=["/console"],
        transports=["polling"],
        headers={"Sec-Fetch-Site": "same-origin", **cookie},
        wait_timeout=5,
    )
    assert polling.connected
    await polling.disconnect()
    msg = await _refused(
        node.base, namespaces=["/console"], headers={"Sec-Fetch-Site": "cross-site", **cookie}
    )
    assert "desk itself" in msg

    reader = await Reader.register(node.base, "demo-pl")
    auth = {"library": "demo-pl", "token": reader.token}
    widget = socketio.AsyncClient(reconnection=False)
    await widget.connect(
        node.base,
        namespaces=["/reader"],
        transports=["polling"],
        auth=auth,
        headers={"Sec-Fetch-Site": "same-origin"},
        wait_timeout=5,
    )
    assert widget.connected
    await widget.disconnect()
    msg = await _refused(
        node.base, namespaces=["/reader"], auth=auth, headers={"Sec-Fetch-Site": "same-site"}
    )
    assert "may not embed" in msg


async def test_logging_out_hangs_up_every_console_of_the_session(node: Node) -> None:
    wang = await Consultant.login(node.base, "wang")
    await wang.connect()
    other_tab = Consultant(node.base, "/console")
    other_tab.cookie = wang.cookie
    await other_tab.connect()
    elsewhere = await Consultant.login(node.base, "wang")  # another device: its own session
    await elsewhere.connect()
    async with (
        aiohttp.ClientSession(cookies={"desk_session": wang.cookie}) as http,
        http.post(f"{node.base}/api/logout", json={}, headers={"Origin": node.base}) as resp,
    ):
        assert resp.status == 200
    await wang.wait_for("session.ended")
    await other_tab.wait_for("session.ended")

    async def hung_up() -> bool:
        return not wang.sio.connected and not other_tab.sio.connected

    await node.until(hung_up, "both consoles of the session disconnected")
    assert elsewhere.sio.connected and not elsewhere.events.get("session.ended")


async def test_an_expired_session_is_hung_up_by_the_periodic_check(node: Node) -> None:
    from desk.app import SIO_KEY

    wang = await Consultant.login(node.base, "wang")
    await wang.connect()
    async with node.desk.engine.begin() as conn:
        await conn.execute(
            text("UPDATE staff_sessions SET expires_at = '2000-01-01 00:00:00.000000'")
        )
    console = node.app[SIO_KEY].namespace_handlers["/console"]
    assert await console.hang_up_ended_sessions() == 1
    await wang.wait_for("session.ended")


async def test_a_second_console_keeps_the_status_the_consultant_has(node: Node) -> None:
    wang = await Consultant.login(node.base, "wang")
    await wang.connect(status="busy")
    phone = Consultant(node.base, "/console")
    phone.cookie = wang.cookie
    await phone.sio.connect(
        node.base,
        namespaces=["/console"],
        headers={"Origin": node.base, "Cookie": f"desk_session={wang.cookie}"},
        transports=["websocket"],
    )
    resumed = await phone.ok("resume", {})
    assert resumed["status"] == "busy"
    told = await wang.wait_for("presence")  # the first console hears the second connect
    assert told["status"] == "busy"
