"""Statistics: facts recorded as chats happen (answered, abandoned, handed off, transferred,
overflowed, rated), reports that equal hand-counted fixtures on both databases, the roll-up's
rebuilds, exports, the scopes, quality grading with a failed reply sent back for revision,
certificates and their public check, and the live dashboard over the socket."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, date, datetime
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select, text

from desk.app import SIO_KEY
from desk.clock import ManualClock
from desk.models import Consultant as ConsultantRow
from desk.models import Consultation, LedgerEntry, Library, Ticket
from desk.models import Reader as ReaderRow
from stats import rollup
from stats.models import ConsultationFact, StatsDaily, StatsMonthly
from stats.rollup import rebuild_range, run_rollup
from tests.harness import EMBED_ORIGIN, Consultant, Node, Reader
from tests.integration.test_delivery import send_file
from tests.integration.test_transcripts import http, role, settle


async def direct(node: Node) -> None:
    async with node.desk.engine.begin() as conn:
        await conn.execute(text("UPDATE libraries SET routing_mode = 'direct'"))
    node.desk.directory.forget()


async def staff(node: Node, username: str) -> Any:
    async with node.desk.reads() as s:
        cid = await s.scalar(select(ConsultantRow.id).where(ConsultantRow.username == username))
    who = await node.desk.directory.consultant(int(cid or 0))
    assert who is not None
    return who


async def fact(node: Node, cid: int) -> ConsultationFact:
    await settle(node)
    async with node.desk.reads() as s:
        f = await s.get(ConsultationFact, cid)
    assert f is not None, f"no fact for consultation {cid}"
    return f


async def rate(node: Node, reader: Reader, cid: int, satisfied: bool, comment: str = "") -> Any:
    async with (
        aiohttp.ClientSession() as s,
        s.post(
            f"{node.base}/api/readers/consultations/{cid}/rating",
            json={"satisfied": satisfied, "comment": comment},
            headers={"Origin": EMBED_ORIGIN, "Authorization": f"Bearer {reader.token}"},
        ) as resp,
    ):
        return resp.status, await resp.json()


# -- facts as things happen --------------------------------------------------------------------


async def test_facts_are_written_for_every_path(node: Node, clock: ManualClock) -> None:
    await direct(node)
    # Answered: the reader waits 40 s for a consultant, who answers 15 s later, sends a
    # document, and the reader rates the chat.
    reader = await Reader.register(node.base, "demo-pl")
    await reader.connect()
    cid = (await reader.open("请问怎么查找学位论文？"))["consultation"]["id"]
    await node.advance(40)
    wang = await Consultant.login(node.base, "wang")
    await wang.connect()
    await wang.wait_for("chat.assigned", lambda a: a["consultation"]["id"] == cid)
    await node.advance(15)
    await wang.say(cid, "您好，可以在学位论文库检索。")
    await reader.say(cid, "谢谢")
    status, _ = await send_file(node, wang, cid)
    assert status == 200
    assert (await rate(node, reader, cid, True))[0] == 409, "not before it ended"
    await node.advance(100)
    await wang.ok("consultation.close", {"consultation_id": cid})
    status, got = await rate(node, reader, cid, False, "回复有点慢")
    assert status == 200
    status, got = await rate(node, reader, cid, True, "很满意")  # changed their mind
    assert status == 200 and got["satisfied"] is True
    f = await fact(node, cid)
    assert f.wait_seconds == 40 and f.first_reply_seconds == 55
    assert f.outcome == "closed" and f.duration_seconds == 115
    assert (f.reader_messages, f.consultant_messages, f.documents) == (2, 2, 1)
    assert (f.rating, f.rating_comment) == (1, "很满意")
    assert f.consultant_id is not None and f.overflow is False and f.transfers == 0

    # Another reader cannot rate it; a week after the end nobody can.
    other = await Reader.register(node.base, "demo-pl")
    assert (await rate(node, other, cid, False))[0] == 404
    clock.advance(7 * 86400 + 1)
    assert (await rate(node, reader, cid, False))[0] == 409
    clock.advance(-(7 * 86400 + 1))

    # Abandoned: the reader leaves while nobody is free.
    await wang.ok("status.set", {"status": "away"})
    gone = await Reader.register(node.base, "demo-pl")
    await gone.connect()
    gid = (await gone.open("还在吗"))["consultation"]["id"]
    await gone.ok("consultation.close", {"consultation_id": gid})
    f = await fact(node, gid)
    assert f.outcome == "abandoned" and f.wait_seconds is None and f.consultant_id is None
    assert (await rate(node, gone, gid, True))[0] == 409, "nobody served it"

    # Transferred to another library's consultant: an overflow, served by demo-ul.
    await wang.ok("status.set", {"status": "online"})
    r3 = await Reader.register(node.base, "demo-pl")
    await r3.connect()
    tid = (await r3.open("我需要一篇外文文献"))["consultation"]["id"]
    await wang.wait_for("chat.assigned", lambda a: a["consultation"]["id"] == tid)
    zhao = await Consultant.login(node.base, "zhao")
    await zhao.connect()
    colleagues = await wang.ok("colleagues.list")
    zhao_id = next(c["id"] for c in colleagues["colleagues"] if c["name"] == "赵老师")
    await wang.ok("consultation.transfer", {"consultation_id": tid, "to_consultant_id": zhao_id})
    await zhao.wait_for("chat.assigned", lambda a: a["consultation"]["id"] == tid)
    await zhao.say(tid, "您好，我来帮您找。")
    # Handed off: zhao switches the chat to the form service.
    await zhao.ok("consultation.handoff", {"consultation_id": tid, "kind": "document"})
    f = await fact(node, tid)
    async with node.desk.reads() as s:
        ul = await s.scalar(select(Library.id).where(Library.code == "demo-ul"))
        pl = await s.scalar(select(Library.id).where(Library.code == "demo-pl"))
    assert f.transfers == 1 and f.consultant_id == zhao_id
    assert (f.library_id, f.serving_library_id, f.overflow) == (pl, ul, True)
    assert f.outcome == "handed_off" and f.first_reply_seconds is not None

    # The roll-up counts them.
    await run_rollup(node.desk)
    day = f.day
    async with node.desk.reads() as s:
        rows = {
            (r.dim, r.key): r
            for r in (await s.scalars(select(StatsDaily).where(StatsDaily.day == day))).all()
        }
    a = rows[("alliance", 0)]
    assert (a.consultations, a.served, a.abandoned, a.handed_off) == (3, 2, 1, 1)
    assert (a.transferred, a.overflow, a.documents, a.satisfied) == (1, 1, 1, 1)
    assert rows[("origin", pl)].overflow == 1 and rows[("serving", ul)].overflow == 1


async def test_first_answers_given_at_once_are_all_recorded_while_the_chats_go_on(
    any_node: Node, clock: ManualClock
) -> None:
    """A consultant greeting several chats in the same moment: each chat's first answer is in
    its fact at once (not only when it ends), with its own wait, and a later answer changes
    nothing."""
    node = any_node
    await direct(node)
    wang = await Consultant.login(node.base, "wang")
    await wang.connect()
    readers, cids = [], []
    for k in range(4):
        r = await Reader.register(node.base, "demo-pl")
        await r.connect()
        cids.append((await r.open(f"问题 {k}"))["consultation"]["id"])
        readers.append(r)
        await wang.wait_for("chat.assigned", lambda a, c=cids[-1]: a["consultation"]["id"] == c)
        await node.advance(10)
    await asyncio.gather(*(wang.say(cid, "您好，请稍等。") for cid in cids))
    await node.advance(5)
    await asyncio.gather(*(wang.say(cid, "找到了。") for cid in cids))
    for k, cid in enumerate(cids):
        f = await fact(node, cid)
        assert f.ended_at is None
        assert f.first_reply_seconds == 10 * (4 - k), f"chat {k}"


async def test_an_overflowed_chat_counts_for_both_libraries(node: Node) -> None:
    """Nobody of demo-pl online: the reader's chat is offered to demo-ul's zhao, who accepts.
    The reader's library receives an overflow; zhao's library and zhao give one."""
    zhao = await Consultant.login(node.base, "zhao")
    await zhao.connect()
    reader = await Reader.register(node.base, "demo-pl")
    await reader.connect()
    cid = (await reader.open("请问可以帮我查一篇文献吗？"))["consultation"]["id"]
    await zhao.wait_for("offer", lambda o: o["consultation"]["id"] == cid)
    await node.advance(12)
    await zhao.ok("offer.accept", {"consultation_id": cid})
    await zhao.say(cid, "可以，请告诉我题名。")
    await zhao.ok("consultation.close", {"consultation_id": cid})
    f = await fact(node, cid)
    z = await staff(node, "zhao")
    assert (f.consultant_id, f.serving_library_id, f.overflow) == (z.id, z.library_id, True)
    assert f.wait_seconds == 12 and f.outcome == "closed"
    await run_rollup(node.desk)
    async with node.desk.reads() as s:
        rows = {
            (r.dim, r.key): r
            for r in (await s.scalars(select(StatsDaily).where(StatsDaily.day == f.day))).all()
        }
    assert rows[("origin", f.library_id)].overflow == 1
    assert rows[("serving", z.library_id)].overflow == 1
    assert rows[("consultant", z.id)].served == 1
    assert ("serving", f.library_id) not in rows, "demo-pl served nothing"


async def test_a_served_reader_who_vanishes_and_a_transfer_to_a_library(
    node: Node, clock: ManualClock
) -> None:
    """A reader who drops out of a chat a consultant served ended it (not abandoned: someone
    came); a chat sent to another library's queue counts as transferred."""
    from desk.routing import sweeps

    await direct(node)
    wang = await Consultant.login(node.base, "wang")
    await wang.connect()
    reader = await Reader.register(node.base, "demo-pl")
    await reader.connect()
    cid = (await reader.open("请问开放时间？"))["consultation"]["id"]
    await wang.wait_for("chat.assigned", lambda a: a["consultation"]["id"] == cid)
    await wang.say(cid, "每天9点开馆。")
    await reader.disconnect()

    async def gone() -> bool:
        return not node.desk.local_reader_consultations

    await node.until(gone, "reader socket closed")
    await node.advance(node.desk.settings.reader_grace_seconds + 1)
    assert await sweeps.sweep_readers(node.desk) == 1
    f = await fact(node, cid)
    assert (f.outcome, f.consultant_id is not None) == ("closed", True)

    zhao = await Consultant.login(node.base, "zhao")
    await zhao.connect()
    r2 = await Reader.register(node.base, "demo-pl")
    await r2.connect()
    tid = (await r2.open("我想借阅贵馆的古籍"))["consultation"]["id"]
    got = await wang.wait_for("chat.assigned", lambda a: a["consultation"]["id"] == tid)
    assert got
    await wang.ok("consultation.transfer", {"consultation_id": tid, "to_library": "demo-ul"})
    await zhao.wait_for("chat.assigned", lambda a: a["consultation"]["id"] == tid)
    await zhao.ok("consultation.close", {"consultation_id": tid})
    f = await fact(node, tid)
    z = await staff(node, "zhao")
    assert (f.transfers, f.consultant_id, f.overflow) == (1, z.id, True)


