"""Document delivery in chat and the delivery ledger: files both ways over HTTP, links, who
may fetch what, the limits, hostile names and contents, exact counts under concurrency, and
the retention purge."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
from pathlib import Path
from typing import Any
from uuid import uuid4

import aiohttp
import pytest
from sqlalchemy import func, select, text

from desk.clock import ManualClock
from desk.delivery.actions import purge_files
from desk.models import LedgerEntry
from tests.harness import EMBED_ORIGIN, Consultant, Node, Reader

PDF = b"%PDF-1.7\n1 0 obj << /Title (Test) >> endobj\n" + b"x" * 3000 + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


async def direct(node: Node) -> None:
    async with node.desk.engine.begin() as conn:
        await conn.execute(text("UPDATE libraries SET routing_mode = 'direct'"))
    node.desk.directory.forget()


async def chat(node: Node, who: str = "wang") -> tuple[Reader, Consultant, int]:
    await direct(node)
    c = await Consultant.login(node.base, who)
    await c.connect()
    reader = await Reader.register(node.base, "demo-pl")
    await reader.connect()
    cid = (await reader.open("我要一篇论文的全文"))["consultation"]["id"]
    await c.wait_for("chat.assigned", lambda a: a["consultation"]["id"] == cid)
    return reader, c, cid


def form(
    meta: dict[str, Any],
    name: str,
    data: bytes,
    ctype: str = "application/pdf",
    *,
    quoted: bool = False,
) -> aiohttp.FormData:
    # As browsers send it: the file name as UTF-8, not percent-encoded (``quoted``: as some
    # other clients do, every byte that is not plain ASCII percent-encoded).
    f = aiohttp.FormData(quote_fields=quoted)
    f.add_field("meta", json.dumps(meta), content_type="application/json")
    f.add_field("file", io.BytesIO(data), filename=name, content_type=ctype)
    return f


BOUNDARY = "deskTestBoundary7MA4YWxk"


def raw_multipart(filename: str, data: bytes) -> bytes:
    meta = json.dumps({"client_msg_id": uuid4().hex, "title": "文献"}).encode()
    return b"".join(
        [
            f"--{BOUNDARY}\r\n".encode(),
            b'Content-Disposition: form-data; name="meta"\r\n',
            b"Content-Type: application/json\r\n\r\n",
            meta,
            f"\r\n--{BOUNDARY}\r\n".encode(),
            b'Content-Disposition: form-data; name="file"; filename="'
            # A quoted string: backslashes escaped, quotes percent-encoded as browsers do.
            + filename.replace("\\", "\\\\").replace('"', "%22").encode()
            + b'"\r\n',
            b"Content-Type: application/pdf\r\n\r\n",
            data,
            f"\r\n--{BOUNDARY}--\r\n".encode(),
        ]
    )


async def request(
    node: Node,
    method: str,
    path: str,
    *,
    who: Consultant | None = None,
    reader: Reader | None = None,
    origin: str | None = None,
    data: Any = None,
    json_body: Any = None,
    content_type: str | None = None,
) -> tuple[int, Any, dict[str, str], bytes]:
    headers: dict[str, str] = {}
    if content_type is not None:
        headers["Content-Type"] = content_type
    if origin is not None:
        headers["Origin"] = origin
    if who is not None:
        headers["Cookie"] = f"desk_session={who.cookie}"
        headers.setdefault("Origin", node.base)
    if reader is not None:
        headers["Authorization"] = f"Bearer {reader.token}"
        headers.setdefault("Origin", EMBED_ORIGIN)
    async with (
        aiohttp.ClientSession() as s,
        s.request(method, node.base + path, data=data, json=json_body, headers=headers) as resp,
    ):
        raw = await resp.read()
        body: Any = json.loads(raw) if resp.content_type == "application/json" else None
        return resp.status, body, dict(resp.headers), raw


async def send_file(
    node: Node,
    who: Consultant,
    cid: int,
    name: str = "论文.pdf",
    data: bytes = PDF,
    *,
    quoted: bool = False,
    **meta: Any,
) -> tuple[int, Any]:
    meta = {"client_msg_id": uuid4().hex, "title": "图书馆联盟研究", **meta}
    status, body, _, _ = await request(
        node,
        "POST",
        f"/api/consultations/{cid}/files",
        who=who,
        data=form(meta, name, data, quoted=quoted),
    )
    return status, body


async def ledger(node: Node) -> list[LedgerEntry]:
    async with node.desk.reads() as s:
        return list((await s.scalars(select(LedgerEntry).order_by(LedgerEntry.id))).all())


async def test_a_consultant_delivers_a_pdf_the_reader_downloads_it_and_the_ledger_counts_it(
    any_node: Node,
) -> None:
    reader, wang, cid = await chat(any_node)
    status, got = await send_file(
        any_node,
        wang,
        cid,
        authors="张三; 李四",
        source="图书馆杂志",
        year=2019,
        doc_type="journal_article",
    )
    assert status == 200, got
    msg = got["message"]
    assert msg["author_kind"] == "consultant" and msg["body"] == "图书馆联盟研究"
    att = msg["attachment"]
    assert att["kind"] == "file" and att["name"] == "论文.pdf" and att["size"] == len(PDF)
    assert att["content_type"] == "application/pdf" and att["year"] == 2019
    heard = await reader.wait_for("message", lambda m: m["seq"] == msg["seq"])
    assert heard["attachment"] == att

    [row] = await ledger(any_node)
    assert (row.consultation_id, row.seq, row.direction, row.kind) == (
        cid,
        msg["seq"],
        "to_reader",
        "file",
    )
    assert row.sha256 == hashlib.sha256(PDF).hexdigest() and row.size == len(PDF)
    assert row.title == "图书馆联盟研究" and row.authors == "张三; 李四"
    assert row.doc_type == "journal_article" and row.source == "图书馆杂志"
    assert row.consultant_id is not None and row.serving_library_id == row.origin_library_id

    # The reader fetches it from the library's site, with their token.
    status, _, headers, raw = await request(
        any_node, "GET", f"/api/readers/consultations/{cid}/files/{msg['seq']}", reader=reader
    )
    assert status == 200 and raw == PDF
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E8%AE%BA%E6%96%87.pdf" in headers["Content-Disposition"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in headers["Content-Security-Policy"]
    assert headers["Access-Control-Allow-Origin"] == EMBED_ORIGIN
    # And so does the consultant, in the console.
    status, _, _, raw = await request(
        any_node, "GET", f"/api/consultations/{cid}/files/{msg['seq']}", who=wang
    )
    assert status == 200 and raw == PDF
    # History brings the attachment back after a reload.
    history = await reader.ok("history", {"consultation_id": cid, "after_seq": 0})
    assert [m["attachment"] for m in history["messages"] if m["seq"] == msg["seq"]] == [att]


async def test_a_retried_upload_is_one_message_and_one_ledger_row(any_node: Node) -> None:
    reader, wang, cid = await chat(any_node)
    cmid = uuid4().hex
    first = await send_file(any_node, wang, cid, client_msg_id=cmid)
    again = await send_file(any_node, wang, cid, client_msg_id=cmid)
    assert first[0] == again[0] == 200
    assert (
        again[1]["duplicate"] is True and again[1]["message"]["seq"] == first[1]["message"]["seq"]
    )
    assert len(await ledger(any_node)) == 1


async def test_who_may_fetch_a_file(node: Node) -> None:
    reader, wang, cid = await chat(node)
    status, got = await send_file(node, wang, cid)
    seq = got["message"]["seq"]
    reader_path = f"/api/readers/consultations/{cid}/files/{seq}"
    staff_path = f"/api/consultations/{cid}/files/{seq}"

    other = await Reader.register(node.base, "demo-pl")
    assert (await request(node, "GET", reader_path, reader=other))[0] == 404
    assert (await request(node, "GET", reader_path, origin=EMBED_ORIGIN))[0] == 401
    status, body, _, _ = await request(
        node, "GET", reader_path, reader=reader, origin="https://evil.example"
    )
    assert status == 403 and body["error"]["code"] == "origin_not_allowed"
    assert (await request(node, "GET", staff_path))[0] == 401
    # A consultant of another chat, of the same library, sees nothing.
    li = await Consultant.login(node.base, "li")
    status, body, _, _ = await request(node, "GET", staff_path, who=li)
    assert status == 404 and body["error"]["code"] == "file_not_found"
    # The reader's library's supervisor may (demo-pl has none; make li one).
    async with node.desk.engine.begin() as conn:
        await conn.execute(text("UPDATE consultants SET role = 'supervisor' WHERE username = 'li'"))
    node.desk.directory.forget()
    li = await Consultant.login(node.base, "li")
    assert (await request(node, "GET", staff_path, who=li))[0] == 200
    # A supervisor of another library may not.
    chen = await Consultant.login(node.base, "chen")
    assert (await request(node, "GET", staff_path, who=chen))[0] == 404
    # Nobody but the assignee sends into the chat.
    zhao = await Consultant.login(node.base, "zhao")
    status, body = await send_file(node, zhao, cid)
    assert status == 403 and body["error"]["code"] == "not_assigned"
    # Ids that are not numbers never reach the database.
    assert (await request(node, "GET", f"/api/consultations/{cid}/files/..%2F..", who=wang))[
        0
    ] == 404


async def test_limits_and_contents(node: Node) -> None:
    reader, wang, cid = await chat(node)
    status, body = await send_file(node, wang, cid, name="setup.exe", data=b"MZ" + b"\x00" * 100)
    assert status == 400 and body["error"]["code"] == "file_type_not_allowed"
    assert ".pdf" in body["error"]["details"]["allowed"]
    page = b"<!DOCTYPE html><html><script>alert(1)</script></html>"
    for name, data in (
        ("文章.pdf", page),  # a page renamed
        ("notes.txt", b"  <svg onload=alert(1)>"),
        ("notes.txt", b"\xff\xfe<\x00h\x00t\x00m\x00l\x00>\x00"),  # UTF-16 markup
        ("picture.png", PDF),
        ("list.txt", b"\x00\x01\x02 binary"),
    ):
        status, body = await send_file(node, wang, cid, name=name, data=data)
        assert status == 400 and body["error"]["code"] == "file_content_mismatch", name
    for name in ("drawing.svg", "page.html", "page.htm", "x.xml", "noext"):
        status, body = await send_file(node, wang, cid, name=name, data=b"<svg/>")
        assert status == 400 and body["error"]["code"] == "file_type_not_allowed", name
    status, body = await send_file(node, wang, cid, data=b"")
    assert status == 400 and body["error"]["code"] == "file_empty"
    status, body = await send_file(node, wang, cid, title="  ")
    assert status == 400 and body["error"]["code"] == "title_required"
    status, body = await send_file(node, wang, cid, doc_type="poem")
    assert status == 400 and body["error"]["code"] == "invalid_payload"

    # The library allows 1 MB: a bigger file is refused, announced or streamed.
    async with node.desk.engine.begin() as conn:
        await conn.execute(
            text("UPDATE libraries SET file_limits = :l WHERE code = 'demo-pl'"),
            {"l": '{"max_mb": 1, "types": ["pdf"]}'},
        )
    big = b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 10)
    status, body = await send_file(node, wang, cid, name="big.pdf", data=big)
    assert status == 413 and body["error"]["code"] == "file_too_large"
    assert body["error"]["details"]["limit"] == 1024 * 1024

    async def chunks() -> Any:  # no Content-Length: checked as the bytes arrive
        yield big[: 600 * 1024]
        yield big[600 * 1024 :]

    f = aiohttp.FormData(quote_fields=False)
    f.add_field("meta", json.dumps({"client_msg_id": "big2", "title": "大文件"}))
    f.add_field("file", chunks(), filename="big.pdf", content_type="application/pdf")
    status, body, _, _ = await request(
        node, "POST", f"/api/consultations/{cid}/files", who=wang, data=f
    )
    assert status == 413 and body["error"]["code"] == "file_too_large"
    status, body = await send_file(node, wang, cid, name="photo.png", data=PNG)
    assert status == 400 and body["error"]["code"] == "file_type_not_allowed"
    assert await ledger(node) == [], "nothing refused is counted"
    leftovers = [p for p in Path(node.desk.settings.files_dir).rglob("*") if p.is_file()]
    assert leftovers == [], "nothing refused stays on disk"


async def test_hostile_names_are_cleaned(node: Node) -> None:
    reader, wang, cid = await chat(node)
    cases = {
        "../../etc/passwd.pdf": "passwd.pdf",
        "..\\..\\windows\\system.ini.pdf": "system.ini.pdf",
        "a%00b%1Bc\u202efdp.pdf": "abcfdp.pdf",  # NUL, ESC and a right-to-left override
        "CON.pdf": "_CON.pdf",
        '  "quoted" <name>?.pdf ': "_quoted_ _name__.pdf",
        "长" * 400 + ".pdf": "长" * 176 + ".pdf",
    }
    for raw, expected in cases.items():
        # Written into the part's header byte for byte, as a hostile client would (control
        # characters percent-encoded: raw ones are refused below).
        status, got, _, _ = await request(
            node,
            "POST",
            f"/api/consultations/{cid}/files",
            who=wang,
            data=raw_multipart(raw, PDF),
            content_type=f"multipart/form-data; boundary={BOUNDARY}",
        )
        assert status == 200, (raw, got)
        assert got["message"]["attachment"]["name"] == expected, raw
        seq = got["message"]["seq"]
        status, _, headers, _ = await request(
            node, "GET", f"/api/readers/consultations/{cid}/files/{seq}", reader=reader
        )
        cd = headers["Content-Disposition"]
        assert status == 200 and "/" not in cd.split("filename*")[0] and "\n" not in cd
    status, got, _, _ = await request(
        node,
        "POST",
        f"/api/consultations/{cid}/files",
        who=wang,
        data=raw_multipart("a\x1bb.pdf", PDF),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )
    assert status == 400 and got["error"]["code"] == "multipart_invalid"
    # Stored under its hash: one copy for all six, named by nothing a request said.
    stored = [p for p in Path(node.desk.settings.files_dir).rglob("*") if p.is_file()]
    assert [p.name for p in stored] == [hashlib.sha256(PDF).hexdigest()]


async def test_a_reader_sends_a_screenshot_and_a_consultant_a_link(node: Node) -> None:
    reader, wang, cid = await chat(node)
    f = form({"client_msg_id": "shot-1"}, "IMG_0001.PNG", PNG, "image/png")
    status, got, headers, _ = await request(
        node, "POST", f"/api/readers/consultations/{cid}/files", reader=reader, data=f
    )
    assert status == 200, got
    assert headers["Access-Control-Allow-Origin"] == EMBED_ORIGIN
    msg = got["message"]
    assert msg["author_kind"] == "reader" and msg["attachment"]["direction"] == "from_reader"
    assert msg["attachment"]["content_type"] == "image/png" and msg["body"] == "IMG_0001.PNG"
    await wang.wait_for("message", lambda m: m["seq"] == msg["seq"])
    # The console may show a raster image inline; nothing else.
    status, _, headers, raw = await request(
        node, "GET", f"/api/consultations/{cid}/files/{msg['seq']}?inline=1", who=wang
    )
    assert status == 200 and raw == PNG and headers["Content-Disposition"].startswith("inline;")

    status, got, _, _ = await request(
        node,
        "POST",
        f"/api/consultations/{cid}/links",
        who=wang,
        json_body={
            "client_msg_id": "link-1",
            "url": "https://doi.org/10.1000/xyz123",
            "title": "开放获取的论文",
            "doc_type": "journal_article",
        },
    )
    assert status == 200, got
    assert got["message"]["attachment"]["url"] == "https://doi.org/10.1000/xyz123"
    for bad in ("javascript:alert(1)", "ftp://x.example/a", "https://", "http://a b.example/"):
        status, body, _, _ = await request(
            node,
            "POST",
            f"/api/consultations/{cid}/links",
            who=wang,
            json_body={"client_msg_id": uuid4().hex, "url": bad, "title": "x"},
        )
        assert status == 400 and body["error"]["code"] == "bad_url", bad
    rows = await ledger(node)
    assert [(r.direction, r.kind) for r in rows] == [("from_reader", "file"), ("to_reader", "link")]
    # A link has no file to fetch.
    status, *_ = await request(
        node, "GET", f"/api/consultations/{cid}/files/{got['message']['seq']}", who=wang
    )
    assert status == 404


async def test_uploads_from_many_chats_at_once_are_counted_exactly(any_node: Node) -> None:
    """Twelve chats, three consultants; 48 files sent at once, some of them retried: exactly
    48 ledger rows, and the counts per consultant and library add up."""
    await direct(any_node)
    async with any_node.desk.engine.begin() as conn:
        await conn.execute(text("UPDATE consultants SET max_chats = 4"))
    people = {}
    for name in ("wang", "li", "zhao"):
        people[name] = await Consultant.login(any_node.base, name)
        await people[name].connect()
    chats: list[tuple[Reader, int]] = []
    for _ in range(12):
        r = await Reader.register(any_node.base, "demo-pl")
        await r.connect()
        cid = (await r.open("请帮我找文献"))["consultation"]["id"]
        chats.append((r, cid))

    async def all_assigned() -> bool:
        return sum(len(c.events.get("chat.assigned", [])) for c in people.values()) >= 12

    # Past the overflow delay, zhao of the other library takes the rest.
    await any_node.advance(31)
    any_node.router.request()
    await any_node.until(all_assigned, "every chat assigned")
    owner: dict[int, Consultant] = {}
    for c in people.values():
        for a in c.events.get("chat.assigned", []):
            owner[a["consultation"]["id"]] = c
    assert len(owner) == 12

    jobs = []
    for _, cid in chats:
        for i in range(4):
            cmid = f"c{cid}-{i}"
            data = PDF + f"{cid}-{i}".encode()
            jobs.append(send_file(any_node, owner[cid], cid, data=data, client_msg_id=cmid))
            if i == 0:  # a retry racing its original
                jobs.append(send_file(any_node, owner[cid], cid, data=data, client_msg_id=cmid))
    results = await asyncio.gather(*jobs)
    assert all(status == 200 for status, _ in results), [b for s, b in results if s != 200]
    rows = await ledger(any_node)
    assert len(rows) == 48
    assert len({(r.consultation_id, r.seq) for r in rows}) == 48

    supervisor = await Consultant.login(any_node.base, "chen")
    status, got, _, _ = await request(
        any_node, "GET", "/api/ledger/counts?group=consultant", who=supervisor
    )
    by_person = {c["key"]: c["total"] for c in got["counts"]}
    expected = {}
    for c in owner.values():
        expected[c.username] = expected.get(c.username, 0) + 4
    assert by_person == expected and got["total"] == 48
    status, got, _, _ = await request(
        any_node, "GET", "/api/ledger/counts?group=origin_library", who=supervisor
    )
    assert [(c["key"], c["total"]) for c in got["counts"]] == [("demo-pl", 48)]
    status, got, _, _ = await request(
        any_node, "GET", "/api/ledger/counts?group=serving_library", who=supervisor
    )
    served = {c["key"]: c["total"] for c in got["counts"]}
    assert sum(served.values()) == 48 and set(served) <= {"demo-pl", "demo-ul"}
    async with any_node.desk.reads() as s:
        assert await s.scalar(select(func.count()).select_from(LedgerEntry)) == 48


async def test_the_ledger_rows_counts_and_csv_by_role(node: Node) -> None:
    reader, wang, cid = await chat(node)
    for i in range(3):
        assert (await send_file(node, wang, cid, title=f"文献{i}", data=PDF + bytes([i])))[0] == 200
    f = form({"client_msg_id": "r1"}, "引用.txt", "参考文献列表".encode(), "text/plain")
    assert (
        await request(
            node, "POST", f"/api/readers/consultations/{cid}/files", reader=reader, data=f
        )
    )[0] == 200

    status, got, _, _ = await request(node, "GET", "/api/ledger", who=wang)
    assert status == 200 and [r["title"] for r in got["rows"]] == ["文献2", "文献1", "文献0"]
    assert got["rows"][0]["consultant"] == "wang" and got["rows"][0]["origin_library"] == "demo-pl"
    status, got, _, _ = await request(node, "GET", "/api/ledger?direction=all", who=wang)
    assert len(got["rows"]) == 4
    status, got, _, _ = await request(
        node, "GET", "/api/ledger/counts?group=consultation", who=wang
    )
    assert got["counts"] == [
        {"key": cid, "name": "", "total": 3, "files": 3, "links": 0, "bytes": 3 * (len(PDF) + 1)}
    ]
    # Another consultant sees none of wang's rows, nor counts.
    li = await Consultant.login(node.base, "li")
    status, got, _, _ = await request(node, "GET", "/api/ledger", who=li)
    assert got["rows"] == []
    status, got, _, _ = await request(node, "GET", "/api/ledger/counts", who=li)
    assert got["total"] == 0
    # A supervisor of another library: the alliance's counts, not the rows.
    chen = await Consultant.login(node.base, "chen")
    status, got, _, _ = await request(node, "GET", "/api/ledger/counts?group=day", who=chen)
    assert got["total"] == 3 and len(got["counts"]) == 1
    status, got, _, _ = await request(node, "GET", "/api/ledger", who=chen)
    assert got["rows"] == []
    status, got, _, _ = await request(node, "GET", "/api/ledger", who=None)
    assert status == 401
    status, got, _, _ = await request(node, "GET", "/api/ledger/counts?group=planet", who=chen)
    assert status == 400
    status, got, _, _ = await request(node, "GET", "/api/ledger?from=yesterday", who=wang)
    assert status == 400

    status, _, headers, raw = await request(node, "GET", "/api/ledger/export.csv", who=wang)
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("id,created_at,direction") and len(lines) == 4
    assert "文献0" in lines[1]
    status, _, _, raw = await request(
        node, "GET", "/api/ledger/counts.csv?group=consultant", who=wang
    )
    assert raw.decode("utf-8-sig").splitlines()[1].startswith("wang,王老师,3,3,0,")


async def test_files_are_purged_after_the_retention_and_the_ledger_stays(
    node: Node, clock: ManualClock
) -> None:
    reader, wang, cid = await chat(node)
    old = await send_file(node, wang, cid, data=PDF + b"old")
    shared_old = await send_file(node, wang, cid, data=PDF + b"shared")
    clock.advance(100 * 86400)
    shared_new = await send_file(node, wang, cid, data=PDF + b"shared")
    clock.advance(81 * 86400)  # 181 days after the first two, 81 after the third
    assert await purge_files(node.desk) == 1
    assert await purge_files(node.desk) == 0
    rows = await ledger(node)
    assert len(rows) == 3
    assert [r.file_purged_at is not None for r in rows] == [True, False, False]
    seqs = [x[1]["message"]["seq"] for x in (old, shared_old, shared_new)]
    status, body, _, _ = await request(
        node, "GET", f"/api/readers/consultations/{cid}/files/{seqs[0]}", reader=reader
    )
    assert status == 410 and body["error"]["code"] == "file_purged"
    # The message says so too, in history.
    history = await reader.ok("history", {"consultation_id": cid, "after_seq": 0})
    flags = {m["seq"]: (m["attachment"] or {}).get("purged", False) for m in history["messages"]}
    assert [flags[s] for s in seqs] == [True, False, False]
    for seq in seqs[1:]:
        status, *_ = await request(
            node, "GET", f"/api/readers/consultations/{cid}/files/{seq}", reader=reader
        )
        assert status == 200, "a newer delivery of the same bytes keeps them"
    status, got, _, _ = await request(node, "GET", "/api/ledger/counts?group=consultant", who=wang)
    assert got["total"] == 3, "purging files leaves the counts"


@pytest.mark.parametrize("state", ["closed"])
async def test_no_file_into_an_ended_chat(node: Node, state: str) -> None:
    reader, wang, cid = await chat(node)
    await wang.ok("consultation.close", {"consultation_id": cid})
    status, body = await send_file(node, wang, cid)
    assert status == 409 and body["error"]["code"] == "consultation_ended"
    f = form({"client_msg_id": "late"}, "a.png", PNG, "image/png")
    status, body, _, _ = await request(
        node, "POST", f"/api/readers/consultations/{cid}/files", reader=reader, data=f
    )
    assert status == 409 and body["error"]["code"] == "consultation_ended"
