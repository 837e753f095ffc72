"""The PostgreSQL message writer on its own, against real PostgreSQL: writing from what it
remembers of its consultations is only ever a saving of round trips. Two writers stand for two
desk nodes; whatever they remember, PostgreSQL's guard decides, and nothing is lost, doubled,
reordered or let through that the rules refuse."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from desk.db import make_engine
from desk.errors import Conflict, Forbidden
from desk.models import Consultant, Consultation, Library, Reader
from tests.conftest import seed_demo, truncate_all
from transcripts.batch import AsyncpgWriter, writer_for
from transcripts.models import Message
from transcripts.records import READER_SEES, STAFF_SEES, Attachment, Draft, StoredMessage

pytestmark = pytest.mark.postgres


class Fixture:
    def __init__(self, engine: AsyncEngine, consultant_ids: list[int]) -> None:
        self.engine = engine
        self.wang, self.li = consultant_ids[:2]
        self.readers: dict[int, int] = {}

    async def chat(self, assignee: int | None = None, state: str = "assigned") -> int:
        async with self.engine.begin() as conn:
            library = await conn.scalar(select(Library.id).where(Library.code == "demo-pl"))
            reader = await conn.scalar(insert(Reader).values(kind="visitor").returning(Reader.id))
            cid = await conn.scalar(
                insert(Consultation)
                .values(
                    library_id=library,
                    route_library_id=library,
                    reader_id=reader,
                    language="zh",
                    state=state,
                    assignee_id=self.wang if assignee is None else assignee,
                )
                .returning(Consultation.id)
            )
        assert isinstance(cid, int) and isinstance(reader, int)
        self.readers[cid] = reader
        return cid

    def by_reader(self, cid: int, body: str, cmid: str | None = None) -> Draft:
        r = self.readers[cid]
        return Draft(cid, "reader", body, author_id=r, client_msg_id=cmid, as_reader=r)

    def by_consultant(self, cid: int, who: int, body: str, cmid: str | None = None) -> Draft:
        return Draft(cid, "consultant", body, author_id=who, client_msg_id=cmid, as_assignee=who)

    async def stored(self, cid: int) -> list[tuple[int, str, str | None]]:
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(Message.seq, Message.body, Message.client_msg_id, Message.visibility)
                    .where(Message.consultation_id == cid)
                    .order_by(Message.seq)
                )
            ).all()
            marks = (
                await conn.execute(
                    select(
                        Consultation.last_seq,
                        Consultation.last_reader_seq,
                        Consultation.last_staff_seq,
                    ).where(Consultation.id == cid)
                )
            ).one()

        def last(seen: tuple[str, ...]) -> int:
            return max((r[0] for r in rows if r[3] in seen), default=0)

        assert tuple(marks) == (last(("all", "staff", "reader")), last(READER_SEES),
                                last(STAFF_SEES)), "the seqs move with the messages"  # fmt: skip
        return [(r[0], r[1], r[2]) for r in rows]

    async def set(self, cid: int, **values: Any) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(update(Consultation).where(Consultation.id == cid).values(**values))


@contextlib.asynccontextmanager
async def fixture_on(url: str) -> AsyncIterator[Fixture]:
    """The demo alliance on ``url``, and the consultants wang and li."""
    await seed_demo(url, "http://unused")
    engine = make_engine(url)
    async with engine.connect() as conn:
        ids = (
            await conn.scalars(
                select(Consultant.id)
                .where(Consultant.username.in_(["wang", "li"]))
                .order_by(Consultant.username.desc())
            )
        ).all()
    try:
        yield Fixture(engine, list(ids))
    finally:
        await engine.dispose()


@pytest.fixture
async def fx(postgres_run_db: str) -> AsyncIterator[Fixture]:
    await truncate_all(postgres_run_db)
    async with fixture_on(postgres_run_db) as f:
        yield f


@pytest.fixture
async def writers(fx: Fixture) -> AsyncIterator[tuple[AsyncpgWriter, AsyncpgWriter]]:
    a, b = writer_for(fx.engine), writer_for(fx.engine)
    assert isinstance(a, AsyncpgWriter) and isinstance(b, AsyncpgWriter)
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()


def ok(res: object) -> StoredMessage:
    assert isinstance(res, StoredMessage), res
    return res


async def test_a_known_chat_is_written_in_one_statement_and_a_new_one_read_first(
    fx: Fixture, writers: tuple[AsyncpgWriter, AsyncpgWriter]
) -> None:
    a, _ = writers
    cid = await fx.chat()
    first = await a.write([fx.by_reader(cid, "一", "m1")])
    second = await a.write([fx.by_reader(cid, "二", "m2"), fx.by_consultant(cid, fx.wang, "三")])
    assert [ok(r).seq for r in first + second] == [1, 2, 3]
    assert a.paths == {"read": 1, "remembered": 1}
    assert await fx.stored(cid) == [(1, "一", "m1"), (2, "二", "m2"), (3, "三", None)]


async def test_a_chat_written_through_another_node_still_costs_one_statement(
    fx: Fixture, writers: tuple[AsyncpgWriter, AsyncpgWriter]
) -> None:
    """The reader on one node, the consultant on the other: each node's memory of the chat's
    last seq is stale on every turn, and PostgreSQL moves the batch past the other's."""
    a, b = writers
    cid = await fx.chat()
    ok((await a.write([fx.by_reader(cid, "一")]))[0])
    ok((await b.write([fx.by_consultant(cid, fx.wang, "二")]))[0])
    # a remembers last_seq 1; PostgreSQL has 2, so a's two messages go in as 3 and 4.
    three, four = await a.write([fx.by_reader(cid, "三", "m3"), fx.by_reader(cid, "四")])
    assert (ok(three).seq, ok(four).seq) == (3, 4)
    assert a.paths == {"read": 1, "remembered": 1} and a.shifted == 1
    # And a remembers where it is now: b's next message moves past a's two.
    assert ok((await b.write([fx.by_consultant(cid, fx.wang, "五")]))[0]).seq == 5
    assert ok((await a.write([fx.by_reader(cid, "六")]))[0]).seq == 6
    assert a.paths["remembered"] == 2 and a.shifted == 2
    assert await fx.stored(cid) == [
        (1, "一", None), (2, "二", None), (3, "三", "m3"), (4, "四", None), (5, "五", None),
        (6, "六", None),
    ]  # fmt: skip