async def test_odd_input_is_refused_not_crashed_on(node: Node) -> None:
    wang = await Consultant.login(node.base, "wang")
    for path, status in (
        ("/api/stats/report?scope=consultant&id=%C2%B2", 400),
        ("/api/stats/report?scope=library&id=%C2%B2", 404),
        ("/api/stats/report?scope=alliance&from=9999-12-01&to=9999-12-31", 400),
        ("/api/stats/report?scope=alliance&from=0001-01-01&to=0001-01-02", 400),
        ("/api/grades?consultant=%C2%B2", 400),
        ("/api/consultations/%C2%B2/grades", 404),
        ("/api/consultations/999999/grades", 404),
        ("/api/backlog/%C2%B2", 404),
    ):
        got = await http(node, "GET", path, who=wang)
        assert got[0] == status, (path, got[1])
    status, got, _ = await http(
        node, "POST", "/api/certificates", {"from": "0001-01-01", "to": "0001-12-31"}, who=wang
    )
    assert status == 400


# -- reports against hand counts -----------------------------------------------------------


def at(day: str, hour: int = 10) -> datetime:
    # 10:00 in Beijing is 02:00 UTC, the same calendar day.
    y, m, d = (int(x) for x in day.split("-"))
    return datetime(y, m, d, hour - 8, 0, tzinfo=UTC)


