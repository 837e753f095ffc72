"""The consultation state machine: the whole allowed-transitions table, walked."""

from __future__ import annotations

import itertools

import pytest

from desk.states import (
    ACTIVE,
    HOLDING,
    TERMINAL,
    TRANSITIONS,
    IllegalTransition,
    State,
    check_transition,
)

ALLOWED = {
    (State.WAITING, State.OFFERED),
    (State.WAITING, State.ASSIGNED),
    (State.WAITING, State.CLOSED),
    (State.WAITING, State.ABANDONED),
    (State.WAITING, State.HANDED_OFF),
    (State.OFFERED, State.WAITING),
    (State.OFFERED, State.ASSIGNED),
    (State.OFFERED, State.CLOSED),
    (State.OFFERED, State.ABANDONED),
    (State.OFFERED, State.HANDED_OFF),
    (State.ASSIGNED, State.WAITING),
    (State.ASSIGNED, State.ASSIGNED),
    (State.ASSIGNED, State.CLOSED),
    (State.ASSIGNED, State.ABANDONED),
    (State.ASSIGNED, State.HANDED_OFF),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(State, State)))
def test_every_pair(current: State, target: State) -> None:
    if (current, target) in ALLOWED:
        check_transition(current.value, target)
    else:
        with pytest.raises(IllegalTransition):
            check_transition(current.value, target)


def test_the_table_is_exactly_the_allowed_set() -> None:
    assert {(a, b) for a, nxt in TRANSITIONS.items() for b in nxt} == ALLOWED


def test_state_groups() -> None:
    assert {State.CLOSED, State.ABANDONED, State.HANDED_OFF} == TERMINAL
    assert {State.WAITING, State.OFFERED, State.ASSIGNED} == ACTIVE
    assert {State.OFFERED, State.ASSIGNED} == HOLDING
    assert not (ACTIVE & TERMINAL)
