"""A batch's plan: seqs in order, and each new message chained after the one its side was shown
before it (``prev``), also when PostgreSQL moves the batch past another node's messages."""

from __future__ import annotations

from datetime import UTC, datetime

from transcripts.batch import Found, Holder, Marks, Plan
from transcripts.records import Draft, StoredMessage

NOW = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
READER, WANG = 3, 7


def chat(cid: int = 1) -> Holder:
    """Last seq 5: the reader was last shown 4, staff 5 (a private note)."""
    return Holder(cid, "assigned", READER, WANG, 5, last_reader_seq=4, last_staff_seq=5)


def by_reader(body: str, cid: int = 1) -> Draft:
    return Draft(cid, "reader", body, author_id=READER, as_reader=READER)


def by_wang(body: str, visibility: str = "all", cid: int = 1) -> Draft:
    return Draft(cid, "consultant", body, author_id=WANG, visibility=visibility, as_assignee=WANG)


def sides(results: list[StoredMessage | object]) -> list[tuple[str, int, int | None, int | None]]:
    out = []
    for r in results:
        assert isinstance(r, StoredMessage), r
        out.append((r.body, r.seq, r.reader_prev, r.staff_prev))
    return out


def test_each_side_is_chained_through_its_own_messages_only() -> None:
    plan = Plan(
        [
            by_reader("问"),
            by_wang("备注", "staff"),
            Draft(1, "system", "工单链接", visibility="reader"),
            by_wang("答"),
        ]
    )
    plan.with_stored([])
    rows, moved = plan.assign([chat()], NOW)
    # The reader's message goes in first, then wang's two (one author's drafts go in
    # together), then the desk's.
    by_body = {b: (seq, r, s) for b, seq, r, s in sides(plan.finish())}
    assert by_body == {
        "问": (6, 4, 5),
        "备注": (7, None, 6),  # staff's only
        "答": (8, 6, 7),
        "工单链接": (9, 8, None),  # the reader's only: staff never see it
    }
    assert moved == [Marks(1, 9, 9, 8)]
    assert [r.seq for r in rows] == [6, 7, 8, 9]


def test_messages_are_chained_in_seq_order_not_in_the_order_they_came() -> None:
    """One batch holds a reader's and a consultant's messages, interleaved: each author's go
    in as a group, and the chain follows the seqs they got."""
    plan = Plan([by_reader("r1"), by_wang("c1"), by_reader("r2")])
    plan.with_stored([])
    _, moved = plan.assign([chat()], NOW)
    got = sorted(sides(plan.finish()), key=lambda x: x[1])
    assert got == [("r1", 6, 4, 5), ("r2", 7, 6, 6), ("c1", 8, 7, 7)]
    assert moved == [Marks(1, 8, 8, 8)]


def test_a_shifted_batch_follows_what_the_other_node_stored() -> None:
    """The plan was made from last seq 5; another node stored 6 (for all) and 7 (a note)
    meanwhile, so PostgreSQL moved the batch by 2 and found the reader last shown 6, staff 7."""
    plan = Plan([by_reader("问"), by_wang("备注", "staff"), by_wang("答")])
    plan.with_stored([])
    plan.assign([chat()], NOW)
    marks = plan.shift({1: Found(2, 6, 7)})
    by_body = {b: (seq, r, s) for b, seq, r, s in sides(plan.finish())}
    assert by_body == {"问": (8, 6, 7), "备注": (9, None, 8), "答": (10, 8, 9)}
    assert marks == {1: Marks(1, 10, 10, 10)}


def test_a_side_with_nothing_new_keeps_its_last_seq() -> None:
    plan = Plan([by_wang("备注", "staff")])
    plan.with_stored([])
    _, moved = plan.assign([chat()], NOW)
    assert moved == [Marks(1, 6, 4, 6)]
    assert plan.shift({1: Found(1, 6, 6)}) == {1: Marks(1, 7, 6, 7)}


def test_a_retry_is_answered_without_prev_and_lists_carry_none() -> None:
    stored = StoredMessage(
        1, 6, "m1", "reader", READER, "all", "问", NOW, READER, WANG, reader_prev=4, staff_prev=5
    )
    plan = Plan([Draft(1, "reader", "问", author_id=READER, client_msg_id="m1", as_reader=READER)])
    assert plan.with_stored([stored]) == []
    (retry,) = plan.finish()
    assert isinstance(retry, StoredMessage) and retry.duplicate
    assert "prev" not in retry.ack(staff=False)
    assert "prev" not in retry.to_client(staff=True)
    assert stored.ack(staff=False)["prev"] == 4
    assert stored.to_client(staff=True)["prev"] == 5
    assert "prev" not in stored.to_client()