async def _fixture(node: Node) -> dict[str, int]:
    """Six consultations, three documents and three grades, written directly."""
    async with node.desk.sessions.begin() as s:
        ids = {
            u: i
            for u, i in (await s.execute(select(ConsultantRow.username, ConsultantRow.id))).all()
        }
        libs = {c: i for c, i in (await s.execute(select(Library.code, Library.id))).all()}
        reader = ReaderRow(kind="visitor")
        s.add(reader)
        await s.flush()
        pl, ul = libs["demo-pl"], libs["demo-ul"]
        w, li, z = ids["wang"], ids["li"], ids["zhao"]
        # (day, origin, consultant, serving, wait, reply, outcome, duration, rating, transfers)
        rows = [
            ("2026-11-03", pl, w, pl, 10, 20, "closed", 300, 1, 0),
            ("2026-11-03", pl, w, pl, 30, 40, "closed", 100, 0, 0),
            ("2026-11-03", pl, z, ul, 50, 70, "closed", 200, None, 1),
            ("2026-11-03", pl, None, None, None, None, "abandoned", None, None, 0),
            ("2026-11-20", ul, z, ul, 5, 8, "handed_off", 60, None, 0),
            ("2026-12-01", ul, li, pl, 200, 250, "closed", 90, None, 0),
        ]
        cids = []
        for day, origin, who, serving, wait, reply, outcome, duration, rating, transfers in rows:
            c = Consultation(
                library_id=origin,
                reader_id=reader.id,
                language="zh-CN",
                state=outcome,
                route_library_id=origin,
                assignee_id=who,
                serving_library_id=serving,
                created_at=at(day),
                queued_at=at(day),
            )
            s.add(c)
            await s.flush()
            cids.append(c.id)
            s.add(
                ConsultationFact(
                    consultation_id=c.id,
                    day=day,
                    library_id=origin,
                    language="zh-CN",
                    opened_at=at(day),
                    first_assigned_at=at(day) if who else None,
                    wait_seconds=wait,
                    first_reply_seconds=reply,
                    consultant_id=who,
                    serving_library_id=serving,
                    overflow=serving is not None and serving != origin,
                    transfers=transfers,
                    ended_at=at(day, 11),
                    outcome=outcome,
                    duration_seconds=duration,
                    reader_messages=3,
                    consultant_messages=4 if who else 0,
                    documents=0,
                    rating=rating,
                    rating_comment="",
                )
            )
        for cid, who, serving, origin, day in (
            (cids[0], w, pl, pl, "2026-11-03"),
            (cids[0], w, pl, pl, "2026-11-03"),
            (cids[4], z, ul, ul, "2026-11-20"),
        ):
            s.add(
                LedgerEntry(
                    consultation_id=cid,
                    direction="to_reader",
                    kind="file",
                    consultant_id=who,
                    serving_library_id=serving,
                    origin_library_id=origin,
                    title="文献",
                    file_name="a.pdf",
                    size=10,
                    sha256="0" * 64,
                    created_at=at(day, 12),
                )
            )
    from stats.models import Grade

    async with node.desk.sessions.begin() as s:
        for cid, who, lib, grade, day in (
            (cids[0], w, pl, "excellent", "2026-11-03"),
            (cids[1], w, pl, "fail", "2026-11-03"),
            (cids[4], z, ul, "pass", "2026-11-20"),
        ):
            s.add(
                Grade(
                    target="consultation",
                    target_id=cid,
                    consultant_id=who,
                    library_id=lib,
                    day=day,
                    grade=grade,
                    criteria=[],
                    comment="",
                    current=True,
                )
            )
    await rebuild_range(node.desk, date(2026, 11, 1), date(2026, 12, 31))
    return {"wang": w, "li": li, "zhao": z, "pl": pl, "ul": ul}


