"""Who may post where: the store's rules, checked in the transaction that takes the seq."""

from __future__ import annotations

import pytest

from transcripts.batch import Holder, refusal


def chat(state: str, assignee: int | None = 7) -> Holder:
    return Holder(id=1, state=state, reader_id=3, assignee_id=assignee, last_seq=5)


@pytest.mark.parametrize(
    ("row", "as_reader", "as_assignee", "while_waiting", "code"),
    [
        (None, None, None, False, "consultation_not_found"),
        (chat("assigned"), 4, None, False, "consultation_not_found"),  # someone else's
        (chat("assigned"), 3, None, False, None),
        (chat("assigned"), None, 8, False, "not_assigned"),
        (chat("offered"), None, 7, False, "not_assigned"),  # an offer is not yet theirs
        (chat("closed"), 3, None, False, "consultation_ended"),
        (chat("handed_off"), None, None, False, None),  # the desk's hand-off notice
        (chat("handed_off"), 3, None, False, "consultation_ended"),
        (chat("waiting", None), None, None, True, None),  # the waiting bot while it waits
        (chat("offered"), None, None, True, "wrong_state"),  # ...not once it moved on
        (chat("assigned"), None, None, True, "wrong_state"),
    ],
)
def test_refusal(
    row: Holder | None,
    as_reader: int | None,
    as_assignee: int | None,
    while_waiting: bool,
    code: str | None,
) -> None:
    err = refusal(row, as_reader, as_assignee, while_waiting)
    assert (err.code if err else None) == code
