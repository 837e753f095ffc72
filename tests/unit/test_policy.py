"""Routing policy as tables of cases: plain data in, an ordered list of candidates out."""

from __future__ import annotations

import pytest

from desk.routing import policy
from desk.shared.base import PRESENCE_TTL, Presence, QueueEntry

NOW = 1_800_000_000.0
HOME, OTHER = 1, 2


def person(
    cid: int,
    *,
    library: int = HOME,
    load: int = 0,
    capacity: int = 3,
    status: str = "online",
    connected: bool = True,
    beat: float = NOW,
    idle: float = NOW - 100,
    langs: tuple[str, ...] = ("zh-CN",),
) -> Presence:
    return Presence(cid, library, langs, capacity, status, connected, beat, idle, None, load)


def waiting(
    *, queued: float = NOW, language: str = "zh-CN", declined: frozenset[int] = frozenset()
) -> QueueEntry:
    return QueueEntry(99, HOME, HOME, language, queued, 0, declined)


def ids(people: list[Presence]) -> list[int]:
    return [p.consultant_id for p in people]


@pytest.mark.parametrize(
    ("people", "entry", "expected"),
    [
        pytest.param([person(1), person(2, load=1)], waiting(), [1, 2], id="least loaded first"),
        pytest.param(
            [person(1, load=1, capacity=2), person(2, load=1, capacity=4)],
            waiting(),
            [2, 1],
            id="load as a share of capacity",
        ),
        pytest.param(
            [person(1, idle=NOW - 5), person(2, idle=NOW - 50)],
            waiting(),
            [2, 1],
            id="then longest idle",
        ),
        pytest.param([person(1, load=3)], waiting(), [], id="full"),
        pytest.param(
            [person(1, status="busy"), person(2, status="away")], waiting(), [], id="not online"
        ),
        pytest.param([person(1, connected=False)], waiting(), [], id="disconnected"),
        pytest.param([person(1, beat=NOW - PRESENCE_TTL - 1)], waiting(), [], id="stale heartbeat"),
        pytest.param([person(1)], waiting(language="en"), [], id="language not spoken"),
        pytest.param(
            [person(1, langs=("zh-CN", "en-US"))],
            waiting(language="en"),
            [1],
            id="primary language subtag",
        ),
        pytest.param(
            [person(1), person(2)], waiting(declined=frozenset({1})), [2], id="declined skipped"
        ),
        pytest.param(
            [person(1, library=OTHER), person(2, load=2)],
            waiting(),
            [2],
            id="own library first even if busier",
        ),
        pytest.param(
            [person(1, library=OTHER), person(2, load=3)],
            waiting(queued=NOW - 10),
            [],
            id="own library full: wait for the overflow delay",
        ),
        pytest.param(
            [person(1, library=OTHER), person(2, load=3)],
            waiting(queued=NOW - 60),
            [1],
            id="overflow after the delay",
        ),
        pytest.param(
            [person(1, library=OTHER), person(2, status="away")],
            waiting(queued=NOW),
            [1],
            id="overflow at once when nobody of the library is online",
        ),
        pytest.param(
            [person(1, library=OTHER), person(2, langs=("en",))],
            waiting(queued=NOW),
            [1],
            id="overflow at once when nobody online speaks the language",
        ),
    ],
)
def test_candidates(people: list[Presence], entry: QueueEntry, expected: list[int]) -> None:
    assert ids(policy.candidates(entry, people, NOW, overflow_delay=30)) == expected