async def report(node: Node, who: Consultant, query: str) -> Any:
    status, got, _ = await http(node, "GET", f"/api/stats/report?{query}", who=who)
    assert status == 200, got
    return got


async def test_reports_equal_hand_counts_on_both_databases(any_node: Node) -> None:
    node = any_node
    ids = await _fixture(node)
    admin = await role(node, "chen", "admin")

    got = await report(node, admin, "scope=alliance&from=2026-11-01&to=2026-11-30&grain=month")
    [nov] = got["rows"]
    assert nov["period"] == "2026-11"
    assert (nov["consultations"], nov["served"], nov["abandoned"], nov["handed_off"]) == (
        5,
        4,
        1,
        1,
    )
    assert (nov["transferred"], nov["overflow"], nov["documents"]) == (1, 1, 3)
    assert (nov["satisfied"], nov["unsatisfied"], nov["satisfaction"]) == (1, 1, 0.5)
    assert (nov["excellent"], nov["passed"], nov["failed"]) == (1, 1, 1)
    # Waits 5, 10, 30, 50: median 10, 90th 50. First replies 8, 20, 40, 70: 20 and 70.
    assert (nov["wait_p50"], nov["wait_p90"]) == (10, 50)
    assert (nov["reply_p50"], nov["reply_p90"]) == (20, 70)
    assert nov["duration_mean"] == 165.0

    # The same from days only (no whole month in the range) and across the months.
    days = await report(node, admin, "scope=alliance&from=2026-11-03&to=2026-12-01&grain=total")
    whole = await report(node, admin, "scope=alliance&from=2026-11-01&to=2026-12-01&grain=total")
    assert days["total"]["consultations"] == whole["total"]["consultations"] == 6
    assert days["total"]["wait_p90"] == whole["total"]["wait_p90"] == 200

    by_day = await report(node, admin, "scope=alliance&from=2026-11-01&to=2026-11-30&grain=day")
    assert len(by_day["rows"]) == 30
    assert [r["consultations"] for r in by_day["rows"] if r["consultations"]] == [4, 1]
    weeks = await report(node, admin, "scope=alliance&from=2026-11-01&to=2026-11-30&grain=week")
    assert weeks["rows"][0]["period"] == "2026-W44" and weeks["rows"][0]["to"] == "2026-11-01"
    assert sum(r["consultations"] for r in weeks["rows"]) == 5
    year = await report(node, admin, "scope=alliance&from=2026-01-01&to=2026-12-31&grain=year")
    assert year["rows"][0]["consultations"] == 6

    wang = await report(
        node, admin, f"scope=consultant&id={ids['wang']}&from=2026-11-01&to=2026-11-30"
    )
    t = wang["total"]
    assert (t["served"], t["documents"], t["satisfied"], t["unsatisfied"]) == (2, 2, 1, 1)
    assert (t["excellent"], t["failed"], t["wait_p50"], t["wait_p90"]) == (1, 1, 10, 30)
    assert t["duration_mean"] == 200.0

    pl = await report(node, admin, "scope=library&id=demo-pl&from=2026-11-01&to=2026-11-30")
    t = pl["total"]
    assert (t["served"], t["documents"], t["overflow_given"]) == (2, 2, 0)
    assert (t["readers_consultations"], t["overflow_received"], t["abandoned"]) == (4, 1, 1)
    assert (t["wait_p50"], t["wait_p90"]) == (30, 50)
    ul = await report(node, admin, f"scope=library&id={ids['ul']}&from=2026-11-01&to=2026-11-30")
    t = ul["total"]
    assert (t["served"], t["overflow_given"], t["readers_consultations"], t["documents"]) == (
        2,
        1,
        1,
        1,
    )
    assert (t["passed"], t["handed_off"]) == (1, 1)
    dec = await report(
        node, admin, f"scope=consultant&id={ids['li']}&from=2026-12-01&to=2026-12-01&grain=day"
    )
    assert dec["total"]["wait_p50"] == 200, "the top of a bucket is never above the largest"

    # The table: every consultant over the range, most served first.
    status, got, _ = await http(
        node, "GET", "/api/stats/table?kind=consultant&from=2026-11-01&to=2026-12-31", who=admin
    )
    assert status == 200
    assert [(r["code"], r["served"]) for r in got["rows"][:3]] == [
        ("wang", 2),
        ("zhao", 2),
        ("li", 1),
    ]
    status, got, _ = await http(
        node, "GET", "/api/stats/table?kind=library&from=2026-11-01&to=2026-12-31", who=admin
    )
    assert {r["code"]: r["served"] for r in got["rows"]} == {"demo-pl": 3, "demo-ul": 2}

    # CSV: the header in both languages, a row per period and the total.
    status, _, raw = await http(
        node,
        "GET",
        "/api/stats/report?scope=alliance&from=2026-11-01&to=2026-12-31&grain=month&format=csv",
        who=admin,
    )
    lines = list(csv.reader(io.StringIO(raw.lstrip("\ufeff"))))
    assert lines[0][0] == "时段 Period" and "咨询总数 Consultations" in lines[0]
    assert [x[0] for x in lines[1:]] == ["2026-11", "2026-12", "合计 Total"]
    assert lines[-1][lines[0].index("咨询总数 Consultations")] == "6"
    async with (
        aiohttp.ClientSession() as s,
        s.get(
            node.base + "/api/stats/table?kind=consultant&format=xlsx&from=2026-11-01",
            headers={"Cookie": f"desk_session={admin.cookie}"},
        ) as resp,
    ):
        body = await resp.read()
        assert resp.status == 200 and body[:2] == b"PK", "a spreadsheet (zip)"
        assert "attachment" in resp.headers["Content-Disposition"]


