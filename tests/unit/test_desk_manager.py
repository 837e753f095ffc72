"""The desk's leaner Socket.IO emit: the same recipients as python-socketio's own, no work for
a room that holds only the skipped sender, and one failed send never stops the others."""

from __future__ import annotations

from typing import Any

import pytest
from engineio import packet as eio_packet

from desk.sockets.server import DeskManager, DeskServer, build_server

NS = "/reader"


class Sent:
    def __init__(self, server: DeskServer, fail_for: set[str] | None = None) -> None:
        self.frames: list[tuple[str, Any]] = []
        self.fail_for = fail_for or set()

        async def send(eio_sid: str, frame: eio_packet.Packet) -> None:
            if eio_sid in self.fail_for:
                raise ConnectionResetError("gone")
            self.frames.append((eio_sid, frame.data))

        server._send_eio_packet = send  # type: ignore[method-assign]

    def to(self) -> list[str]:
        return [eio for eio, _ in self.frames]


async def setup(members: dict[str, list[str]]) -> tuple[DeskServer, DeskManager, dict[str, str]]:
    """A server whose manager holds sockets (by engine.io sid) in rooms."""
    server = build_server(redis_url=None, channel="unused", pool_size=1, max_packet_bytes=1000)
    manager = server.manager
    assert isinstance(manager, DeskManager)
    manager.initialize()
    sids: dict[str, str] = {}
    for eio_sid, rooms in members.items():
        sid = await manager.pre_connect(eio_sid, NS)
        await manager.connect(sid, NS)
        for room in rooms:
            await manager.enter_room(sid, NS, room)
        sids[eio_sid] = sid
    return server, manager, sids


async def test_a_room_with_only_the_sender_gets_nothing_and_encodes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, manager, sids = await setup({"e1": ["reader:1"]})
    sent = Sent(server)
    encoded: list[Any] = []
    real = server.packet_class.encode
    monkeypatch.setattr(server.packet_class, "encode", lambda self: encoded.append(1) or real(self))
    await manager.emit("message", {"seq": 1}, NS, room="reader:1", skip_sid=sids["e1"])
    await manager.emit("message", {"seq": 1}, NS, room="nobody")
    await manager.emit("message", {"seq": 1}, "/unknown-namespace", room="reader:1")
    assert sent.frames == [] and encoded == []


async def test_recipients_skips_and_payload_as_python_socketio_sends_them() -> None:
    server, manager, sids = await setup(
        {"e1": ["reader:1"], "e2": ["reader:1"], "e3": ["reader:1"], "e4": ["reader:2"]}
    )
    sent = Sent(server)
    await manager.emit("message", {"seq": 7}, NS, room="reader:1", skip_sid=sids["e1"])
    assert sorted(sent.to()) == ["e2", "e3"]
    assert sent.frames[0][1] == '2/reader,["message",{"seq":7}]'

    sent.frames.clear()
    await manager.emit("typing", None, NS, room="reader:1", skip_sid=[sids["e1"], sids["e2"]])
    assert sent.frames == [("e3", '2/reader,["typing"]')]

    sent.frames.clear()
    await manager.emit("two", ("a", "b"), NS)  # no room: the whole namespace
    assert sorted(sent.to()) == ["e1", "e2", "e3", "e4"]
    assert {d for _, d in sent.frames} == {'2/reader,["two","a","b"]'}


async def test_a_failed_send_is_logged_and_the_others_still_get_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server, manager, _ = await setup({"e1": ["r"], "e2": ["r"], "e3": ["r"]})
    sent = Sent(server, fail_for={"e2"})
    await manager.emit("message", {"seq": 1}, NS, room="r")
    assert sorted(sent.to()) == ["e1", "e3"]
    assert "send to a socket failed" in caplog.text


async def test_an_emit_with_a_callback_gets_a_packet_id_per_recipient() -> None:
    server, manager, _ = await setup({"e1": ["r"], "e2": ["r"]})
    sent: list[Any] = []

    async def send_packet(eio_sid: str, pkt: Any) -> None:
        sent.append((eio_sid, pkt.id))

    server._send_packet = send_packet  # type: ignore[method-assign]
    await manager.emit("ask", {}, NS, room="r", callback=lambda *a: None)
    assert sorted(e for e, _ in sent) == ["e1", "e2"]
    assert all(i is not None for _, i in sent)
