"""The consultation lifecycle as an explicit state machine."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    ASSIGNED = "assigned"
    CLOSED = "closed"
    ABANDONED = "abandoned"
    HANDED_OFF = "handed_off"


#: Every allowed move. ASSIGNED -> ASSIGNED is a transfer to a colleague; ASSIGNED -> WAITING a
#: transfer to another library or a requeue after the consultant dropped.
TRANSITIONS: dict[State, frozenset[State]] = {
    State.WAITING: frozenset(
        {State.OFFERED, State.ASSIGNED, State.CLOSED, State.ABANDONED, State.HANDED_OFF}
    ),
    State.OFFERED: frozenset(
        {State.WAITING, State.ASSIGNED, State.CLOSED, State.ABANDONED, State.HANDED_OFF}
    ),
    State.ASSIGNED: frozenset(
        {State.WAITING, State.ASSIGNED, State.CLOSED, State.ABANDONED, State.HANDED_OFF}
    ),
    State.CLOSED: frozenset(),
    State.ABANDONED: frozenset(),
    State.HANDED_OFF: frozenset(),
}

ACTIVE: frozenset[State] = frozenset({State.WAITING, State.OFFERED, State.ASSIGNED})
TERMINAL: frozenset[State] = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)
#: States in which the consultation counts against its consultant's capacity.
HOLDING: frozenset[State] = frozenset({State.OFFERED, State.ASSIGNED})


class IllegalTransition(Exception):
    def __init__(self, current: str, target: str) -> None:
        super().__init__(f"cannot move a consultation from {current} to {target}")
        self.current = current
        self.target = target


def check_transition(current: str, target: State) -> None:
    if target not in TRANSITIONS[State(current)]:
        raise IllegalTransition(current, target)