async def test_report_scopes_and_bad_input(node: Node) -> None:
    ids = await _fixture(node)
    wang = await Consultant.login(node.base, "wang")
    chen = await Consultant.login(node.base, "chen")  # supervisor of demo-ul
    base = "/api/stats/report?from=2026-11-01&to=2026-11-30"
    assert (await http(node, "GET", base + "&scope=consultant", who=wang))[0] == 200
    for who, query, status in (
        (wang, f"&scope=consultant&id={ids['zhao']}", 403),
        (wang, "&scope=library&id=demo-ul", 403),
        (wang, "&scope=library&id=demo-pl", 200),
        (wang, "&scope=alliance", 200),
        (chen, f"&scope=consultant&id={ids['zhao']}", 200),
        (chen, f"&scope=consultant&id={ids['wang']}", 403),
        (chen, "&scope=library&id=demo-pl", 403),
        (chen, "&scope=library", 200),
    ):
        got = await http(node, "GET", base + query, who=who)
        assert got[0] == status, (who.username, query, got[1])
    assert (await http(node, "GET", base + "&scope=alliance"))[0] == 401
    assert (await http(node, "GET", "/api/stats/table?kind=consultant", who=wang))[0] == 403
    status, got, _ = await http(node, "GET", "/api/stats/table?kind=consultant", who=chen)
    assert status == 200
    assert {r["library"] for r in got["rows"]} <= {"demo-ul"}, "a supervisor's own library"
    for bad in (
        "scope=alliance&from=2026-13-01",
        "scope=alliance&from=2026-11-30&to=2026-11-01",
        "scope=alliance&grain=hour",
        "scope=alliance&format=pdf",
        "scope=planet",
        "scope=alliance&from=2000-01-01&to=2026-01-01",
    ):
        status, got, _ = await http(node, "GET", f"/api/stats/report?{bad}", who=wang)
        assert status == 400 and got["error"]["code"] == "invalid_payload", bad


async def test_a_late_rating_rebuilds_its_day_and_month(node: Node) -> None:
    await _fixture(node)
    from stats.recorder import mark_dirty

    async with node.desk.sessions.begin() as s:
        f = (
            await s.scalars(
                select(ConsultationFact).where(
                    ConsultationFact.day == "2026-11-20", ConsultationFact.rating.is_(None)
                )
            )
        ).one()
        f.rating = 1
    await mark_dirty(node.desk, "2026-11-20")
    await run_rollup(node.desk)
    async with node.desk.reads() as s:
        month = await s.get(StatsMonthly, ("2026-11", "alliance", 0))
        day = await s.get(StatsDaily, ("2026-11-20", "alliance", 0))
    assert month is not None and day is not None
    assert (month.satisfied, day.satisfied) == (2, 1)
    # Rebuilding again changes nothing.
    await rebuild_range(node.desk, date(2026, 11, 1), date(2026, 11, 30))
    async with node.desk.reads() as s:
        again = await s.get(StatsMonthly, ("2026-11", "alliance", 0))
    assert again is not None and (again.satisfied, again.consultations) == (2, 5)


async def _rollup_rows(node: Node) -> dict[tuple[str, str, int], dict[str, Any]]:
    out = {}
    async with node.desk.reads() as s:
        for model, period in ((StatsDaily, "day"), (StatsMonthly, "month")):
            for r in (await s.scalars(select(model))).all():
                cols = {c.name: getattr(r, c.name) for c in model.__table__.columns}
                out[(cols.pop(period), cols.pop("dim"), cols.pop("key"))] = cols
    return out