async def test_a_batch_moved_past_another_nodes_messages_follows_them_on_each_side(
    fx: Fixture, writers: tuple[AsyncpgWriter, AsyncpgWriter]
) -> None:
    """a remembers the chat at seq 1; b stores a private note and a message meanwhile. a's
    next batch goes in after them, and each of its messages names the one its side was shown
    before it, as PostgreSQL found them under the lock, not as a remembered."""
    a, b = writers
    cid = await fx.chat()
    one = ok((await a.write([fx.by_reader(cid, "一")]))[0])
    assert (one.seq, one.reader_prev, one.staff_prev) == (1, 0, 0)
    two, note = await b.write(
        [
            fx.by_consultant(cid, fx.wang, "二"),
            Draft(cid, "consultant", "备注", author_id=fx.wang, visibility="staff",
                  as_assignee=fx.wang),
        ]
    )  # fmt: skip
    assert [(m.seq, m.reader_prev, m.staff_prev) for m in map(ok, (two, note))] == [
        (2, 1, 1),
        (3, None, 2),
    ]
    # The reader was last shown 2, staff 3 (the note): a remembers 1 for both.
    three, four = await a.write([fx.by_reader(cid, "三"), fx.by_reader(cid, "四")])
    assert a.shifted == 1
    assert [(m.seq, m.reader_prev, m.staff_prev) for m in map(ok, (three, four))] == [
        (4, 2, 3),
        (5, 4, 4),
    ]
    # b only remembers its own batch: its next message follows a's all the same.
    five = ok((await b.write([fx.by_consultant(cid, fx.wang, "五")]))[0])
    assert (five.seq, five.reader_prev, five.staff_prev) == (6, 5, 5)
    await fx.stored(cid)


