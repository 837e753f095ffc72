"""The expected wait of a queued reader, from live figures. Pure functions; the method is
described in docs/bots.md and its error measured by bench/wait_estimate.py.

The model: the consultants who could serve the reader offer ``slots`` chats at once (the sum
of their capacities), ``free`` of them idle now. With every slot busy, slots come free at a
rate of ``slots / mean_handling`` (each chat lasts ``mean_handling`` on average, and where a
busy slot is in its chat is unknown, so the time to its end is taken as memoryless). The
reader at ``position`` is served when the ``position - free``-th slot comes free, which takes
``(position - free) * mean_handling / slots`` on average.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass

#: Used before any chat has ended at a library (a typical live reference chat).
DEFAULT_HANDLING_SECONDS = 6 * 60.0
#: Fewer ended chats than this and the library's own mean gives way to the alliance's.
MIN_SAMPLES = 8


@dataclass(frozen=True, slots=True)
class WaitEstimate:
    position: int
    #: None when nobody who could serve the reader is online.
    seconds: float | None

    @property
    def minutes(self) -> int | None:
        """Rounded up, at least 1: "about 0 minutes" helps nobody."""
        if self.seconds is None:
            return None
        return max(1, math.ceil(self.seconds / 60.0))


def expected_wait(position: int, slots: int, free: int, mean_handling: float) -> float | None:
    if slots <= 0:
        return None
    behind_free = position - max(0, free)
    if behind_free <= 0:
        return 0.0
    return behind_free * mean_handling / slots


def mean_handling(durations: Iterable[float], fallback: float = DEFAULT_HANDLING_SECONDS) -> float:
    """Mean of recent chat durations, each capped at four times their median: a chat left
    open over lunch should not double everyone's estimate, but the ordinary long tail of
    live chats must count (dropping it made the estimate run short; bench/wait_estimate.py)."""
    values = [d for d in durations if d > 0]
    if not values:
        return fallback
    cap = 4 * statistics.median(values)
    return sum(min(v, cap) for v in values) / len(values)