@pytest.mark.parametrize("partition", [None, 1], ids=["partitions", "a-row-at-a-time"])
async def test_rows_moved_by_a_correction_equal_a_rebuild_from_scratch(
    any_node: Node, partition: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The job writes only what changed: a chat moved to another consultant (and another
    serving library) takes rows away, changes some and adds others, by day and by month, and
    the result is what rebuilding everything from nothing gives. The same when the job
    reads, counts and writes a row at a time between its turns for the event loop."""
    if partition is not None:
        monkeypatch.setattr(rollup, "PARTITION", partition)
        monkeypatch.setattr(rollup, "WRITE_PARTITION", partition)
    ids = await _fixture(any_node)
    async with any_node.desk.sessions.begin() as s:
        facts = (
            await s.scalars(
                select(ConsultationFact).where(
                    ConsultationFact.day == "2026-11-20",
                    ConsultationFact.consultant_id.is_not(None),
                )
            )
        ).all()
        before = min(f.consultant_id for f in facts if f.consultant_id is not None)
        after, serving = (
            (ids["zhao"], ids["ul"]) if before != ids["zhao"] else (ids["wang"], ids["pl"])
        )
        for f in facts:
            if f.consultant_id == before:
                # All of their chats that day: their consultant row of the day goes.
                f.consultant_id, f.serving_library_id = after, serving
    from stats.recorder import mark_dirty

    untouched = await _rollup_rows(any_node)
    await mark_dirty(any_node.desk, "2026-11-20")
    await run_rollup(any_node.desk)
    moved = await _rollup_rows(any_node)
    assert moved != untouched
    assert moved[("2026-11-20", "consultant", after)] != untouched.get(
        ("2026-11-20", "consultant", after)
    )
    # A chat moved to a day with nothing else, and back: that day's rows come and go.
    quiet = "2026-11-25"
    assert not [k for k in moved if k[0] == quiet]
    async with any_node.desk.sessions.begin() as s:
        f = await s.get(ConsultationFact, facts[0].consultation_id)
        assert f is not None
        f.day = quiet
    await mark_dirty(any_node.desk, quiet)
    await mark_dirty(any_node.desk, "2026-11-20")
    await run_rollup(any_node.desk)
    assert ("2026-11-25", "alliance", 0) in await _rollup_rows(any_node)
    async with any_node.desk.sessions.begin() as s:
        f = await s.get(ConsultationFact, facts[0].consultation_id)
        assert f is not None
        f.day = "2026-11-20"
    await mark_dirty(any_node.desk, quiet)
    await mark_dirty(any_node.desk, "2026-11-20")
    await run_rollup(any_node.desk)
    assert await _rollup_rows(any_node) == moved
    async with any_node.desk.sessions.begin() as s:
        await s.execute(text("DELETE FROM stats_daily"))
        await s.execute(text("DELETE FROM stats_monthly"))
    await rebuild_range(any_node.desk, date(2026, 11, 1), date(2026, 12, 31))
    assert await _rollup_rows(any_node) == moved
    # And a run with nothing new leaves every row as it is.
    await run_rollup(any_node.desk)
    assert await _rollup_rows(any_node) == moved


# -- quality grading -------------------------------------------------------------------------


async def _answered_ticket(node: Node) -> tuple[int, Consultant]:
    """A document request answered by wang."""
    from desk.backlog import actions

    wang = await Consultant.login(node.base, "wang")
    async with node.desk.sessions.begin() as s:
        lib = await s.scalar(select(Library.id).where(Library.code == "demo-pl"))
        t = Ticket(
            link_hash="f" * 64,
            library_id=lib,
            language="zh-CN",
            kind="form",
            question="如何使用馆际互借？",
            transcript=[],
            handed_off_by="form",
            state="open",
            submitted_at=datetime.fromtimestamp(node.desk.clock.now(), UTC),
        )
        s.add(t)
        await s.flush()
        tid = t.id
    who = await staff(node, "wang")
    await actions.claim(node.desk, tid, who)
    await actions.reply(
        node.desk, tid, who, answer="请登录后在馆际互借页面提交。", answer_kind="answer"
    )
    return tid, wang


async def test_grading_a_reply_sends_it_back_for_revision(node: Node) -> None:
    tid, wang = await _answered_ticket(node)
    await wang.connect()
    sun = await Consultant.login(node.base, "sun")  # the demo's quality inspector
    li = await Consultant.login(node.base, "li")

    status, got, _ = await http(node, "GET", "/api/grading/checklist", who=sun)
    assert status == 200 and {c["code"] for c in got["ticket"]} >= {"E1", "P1", "F1", "F4"}
    assert [c["code"] for c in got["consultation"]] == ["L1", "L2", "L3", "L4", "L5", "L6"]

    body = {"target": "ticket", "target_id": tid, "grade": "fail", "criteria": ["F2"]}
    status, got, _ = await http(node, "POST", "/api/grades", body, who=li)
    assert status == 403 and got["error"]["code"] == "not_inspector"
    status, got, _ = await http(node, "POST", "/api/grades", body, who=sun)
    assert status == 400 and got["error"]["code"] == "grade_reason_missing"
    status, got, _ = await http(
        node, "POST", "/api/grades", {**body, "criteria": ["E1"], "comment": "x"}, who=sun
    )
    assert status == 400 and got["error"]["code"] == "bad_criteria"

    status, got, _ = await http(
        node,
        "POST",
        "/api/grades",
        {**body, "comment": "答非所问，请补充馆际互借的申请条件"},
        who=sun,
    )
    assert status == 200 and got["revision"] is True
    heard = await wang.wait_for("grade.given", lambda g: g["target_id"] == tid)
    assert heard["grade"] == "fail"
    status, got, _ = await http(node, "GET", "/api/backlog?state=revision&mine=1", who=wang)
    assert [t["id"] for t in got["tickets"]] == [tid]
    status, got, _ = await http(node, "GET", f"/api/backlog/{tid}", who=wang)
    assert got["ticket"]["grades"][0]["comment"].startswith("答非所问")
    # The reader still sees the first answer while it is revised.
    async with node.desk.reads() as s:
        assert (await s.get(Ticket, tid)).state == "revision"  # type: ignore[union-attr]

    status, got, _ = await http(
        node,
        "POST",
        f"/api/backlog/{tid}/reply",
        {"answer": "馆际互借需先注册读者证，再在系统中提交申请。", "answer_kind": "answer"},
        who=wang,
    )
    assert status == 200, got
    status, got, _ = await http(node, "GET", "/api/grades?all=1&from=2020-01-01", who=wang)
    [g] = got["grades"]
    assert g["revised_at"] is not None and g["grade"] == "fail"
    # Graded again after the revision: the new grade is the one counted.
    status, got, _ = await http(
        node,
        "POST",
        "/api/grades",
        {"target": "ticket", "target_id": tid, "grade": "pass", "criteria": []},
        who=sun,
    )
    assert status == 400, "a pass without a case of the standard needs a comment"
    status, got, _ = await http(
        node,
        "POST",
        "/api/grades",
        {"target": "ticket", "target_id": tid, "grade": "excellent", "criteria": ["E4"]},
        who=sun,
    )
    assert status == 200 and got["revision"] is False
    await run_rollup(node.desk)
    status, got, _ = await http(
        node,
        "GET",
        "/api/stats/report?scope=consultant&grain=total&from=2026-01-01&to=2027-12-31",
        who=wang,
    )
    t = got["total"]
    assert (t["excellent"], t["failed"], t["tickets_answered"]) == (1, 0, 1)
    assert (await staff(node, "sun")).inspector


async def test_a_failed_reply_handed_back_counts_for_whoever_answers_next(node: Node) -> None:
    tid, wang = await _answered_ticket(node)
    sun = await Consultant.login(node.base, "sun")
    status, got, _ = await http(
        node,
        "POST",
        "/api/grades",
        {
            "target": "ticket",
            "target_id": tid,
            "grade": "fail",
            "criteria": ["F1"],
            "comment": "72小时内没找到应退回任务",
        },
        who=sun,
    )
    assert status == 200 and got["revision"] is True
    status, got, _ = await http(node, "POST", f"/api/backlog/{tid}/return", {"note": ""}, who=wang)
    assert status == 200, got
    async with node.desk.reads() as s:
        t = await s.get(Ticket, tid)
        assert t is not None and (t.state, t.answered_by) == ("open", None)
    li = await Consultant.login(node.base, "li")
    assert (await http(node, "POST", f"/api/backlog/{tid}/claim", who=li))[0] == 200
    status, got, _ = await http(
        node,
        "POST",
        f"/api/backlog/{tid}/reply",
        {"answer": "请在馆际互借系统提交申请。", "answer_kind": "answer"},
        who=li,
    )
    assert status == 200, got
    await run_rollup(node.desk)
    rng = "&grain=total&from=2026-01-01&to=2027-12-31"
    for who, n in ((wang, 0), (li, 1)):
        status, got, _ = await http(
            node, "GET", f"/api/stats/report?scope=consultant{rng}", who=who
        )
        assert got["total"]["tickets_answered"] == n, who.username
    status, got, _ = await http(node, "GET", "/api/grades?all=1&from=2020-01-01", who=sun)
    assert got["grades"][0]["revised_at"] is not None


async def test_grading_a_live_chat(node: Node) -> None:
    await direct(node)
    wang = await Consultant.login(node.base, "wang")
    await wang.connect()
    reader = await Reader.register(node.base, "demo-pl")
    await reader.connect()
    cid = (await reader.open("开放时间？"))["consultation"]["id"]
    await wang.wait_for("chat.assigned", lambda a: a["consultation"]["id"] == cid)
    sun = await Consultant.login(node.base, "sun")
    body = {
        "target": "consultation",
        "target_id": cid,
        "grade": "pass",
        "criteria": ["L1", "L2", "L3"],
    }
    status, got, _ = await http(node, "POST", "/api/grades", body, who=sun)
    assert status == 409 and got["error"]["code"] == "not_gradable", "not while it runs"
    await wang.say(cid, "每天9点到21点。")
    await wang.ok("consultation.close", {"consultation_id": cid})
    await settle(node)
    status, got, _ = await http(
        node, "GET", "/api/grading/candidates?from=2020-01-01&to=2030-01-01", who=sun
    )
    assert status == 200 and [c["id"] for c in got["candidates"]] == [cid]
    status, got, _ = await http(node, "POST", "/api/grades", body, who=sun)
    assert status == 200
    status, got, _ = await http(node, "GET", f"/api/consultations/{cid}/grades", who=wang)
    assert status == 200 and got["grades"][0]["criteria"] == ["L1", "L2", "L3"]
    assert (await fact(node, cid)).grade == "pass"
    status, got, _ = await http(node, "GET", "/api/grading/candidates", who=wang)
    assert status == 403
    # The inspector reads the transcript of any library (masked).
    status, got, _ = await http(node, "GET", f"/api/transcripts/{cid}", who=sun)
    assert status == 200


# -- certificates ----------------------------------------------------------------------------


async def test_a_consultant_prints_a_certificate_anyone_can_verify(node: Node) -> None:
    ids = await _fixture(node)
    wang = await Consultant.login(node.base, "wang")
    status, got, _ = await http(
        node, "POST", "/api/certificates", {"from": "2026-11-01", "to": "2026-11-30"}, who=wang
    )
    assert status == 200, got
    cert = got["certificate"]
    assert (cert["figures"]["served"], cert["figures"]["documents"]) == (2, 2)
    assert cert["figures"]["subject"]["name"] == "王老师"
    code = cert["code"]
    async with aiohttp.ClientSession() as s:
        async with s.get(f"{node.base}/verify/{code.lower().replace('-', '')}") as resp:
            page = await resp.text()
            assert resp.status == 200 and "本证明有效" in page and "王老师" in page
            assert resp.headers["X-Content-Type-Options"] == "nosniff"
        async with s.get(f"{node.base}/verify?code=ABCD-EFGH-JKMN-PQRS&lang=en") as resp:
            assert resp.status == 404 and "No certificate has this code" in await resp.text()
    # Someone else's: refused; a library's: its supervisor; the period must be over.
    for who, body, status_code in (
        (
            wang,
            {"subject": "consultant", "id": ids["zhao"], "from": "2026-11-01", "to": "2026-11-30"},
            403,
        ),
        (wang, {"subject": "library", "from": "2026-11-01", "to": "2026-11-30"}, 403),
        (wang, {"from": "2026-11-30", "to": "2026-11-01"}, 400),
        (wang, {"from": "2026-11-01", "to": "2099-01-01"}, 400),
    ):
        status, got, _ = await http(node, "POST", "/api/certificates", body, who=who)
        assert status == status_code, (body, got)
    chen = await Consultant.login(node.base, "chen")
    status, got, _ = await http(
        node,
        "POST",
        "/api/certificates",
        {"subject": "library", "from": "2026-11-01", "to": "2026-11-30"},
        who=chen,
    )
    assert status == 200, got
    assert got["certificate"]["figures"]["served"] == 2
    # Revoked by a supervisor of wang's library: the page says so.
    sup = await role(node, "li", "supervisor")
    status, got, _ = await http(node, "POST", f"/api/certificates/{cert['id']}/revoke", who=chen)
    assert status == 403
    status, got, _ = await http(node, "POST", f"/api/certificates/{cert['id']}/revoke", who=sup)
    assert status == 200 and got["certificate"]["revoked_at"]
    async with aiohttp.ClientSession() as s, s.get(f"{node.base}/verify/{code}") as resp:
        assert "已于" in await resp.text()
    status, got, _ = await http(node, "GET", "/api/certificates", who=wang)
    assert [c["code"] for c in got["certificates"]] == [code]


# -- the live dashboard ----------------------------------------------------------------------


async def test_the_dashboard_updates_over_the_socket(node: Node) -> None:
    await direct(node)
    chen = await role(node, "chen", "admin")
    await chen.connect(status="away")
    wang = await Consultant.login(node.base, "wang")
    await wang.connect()
    refused = await wang.call("dashboard.watch", {"watch": True})
    assert refused["ok"] is False and refused["error"]["code"] == "forbidden"
    first = await chen.ok("dashboard.watch", {"watch": True})
    board = first["dashboard"]
    assert board["scope"] == "alliance" and board["waiting"] == 0
    me = next(c for c in board["consultants"] if c["name"] == "王老师")
    assert (me["status"], me["load"], me["at_capacity"]) == ("online", 0, False)

    # wang fills up to capacity; a further reader waits.
    readers = []
    for n in range(5):
        r = await Reader.register(node.base, "demo-pl")
        await r.connect()
        await r.open(f"问题{n}")
        readers.append(r)
    ns = node.app[SIO_KEY].namespace_handlers["/console"]
    await asyncio.sleep(0.2)

    async def pushed() -> bool:
        await ns.push_dashboard()
        got = chen.events.get("dashboard", [])
        return bool(got) and got[-1]["waiting"] == 1

    await node.until(pushed, "a dashboard with the waiting reader")
    last = chen.events["dashboard"][-1]
    me = next(c for c in last["consultants"] if c["name"] == "王老师")
    assert me["at_capacity"] is True and last["at_capacity"] == 1
    assert last["queue"][0]["library"] == "demo-pl"
    [lib] = [x for x in last["libraries"] if x["code"] == "demo-pl"]
    assert (lib["waiting"], lib["chats"]) == (1, 4)
    await chen.ok("dashboard.watch", {"watch": False})
    before = len(chen.events["dashboard"])
    await ns.push_dashboard()
    await asyncio.sleep(0.2)
    assert len(chen.events["dashboard"]) == before, "no pushes after unwatching"