async def test_two_writers_on_the_same_chats_lose_and_double_nothing(
    fx: Fixture, writers: tuple[AsyncpgWriter, AsyncpgWriter]
) -> None:
    """Two nodes write to the same chats at once (the reader on one, the consultant on the
    other), each from its own memory: every message is stored once, seqs have no gap."""
    a, b = writers
    chats = [await fx.chat() for _ in range(6)]
    rng = random.Random(7)

    async def node(w: AsyncpgWriter, name: str) -> list[tuple[int, str, int]]:
        got = []
        for n in range(40):
            batch = [
                fx.by_reader(cid, f"{name}{n}-{cid}", f"{name}{n}-{cid}")
                for cid in rng.sample(chats, rng.randint(1, 4))
            ]
            for d, res in zip(batch, await w.write(batch), strict=True):
                m = ok(res)
                assert not m.duplicate
                got.append((m.consultation_id, d.body, m.seq))
            await asyncio.sleep(0)
        return got

    results = await node(a, "warm-up")
    results += [x for pair in await asyncio.gather(node(a, "A"), node(b, "B")) for x in pair]
    for cid in chats:
        stored = await fx.stored(cid)
        assert [s for s, _, _ in stored] == list(range(1, len(stored) + 1))
        assert sorted((seq, body) for c, body, seq in results if c == cid) == [
            (s, body) for s, body, _ in stored
        ]
    # Both writers met the other's writes: their memory was stale and PostgreSQL moved them.
    assert a.shifted >= 1 and b.shifted >= 1


async def test_what_a_writer_remembers_never_decides_who_may_post(
    fx: Fixture, writers: tuple[AsyncpgWriter, AsyncpgWriter]
) -> None:
    a, _ = writers
    cid = await fx.chat()
    ok((await a.write([fx.by_consultant(cid, fx.wang, "王老师在")]))[0])
    # Transferred to Li behind the writer's back: Li may post, Wang may not.
    await fx.set(cid, assignee_id=fx.li)
    li = ok((await a.write([fx.by_consultant(cid, fx.li, "李老师接手")]))[0])
    assert li.seq == 2 and li.assignee_id == fx.li
    (refused,) = await a.write([fx.by_consultant(cid, fx.wang, "王老师还想说")])
    assert isinstance(refused, Forbidden)
    # Closed behind its back: nobody posts, though the writer last saw it open.
    ok((await a.write([fx.by_reader(cid, "谢谢")]))[0])
    await fx.set(cid, state="closed")
    (late,) = await a.write([fx.by_reader(cid, "还有一个问题")])
    assert isinstance(late, Conflict) and late.code == "consultation_ended"
    # And refused from memory never: reopened to waiting (as a test can), the reader posts.
    await fx.set(cid, state="waiting", assignee_id=None)
    ok((await a.write([fx.by_reader(cid, "又来了")]))[0])
    assert [b for _, b, _ in await fx.stored(cid)] == ["王老师在", "李老师接手", "谢谢", "又来了"]


async def test_a_retry_stored_through_another_node_is_answered_with_the_stored_message(
    fx: Fixture, writers: tuple[AsyncpgWriter, AsyncpgWriter]
) -> None:
    a, b = writers
    cid = await fx.chat()
    ok((await a.write([fx.by_reader(cid, "先说一句", "r1")]))[0])
    # The reader's node died after storing "r2" on b; the client resends it to a, which
    # remembers the chat as it was before.
    ok((await b.write([fx.by_reader(cid, "第二句", "r2")]))[0])
    again, new = await a.write([fx.by_reader(cid, "第二句", "r2"), fx.by_reader(cid, "第三句")])
    assert ok(again).duplicate and ok(again).seq == 2
    assert ok(new).seq == 3 and not ok(new).duplicate
    assert [s for s, _, _ in await fx.stored(cid)] == [1, 2, 3]


async def test_a_delivery_is_logged_with_its_message_only(
    fx: Fixture, writers: tuple[AsyncpgWriter, AsyncpgWriter]
) -> None:
    a, b = writers
    moving, still = await fx.chat(), await fx.chat()
    ok((await a.write([fx.by_consultant(moving, fx.wang, "hi"), fx.by_reader(still, "hi")]))[0])
    ok((await b.write([fx.by_reader(moving, "插一句")]))[0])  # a's memory of `moving` is stale
    async with fx.engine.connect() as conn:
        library = await conn.scalar(select(Library.id).where(Library.code == "demo-pl"))
    assert isinstance(library, int)
    doc = Attachment(
        kind="link",
        direction="to_reader",
        title="论文",
        url="https://example.org/paper.pdf",
        doc_type="article",
        consultant_id=fx.wang,
        serving_library_id=library,
        origin_library_id=library,
        reader_id=fx.readers[moving],
    )
    d = Draft(moving, "consultant", "请看", author_id=fx.wang, as_assignee=fx.wang, attachment=doc)
    sent, other = await a.write([d, fx.by_reader(still, "还在吗")])
    assert ok(sent).seq == 3 and ok(other).seq == 2
    async with fx.engine.connect() as conn:
        ledger = (
            await conn.execute(text("SELECT consultation_id, seq, title FROM delivery_ledger"))
        ).all()
    assert [tuple(r) for r in ledger] == [(moving, 3, "论文")], "one row, for the stored message"


@pytest.mark.parametrize("stale", [False, True], ids=["remembered", "moved-by-other-node"])
@pytest.mark.parametrize("applied", [False, True], ids=["lost-before", "lost-after-commit"])
async def test_a_link_lost_with_the_commit_in_flight_is_settled_by_looking(
    fx: Fixture,
    writers: tuple[AsyncpgWriter, AsyncpgWriter],
    monkeypatch: pytest.MonkeyPatch,
    applied: bool,
    stale: bool,
) -> None:
    """The connection fails during the statement that commits: the writer cannot know from
    the error whether it was applied, so it looks on a new connection, and then neither
    stores the message twice nor reports a stored one as failed. Where another node wrote
    meanwhile, the batch went in past its messages, and the look finds it there."""
    a, b = writers
    cid = await fx.chat()
    ok((await a.write([fx.by_reader(cid, "先说一句")]))[0])
    before = ["先说一句"]
    if stale:
        ok((await b.write([fx.by_reader(cid, "另一节点的一句")]))[0])
        before.append("另一节点的一句")
    real = asyncpg.Connection.fetch
    broke: list[bool] = []

    async def flaky(self: asyncpg.Connection, query: str, *args: Any, **kw: Any) -> Any:
        if "WITH locked" in query and not broke:
            broke.append(True)
            if applied:
                await real(self, query, *args, **kw)
            self.terminate()
            raise asyncpg.ConnectionDoesNotExistError("connection was closed in the middle")
        return await real(self, query, *args, **kw)

    monkeypatch.setattr(asyncpg.Connection, "fetch", flaky)
    first, second = await a.write(
        [fx.by_consultant(cid, fx.wang, "没有系统编号的一句"), fx.by_reader(cid, "同批第二句")]
    )
    n = len(before)
    assert broke and (ok(first).seq, ok(second).seq) == (n + 1, n + 2)
    assert not ok(first).duplicate and not ok(second).duplicate
    assert [(ok(m).reader_prev, ok(m).staff_prev) for m in (first, second)] == [
        (n, n),
        (n + 1, n + 1),
    ]
    assert [body for _, body, _ in await fx.stored(cid)] == [
        *before,
        "没有系统编号的一句",
        "同批第二句",
    ]
    # And the writer goes on, on its new connection.
    assert ok((await a.write([fx.by_reader(cid, "继续")]))[0]).seq == n + 3
